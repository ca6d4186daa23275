# Copyright (c) mmpanet contributors. All rights reserved.
"""Table 8's start: a COCO-trained PANet cut to Cityscapes' classes."""
import subprocess
import sys

import pytest
import torch
from mmdet.datasets import CityscapesDataset, CocoDataset
from mmengine.config import Config
from model_utils import build

from mmpanet.engine.checkpoint import load
from mmpanet.model_converters import COCO_TO_CITYSCAPES, select_classes

CITY = 'configs/panet/panet_r50_pafpn-relu_rbl-mbn-24k_cityscapes.py'
COCO = CocoDataset.METAINFO['classes']
CITYSCAPES = CityscapesDataset.METAINFO['classes']


def coco_and_city_models(root):
    cfg = Config.fromfile(f'{root}/{CITY}').model
    cfg.backbone.init_cfg = None
    city = build(cfg, init_weights=False)
    cfg.roi_head.bbox_head.num_classes = len(COCO)
    cfg.roi_head.mask_head.num_classes = len(COCO)
    torch.manual_seed(0)
    return build(cfg, init_weights=False), city


def test_cut_coco_checkpoint_loads_into_cityscapes_panet(root, tmp_path):
    coco, city = coco_and_city_models(root)
    src = coco.state_dict()
    cut = select_classes(src, COCO, CITYSCAPES, COCO_TO_CITYSCAPES)
    city.load_state_dict(cut, strict=True)  # every key, every shape

    person, car = COCO.index('person'), COCO.index('car')
    cls = city.roi_head.bbox_head.fc_cls.weight
    assert torch.equal(cls[CITYSCAPES.index('rider')],
                       src['roi_head.bbox_head.fc_cls.weight'][person])
    assert torch.equal(cls[CITYSCAPES.index('car')],
                       src['roi_head.bbox_head.fc_cls.weight'][car])
    assert torch.equal(cls[-1], src['roi_head.bbox_head.fc_cls.weight'][-1])
    reg = city.roi_head.bbox_head.fc_reg.bias.view(-1, 4)
    assert torch.equal(reg[CITYSCAPES.index('car')],
                       src['roi_head.bbox_head.fc_reg.bias'].view(-1, 4)[car])
    logits = city.roi_head.mask_head.conv_logits.weight
    assert torch.equal(logits[CITYSCAPES.index('rider')],
                       src['roi_head.mask_head.conv_logits.weight'][person])
    # the rest untouched
    assert torch.equal(city.backbone.conv1.weight, coco.backbone.conv1.weight)

    # the command
    torch.save(dict(state_dict=src, meta={}), tmp_path / 'coco.pth')
    done = subprocess.run([
        sys.executable, f'{root}/tools/model_converters/coco_to_cityscapes.py',
        str(tmp_path / 'coco.pth'),
        str(tmp_path / 'city.pth')
    ],
                          capture_output=True,
                          text=True)
    assert done.returncode == 0, done.stderr
    written = load(tmp_path / 'city.pth')
    assert written['meta']['dataset_meta']['classes'] == CITYSCAPES
    for key, value in cut.items():
        assert torch.equal(written['state_dict'][key], value)


def test_wrong_inputs_are_named(root):
    coco, city = coco_and_city_models(root)
    with pytest.raises(KeyError, match='rider'):
        select_classes(coco.state_dict(), COCO, CITYSCAPES)  # no mapping
    with pytest.raises(ValueError, match='fc_cls.weight has 9 rows'):
        select_classes(city.state_dict(), COCO, CITYSCAPES, COCO_TO_CITYSCAPES)
