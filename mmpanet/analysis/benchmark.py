# Copyright (c) mmpanet contributors. All rights reserved.
"""Measure two or more configs side by side, in one run, interleaved.

For every config, on the same fixed random images (``mmpanet.testing``):

- inference latency per image (``predict`` with ``rescale=False``): median
  and spread over all images and repeats; the test config is forced to
  ``score_thr=0`` and ``max_per_img=num_dets`` so the mask head runs on a
  known number of RoIs even with untrained weights;
- training iteration time (loss, backward, SGD step; 2 images per batch);
- peak memory of two training steps, in a fresh worker process per config
  (spawned): the process's ``VmHWM`` on CPU, ``max_memory_allocated`` on
  CUDA;
- parameters, and FLOPs (mmengine's ``FlopAnalyzer``, jit tracing) of the
  model's tensor path through its public modules: ``extract_feat``, the RPN
  head's forward, and ``roi_head.forward`` on the test proposal count
  (mmdet runs the mask branch there on the first 100 RoIs). Ops it cannot
  count (mmcv's RoIAlign, among others) are listed.

Configs are measured in turn within each repeat (A, B, A, B, ...) after
warm-up, so slow drifts of the machine hit all of them alike. Ratios are
against the first config. ``components`` times, per config with an
``AllLevelRoIExtractor``, that extractor against the plain RoIAlign calls it
must make (``torch.utils.benchmark``); ``profile`` lists the top operators
of each config's predict step. Models are built without pretrained weights
(no downloads); SyncBN runs as BN (one process) on CPU.
"""
import concurrent.futures
import copy
import dataclasses
import multiprocessing
import statistics
import time
from dataclasses import dataclass
from typing import Callable, List, Optional, Sequence

import torch
from mmengine.structures import InstanceData

from mmpanet.engine.amp import amp_inference, amp_training
from mmpanet.models import AllLevelRoIExtractor
from mmpanet.testing import make_batch, random_specs


@dataclass
class Settings:
    img_size: Sequence[int] = (512, 512)
    num_images: int = 4
    repeats: int = 3
    warmup: int = 1
    num_dets: int = 100
    train_iters: int = 3
    threads: int = 2
    device: str = 'cpu'
    amp: bool = False
    compare_amp: bool = False
    skip_train: bool = False
    skip_memory: bool = False
    skip_flops: bool = False
    components: bool = False
    profile: int = 0


def settings_from(values: dict, cls: type = Settings):
    """The settings dataclass ``cls`` (default :class:`Settings`) from a
    mapping with (at least) its fields, such as the parsed command line or
    the ``settings`` a results file stores."""
    fields = {f.name for f in dataclasses.fields(cls)}
    return cls(**{k: v for k, v in values.items() if k in fields})


def setup(threads: int) -> None:
    torch.set_num_threads(threads)
    from mmdet.utils import register_all_modules

    import mmpanet  # noqa: F401  (registers the modules)
    register_all_modules()


def build_model(path: str, num_dets: int, device: str):
    """The config's model with ``num_dets`` detections per image at any
    score, random weights (:func:`mmpanet.apis.init_model`)."""
    from mmengine.config import Config

    from mmpanet.apis import init_model
    model_cfg = copy.deepcopy(Config.fromfile(path).model)
    model_cfg.test_cfg.rcnn.score_thr = 0.0
    model_cfg.test_cfg.rcnn.max_per_img = num_dets
    return init_model(model_cfg, device=device)


def fake_data(num: int, size: Sequence[int]) -> dict:
    """``num`` fixed random images of ``size`` with 4 boxes and masks each.
    """
    return make_batch(random_specs(num, tuple(size)))


def sync(device: str) -> None:
    if device.startswith('cuda'):
        torch.cuda.synchronize()


def predict_time(model, data, device, amp) -> float:
    model.eval()
    with torch.no_grad(), amp_inference(model, enabled=amp):
        processed = model.data_preprocessor(data, False)
        sync(device)
        start = time.perf_counter()
        model(**processed, mode='predict')
        sync(device)
    return time.perf_counter() - start


def train_time(model, optimizer, data, device, amp) -> float:
    model.train()
    processed = model.data_preprocessor(data, True)
    sync(device)
    start = time.perf_counter()
    with amp_training(model, enabled=amp):
        losses = model(**processed, mode='loss')
        loss, _ = model.parse_losses(losses)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    sync(device)
    return time.perf_counter() - start


def single(data, i):
    return dict(
        inputs=[data['inputs'][i]], data_samples=[data['data_samples'][i]])


def pair(data, i):
    n = len(data['inputs'])
    idx = [i % n, (i + 1) % n]
    return dict(
        inputs=[data['inputs'][j] for j in idx],
        data_samples=[copy.deepcopy(data['data_samples'][j]) for j in idx])


def fixed_boxes(num: int, size: Sequence[int]) -> torch.Tensor:
    """``num`` seeded random boxes ``(num, 4)`` in an image of ``size``."""
    g = torch.Generator().manual_seed(0)
    h, w = size
    xy = torch.rand(num, 2, generator=g) * torch.tensor([w * .8, h * .8])
    wh = 8 + torch.rand(num, 2, generator=g) * torch.tensor([w * .5, h * .5])
    return torch.cat([xy, (xy + wh).clamp(max=max(h, w))], 1)


class TensorPath(torch.nn.Module):
    """The tensor computation of a two-stage detector through its public
    modules, for jit-traced FLOP counting: features, RPN head, and the RoI
    head's ``forward`` on fixed proposals (no NMS or post-processing)."""

    def __init__(self, model, proposals: torch.Tensor):
        super().__init__()
        self.model = model
        self.register_buffer('proposals', proposals)

    def forward(self, img):
        x = self.model.extract_feat(img)
        rpn_cls, _ = self.model.rpn_head(x)
        roi_outs = self.model.roi_head(x,
                                       [InstanceData(bboxes=self.proposals)])
        return (rpn_cls[0], ) + tuple(roi_outs)


def count_flops(model, settings: Settings):
    from mmengine.analysis import FlopAnalyzer
    h, w = settings.img_size
    proposals = fixed_boxes(model.test_cfg.rpn.max_per_img, (h, w))
    path = TensorPath(model, proposals).to(settings.device).eval()
    img = torch.zeros(
        1, 3, (h + 31) // 32 * 32, (w + 31) // 32 * 32, device=settings.device)
    analyzer = FlopAnalyzer(path, (img, ))
    analyzer.unsupported_ops_warnings(False)
    analyzer.uncalled_modules_warnings(False)
    with torch.no_grad():
        total = analyzer.total()
    return total, dict(analyzer.unsupported_ops())


def proc_status_mb(key: str) -> float:
    """``VmRSS`` (now) or ``VmHWM`` (peak) of this process, in MB."""
    with open('/proc/self/status') as f:
        for line in f:
            if line.startswith(key + ':'):
                return int(line.split()[1]) / 1024
    raise RuntimeError(f'{key} not in /proc/self/status (Linux only)')


def memory_probe(path: str, settings: Settings) -> dict:
    """Peak memory of two training steps of one config, in this process.

    Run in a fresh (spawned) worker: the peak is the process's own
    high-water mark (``VmHWM``); ``getrusage``'s ``ru_maxrss`` would carry
    the launching process's size over through fork and exec."""
    setup(settings.threads)
    model = build_model(path, settings.num_dets, settings.device)
    optimizer = torch.optim.SGD(model.parameters(), lr=1e-4, momentum=0.9)
    data = fake_data(2, settings.img_size)
    rss_built = proc_status_mb('VmRSS')
    if settings.device.startswith('cuda'):
        torch.cuda.reset_peak_memory_stats()
    for i in range(2):
        train_time(model, optimizer, pair(data, i), settings.device,
                   settings.amp)
    out = dict(
        rss_peak_mb=proc_status_mb('VmHWM'), rss_model_built_mb=rss_built)
    if settings.device.startswith('cuda'):
        out['cuda_max_allocated_mb'] = torch.cuda.max_memory_allocated() / \
            2**20
    return out


def in_fresh_process(fn, *args):
    """``fn(*args)`` in a new spawned process (its own memory peak, nothing
    left from earlier measurements): its result, or its exception."""
    with concurrent.futures.ProcessPoolExecutor(
            1, mp_context=multiprocessing.get_context('spawn')) as pool:
        return pool.submit(fn, *args).result()


def measure_memory(path: str, settings: Settings) -> dict:
    """:func:`memory_probe` in a fresh process."""
    try:
        return in_fresh_process(memory_probe, path, settings)
    except Exception as e:
        raise RuntimeError(f'memory probe failed for {path}: '
                           f'{type(e).__name__}: {e}') from e


def time_components(model, data, settings: Settings) -> dict:
    """The all-level extractor against the RoIAlign calls it must make (one
    per level over all RoIs), on the model's own features; median of
    ``torch.utils.benchmark`` measurements taken in alternation."""
    from torch.utils.benchmark import Timer
    extractor = model.roi_head.bbox_roi_extractor
    if not isinstance(extractor, AllLevelRoIExtractor):
        return {}
    model.eval()
    with torch.no_grad():
        processed = model.data_preprocessor(single(data, 0), False)
        feats = model.extract_feat(processed['inputs'])
    levels = feats[:extractor.num_inputs]
    n = model.test_cfg.rpn.max_per_img
    rois = torch.cat([torch.zeros(n, 1),
                      fixed_boxes(n, settings.img_size)],
                     1).to(settings.device)

    def afp():
        extractor(levels, rois)

    def plain():
        for layer, feat in zip(extractor.roi_layers, levels):
            layer(feat, rois)

    timers = {
        name: Timer('fn()', globals=dict(fn=fn), num_threads=settings.threads)
        for name, fn in (('afp', afp), ('plain', plain))
    }
    medians = {name: [] for name in timers}
    with torch.no_grad():
        for _ in range(settings.repeats):
            for name, timer in timers.items():
                medians[name].append(timer.blocked_autorange().median)
    afp_ms = 1000 * statistics.median(medians['afp'])
    plain_ms = 1000 * statistics.median(medians['plain'])
    return dict(
        num_rois=n,
        afp_extractor_ms=afp_ms,
        plain_roi_align_ms=plain_ms,
        ratio=afp_ms / plain_ms)


def top_operators(totals_us: dict, calls: dict, runs: int,
                  top: int) -> List[dict]:
    """The ``top`` operators by self time: ``op``, ``self_ms`` and
    ``calls`` per run, ``share`` of all operators' time, from each
    operator's total microseconds and calls over ``runs`` runs."""
    total = sum(totals_us.values()) or 1
    ranked = sorted(totals_us, key=totals_us.get, reverse=True)[:top]
    return [
        dict(
            op=op,
            self_ms=totals_us[op] / 1000 / runs,
            share=totals_us[op] / total,
            calls=calls[op] / runs) for op in ranked
    ]


def torch_operators(step: Callable[[int], None],
                    runs: int,
                    top: int,
                    activities: Optional[list] = None) -> List[dict]:
    """The ``top`` torch operators by self time (:func:`top_operators`)
    of ``step(0)``, ..., ``step(runs - 1)`` under the torch profiler."""
    from torch.profiler import profile
    with profile(activities=activities) as prof:
        for i in range(runs):
            step(i)
    events = prof.key_averages()
    return top_operators({e.key: e.self_cpu_time_total
                          for e in events}, {e.key: e.count
                                             for e in events}, runs, top)


def operator_table(title: str, entries: List[dict]) -> List[str]:
    """Markdown lines of :func:`top_operators`' entries under ``title``."""
    return [
        '', title, '', '| operator | self ms | share | calls |',
        '|---|---|---|---|'
    ] + [
        f'| {e["op"]} | {e["self_ms"]:.1f} | {e["share"]:.1%} | '
        f'{e["calls"]:g} |' for e in entries
    ]


def profile_predict(model, data, settings: Settings) -> list:
    """Top ``settings.profile`` operators of the predict step by self time
    (per image, averaged over the images)."""
    from torch.profiler import ProfilerActivity
    activities = [ProfilerActivity.CPU]
    if settings.device.startswith('cuda'):
        activities.append(ProfilerActivity.CUDA)
    predict_time(model, single(data, 0), settings.device,
                 settings.amp)  # warm-up
    return torch_operators(
        lambda i: predict_time(model, single(data, i), settings.device,
                               settings.amp), settings.num_images,
        settings.profile, activities)


def quantiles(values: List[float]) -> dict:
    values = sorted(values)
    q = statistics.quantiles(values, n=4) if len(values) > 1 else values * 3
    return dict(
        median=statistics.median(values),
        p25=q[0],
        p75=q[-1],
        min=values[0],
        max=values[-1],
        n=len(values))


def interleaved(variants, steps: int, fn, label: str) -> List[List[float]]:
    """``fn(variant, step)`` for every variant in turn, ``steps`` rounds;
    the times of each variant, with progress on screen."""
    times = [[] for _ in variants]
    for step in range(steps):
        for k, variant in enumerate(variants):
            times[k].append(fn(variant, step))
        print(f'\r{label}: {step + 1}/{steps}', end='', flush=True)
    print()
    return times


def precisions(settings: Settings) -> Sequence[bool]:
    """Whether each measured variant of a config runs under AMP: both
    (fp32 first) with ``compare_amp``, else ``settings.amp``."""
    return (False, True) if settings.compare_amp else (settings.amp, )


def run(configs: Sequence[str], settings: Settings) -> list:
    """Measure ``configs``, each in every precision of
    :func:`precisions`; one result dict per (config, precision), all
    interleaved."""
    setup(settings.threads)
    variants = [(k, amp) for k in range(len(configs))
                for amp in precisions(settings)]
    results = [
        dict(config=configs[k].split('/')[-1], amp=amp) for k, amp in variants
    ]
    if not settings.skip_memory:  # first, while this process is small
        for res, (k, amp) in zip(results, variants):
            print(f'memory: {res["config"]} (amp {amp})', flush=True)
            res['memory'] = measure_memory(
                configs[k], dataclasses.replace(settings, amp=amp))
    data = fake_data(settings.num_images, settings.img_size)
    models = [
        build_model(p, settings.num_dets, settings.device) for p in configs
    ]
    for res, (k, _) in zip(results, variants):
        res['params_m'] = sum(q.numel() for q in models[k].parameters()) / 1e6
    n_img = settings.num_images
    times = interleaved(
        variants, (settings.warmup + settings.repeats) * n_img,
        lambda v, step: predict_time(models[v[0]], single(data, step % n_img),
                                     settings.device, v[1]), 'inference')
    for res, t in zip(results, times):
        latency = quantiles(t[settings.warmup * n_img:])
        res['latency_ms'] = {
            k: (v * 1000 if k != 'n' else v)
            for k, v in latency.items()
        }
    if not settings.skip_train:
        optims = [
            torch.optim.SGD(m.parameters(), lr=1e-4, momentum=0.9)
            for m in models
        ]
        times = interleaved(
            variants, settings.warmup + settings.train_iters,
            lambda v, step: train_time(models[v[0]], optims[v[
                0]], pair(data, step), settings.device, v[1]), 'training')
        for res, t in zip(results, times):
            res['train_iter_s'] = quantiles(t[settings.warmup:])
    for res, (k, amp) in zip(results, variants):
        model, variant = models[k], dataclasses.replace(settings, amp=amp)
        if settings.components:
            res['components'] = time_components(model, data, variant)
        if settings.profile:
            res['predict_profile'] = profile_predict(model, data, variant)
        if not settings.skip_flops:
            flops, unsupported = count_flops(model, settings)
            res['gflops'] = flops / 1e9
            res['flops_not_counted'] = unsupported
    return results


def precision_name(amp: bool, device: str) -> str:
    return ('bf16' if device == 'cpu' else 'fp16') if amp else 'fp32'


def markdown(results: list, settings: Settings) -> str:
    """The table: each (config, precision) with its ratios against the
    first config in the same precision and, under AMP, against its own
    fp32 run."""
    mem_key = 'cuda_max_allocated_mb' if settings.device.startswith(
        'cuda') else 'rss_peak_mb'
    compare = len({r['amp'] for r in results}) > 1

    def ratio(value, ref):
        return f'{value / ref:.2f}x' if ref else '-'

    def base(r):  # the first config, same precision
        return next(b for b in results if b['amp'] == r['amp'])

    def fp32(r):  # the same config in fp32
        return next(b for b in results
                    if b['config'] == r['config'] and not b['amp'])

    head = [
        'config', 'precision', 'params (M)', 'GFLOPs', 'FLOPs ratio',
        'latency ms (median, p25-p75)', 'latency ratio'
    ]
    if compare:
        head += ['latency vs fp32']
    if 'train_iter_s' in results[0]:
        head += ['train iter s (median)', 'train ratio']
        if compare:
            head += ['train vs fp32']
    if 'memory' in results[0]:
        head += [
            f'train peak {mem_key[:-3]} MB', 'memory ratio',
            'RSS after model build MB'
        ]
    h, w = settings.img_size
    lines = [
        f'Input {h}x{w}, {settings.num_images} images x {settings.repeats} '
        f'repeats, {settings.threads} threads, device {settings.device}, '
        f'{settings.num_dets} detections per image. Ratios: against the '
        'first config in the same precision' +
        (', and against the same config in fp32' if compare else '') + '.', '',
        '| ' + ' | '.join(head) + ' |', '|' + '---|' * len(head)
    ]
    for r in results:
        lat, b = r['latency_ms'], base(r)
        cells = [
            r['config'],
            precision_name(r['amp'], settings.device), f'{r["params_m"]:.1f}',
            f'{r.get("gflops", float("nan")):.1f}',
            ratio(r.get('gflops', 0), b.get('gflops', 0)),
            f'{lat["median"]:.0f} ({lat["p25"]:.0f}-{lat["p75"]:.0f})',
            ratio(lat['median'], b['latency_ms']['median'])
        ]
        if compare:
            cells.append(ratio(lat['median'], fp32(r)['latency_ms']['median']))
        if 'train_iter_s' in r:
            train = r['train_iter_s']['median']
            cells += [
                f'{train:.2f}',
                ratio(train, b['train_iter_s']['median'])
            ]
            if compare:
                cells.append(ratio(train, fp32(r)['train_iter_s']['median']))
        if 'memory' in r:
            cells += [
                f'{r["memory"][mem_key]:.0f}',
                ratio(r['memory'][mem_key], b['memory'][mem_key]),
                f'{r["memory"]["rss_model_built_mb"]:.0f}'
            ]
        lines.append('| ' + ' | '.join(cells) + ' |')
    notes = sorted(
        {op
         for r in results
         for op in r.get('flops_not_counted', {})})
    if notes:
        lines += ['', 'Not counted in FLOPs: ' + ', '.join(notes)]
    for r in results:
        c: Optional[dict] = r.get('components')
        if c:
            lines += [
                '', f'{r["config"]}: AFP extractor '
                f'{c["afp_extractor_ms"]:.1f} ms vs plain RoIAlign calls '
                f'{c["plain_roi_align_ms"]:.1f} ms on {c["num_rois"]} RoIs '
                f'({c["ratio"]:.2f}x)'
            ]
        if r.get('predict_profile'):
            lines += operator_table(
                f'{r["config"]} '
                f'({precision_name(r["amp"], settings.device)}): predict '
                'step, top operators by self time (per image)',
                r['predict_profile'])
    return '\n'.join(lines) + '\n'
