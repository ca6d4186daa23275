# Copyright (c) mmpanet contributors. All rights reserved.
import torch.nn as nn
from mmcv.cnn import ConvModule
from mmdet.registry import MODELS
from torch import Tensor

from ...layers import FUSION_OPS, FCModule, fuse
from ...utils import check_choice
from .afp_fcn_mask_head import AFPFCNMaskHead


@MODELS.register_module()
class FCFusionMaskHead(AFPFCNMaskHead):
    """Mask head with fully-connected fusion (FF, PANet Sec. 3.3, Fig. 4)
    and adaptive feature pooling (Sec. 3.2).

    Main path (:class:`AFPFCNMaskHead`, inherited): ``conv1 ..
    conv{num_convs}`` (3x3), deconv, 1x1 logits -> ``(R, num_classes, M,
    M)`` with ``M = roi_feat_size * scale_factor`` (28). With ``num_levels >
    1``, ``conv1`` is per level (separate weights) and its outputs are fused
    by ``fusion`` (AFP); ``num_levels=1`` takes a plain single-level
    extractor's ``(R, C, H, W)``.

    FF path, from the output of conv ``ff_after``: two 3x3 convs (the second
    halving the channels), flatten, one fc to ``M * M``, reshaped to ``(R, 1,
    M, M)``: a class-agnostic foreground map, fused with every class's
    logits by ``ff_fusion`` (broadcast over classes). The sigmoid in the
    loss/prediction comes after the fusion. ``norm_cfg`` applies to the FF
    convs too (the authors' code: GN(32)).

    Args:
        ff_after (str): Conv whose output starts the FF path: 'conv1' ..
            f'conv{num_convs}'. Defaults to 'conv3' (paper, Table 5).
        ff_fusion (str): A key of ``FUSION_OPS``: 'sum' (paper), 'max' or
            'prod' (Table 5).
        ff_fc_relu (bool): ReLU after the FF fc. Defaults to False: the paper
            does not describe one, and without it the fc map can push a
            pixel's logit down as well as up; the authors' code has it
            (``True`` reproduces that code).
        **kwargs: Arguments of :class:`AFPFCNMaskHead` (``num_levels``,
            ``fusion``, ``fuse_after``) and :class:`FCNMaskHead`.

    Input: ``(R, num_levels, C, H, W)``, or ``(R, C, H, W)`` when
    ``num_levels == 1``; ``H = W = roi_feat_size``.
    """

    def __init__(self,
                 ff_after: str = 'conv3',
                 ff_fusion: str = 'sum',
                 ff_fc_relu: bool = False,
                 **kwargs) -> None:
        super().__init__(**kwargs)
        if self.upsample_method not in (None, 'deconv', 'nearest', 'bilinear'):
            raise ValueError('mask_head.upsample_cfg.type must be None, '
                             "'deconv', 'nearest' or 'bilinear' with FF")
        conv_names = [f'conv{i + 1}' for i in range(self.num_convs)]
        check_choice('mask_head.ff_after', ff_after, conv_names)
        check_choice('mask_head.ff_fusion', ff_fusion, FUSION_OPS)
        self.ff_after = ff_after
        self.ff_fusion = ff_fusion
        self.ff_fc_relu = ff_fc_relu
        self.ff_index = conv_names.index(ff_after)
        self.mask_size = tuple(s * (self.scale_factor or 1)
                               for s in self.roi_feat_size)

        channels = self.conv_out_channels
        pad = (self.conv_kernel_size - 1) // 2
        self.ff_convs = nn.Sequential(*[
            ConvModule(
                channels,
                out,
                self.conv_kernel_size,
                padding=pad,
                conv_cfg=self.conv_cfg,
                norm_cfg=self.norm_cfg) for out in (channels, channels // 2)
        ])
        roi_area = self.roi_feat_size[0] * self.roi_feat_size[1]
        self.ff_fc = FCModule(
            channels // 2 * roi_area,
            self.mask_size[0] * self.mask_size[1],
            act_cfg=dict(type='ReLU') if ff_fc_relu else None)

    def init_weights(self) -> None:
        """FCN init (inherited), and Normal(std=0.01) for the FF fc."""
        super().init_weights()
        nn.init.normal_(self.ff_fc.fc.weight, std=0.01)
        nn.init.constant_(self.ff_fc.fc.bias, 0)

    def forward(self, x: Tensor) -> Tensor:
        """RoI grids -> mask logits ``(R, num_classes, M, M)`` (``(R, 1, M,
        M)`` when class-agnostic)."""
        if tuple(x.shape[-2:]) != self.roi_feat_size:
            raise ValueError(
                f'mask_head.roi_feat_size is {self.roi_feat_size} but the '
                f'RoI features are {tuple(x.shape[-2:])}: set it to the mask '
                'RoI extractor\'s roi_layer.output_size')
        for i, conv in enumerate(self.convs):
            x = conv(x)
            if i == self.ff_index:
                ff_feats = x
        if self.upsample is not None:
            x = self.upsample(x)
            if self.upsample_method == 'deconv':
                x = self.relu(x)
        mask_logits = self.conv_logits(x)
        ff_logits = self.ff_fc(self.ff_convs(ff_feats))
        ff_logits = ff_logits.view(-1, 1, *self.mask_size)
        return fuse([mask_logits, ff_logits], self.ff_fusion)
