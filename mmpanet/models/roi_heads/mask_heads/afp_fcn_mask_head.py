# Copyright (c) mmpanet contributors. All rights reserved.

from mmdet.models.roi_heads.mask_heads import FCNMaskHead
from mmdet.registry import MODELS

from ...layers import AdaptiveFeatureFusion, check_choice


@MODELS.register_module()
class AFPFCNMaskHead(FCNMaskHead):
    """FCN mask head with adaptive feature pooling (PANet Sec. 3.2).

    ``conv1`` is per level (separate weights, one copy per pooled level) and
    its outputs are fused by ``fusion``; ``conv2 .. conv{num_convs}``, the
    upsampling and the logits are mmdet's ``FCNMaskHead``, as are the loss,
    targets and prediction.

    Args:
        num_levels (int): Levels pooled by the RoI extractor (the number of
            its ``featmap_strides``); 1 for a single-level extractor.
            Defaults to 4.
        fusion (str): 'max' (paper) or 'sum'.
        fuse_after (str): 'conv1' (paper) or 'roi_align'.
        **kwargs: Arguments of :class:`FCNMaskHead`.

    Input: ``(R, num_levels, C, H, W)`` (or ``(R, C, H, W)`` when
    ``num_levels == 1``); output: ``(R, num_classes, 2H, 2W)`` logits.
    """

    def __init__(self,
                 num_levels: int = 4,
                 fusion: str = 'max',
                 fuse_after: str = 'conv1',
                 **kwargs) -> None:
        super().__init__(**kwargs)
        if self.num_convs < 1:
            raise ValueError(f'mask_head.num_convs must be >= 1, got '
                             f'{self.num_convs}')
        check_choice('mask_head.fuse_after', fuse_after,
                     ('conv1', 'roi_align'))
        self.num_levels = num_levels
        self.fusion = fusion
        self.fuse_after = fuse_after
        if num_levels > 1 or fuse_after == 'roi_align':
            self.convs[0] = AdaptiveFeatureFusion(
                self.convs[0],
                num_levels=num_levels,
                fusion=fusion,
                fuse_first=fuse_after == 'roi_align',
                owner='mask_head')
        else:
            AdaptiveFeatureFusion.check_options(num_levels, fusion,
                                                'mask_head')
