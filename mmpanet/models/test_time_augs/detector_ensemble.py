# Copyright (c) mmpanet contributors. All rights reserved.
"""Several trained detectors as one, for merging at test time (the paper's
Table 6 "+ ensemble")."""
import copy
import os.path as osp
from typing import List, Sequence

import torch
from mmdet.registry import MODELS
from mmdet.structures import DetDataSample
from mmengine.config import Config
from mmengine.model import BaseModule
from mmengine.runner import load_checkpoint
from mmengine.structures import InstanceData
from torch import nn


def soft_mask_config(model: dict) -> dict:
    """A detector config whose mask head gives probabilities (x 255, uint8:
    ``test_cfg.rcnn.mask_thr_binary=-1``), for mask voting."""
    model = copy.deepcopy(model)
    rcnn = (model.get('test_cfg') or {}).get('rcnn')
    if rcnn is not None and (model.get('roi_head') or {}).get('mask_head'):
        rcnn['mask_thr_binary'] = -1
    return model


def gives_mask_probabilities(detector: nn.Module) -> bool:
    """Whether ``detector`` (or every member of an ensemble) outputs mask
    probabilities rather than binary masks."""
    if isinstance(detector, DetectorEnsemble):
        return all(gives_mask_probabilities(m) for m in detector.members)
    return detector.roi_head.test_cfg.mask_thr_binary < 0


@MODELS.register_module()
class DetectorEnsemble(BaseModule):
    """Trained detectors run on the same images; each image's predictions are
    all members' instances, each marked with its ``member`` index, for
    :class:`InstanceSegTTAModel` to merge (as one more kind of view).

    Args:
        members (list[dict]): ``dict(config=<config file>, checkpoint=<file>)``
            per model. Each is built from its config's ``model`` with mask
            probabilities out (``test_cfg.rcnn.mask_thr_binary=-1``) and its
            checkpoint loaded.
    """

    def __init__(self, members: Sequence[dict], init_cfg=None):
        super().__init__(init_cfg=init_cfg)
        if not members:
            raise ValueError('members: list at least one '
                             'dict(config=..., checkpoint=...)')
        built = []
        for i, member in enumerate(members):
            missing = {'config', 'checkpoint'} - set(member)
            if missing:
                raise ValueError(f'members[{i}] lacks {sorted(missing)}: '
                                 'each is dict(config=..., checkpoint=...)')
            for key in ('config', 'checkpoint'):
                if not osp.isfile(member[key]):
                    raise FileNotFoundError(
                        f'members[{i}].{key}: {member[key]} not found')
            model = MODELS.build(
                soft_mask_config(Config.fromfile(member['config']).model))
            load_checkpoint(model, member['checkpoint'], map_location='cpu')
            built.append(model)
        self.members = nn.ModuleList(built)
        self.num_members = len(built)

    @property
    def with_mask(self) -> bool:
        return all(m.with_mask for m in self.members)

    def test_step(self, data: dict) -> List[DetDataSample]:
        """Every member's ``test_step`` on ``data``; per image, the members'
        ``pred_instances`` concatenated with a ``member`` field."""
        per_member = [m.test_step(copy.deepcopy(data)) for m in self.members]
        merged = []
        for samples in zip(*per_member):
            preds = []
            for i, sample in enumerate(samples):
                pred = sample.pred_instances
                pred.member = torch.full((len(pred), ),
                                         i,
                                         dtype=torch.long,
                                         device=pred.labels.device)
                preds.append(pred)
            out = samples[0]
            out.pred_instances = InstanceData.cat(preds)
            merged.append(out)
        return merged
