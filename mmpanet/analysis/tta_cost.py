# Copyright (c) mmpanet contributors. All rights reserved.
"""What test-time augmentation costs: peak memory and time per image of a
single pass and of TTA with 1, 2 and 8 views, each merge, on one large
random image.

Every setting runs in its own spawned process (its peak memory is that
process's ``VmHWM``): the model is built with random weights and set to
give ``max_per_img`` detections at any score (the mask head runs on that
many boxes per view, as a trained model's would), the image is made, and
the single pass or the TTA model's ``test_step`` runs ``warmup + repeats``
times. Views: 1 = the image; 2 = and its horizontal flip; 8 = scales 0.75,
1, 1.25 and 1.5 of it, each also flipped (Table 6's four scales around
800).
"""
import copy
import statistics
import time
from dataclasses import dataclass
from typing import List, Sequence, Tuple

import torch

from .benchmark import in_fresh_process

VIEWS = {
    1: [(1.0, False)],
    2: [(1.0, False), (1.0, True)],
    8: [(s, f) for s in (0.75, 1.0, 1.25, 1.5) for f in (False, True)],
}


@dataclass
class Setting:
    views: int  # 0: the single pass, no TTA
    merge: str = 'detectron'


def tta_data(img: torch.Tensor, views: Sequence[Tuple[float, bool]]) -> dict:
    """The TTA batch (one image) of ``img`` ``(3, H, W)`` uint8 in ``views``
    ``(scale, flip)``: resized (bilinear) then flipped."""
    from mmdet.structures import DetDataSample
    h, w = img.shape[-2:]
    data = dict(inputs=[], data_samples=[])
    for scale, flip in views:
        size = (round(h * scale), round(w * scale))
        view = torch.nn.functional.interpolate(
            img[None].float(), size=size, mode='bilinear',
            align_corners=False)[0].round().clamp(0, 255).byte()
        if flip:
            view = view.flip(-1)
        data['inputs'].append([view])
        data['data_samples'].append([
            DetDataSample(
                metainfo=dict(
                    img_id=0,
                    ori_shape=(h, w),
                    img_shape=size,
                    scale_factor=(size[1] / w, size[0] / h),
                    flip=flip,
                    flip_direction='horizontal' if flip else None))
        ])
    return data


def probe(config: str, setting: Setting, img_size: Sequence[int],
          max_per_img: int, repeats: int, warmup: int, threads: int) -> dict:
    """Time and peak memory of one setting, in this process."""
    from mmengine.config import Config

    from mmpanet.analysis.benchmark import proc_status_mb, setup
    from mmpanet.apis import init_model
    from mmpanet.models.test_time_augs import InstanceSegTTAModel
    setup(threads)
    cfg = Config.fromfile(config)
    model_cfg = copy.deepcopy(cfg.model)
    model_cfg.test_cfg.rcnn.update(score_thr=0.0, max_per_img=max_per_img)
    if setting.views and setting.merge == 'mask_voting':
        model_cfg.test_cfg.rcnn.mask_thr_binary = -1  # it votes probabilities
    torch.manual_seed(0)
    model = init_model(model_cfg)
    if setting.views:
        model = InstanceSegTTAModel(
            module=model,
            tta_cfg=dict(merge=setting.merge, max_per_img=max_per_img)).eval()
    g = torch.Generator().manual_seed(0)
    h, w = img_size
    img = torch.randint(0, 256, (3, h, w), generator=g, dtype=torch.uint8)
    data = tta_data(img, VIEWS[setting.views or 1])
    if not setting.views:
        data = {k: v[0] for k, v in data.items()}
    rss_built = proc_status_mb('VmRSS')
    times, found = [], 0
    with torch.no_grad():
        for i in range(warmup + repeats):
            start = time.perf_counter()
            out = model.test_step(copy.deepcopy(data))
            if i >= warmup:
                times.append(time.perf_counter() - start)
            found = len(out[0].pred_instances)
    return dict(
        seconds=statistics.median(times),
        seconds_min=min(times),
        seconds_max=max(times),
        peak_mb=proc_status_mb('VmHWM'),
        model_built_mb=rss_built,
        detections=found)


def measure(config: str,
            settings: Sequence[Setting],
            img_size: Sequence[int] = (1024, 2048),
            max_per_img: int = 100,
            repeats: int = 3,
            warmup: int = 1,
            threads: int = 2) -> List[dict]:
    """:func:`probe` of each setting in a fresh process, in turn."""
    results = []
    for setting in settings:
        label = 'single pass' if not setting.views else \
            f'TTA, {setting.views} view(s), {setting.merge}'
        print(f'{label} ...', flush=True)
        try:
            result = in_fresh_process(probe, config, setting, img_size,
                                      max_per_img, repeats, warmup, threads)
        except Exception as e:
            raise RuntimeError(f'{label}: {type(e).__name__}: {e}') from e
        results.append(dict(result, label=label, **vars(setting)))
    return results


def markdown(results: List[dict], img_size: Sequence[int]) -> str:
    """The table, with each setting's cost relative to the single pass."""
    base = next((r for r in results if not r['views']), results[0])
    h, w = img_size
    lines = [
        f'One {h}x{w} image; time: median (min-max) per image; peak: the '
        'process\'s resident memory high-water mark.', '',
        '| setting | detections | s per image | x single pass | peak MB | '
        'x single pass |', '|---|---|---|---|---|---|'
    ]
    for r in results:
        lines.append(
            f'| {r["label"]} | {r["detections"]} | {r["seconds"]:.2f} '
            f'({r["seconds_min"]:.2f}-{r["seconds_max"]:.2f}) | '
            f'{r["seconds"] / base["seconds"]:.1f}x | {r["peak_mb"]:.0f} | '
            f'{r["peak_mb"] / base["peak_mb"]:.2f}x |')
    return '\n'.join(lines) + '\n'
