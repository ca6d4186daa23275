# Copyright (c) mmpanet contributors. All rights reserved.
"""ONNX Runtime against PyTorch on CPU, side by side in one run.

One config (and checkpoint) is exported (:func:`mmpanet.deploy.export_onnx`)
and both backends take the same preprocessed inputs, in rounds (all inputs
through PyTorch, then through ONNX Runtime, then through the graph alone;
again) after warm-up rounds, with the same number of threads, each backend
as it runs by default (ONNX Runtime's workers spin during a run and stop
when it returns, so they take no core from PyTorch's block). Each time is
one image from the preprocessed input to the detections with masks pasted
at the input's size: PyTorch's ``predict(..., rescale=False)``
(:func:`mmpanet.deploy.predict_preprocessed`), and the graph plus
:meth:`ONNXDetector.postprocess`; the graph alone is timed too. ``profile``
adds each backend's top operators by self time, from one more pass over the
inputs under its profiler (the torch profiler; ONNX Runtime's kernel times
by op type). Without a checkpoint the model has random weights and, as in
:mod:`mmpanet.analysis.benchmark`, keeps ``num_dets`` detections per image
at any score.
"""
import collections
import glob
import json
import os.path as osp
import tempfile
import time
from dataclasses import dataclass
from typing import List, Optional, Sequence

import torch
from mmengine.config import Config

from mmpanet.apis import init_model
from .benchmark import (operator_table, quantiles, setup, top_operators,
                        torch_operators)


@dataclass
class Settings:
    img_size: Optional[Sequence[int]] = None  # default: the test scale
    images: Optional[str] = None  # a folder of images instead of noise
    num_images: int = 4
    repeats: int = 3
    warmup: int = 1
    num_dets: int = 100
    threads: int = 2
    profile: int = 0  # top operators of each backend (0: none)


def load_inputs(detector, settings: Settings, shape) -> list:
    """Preprocessed inputs: the folder's first images (the config's resize),
    or fixed noise of ``shape``."""
    if settings.images:
        paths = sorted(glob.glob(osp.join(settings.images, '*')))
        if not paths:
            raise FileNotFoundError(f'no images in {settings.images}')
        return [
            detector.preprocess(path)[0]
            for path in paths[:settings.num_images]
        ]
    gen = torch.Generator().manual_seed(0)
    return [
        torch.randn(1, 3, *shape, generator=gen).numpy()
        for _ in range(settings.num_images)
    ]


def onnxruntime_operators(path: str, inputs: list, threads: int,
                          top: int) -> List[dict]:
    """The ``top`` op types of the graph at ``path`` by kernel time
    (:func:`top_operators`), from ONNX Runtime's profile of one pass over
    ``inputs`` after a warm-up run, in :class:`ONNXDetector`'s session."""
    import onnxruntime as ort

    from mmpanet.deploy.runtime import session_options
    with tempfile.TemporaryDirectory() as tmp:
        options = session_options(threads)
        options.enable_profiling = True
        options.profile_file_prefix = osp.join(tmp, 'profile')
        session = ort.InferenceSession(
            path, options, providers=['CPUExecutionProvider'])
        for input in inputs[:1] + inputs:
            session.run(None, {'input': input})
        with open(session.end_profiling()) as f:
            events = json.load(f)
    runs = sorted(e['ts'] for e in events
                  if e.get('cat') == 'Session' and e['name'] == 'model_run')
    totals, calls = collections.Counter(), collections.Counter()
    for e in events:
        if e.get('cat') == 'Node' and e['name'].endswith('_kernel_time') \
                and e['ts'] >= runs[1]:  # after the warm-up run
            totals[e['args']['op_name']] += e['dur']
            calls[e['args']['op_name']] += 1
    return top_operators(totals, calls, len(inputs), top)


def run(config: str, checkpoint: Optional[str], settings: Settings) -> dict:
    """Export ``config`` and time both backends on the same inputs."""
    from mmpanet.deploy import (ONNXDetector, export_onnx,
                                predict_preprocessed, preprocess_spec)
    setup(settings.threads)
    cfg = Config.fromfile(config)
    if checkpoint is None:
        cfg.model.test_cfg.rcnn.score_thr = 0.0
        cfg.model.test_cfg.rcnn.max_per_img = settings.num_dets
    shape = settings.img_size
    if shape is None:
        divisor = preprocess_spec(cfg)['pad_size_divisor']
        shape = [
            -(-s // divisor) * divisor
            for s in sorted(preprocess_spec(cfg)['scale'])
        ]
    with tempfile.TemporaryDirectory() as tmp:
        print('exporting ...', flush=True)
        path = export_onnx(cfg, checkpoint, osp.join(tmp, 'model.onnx'), shape)
        detector = ONNXDetector(path, num_threads=settings.threads)
        model = init_model(cfg, checkpoint)
        inputs = load_inputs(detector, settings, shape)

        def pytorch(input):
            return predict_preprocessed(model, input)

        def onnxruntime(input):
            size = input.shape[2:]
            meta = dict(img_shape=size, ori_shape=size, scale_factor=(1., 1.))
            return detector.postprocess(detector.run(input), meta)

        steps = dict(
            pytorch=pytorch, onnxruntime=onnxruntime, graph=detector.run)

        times = {name: [] for name in steps}
        rounds = settings.warmup + settings.repeats
        for round in range(rounds):
            for name, step in steps.items():
                for input in inputs:
                    start = time.perf_counter()
                    step(input)
                    if round >= settings.warmup:
                        times[name].append(
                            (time.perf_counter() - start) * 1000)
            print(f'\rround {round + 1}/{rounds}', end='', flush=True)
        print()
        found = [len(detector.run(input)['boxes']) for input in inputs]
        if settings.profile:
            profile = dict(
                pytorch=torch_operators(lambda i: pytorch(inputs[i]),
                                        len(inputs), settings.profile),
                onnxruntime=onnxruntime_operators(path, inputs,
                                                  settings.threads,
                                                  settings.profile))
    result = dict(
        config=osp.basename(config),
        checkpoint=checkpoint,
        input_shapes=sorted({tuple(i.shape[2:])
                             for i in inputs}),
        detections_per_image=sum(found) / len(found),
        **{
            name: quantiles(t)
            for name, t in times.items()
        })
    result['ratio'] = result['onnxruntime']['median'] / \
        result['pytorch']['median']
    if settings.profile:
        result['profile'] = profile
    return result


def markdown(results: Sequence[dict], settings: Settings) -> str:
    """The results as a table: milliseconds per image, median (p25-p75)."""

    def ms(q):
        return f'{q["median"]:.0f} ({q["p25"]:.0f}-{q["p75"]:.0f})'

    lines = [
        f'{settings.threads} threads, {settings.repeats} repeats of '
        f'{settings.num_images} images after {settings.warmup} warm-up '
        'round(s); ms per image from the preprocessed input to the '
        'detections with pasted masks.',
        '',
        '| config | weights | input | detections per image | PyTorch ms '
        '| ONNX Runtime ms | ONNX Runtime / PyTorch | graph alone ms |',
        '|---|---|---|---|---|---|---|---|',
    ]
    for r in results:
        shapes = ', '.join(f'{h}x{w}' for h, w in r['input_shapes'])
        lines.append(
            f'| {r["config"]} | '
            f'{osp.basename(r["checkpoint"]) if r["checkpoint"] else "random"}'
            f' | {shapes} | {r["detections_per_image"]:.0f} | '
            f'{ms(r["pytorch"])} | {ms(r["onnxruntime"])} | '
            f'{r["ratio"]:.2f}x | {ms(r["graph"])} |')
    for r in results:
        if not r.get('profile'):
            continue
        for backend, name in (('pytorch', 'PyTorch'), ('onnxruntime',
                                                       'ONNX Runtime')):
            lines += operator_table(
                f'{r["config"]}, {name}: top operators by self time (ms per '
                'image, one profiled pass)', r['profile'][backend])
    return '\n'.join(lines) + '\n'
