# Copyright (c) mmpanet contributors. All rights reserved.
"""The paper's RPN protocol end to end on tiny shapes data: the RPN trained
alone, its proposals written by tools/misc/dump_proposals.py, PANet trained
and tested on them; and the errors on the way."""
import json
import os.path as osp
import shutil
import subprocess
import sys

import mmengine
import pytest
from test_tools import FAST, iters, run

from mmpanet.utils.proposals import dump_proposals_config, proposal_file

RPN = 'configs/shapes/rpn_r18-w32_fpn_1100i_shapes.py'
FIXED = 'configs/shapes/panet_r18-w32_pafpn-relu_sep-rpn-1100i_shapes.py'
MAIN_JOB = 'configs/shapes/panet_r18-w32_pafpn-relu_1100i_shapes.py'
# FAST's image sizes, at the resize inside ProposalBroadcaster
FAST_FIXED = [o for o in FAST if '.pipeline.' not in o] + [
    'train_dataloader.dataset.pipeline.3.transforms.0.scale=(96,96)',
    'val_dataloader.dataset.pipeline.2.transforms.0.scale=(96,96)',
    'test_dataloader.dataset.pipeline.2.transforms.0.scale=(96,96)',
]


def test_train_rpn_dump_proposals_train_and_test_on_them(
        tmp_path, shapes_data, root):
    shutil.copytree(shapes_data, tmp_path / 'data' / 'shapes')
    py = sys.executable
    train = osp.join(root, 'tools', 'train.py')
    dump = osp.join(root, 'tools', 'misc', 'dump_proposals.py')
    run([py, train,
         osp.join(root, RPN), '--work-dir', 'rpn', '--cfg-options'] + FAST +
        iters(2), tmp_path)
    rpn_ckpt = str(tmp_path / 'rpn' / 'iter_2.pth')

    # before the proposals exist, the detector stops in its preflight
    early = subprocess.run(
        [py, train, osp.join(root, FIXED), '--cfg-options'] + FAST_FIXED,
        cwd=tmp_path,
        capture_output=True,
        text=True)
    assert early.returncode == 1
    assert 'train_dataloader.dataset.proposal_file' in early.stderr
    assert 'dump_proposals.py' in early.stderr

    # the 96x96 images are tested at 64x64; proposals come back on the
    # original images
    run([
        py, dump,
        osp.join(root, RPN), rpn_ckpt, '--work-dir', 'dump', '--cfg-options'
    ] + FAST + ['test_dataloader.dataset.pipeline.1.'
                'scale=(64,64)'], tmp_path)
    shapes = tmp_path / 'data' / 'shapes'
    for split in ('train', 'val'):
        ann_file = f'annotations/instances_{split}.json'
        written = shapes / proposal_file(RPN, ann_file)
        assert written.name == f'rpn_r18-w32_fpn_1100i_shapes_{split}.pkl'
        proposals = mmengine.load(written)
        images = json.load(open(shapes / ann_file))['images']
        assert set(proposals) == {i['file_name'] for i in images}
        right_edge = 0
        for p in proposals.values():
            assert 0 < len(p.bboxes) <= 300  # model.test_cfg.rpn
            assert (p.scores[:-1] >= p.scores[1:]).all()
            assert p.bboxes.min() >= 0 and p.bboxes.max() <= 96
            right_edge = max(right_edge, p.bboxes[:, 2].max())
        assert right_edge > 80  # not the 64x64 test input's coordinates

    run([
        py, train,
        osp.join(root, FIXED), '--work-dir', 'fixed', '--cfg-options'
    ] + FAST_FIXED + iters(2), tmp_path)
    out = run([
        py,
        osp.join(root, 'tools', 'test.py'),
        osp.join(root, FIXED),
        str(tmp_path / 'fixed' / 'iter_2.pth'), '--work-dir', 'test',
        '--cfg-options'
    ] + FAST_FIXED, tmp_path)
    assert 'coco/segm_mAP' in out and 'coco/bbox_mAP' in out
    # the log shows no RPN loss: the proposals were the fixed ones
    log = ''.join(p.read_text()
                  for p in (tmp_path / 'fixed').glob('*/vis_data/*.json'))
    assert 'loss_rpn' not in log and 'loss_mask' in log

    # a detector's predictions are not proposals
    refused = subprocess.run(
        [py, dump, osp.join(root, MAIN_JOB), rpn_ckpt],
        cwd=tmp_path,
        capture_output=True,
        text=True)
    assert refused.returncode == 1
    assert "model.type is 'MaskRCNN'" in refused.stderr


def test_dump_config_reads_every_image_of_the_split(root):
    cfg = mmengine.Config.fromfile(osp.join(root, RPN))
    dumped, out_file = dump_proposals_config(cfg, 'train', RPN, None, 100)
    dataset = dumped.test_dataloader.dataset
    assert dataset.ann_file == cfg.train_dataloader.dataset.ann_file
    assert dataset.test_mode and dataset.pipeline == \
        cfg.test_dataloader.dataset.pipeline
    assert dumped.test_dataloader.sampler == dict(
        type='DefaultSampler', shuffle=False)
    assert dumped.test_evaluator == dict(
        type='DumpProposals',
        output_dir='data/shapes/proposals',
        proposals_file='rpn_r18-w32_fpn_1100i_shapes_train.pkl',
        num_max_proposals=100)
    assert out_file == 'data/shapes/proposals/' \
        'rpn_r18-w32_fpn_1100i_shapes_train.pkl'
    with pytest.raises(ValueError, match='split must be one of'):
        dump_proposals_config(cfg, 'trainval', RPN)
