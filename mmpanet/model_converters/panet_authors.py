# Copyright (c) mmpanet contributors. All rights reserved.
"""Convert the PANet authors' released checkpoints (ShuLiu1993/PANet, built
on Detectron.pytorch) into mmdet checkpoints for mmpanet's configs.

Their file is ``torch.save({'epoch', 'step', 'iters_per_epoch', 'model':
state_dict, 'optimizer'})`` (``lib/utils/net.py: save_ckpt``) of their
``Generalized_RCNN``: ``Conv_Body`` (ResNet-50 ``conv_body`` + FPN +
bottom-up path), ``RPN``, ``Box_Head`` / ``Box_Outs`` and, for the mask
model, ``Mask_Head`` / ``Mask_Outs``. Every key is renamed; their classifier
has the background at index 0 (mmdet: last), so the box classifier's rows
are reordered and the background rows of the box regressor and the
background channel of the mask classifier are dropped; their AffineChannel
layers (scale and shift only) become frozen BN with zero mean and variance
``1 - eps``, so that BN's ``eps`` cancels out.
"""
from collections import OrderedDict
from typing import Callable, Dict, List, Optional, Tuple

import torch
from torch import Tensor

from mmpanet.engine.checkpoint import load
from mmpanet.paper.tables import RELEASED, ReleasedModel

RESNET50_BLOCKS = (3, 4, 6, 3)
NUM_LEVELS = 4  # RoI levels N2..N5
BN_EPS = 1e-5  # mmdet BN's default eps
NUM_CLASSES = 80  # COCO; their classifiers have 81 outputs (background 0)

Rule = Tuple[str, Callable[[Tensor], Tensor]]


def _same(t: Tensor) -> Tensor:
    return t


def _foreground_rows(per_class: int) -> Callable[[Tensor], Tensor]:
    """Drop the background class (index 0) from a per-class output."""
    return lambda t: t[per_class:]


def _background_last(t: Tensor) -> Tensor:
    return torch.cat([t[1:], t[:1]])


def _resnet_rules() -> Tuple[Dict[str, Rule], List[str]]:
    """The backbone's rules, and our names of its BN layers."""
    rules, norms = {}, []

    def affine(theirs: str, ours: str) -> None:
        for p in ('weight', 'bias'):
            rules[f'{theirs}.{p}'] = (f'{ours}.{p}', _same)
        norms.append(ours)

    src, dst = 'Conv_Body.conv_body', 'backbone'
    rules[f'{src}.res1.conv1.weight'] = (f'{dst}.conv1.weight', _same)
    affine(f'{src}.res1.bn1', f'{dst}.bn1')
    for stage, blocks in enumerate(RESNET50_BLOCKS, start=2):
        for b in range(blocks):
            theirs, ours = f'{src}.res{stage}.{b}', f'{dst}.layer{stage-1}.{b}'
            for i in (1, 2, 3):
                rules[f'{theirs}.conv{i}.weight'] = (f'{ours}.conv{i}.weight',
                                                     _same)
                affine(f'{theirs}.bn{i}', f'{ours}.bn{i}')
            if b == 0:
                rules[f'{theirs}.downsample.0.weight'] = (
                    f'{ours}.downsample.0.weight', _same)
                affine(f'{theirs}.downsample.1', f'{ours}.downsample.1')
    return rules, norms


def _conv_gn(theirs: str, ours: str, conv_bias: bool = False) -> dict:
    """``nn.Sequential(conv, GroupNorm[, ReLU])`` -> ``ConvModule``."""
    rules = {f'{theirs}.0.weight': (f'{ours}.conv.weight', _same)}
    if conv_bias:
        rules[f'{theirs}.0.bias'] = (f'{ours}.conv.bias', _same)
    for p in ('weight', 'bias'):
        rules[f'{theirs}.1.{p}'] = (f'{ours}.gn.{p}', _same)
    return rules


def _stacked_conv_gn(theirs: str, ours: List[str]) -> dict:
    """``nn.Sequential(*[conv, GroupNorm, ReLU] * n)`` (conv ``3j``, GN
    ``3j + 1``) -> the ``ConvModule`` s ``ours``."""
    rules = {}
    for j, name in enumerate(ours):
        rules[f'{theirs}.{3 * j}.weight'] = (f'{name}.conv.weight', _same)
        for p in ('weight', 'bias'):
            rules[f'{theirs}.{3 * j + 1}.{p}'] = (f'{name}.gn.{p}', _same)
    return rules


def _linear(theirs: str, ours: str, theirs_gn: Optional[str] = None) -> dict:
    """``nn.Linear`` ``theirs`` (and its GroupNorm ``theirs_gn``) ->
    ``FCModule`` ``ours``."""
    rules = {}
    for p in ('weight', 'bias'):
        rules[f'{theirs}.{p}'] = (f'{ours}.fc.{p}', _same)
        if theirs_gn:
            rules[f'{theirs_gn}.{p}'] = (f'{ours}.gn.{p}', _same)
    return rules


def _neck_rules() -> dict:
    src, dst = 'Conv_Body', 'neck'
    # their top-down path runs coarse to fine: conv_top on C5, lateral i on
    # C(4-i), posthoc i on P(5-i); mmdet's FPN lists levels fine to coarse
    rules = _conv_gn(f'{src}.conv_top', f'{dst}.lateral_convs.3')
    for i in range(3):
        rules.update(
            _conv_gn(f'{src}.topdown_lateral_modules.{i}.conv_lateral',
                     f'{dst}.lateral_convs.{2 - i}'))
    for i in range(4):
        rules.update(
            _conv_gn(f'{src}.posthoc_modules.{i}', f'{dst}.fpn_convs.{3 - i}'))
    for k in range(3):  # bottom-up: N(k+2) -> N(k+3)
        rules.update(
            _conv_gn(
                f'{src}.panet_buttomup_conv1_modules.{k}',
                f'{dst}.downsample_convs.{k}',
                conv_bias=True))
        rules.update(
            _conv_gn(
                f'{src}.panet_buttomup_conv2_modules.{k}',
                f'{dst}.bottom_up_convs.{k}',
                conv_bias=True))
    return rules


def _rpn_rules() -> dict:
    names = dict(conv='rpn_conv', cls_score='rpn_cls', bbox_pred='rpn_reg')
    return {
        f'RPN.FPN_RPN_{theirs}.{p}': (f'rpn_head.{ours}.{p}', _same)
        for theirs, ours in names.items()
        for p in ('weight', 'bias')
    }


def _box_rules(box_head: str) -> dict:
    src, dst = 'Box_Head', 'roi_head.bbox_head'
    rules = {}
    if box_head == '4conv1fc':
        for lvl in range(NUM_LEVELS):
            rules.update(
                _conv_gn(f'{src}.conv1_head.{lvl}',
                         f'{dst}.shared_convs.0.layers.{lvl}'))
        rules.update(
            _stacked_conv_gn(f'{src}.convs',
                             [f'{dst}.shared_convs.{j}' for j in (1, 2, 3)]))
        rules.update(_linear(f'{src}.fc', f'{dst}.shared_fcs.0'))
    elif box_head == '2fc':
        for lvl in range(NUM_LEVELS):  # Sequential(Linear, GN, ReLU)
            rules.update(
                _linear(f'{src}.fc1.{lvl}.0',
                        f'{dst}.shared_fcs.0.layers.{lvl}',
                        f'{src}.fc1.{lvl}.1'))
        rules.update(
            _linear(f'{src}.fc2.0', f'{dst}.shared_fcs.1', f'{src}.fc2.1'))
    else:
        raise ValueError(f"box_head must be '4conv1fc' or '2fc', got "
                         f'{box_head!r}')
    for p in ('weight', 'bias'):
        rules[f'Box_Outs.cls_score.{p}'] = (f'{dst}.fc_cls.{p}',
                                            _background_last)
        rules[f'Box_Outs.bbox_pred.{p}'] = (f'{dst}.fc_reg.{p}',
                                            _foreground_rows(4))
    return rules


def _mask_rules() -> dict:
    src, dst = 'Mask_Head', 'roi_head.mask_head'
    rules = {}
    for lvl in range(NUM_LEVELS):
        rules.update(
            _conv_gn(f'{src}.mask_conv1.{lvl}', f'{dst}.convs.0.layers.{lvl}'))
    rules.update(
        _stacked_conv_gn(f'{src}.conv_fcn',
                         [f'{dst}.convs.{j}' for j in (1, 2)]))  # conv2, 3
    rules.update(_conv_gn(f'{src}.mask_conv4', f'{dst}.convs.3'))
    rules.update(_conv_gn(f'{src}.mask_conv4_fc', f'{dst}.ff_convs.0'))
    rules.update(_conv_gn(f'{src}.mask_conv5_fc', f'{dst}.ff_convs.1'))
    rules.update(_linear(f'{src}.mask_fc.0', f'{dst}.ff_fc'))
    for p in ('weight', 'bias'):
        rules[f'{src}.upconv.{p}'] = (f'{dst}.upsample.{p}', _same)
        rules[f'Mask_Outs.classify.{p}'] = (f'{dst}.conv_logits.{p}',
                                            _foreground_rows(1))
    return rules


def key_rules(released: ReleasedModel) -> Tuple[Dict[str, Rule], List[str]]:
    """Their key -> (our key, tensor transform), for every key of their
    ``model`` state dict; and our names of the backbone's BN layers."""
    rules, norms = _resnet_rules()
    rules.update(_neck_rules())
    rules.update(_rpn_rules())
    rules.update(_box_rules(released.box_head))
    if released.with_mask:
        rules.update(_mask_rules())
    return rules, norms


def identify(state_dict: dict) -> ReleasedModel:
    """Which released model a state dict of theirs is."""
    with_mask = any(
        k.startswith(('Mask_Head.', 'Mask_Outs.')) for k in state_dict)
    box_head = '2fc' if any(k.startswith('Box_Head.fc1.')
                            for k in state_dict) else '4conv1fc'
    return next(
        m for m in RELEASED
        if (m.box_head, m.with_mask) == (box_head, with_mask))


def convert_state_dict(state_dict: dict) -> Tuple[OrderedDict, ReleasedModel]:
    """Their ``model`` state dict -> (mmdet state dict, which model).

    Raises:
        KeyError: listing every key that is missing or that no rule knows.
        ValueError: when the classifier does not have COCO's 81 outputs.
    """
    released = identify(state_dict)
    rules, norms = key_rules(released)
    missing = sorted(set(rules) - set(state_dict))
    unknown = sorted(set(state_dict) - set(rules))
    if missing or unknown:
        lines = [
            f'not a PANet authors\' checkpoint of the {released.name} '
            'layout (ShuLiu1993/PANet, Detectron.pytorch):'
        ]
        if missing:
            lines.append(f'missing keys ({len(missing)}): ' +
                         ', '.join(missing))
        if unknown:
            lines.append(f'unknown keys ({len(unknown)}): ' +
                         ', '.join(unknown))
        raise KeyError('\n'.join(lines))
    num_outputs = state_dict['Box_Outs.cls_score.weight'].shape[0]
    if num_outputs != NUM_CLASSES + 1:
        raise ValueError(
            f'Box_Outs.cls_score has {num_outputs} outputs; the released '
            f'models have {NUM_CLASSES + 1} (COCO and the background)')
    out = OrderedDict()
    for key, (new_key, transform) in rules.items():
        out[new_key] = transform(state_dict[key]).clone()
    # AffineChannel -> frozen BN whose statistics cancel out
    for norm in norms:
        channels = out[f'{norm}.weight'].numel()
        out[f'{norm}.running_mean'] = torch.zeros(channels)
        out[f'{norm}.running_var'] = torch.full((channels, ), 1.0 - BN_EPS)
        out[f'{norm}.num_batches_tracked'] = torch.tensor(0)
    return out, released


def load_authors_checkpoint(path: str) -> dict:
    """Their checkpoint's ``model`` state dict, loaded without running code
    from the file (:func:`mmpanet.engine.checkpoint.load`): their files
    hold tensors and numbers only."""
    checkpoint = load(path, map_location='cpu')
    if not isinstance(checkpoint, dict) or 'model' not in checkpoint:
        raise KeyError(
            f'{path}: expected a dict with a \'model\' entry (the state '
            'dict), as the PANet authors\' save_ckpt writes, got '
            f'{sorted(checkpoint) if isinstance(checkpoint, dict) else type(checkpoint).__name__}'  # noqa: E501
        )
    return checkpoint['model']


def convert_checkpoint(src: str, dst: str) -> ReleasedModel:
    """Convert ``src`` (their file) into ``dst`` (``state_dict`` +
    ``meta``); returns which released model it was."""
    from mmdet.datasets import CocoDataset
    state_dict, released = convert_state_dict(load_authors_checkpoint(src))
    meta = dict(
        dataset_meta=dict(
            classes=CocoDataset.METAINFO['classes'],
            palette=CocoDataset.METAINFO['palette']),
        config=f'configs/panet/{released.config}.py',
        converted_from=dict(file=src, authors_config=released.authors_config))
    torch.save(dict(state_dict=state_dict, meta=meta), dst)
    return released
