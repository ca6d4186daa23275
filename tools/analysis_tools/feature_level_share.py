# Copyright (c) mmpanet contributors. All rights reserved.
"""Reproduce the paper's Figure 3: with max fusion, which level each fused
feature comes from, grouped by the level plain FPN would assign the RoI to.

    python tools/analysis_tools/feature_level_share.py CONFIG CHECKPOINT
        [--out-dir DIR] [--num-images N] [--head bbox|mask]
        [--cfg-options ...]

Runs the model on the test split. For every RoI reaching the head's
adaptive feature fusion, each element of the fused output is the maximum
over the levels' outputs; the level holding it is that element's source.
The share of elements from each source level is summed per RoI group, the
group being the level ``map_roi_levels`` (FPN's size rule) gives the RoI.
Writes ``feature_level_share.json`` / ``.md`` and ``.png``.
"""
import argparse
import json
import os
import os.path as osp
import sys

import torch
from mmengine.config import Config, DictAction

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

import mmpanet  # noqa: E402,F401  (registers the modules)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='Per-level share of max-fused features (Figure 3)')
    parser.add_argument('config')
    parser.add_argument('checkpoint')
    parser.add_argument(
        '--out-dir', default=None, help='default: the checkpoint\'s folder')
    parser.add_argument(
        '--num-images',
        type=int,
        default=None,
        help='images of the test split to use (all)')
    parser.add_argument('--head', choices=('bbox', 'mask'), default='bbox')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override config keys, e.g. test_dataloader.batch_size=1')
    return parser.parse_args(argv)


class LevelShareCounter:
    """Hooks on a head's RoI extractor and its fusion layer that count, per
    FPN-assigned level of the RoI, the source level of every fused element.

    ``counts[g, l]``: elements of RoIs assigned to level ``g`` whose maximum
    came from level ``l``.
    """

    def __init__(self, extractor, fusion):
        if fusion.fuse_first or fusion.fusion != 'max':
            raise ValueError(
                'Figure 3 needs max fusion after the first layer '
                f"(fusion='max', fuse_after not 'roi_align'), got "
                f'fusion={fusion.fusion!r}, fuse_first={fusion.fuse_first}')
        self.extractor = extractor
        self.fusion = fusion
        n = fusion.num_levels
        self.counts = torch.zeros(n, n, dtype=torch.float64)
        self._groups = None
        self._level_outs = []
        # the per-level outputs are caught as the fusion computes them, one
        # layer at a time (the grouped convolution would bypass the hooks)
        self._grouped_conv = fusion.grouped_conv
        fusion.grouped_conv = False
        self._handles = [
            extractor.register_forward_hook(self._on_extract),
            fusion.register_forward_hook(self._on_fuse)
        ] + [
            layer.register_forward_hook(self._on_level)
            for layer in fusion.layers
        ]

    def _on_extract(self, module, args, output):
        rois = args[1]
        self._groups = module.map_roi_levels(rois, self.fusion.num_levels)

    def _on_level(self, module, args, output):
        self._level_outs.append(output.detach())

    def _on_fuse(self, module, args, output):
        outs, self._level_outs = self._level_outs, []
        if self._groups is None or len(self._groups) == 0:
            return
        with torch.no_grad():
            source = torch.stack(outs).flatten(2).argmax(0)  # (R, D)
        n = self.fusion.num_levels
        per_roi = torch.stack([(source == i).sum(1) for i in range(n)], 1)
        per_roi = per_roi.double()
        self.counts.index_add_(0, self._groups.long(), per_roi)
        self._groups = None

    def remove(self):
        for h in self._handles:
            h.remove()
        self.fusion.grouped_conv = self._grouped_conv

    def shares(self):
        """Row-normalized ``counts`` (each FPN level's RoIs sum to 1)."""
        total = self.counts.sum(1, keepdim=True).clamp(min=1)
        return self.counts / total


def find_fusion(model, head: str):
    """The RoI extractor and ``AdaptiveFeatureFusion`` of ``head``."""
    from mmpanet.models.layers import AdaptiveFeatureFusion
    roi_head = model.roi_head
    extractor = getattr(roi_head, f'{head}_roi_extractor', None)
    head_module = getattr(roi_head, f'{head}_head', None)
    fusions = [
        m for m in (head_module.modules() if head_module else [])
        if isinstance(m, AdaptiveFeatureFusion)
    ]
    if extractor is None or not fusions or not hasattr(extractor,
                                                       'map_roi_levels'):
        raise ValueError(f'the model\'s {head} head has no adaptive feature '
                         'pooling (AllLevelRoIExtractor + an AFP head)')
    return extractor, fusions[0]


def write_outputs(shares, counts, out_dir, title):
    """Table (JSON, Markdown) and a grouped bar chart like Figure 3."""
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    n = shares.size(0)
    os.makedirs(out_dir, exist_ok=True)
    result = dict(
        rows='level FPN assigns the RoI to (1 = finest)',
        columns='level the max-fused feature came from',
        shares=shares.tolist(),
        rois_elements=counts.sum(1).tolist())
    with open(osp.join(out_dir, 'feature_level_share.json'), 'w') as f:
        json.dump(result, f, indent=2)
    header = '| FPN level of RoI | ' + ' | '.join(f'from level {i + 1}'
                                                  for i in range(n)) + ' |'
    lines = [f'{title}', '', header, '|---|' + '---|' * n]
    for g in range(n):
        lines.append(f'| level {g + 1} | ' +
                     ' | '.join(f'{100 * shares[g, i]:.1f}%'
                                for i in range(n)) + ' |')
    text = '\n'.join(lines) + '\n'
    with open(osp.join(out_dir, 'feature_level_share.md'), 'w') as f:
        f.write(text)

    fig, ax = plt.subplots(figsize=(6, 4))
    width = 0.8 / n
    for i in range(n):
        ax.bar([g + (i - (n - 1) / 2) * width for g in range(n)],
               shares[:, i].tolist(),
               width,
               label=f'level {i + 1}')
    ax.set_xticks(range(n))
    ax.set_xticklabels([f'level {g + 1}' for g in range(n)])
    ax.set_xlabel('level assigned by FPN')
    ax.set_ylabel('share of fused features')
    ax.set_ylim(0, 1)
    ax.set_title(title)
    ax.legend(title='source level')
    fig.tight_layout()
    fig.savefig(osp.join(out_dir, 'feature_level_share.png'), dpi=100)
    plt.close(fig)
    return text


def measure(cfg, checkpoint, head='bbox', num_images=None):
    """Run the test split through the model and return the counter."""
    from mmdet.registry import MODELS
    from mmengine.model import revert_sync_batchnorm
    from mmengine.runner import Runner, load_checkpoint
    from mmengine.utils import ProgressBar

    model = revert_sync_batchnorm(MODELS.build(cfg.model))
    load_checkpoint(model, checkpoint, map_location='cpu')
    model.eval()
    extractor, fusion = find_fusion(model, head)
    counter = LevelShareCounter(extractor, fusion)
    loader = Runner.build_dataloader(cfg.test_dataloader)
    total = len(loader.dataset)
    if num_images is not None:
        total = min(total, num_images)
    bar = ProgressBar(total)
    seen = 0
    with torch.no_grad():
        for data in loader:
            model.test_step(data)
            step = min(len(data['inputs']), total - seen)
            seen += step
            bar.update(step)
            if seen >= total:
                break
    counter.remove()
    return counter


def main(argv=None):
    args = parse_args(argv)
    from mmpanet.utils import allow_full_checkpoint_load
    allow_full_checkpoint_load()
    if not osp.isfile(args.config):
        sys.exit(f'error: config file not found: {args.config}')
    cfg = Config.fromfile(args.config)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    from mmdet.utils import register_all_modules
    register_all_modules()
    try:
        counter = measure(cfg, args.checkpoint, args.head, args.num_images)
    except (FileNotFoundError, ValueError) as e:
        sys.exit(f'error: {e}')
    out_dir = args.out_dir or osp.dirname(osp.abspath(args.checkpoint))
    title = (f'{args.head} head: source level of max-fused features '
             f'({osp.basename(args.config)})')
    print()
    print(write_outputs(counter.shares(), counter.counts, out_dir, title))
    print(f'written: {out_dir}/feature_level_share.{{json,md,png}}')


if __name__ == '__main__':
    main()
