# Copyright (c) mmpanet contributors. All rights reserved.
"""The paper's Figure 3: with max fusion, which level each fused feature
comes from, grouped by the level plain FPN would assign the RoI to.

For every RoI reaching a head's adaptive feature fusion, each element of
the fused output is the maximum over the levels' outputs; the level holding
it is that element's source. The share of elements from each source level
is summed per RoI group, the group being the level ``map_roi_levels``
(FPN's size rule) gives the RoI. The counter only observes the model,
through forward hooks on the RoI extractor and on the head's
:class:`PerLevelLayers` (whose output is the per-level results).
"""
import json
import os
import os.path as osp
from typing import Optional, Tuple

import torch
import torch.nn as nn

from mmpanet.apis import init_model
from mmpanet.models import (AdaptiveFeatureFusion, AllLevelRoIExtractor,
                            PerLevelLayers)


class LevelShareCounter:
    """Count, per FPN-assigned level of the RoI, the source level of every
    max-fused element of ``fusion``.

    ``counts[g, l]``: elements of RoIs assigned to level ``g`` whose maximum
    came from level ``l``. Use as a context manager, or call
    :meth:`remove`.
    """

    def __init__(self, extractor: nn.Module,
                 fusion: AdaptiveFeatureFusion) -> None:
        if not isinstance(fusion.layers, PerLevelLayers) or \
                fusion.fusion != 'max':
            raise ValueError(
                'Figure 3 needs max fusion after the first layer '
                f"(fusion='max', fuse_after not 'roi_align'), got "
                f'fusion={fusion.fusion!r}, fuse_first={fusion.fuse_first}')
        self.extractor = extractor
        self.fusion = fusion
        n = fusion.num_levels
        self.num_levels = n
        self.counts = torch.zeros(n, n, dtype=torch.float64)
        self._groups: Optional[torch.Tensor] = None
        self._handles = [
            extractor.register_forward_hook(self._on_extract),
            fusion.layers.register_forward_hook(self._on_levels)
        ]

    def _on_extract(self, module, args, output) -> None:
        self._groups = module.map_roi_levels(args[1], self.num_levels)

    def _on_levels(self, module, args, outputs) -> None:
        groups, self._groups = self._groups, None
        if groups is None or len(groups) == 0:
            return
        with torch.no_grad():
            source = torch.stack(outputs).flatten(2).argmax(0)  # (R, D)
            per_roi = torch.stack([(source == i).sum(1)
                                   for i in range(self.num_levels)], 1)
        self.counts.index_add_(0, groups.long(), per_roi.double())

    def remove(self) -> None:
        for handle in self._handles:
            handle.remove()

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.remove()

    def shares(self) -> torch.Tensor:
        """Row-normalized ``counts`` (each FPN level's RoIs sum to 1)."""
        total = self.counts.sum(1, keepdim=True).clamp(min=1)
        return self.counts / total


def find_fusion(model: nn.Module,
                head: str) -> Tuple[nn.Module, AdaptiveFeatureFusion]:
    """The RoI extractor and ``AdaptiveFeatureFusion`` of the ``head``
    ('bbox' or 'mask') branch."""
    roi_head = model.roi_head
    extractor = getattr(roi_head, f'{head}_roi_extractor', None)
    head_module = getattr(roi_head, f'{head}_head', None)
    fusions = [
        m for m in (head_module.modules() if head_module else [])
        if isinstance(m, AdaptiveFeatureFusion)
    ]
    if not isinstance(extractor, AllLevelRoIExtractor) or not fusions:
        raise ValueError(f'the model\'s {head} head has no adaptive feature '
                         'pooling (AllLevelRoIExtractor + an AFP head)')
    return extractor, fusions[0]


def measure(cfg,
            checkpoint: str,
            head: str = 'bbox',
            num_images: Optional[int] = None) -> LevelShareCounter:
    """Run (the first ``num_images`` images of) the test split through the
    model and return the counter."""
    from mmengine.runner import Runner
    from mmengine.utils import ProgressBar

    model = init_model(cfg, checkpoint, device='cpu')
    loader = Runner.build_dataloader(cfg.test_dataloader)
    total = len(loader.dataset)
    if num_images is not None:
        total = min(total, num_images)
    bar = ProgressBar(total)
    seen = 0
    with LevelShareCounter(*find_fusion(model, head)) as counter, \
            torch.no_grad():
        for data in loader:
            model.test_step(data)
            step = min(len(data['inputs']), total - seen)
            seen += step
            bar.update(step)
            if seen >= total:
                break
    return counter


def write_outputs(counter: LevelShareCounter, out_dir: str, title: str) -> str:
    """Table (JSON, Markdown) and a grouped bar chart like Figure 3;
    returns the Markdown."""
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    shares, counts = counter.shares(), counter.counts
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
