# Copyright (c) mmpanet contributors. All rights reserved.
"""The detector as one ONNX graph, and ONNX Runtime to run it.

Exporting and running need the ``deploy`` extra (``pip install
mmpanet[deploy]``: onnx, onnxruntime, onnxscript); importing does not.
:func:`export_onnx` writes the graph; :class:`ONNXDetector` (numpy, OpenCV
and ONNX Runtime, no torch) loads it, preprocesses an image, runs it and
pastes the masks at the image's size; :class:`ONNXRuntimeDetector` puts it
behind MMEngine's model interface for the Runner's test loop and mmdet's
``DetInferencer``.
"""
from .detector import (ExportableDetector, ExportError, check_exportable,
                       predict_preprocessed)
from .export import export_onnx, preprocess_spec
from .model import ONNXInferencer, ONNXRuntimeDetector
from .runtime import ONNXDetector, paste_masks

__all__ = [
    'ExportableDetector', 'ExportError', 'check_exportable', 'export_onnx',
    'predict_preprocessed', 'preprocess_spec', 'ONNXDetector',
    'ONNXInferencer', 'ONNXRuntimeDetector', 'paste_masks'
]
