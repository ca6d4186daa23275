# Copyright (c) mmpanet contributors. All rights reserved.
"""Run an exported detector with ONNX Runtime: numpy, OpenCV and
onnxruntime only.

The graph's metadata (written by :func:`mmpanet.deploy.export_onnx`) holds
the class names and the config's preprocessing, so the file is all a
deployment needs.
"""
import importlib.util
import json
import math
from typing import Dict, Optional, Sequence, Tuple, Union

import cv2
import numpy as np

OUTPUTS = ('boxes', 'scores', 'labels', 'masks')
METADATA_KEY = 'mmpanet'


def require(*modules: str) -> None:
    """An ImportError naming the ``deploy`` extra if ``modules`` are not
    installed."""
    missing = [m for m in modules if importlib.util.find_spec(m) is None]
    if missing:
        raise ImportError(f'{", ".join(missing)} not installed: '
                          'pip install mmpanet[deploy]')


def load_image(path: str) -> np.ndarray:
    """``path`` decoded as mmdet's ``LoadImageFromFile`` does (OpenCV,
    BGR, ``uint8`` ``(H, W, 3)``)."""
    data = np.fromfile(path, dtype=np.uint8)
    image = cv2.imdecode(data, cv2.IMREAD_COLOR) if data.size else None
    if image is None:
        raise ValueError(f'cannot decode image {path}')
    return image


def resized_shape(height: int, width: int, scale: Sequence[int],
                  keep_ratio: bool) -> Tuple[int, int]:
    """mmdet's ``Resize`` output ``(h, w)`` for ``scale`` ``(w, h)``:
    with ``keep_ratio`` the largest size with the long side at most
    ``max(scale)`` and the short side at most ``min(scale)``."""
    if not keep_ratio:
        return int(scale[1]), int(scale[0])
    factor = min(
        max(scale) / max(height, width),
        min(scale) / min(height, width))
    return int(height * factor + 0.5), int(width * factor + 0.5)


def paste_masks(probs: np.ndarray,
                boxes: np.ndarray,
                shape: Tuple[int, int],
                threshold: float = 0.5) -> np.ndarray:
    """Masks ``(N, h, w)`` (bool) of probabilities ``probs`` ``(N, M, M)``
    pasted in ``boxes`` ``(N, 4)`` on an image of ``shape`` ``(h, w)``.

    As mmdet's ``FCNMaskHead`` on CPU: each mask is sampled bilinearly
    (zero outside it, pixel centres, ``align_corners=False``) in its box
    widened by one pixel, and thresholded (``>= threshold``). The sampling
    is separable (rows, then columns) and gathers its two taps per pixel:
    no BLAS call, whose idle threads would spin on the cores afterwards.
    """
    height, width = shape
    out = np.zeros((len(probs), height, width), dtype=bool)
    for mask, prob, box in zip(out, probs.astype(np.float32),
                               boxes.astype(np.float32)):
        x0 = max(int(math.floor(box[0])) - 1, 0)
        y0 = max(int(math.floor(box[1])) - 1, 0)
        x1 = min(int(math.ceil(box[2])) + 1, width)
        y1 = min(int(math.ceil(box[3])) + 1, height)
        if x1 <= x0 or y1 <= y0:
            continue
        padded = np.pad(prob, 1)  # the zeros bilinear sampling reads outside
        first, second, frac = _taps(
            np.arange(y0, y1), box[1], box[3], len(prob))
        rows = padded[first] * (1 - frac)[:, None] + \
            padded[second] * frac[:, None]
        first, second, frac = _taps(
            np.arange(x0, x1), box[0], box[2], len(prob))
        values = rows[:, first] * (1 - frac) + rows[:, second] * frac
        mask[y0:y1, x0:x1] = values >= threshold
    return out


def _taps(pixels: np.ndarray, start: float, end: float,
          size: int) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For the centres of ``pixels`` on a mask of ``size`` cells spanning
    ``[start, end]``: the two cells each reads, as indices into the mask
    padded by one zero cell per side, and the second one's weight."""
    pixels = pixels.astype(np.float32) + np.float32(0.5)
    extent = np.float32(end - start)
    grid = ((pixels - np.float32(start)) / extent * 2 - 1) if extent else \
        np.zeros_like(pixels)
    coords = ((grid + 1) * size - 1) / 2
    low = np.floor(coords)
    cell = low.astype(np.int64) + 1  # (the padding shifts cells by one)
    return (np.clip(cell, 0, size + 1), np.clip(cell + 1, 0,
                                                size + 1), coords - low)


def session_options(num_threads: Optional[int] = None, spinning: bool = True):
    """ONNX Runtime's session options for :class:`ONNXDetector` (its
    arguments)."""
    import onnxruntime as ort
    options = ort.SessionOptions()
    if num_threads:
        options.intra_op_num_threads = num_threads
        options.inter_op_num_threads = 1
    options.log_severity_level = 3  # errors only
    if spinning:
        options.add_session_config_entry('session.force_spinning_stop', '1')
    else:
        options.add_session_config_entry('session.intra_op.allow_spinning',
                                         '0')
    return options


class ONNXDetector:
    """An exported detector run by ONNX Runtime on CPU.

    Args:
        onnx_file (str): A graph written by :func:`export_onnx`.
        num_threads (int, optional): ONNX Runtime's intra-op threads.
            Defaults to its own choice (the physical cores).
        spinning (bool): Whether worker threads spin-wait between the
            steps of a run (ONNX Runtime's default: lower latency). They
            stop spinning when the run returns, so the pre- and
            post-processing between runs have the cores. Defaults to True.

    ``detector(image)`` gives, for an image path or BGR ``uint8`` array,
    ``boxes (N, 4)`` in the image's pixels, ``scores (N,)``, ``labels
    (N,)`` and, for a model with masks, ``masks (N, h, w)`` bool, as the
    PyTorch model's ``predict(..., rescale=True)``.
    """

    def __init__(self,
                 onnx_file: str,
                 num_threads: Optional[int] = None,
                 spinning: bool = True) -> None:
        require('onnxruntime')
        import onnxruntime as ort
        self.session = ort.InferenceSession(
            onnx_file,
            session_options(num_threads, spinning),
            providers=['CPUExecutionProvider'])
        meta = self.session.get_modelmeta().custom_metadata_map
        if METADATA_KEY not in meta:
            raise ValueError(f'{onnx_file} was not written by mmpanet\'s '
                             'exporter (no preprocessing in its metadata)')
        info = json.loads(meta[METADATA_KEY])
        self.dataset_meta = {
            key: [tuple(v) if isinstance(v, list) else v for v in values]
            for key, values in info['dataset_meta'].items()
        }
        self.classes = tuple(self.dataset_meta['classes'])
        self.preprocessing = info['preprocess']
        self.mask_thr_binary = info.get('mask_thr_binary', 0.5)
        self.output_names = [o.name for o in self.session.get_outputs()]

    def resize(
            self,
            image: Union[str,
                         np.ndarray]) -> Tuple[np.ndarray, Dict[str, tuple]]:
        """``image`` (a path or BGR ``uint8`` ``(H, W, 3)``) resized as the
        config's test pipeline resizes it, and its ``ori_shape``,
        ``img_shape`` and ``scale_factor`` ``(w, h)``."""
        if isinstance(image, str):
            image = load_image(image)
        if image.ndim != 3 or image.shape[2] != 3 or not image.size:
            raise ValueError('expected a BGR image (H, W, 3), got shape '
                             f'{image.shape}')
        cfg = self.preprocessing
        height, width = image.shape[:2]
        new_h, new_w = resized_shape(height, width, cfg['scale'],
                                     cfg['keep_ratio'])
        resized = cv2.resize(
            image, (new_w, new_h), interpolation=cv2.INTER_LINEAR)
        meta = dict(
            ori_shape=(height, width),
            img_shape=(new_h, new_w),
            scale_factor=(new_w / width, new_h / height))
        return resized, meta

    def normalize(self, image: np.ndarray) -> np.ndarray:
        """The graph's input ``(1, 3, H, W)`` float32 for a resized BGR
        image ``(h, w, 3)``: the data preprocessor's channel order,
        normalisation and padding to its size divisor."""
        cfg = self.preprocessing
        img = image.astype(np.float32)
        if cfg['bgr_to_rgb']:
            img = img[..., ::-1]
        img = (img - np.float32(cfg['mean'])) / np.float32(cfg['std'])
        height, width = img.shape[:2]
        divisor = cfg['pad_size_divisor']
        padded = np.full((3, math.ceil(height / divisor) * divisor,
                          math.ceil(width / divisor) * divisor),
                         cfg['pad_value'],
                         dtype=np.float32)
        padded[:, :height, :width] = img.transpose(2, 0, 1)
        return padded[None]

    def preprocess(
            self,
            image: Union[str,
                         np.ndarray]) -> Tuple[np.ndarray, Dict[str, tuple]]:
        """:meth:`resize` then :meth:`normalize`: the graph's input and the
        image's shapes."""
        resized, meta = self.resize(image)
        return self.normalize(resized), meta

    def run(self, input: np.ndarray) -> Dict[str, np.ndarray]:
        """The graph's outputs for a preprocessed ``input``: boxes in its
        pixels and masks at the mask head's resolution."""
        return dict(
            zip(self.output_names, self.session.run(None, {'input': input})))

    def postprocess(self, outputs: Dict[str, np.ndarray],
                    meta: Dict[str, tuple]) -> Dict[str, np.ndarray]:
        """Boxes clipped to the resized image and scaled to the original
        one; masks pasted there at its size."""
        height, width = meta['img_shape']
        boxes = np.minimum(
            outputs['boxes'],
            np.array([width, height, width, height], dtype=np.float32))
        boxes = boxes / np.array(meta['scale_factor'] * 2, dtype=np.float32)
        results = dict(
            boxes=boxes, scores=outputs['scores'], labels=outputs['labels'])
        if 'masks' in outputs:
            results['masks'] = paste_masks(outputs['masks'], boxes,
                                           meta['ori_shape'],
                                           self.mask_thr_binary)
        return results

    def __call__(self, image: Union[str, np.ndarray]) -> Dict[str, np.ndarray]:
        input, meta = self.preprocess(image)
        return self.postprocess(self.run(input), meta)
