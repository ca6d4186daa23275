# Copyright (c) mmpanet contributors. All rights reserved.
"""Measure two or more configs side by side, in one run, interleaved.

    python tools/analysis_tools/benchmark.py CONFIG_A CONFIG_B [...]
        [--img-size 512 512] [--num-images 4] [--repeats 3] [--warmup 1]
        [--num-dets 100] [--train-iters 3] [--threads 2] [--device cpu]
        [--amp] [--skip-train] [--skip-memory] [--skip-flops]
        [--components] [--profile K] [--out-dir DIR]

For every config, on the same fixed random images:

- inference latency per image (``predict`` with ``rescale=False``): median
  and spread over all images and repeats; the test config is forced to
  ``score_thr=0`` and ``max_per_img=--num-dets`` so the mask head runs on
  a known number of RoIs even with untrained weights;
- training iteration time (loss, backward, SGD step; 2 images per batch);
- peak memory of one training step: process peak RSS, measured in a fresh
  child process per config, on CPU; ``max_memory_allocated`` on CUDA;
- parameters, and FLOPs of the predict computation (backbone, neck, RPN
  head, box branch on the test proposal count, mask branch on
  ``--num-dets`` RoIs) by mmengine's ``FlopAnalyzer`` (jit tracing). Ops it
  cannot count (mmcv's RoIAlign, among others) are listed.

Configs are measured in turn within each repeat (A, B, A, B, ...) after
warm-up, so slow drifts of the machine hit all of them alike. Ratios are
against the first config. ``--components`` adds, per config with AFP, the
RoI extractor against the plain RoIAlign calls it must make, and the
per-level first layer as a loop against one batched call. ``--profile K``
lists the top K operators of each config's predict step.
Models are built without pretrained weights (no downloads); SyncBN runs
as BN (one process) on CPU.
"""
import argparse
import copy
import json
import os
import os.path as osp
import statistics
import subprocess
import sys
import time

import torch

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='Latency, train step, memory, params and FLOPs of '
        'configs, side by side')
    parser.add_argument('configs', nargs='+')
    parser.add_argument(
        '--img-size',
        type=int,
        nargs=2,
        default=[512, 512],
        metavar=('H', 'W'))
    parser.add_argument('--num-images', type=int, default=4)
    parser.add_argument('--repeats', type=int, default=3)
    parser.add_argument('--warmup', type=int, default=1)
    parser.add_argument('--num-dets', type=int, default=100)
    parser.add_argument('--train-iters', type=int, default=3)
    parser.add_argument('--threads', type=int, default=2)
    parser.add_argument('--device', default='cpu')
    parser.add_argument(
        '--amp',
        action='store_true',
        help='autocast (bf16 on CPU, fp16 on CUDA)')
    parser.add_argument('--skip-train', action='store_true')
    parser.add_argument('--skip-memory', action='store_true')
    parser.add_argument('--skip-flops', action='store_true')
    parser.add_argument(
        '--components',
        action='store_true',
        help='also time the AFP extractor against plain '
        'RoIAlign calls')
    parser.add_argument(
        '--profile',
        type=int,
        default=0,
        metavar='K',
        help='also profile the predict step (torch profiler) and list the '
        'top K operators by self time')
    parser.add_argument(
        '--out-dir',
        default=None,
        help='write benchmark.md and benchmark.json here')
    parser.add_argument(
        '--memory-probe', action='store_true', help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if len(args.configs) < 2 and not args.memory_probe:
        parser.error('give two or more configs to compare')
    for path in args.configs:
        if not osp.isfile(path):
            parser.error(f'config file not found: {path}')
    return args


def setup(threads: int) -> None:
    torch.set_num_threads(threads)
    from mmdet.utils import register_all_modules

    import mmpanet  # noqa: F401  (registers the modules)
    register_all_modules()


def build_model(path: str, num_dets: int, device: str):
    from mmdet.registry import MODELS
    from mmengine.config import Config
    from mmengine.model import revert_sync_batchnorm
    cfg = Config.fromfile(path)
    model_cfg = copy.deepcopy(cfg.model)
    model_cfg.test_cfg.rcnn.score_thr = 0.0
    model_cfg.test_cfg.rcnn.max_per_img = num_dets
    model = MODELS.build(model_cfg)
    if device == 'cpu':
        model = revert_sync_batchnorm(model)
    return model.to(device)


def make_batch(num: int, size, device: str, seed: int = 0):
    """``num`` fixed random images with a few boxes and masks each."""
    from mmdet.structures import DetDataSample
    from mmdet.structures.mask import BitmapMasks
    from mmengine.structures import InstanceData
    g = torch.Generator().manual_seed(seed)
    h, w = size
    inputs, samples = [], []
    for _ in range(num):
        inputs.append(torch.randint(0, 256, (3, h, w), generator=g).float())
        n = 4
        xy = torch.rand(n, 2, generator=g) * torch.tensor([w * .6, h * .6])
        wh = torch.rand(n, 2, generator=g) * torch.tensor([w * .35, h * .35])
        boxes = torch.cat([xy, xy + wh + 8], 1)
        masks = torch.zeros(n, h, w, dtype=torch.uint8)
        for i, (x1, y1, x2, y2) in enumerate(boxes.long().tolist()):
            masks[i, y1:y2, x1:x2] = 1
        sample = DetDataSample(
            metainfo=dict(
                img_shape=(h, w),
                ori_shape=(h, w),
                scale_factor=(1.0, 1.0),
                pad_shape=(h, w),
                batch_input_shape=(h, w)))
        sample.gt_instances = InstanceData(
            bboxes=boxes,
            labels=torch.randint(0, 4, (n, ), generator=g),
            masks=BitmapMasks(masks.numpy(), h, w))
        samples.append(sample)
    return dict(inputs=inputs, data_samples=samples)


def sync(device: str) -> None:
    if device.startswith('cuda'):
        torch.cuda.synchronize()


def autocast(device: str, enabled: bool):
    dtype = torch.bfloat16 if device == 'cpu' else torch.float16
    return torch.autocast(device.split(':')[0], dtype=dtype, enabled=enabled)


def predict_time(model, data, device, amp) -> float:
    model.eval()
    with torch.no_grad(), autocast(device, amp):
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
    with autocast(device, amp):
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


def fixed_rois(num: int, size) -> torch.Tensor:
    """``num`` seeded random RoIs ``(num, 5)`` (batch index 0) in an image
    of ``size`` (H, W)."""
    g = torch.Generator().manual_seed(0)
    h, w = size
    xy = torch.rand(num, 2, generator=g) * torch.tensor([w * .8, h * .8])
    wh = 8 + torch.rand(num, 2, generator=g) * torch.tensor([w * .5, h * .5])
    boxes = torch.cat([xy, (xy + wh).clamp(max=max(h, w))], 1)
    return torch.cat([torch.zeros(num, 1), boxes], 1)


class FlopsView(torch.nn.Module):
    """The tensors of a predict step, for jit-traced FLOP counting: the
    features, the RPN head, the box branch on ``num_proposals`` RoIs and
    the mask branch on ``num_dets`` RoIs (NMS and post-processing left
    out)."""

    def __init__(self, model, num_proposals, num_dets, size):
        super().__init__()
        self.model = model
        self.register_buffer('rois', fixed_rois(num_proposals, size))
        self.num_dets = num_dets

    def forward(self, img):
        x = self.model.extract_feat(img)
        rpn = self.model.rpn_head(x)
        roi_head = self.model.roi_head
        out = [roi_head._bbox_forward(x, self.rois)['cls_score'], rpn[0][0]]
        if roi_head.with_mask:
            out.append(
                roi_head._mask_forward(
                    x, rois=self.rois[:self.num_dets])['mask_preds'])
        return tuple(out)


def count_flops(model, args):
    from mmengine.analysis import FlopAnalyzer
    h, w = args.img_size
    num_proposals = model.test_cfg.rpn.max_per_img
    view = FlopsView(model, num_proposals, args.num_dets,
                     (h, w)).to(args.device).eval()
    img = torch.zeros(
        1, 3, (h + 31) // 32 * 32, (w + 31) // 32 * 32, device=args.device)
    analyzer = FlopAnalyzer(view, (img, ))
    analyzer.unsupported_ops_warnings(False)
    analyzer.uncalled_modules_warnings(False)
    with torch.no_grad():
        total = analyzer.total()
    return total, dict(analyzer.unsupported_ops())


def memory_probe(args) -> dict:
    """One config, fresh process: peak memory of training steps.

    The peak is the process's own high-water mark (``VmHWM``), not
    ``getrusage``'s ``ru_maxrss``: Linux carries ``ru_maxrss`` over from
    the parent across fork and exec, so every probe would report at least
    the RSS of the benchmark that launched it."""
    setup(args.threads)
    model = build_model(args.configs[0], args.num_dets, args.device)
    optimizer = torch.optim.SGD(model.parameters(), lr=1e-4, momentum=0.9)
    data = make_batch(2, args.img_size, args.device)
    rss_built = proc_status_mb('VmRSS')
    if args.device.startswith('cuda'):
        torch.cuda.reset_peak_memory_stats()
    for i in range(2):
        train_time(model, optimizer, pair(data, i), args.device, args.amp)
    out = dict(
        rss_peak_mb=proc_status_mb('VmHWM'), rss_model_built_mb=rss_built)
    if args.device.startswith('cuda'):
        out['cuda_max_allocated_mb'] = torch.cuda.max_memory_allocated() / \
            2**20
    return out


def proc_status_mb(key: str) -> float:
    """``VmRSS`` (now) or ``VmHWM`` (peak) of this process, in MB."""
    with open('/proc/self/status') as f:
        for line in f:
            if line.startswith(key + ':'):
                return int(line.split()[1]) / 1024
    raise RuntimeError(f'{key} not in /proc/self/status (Linux only)')


def measure_memory(path, args) -> dict:
    cmd = [
        sys.executable,
        osp.abspath(__file__), path, '--memory-probe', '--img-size',
        *map(str, args.img_size), '--threads',
        str(args.threads), '--device', args.device, '--num-dets',
        str(args.num_dets)
    ] + (['--amp'] if args.amp else [])
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(f'memory probe failed for {path}:\n'
                           f'{proc.stderr[-3000:]}')
    return json.loads(proc.stdout.strip().splitlines()[-1])


def interleaved(fns: dict, args, repeats: int = 5) -> dict:
    """Median milliseconds of each function, called in turn after
    ``args.warmup`` rounds."""
    timings = {name: [] for name in fns}
    for rep in range(args.warmup + repeats):
        for name, fn in fns.items():
            sync(args.device)
            start = time.perf_counter()
            fn()
            sync(args.device)
            if rep >= args.warmup:
                timings[name].append(time.perf_counter() - start)
    return {k: 1000 * statistics.median(v) for k, v in timings.items()}


def time_components(model, data, args) -> dict:
    """AFP extractor vs the RoIAlign calls it must make (one per level over
    all RoIs), on the model's own features and test proposals."""
    roi_head = model.roi_head
    extractor = roi_head.bbox_roi_extractor
    if not hasattr(extractor, 'map_roi_levels') or type(
            extractor).__name__ != 'AllLevelRoIExtractor':
        return {}
    model.eval()
    with torch.no_grad():
        processed = model.data_preprocessor(single(data, 0), False)
        feats = model.extract_feat(processed['inputs'])
        n = model.test_cfg.rpn.max_per_img
        rois = fixed_rois(n, args.img_size).to(args.device)
        levels = feats[:extractor.num_inputs]

        def afp():
            extractor(levels, rois)

        def plain():
            for layer, feat in zip(extractor.roi_layers, levels):
                layer(feat, rois)

        timings = interleaved(dict(afp=afp, plain=plain), args)
    afp_ms, plain_ms = timings['afp'], timings['plain']
    out = dict(
        num_rois=n,
        afp_extractor_ms=afp_ms,
        plain_roi_align_ms=plain_ms,
        ratio=afp_ms / plain_ms)
    with torch.no_grad():
        out.update(
            time_first_layers(roi_head.bbox_head, extractor(levels, rois),
                              args))
    return out


def time_first_layers(head, x, args) -> dict:
    """The per-level first layer as a Python loop over levels against one
    batched call: for conv layers the fusion's grouped convolution (each
    level's norm and activation included on both sides), for linear layers
    a batched matmul (``einsum``, the linear part only)."""
    fusion = next((m for m in head.modules()
                   if type(m).__name__ == 'AdaptiveFeatureFusion'), None)
    if fusion is None or fusion.fuse_first:
        return {}
    if fusion.grouped_conv:

        def loop():
            return [m(lvl) for m, lvl in zip(fusion.layers, x.unbind(1))]

        def batched():
            return fusion.grouped_conv_outputs(x)

        kind = 'grouped conv2d'
    else:
        layers = [getattr(m, 'fc', None) for m in fusion.layers]
        if not all(isinstance(m, torch.nn.Linear) for m in layers):
            return {}
        weight = torch.stack([m.weight for m in layers])  # (L, O, D)
        bias = 0 if layers[0].bias is None else torch.stack(
            [m.bias for m in layers])
        flat = x.flatten(2)  # (R, L, D)

        def loop():
            return [m(lvl) for m, lvl in zip(layers, flat.unbind(1))]

        def batched():
            return torch.einsum('rld,lod->rlo', flat, weight) + bias

        kind = 'einsum'
    timings = interleaved(dict(loop=loop, batched=batched), args)
    return dict(
        first_layer_batched_kind=kind,
        first_layer_loop_ms=timings['loop'],
        first_layer_batched_ms=timings['batched'])


def profile_predict(model, data, args) -> list:
    """Top ``args.profile`` operators of the predict step by self time
    (per image, averaged over ``args.num_images`` images)."""
    from torch.profiler import ProfilerActivity, profile
    activities = [ProfilerActivity.CPU]
    if args.device.startswith('cuda'):
        activities.append(ProfilerActivity.CUDA)
    predict_time(model, single(data, 0), args.device, args.amp)  # warm-up
    with profile(activities=activities) as prof:
        for i in range(args.num_images):
            predict_time(model, single(data, i), args.device, args.amp)
    events = prof.key_averages()
    total = sum(e.self_cpu_time_total for e in events)
    top = sorted(events, key=lambda e: e.self_cpu_time_total, reverse=True)
    n = args.num_images
    return [
        dict(
            op=e.key,
            self_ms=e.self_cpu_time_total / 1000 / n,
            share=e.self_cpu_time_total / total,
            calls=e.count / n) for e in top[:args.profile]
    ]


def quantiles(values):
    values = sorted(values)
    q = statistics.quantiles(values, n=4) if len(values) > 1 else values * 3
    return dict(
        median=statistics.median(values),
        p25=q[0],
        p75=q[-1],
        min=values[0],
        max=values[-1],
        n=len(values))


def run(args) -> list:
    setup(args.threads)
    results = [dict(config=osp.basename(p)) for p in args.configs]
    if not args.skip_memory:  # first, while this process is still small
        for res, path in zip(results, args.configs):
            print(f'memory: {res["config"]}')
            res['memory'] = measure_memory(path, args)
    data = make_batch(args.num_images, args.img_size, args.device)
    models = [build_model(p, args.num_dets, args.device) for p in args.configs]
    for res, model in zip(results, models):
        res['params_m'] = sum(q.numel() for q in model.parameters()) / 1e6
    # inference, interleaved
    times = [[] for _ in models]
    total = (args.warmup + args.repeats) * len(models) * args.num_images
    done = 0
    for rep in range(args.warmup + args.repeats):
        for k, model in enumerate(models):
            for i in range(args.num_images):
                t = predict_time(model, single(data, i), args.device, args.amp)
                if rep >= args.warmup:
                    times[k].append(t)
                done += 1
            print(f'\rinference: {done}/{total}', end='', flush=True)
    print()
    for res, t in zip(results, times):
        res['latency_ms'] = {
            k: (v * 1000 if k != 'n' else v)
            for k, v in quantiles(t).items()
        }
    if not args.skip_train:
        optims = [
            torch.optim.SGD(m.parameters(), lr=1e-4, momentum=0.9)
            for m in models
        ]
        times = [[] for _ in models]
        for it in range(args.warmup + args.train_iters):
            for k, (model, opt) in enumerate(zip(models, optims)):
                t = train_time(model, opt, pair(data, it), args.device,
                               args.amp)
                if it >= args.warmup:
                    times[k].append(t)
            print(
                f'\rtraining: {it + 1}/{args.warmup + args.train_iters}',
                end='',
                flush=True)
        print()
        for res, t in zip(results, times):
            res['train_iter_s'] = quantiles(t)
    if args.components:
        for res, model in zip(results, models):
            res['components'] = time_components(model, data, args)
    if args.profile:
        for res, model in zip(results, models):
            res['predict_profile'] = profile_predict(model, data, args)
    if not args.skip_flops:
        for res, model in zip(results, models):
            flops, unsupported = count_flops(model, args)
            res['gflops'] = flops / 1e9
            res['flops_not_counted'] = unsupported
    return results


def markdown(results, args) -> str:
    base = results[0]
    mem_key = 'cuda_max_allocated_mb' if args.device.startswith(
        'cuda') else 'rss_peak_mb'

    def ratio(value, ref):
        return f'{value / ref:.2f}x' if ref else '-'

    head = [
        'config', 'params (M)', 'GFLOPs', 'latency ms (median, p25-p75)',
        'latency ratio', 'FLOPs ratio'
    ]
    if 'train_iter_s' in base:
        head += ['train iter s (median)', 'train ratio']
    if 'memory' in base:
        head += [
            f'train peak {mem_key[:-3]} MB', 'memory ratio',
            'RSS after model build MB'
        ]
    lines = [
        f'Input {args.img_size[0]}x{args.img_size[1]}, {args.num_images} '
        f'images x {args.repeats} repeats, {args.threads} threads, '
        f'device {args.device}, amp {args.amp}, {args.num_dets} detections '
        'per image.', '', '| ' + ' | '.join(head) + ' |',
        '|' + '---|' * len(head)
    ]
    for r in results:
        lat = r['latency_ms']
        cells = [
            r['config'], f'{r["params_m"]:.1f}',
            f'{r.get("gflops", float("nan")):.1f}',
            f'{lat["median"]:.0f} ({lat["p25"]:.0f}-{lat["p75"]:.0f})',
            ratio(lat['median'], base['latency_ms']['median']),
            ratio(r.get('gflops', 0), base.get('gflops', 0))
        ]
        if 'train_iter_s' in r:
            cells += [
                f'{r["train_iter_s"]["median"]:.2f}',
                ratio(r['train_iter_s']['median'],
                      base['train_iter_s']['median'])
            ]
        if 'memory' in r:
            cells += [
                f'{r["memory"][mem_key]:.0f}',
                ratio(r['memory'][mem_key], base['memory'][mem_key]),
                f'{r["memory"]["rss_model_built_mb"]:.0f}'
            ]
        lines.append('| ' + ' | '.join(cells) + ' |')
    notes = sorted(
        {op
         for r in results
         for op in r.get('flops_not_counted', {})})
    if notes:
        lines += ['', 'Not counted in FLOPs: ' + ', '.join(notes)]
    comps = [(r['config'], r['components']) for r in results
             if r.get('components')]
    for name, c in comps:
        lines += [
            '', f'{name}: AFP extractor {c["afp_extractor_ms"]:.1f} ms vs '
            f'plain RoIAlign calls {c["plain_roi_align_ms"]:.1f} ms on '
            f'{c["num_rois"]} RoIs ({c["ratio"]:.2f}x)'
        ]
        if 'first_layer_loop_ms' in c:
            lines[-1] += (f'; per-level first layer: loop over levels '
                          f'{c["first_layer_loop_ms"]:.1f} ms, batched '
                          f'({c["first_layer_batched_kind"]}) '
                          f'{c["first_layer_batched_ms"]:.1f} ms')
    for r in results:
        if r.get('predict_profile'):
            lines += [
                '', f'{r["config"]}: predict step, top operators by self '
                'time (per image)', '',
                '| operator | self ms | share | calls |', '|---|---|---|---|'
            ]
            lines += [
                f'| {e["op"]} | {e["self_ms"]:.1f} | {e["share"]:.1%} | '
                f'{e["calls"]:g} |' for e in r['predict_profile']
            ]
    return '\n'.join(lines) + '\n'


def main(argv=None):
    args = parse_args(argv)
    if args.memory_probe:
        print(json.dumps(memory_probe(args)))
        return
    results = run(args)
    text = markdown(results, args)
    print(text)
    if args.out_dir:
        os.makedirs(args.out_dir, exist_ok=True)
        with open(osp.join(args.out_dir, 'benchmark.md'), 'w') as f:
            f.write(text)
        with open(osp.join(args.out_dir, 'benchmark.json'), 'w') as f:
            json.dump(dict(args=vars(args), results=results), f, indent=2)
        print(f'written: {args.out_dir}/benchmark.{{md,json}}')


if __name__ == '__main__':
    main()
