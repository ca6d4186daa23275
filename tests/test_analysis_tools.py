# Copyright (c) mmpanet contributors. All rights reserved.
"""tools/analysis_tools: the ablation report on fabricated result files, and
the Figure 3 tool (per-level share of max-fused features) on a tiny model."""
import csv
import json
import os
import os.path as osp

import pytest
import torch
from mmengine.config import Config
from model_utils import build
from tool_utils import ROOT, load_tool, main_job_config

from mmpanet.analysis.feature_level_share import LevelShareCounter

ablation_report = load_tool('tools/analysis_tools/ablation_report.py')
feature_level_share = load_tool('tools/analysis_tools/feature_level_share.py')

FULL = 'panet_r50_pafpn-relu_rbl-mst-mbn-160k_coco'
ROW8 = 'panet-bpa-afp-ff_r50_pafpn-relu_rbl-mst-mbn-160k_coco'


def fake_run(path, config, segm, bbox, via_log=False):
    """A work dir as a finished run leaves it: the dumped config and the
    metrics (metrics.json, or only the runner's scalars log)."""
    os.makedirs(path)
    if config:
        open(osp.join(path, config + '.py'), 'w').close()
    metrics = {
        'coco/segm_mAP': segm,
        'coco/segm_mAP_50': segm + 0.2,
        'coco/bbox_mAP': bbox
    }
    if via_log:
        os.makedirs(osp.join(path, '20260101_000000', 'vis_data'))
        with open(
                osp.join(path, '20260101_000000', 'vis_data', 'scalars.json'),
                'w') as f:
            f.write(json.dumps({'loss': 1.0, 'iter': 10}) + '\n')
            f.write(json.dumps(dict(metrics, step=10)) + '\n')
    else:
        with open(osp.join(path, 'metrics.json'), 'w') as f:
            json.dump(metrics, f)
    return str(path)


def test_ablation_report(tmp_path):
    full = fake_run(tmp_path / 'full', FULL, 0.391, 0.43)
    row8 = fake_run(tmp_path / 'row8', ROW8, 0.385, 0.41, via_log=True)
    base = fake_run(tmp_path / 'base', None, 0.35, 0.38)
    out = tmp_path / 'report'
    ablation_report.main([full, row8, f'T3.4={base}', '--out-dir', str(out)])

    text = (out / 'ablation_report.md').read_text()
    lines = {line.split(' | ')[0]: line for line in text.splitlines()}
    # row 9: paper 37.8 (+0.2 over row 8), ours 39.1 (+0.6 over row 8)
    assert '37.8 / 39.1 (+0.2 / +0.6 vs T3.8)' in lines['| T3.9']
    # row 8's nearest measured ancestor is row 4 (rows 5-7 have no run)
    assert '37.6 / 38.5 (+0.7 / +3.5 vs T3.4)' in lines['| T3.8']
    # Table 5 is printed too (row 8 is its conv3 row); Table 9 is not
    assert '### Table 5' in text and '### Table 9' not in text
    with open(out / 'ablation_report.csv') as f:
        records = list(csv.DictReader(f))
    full_ap = [
        r for r in records if r['table'] == 'Table 3' and r['row'] == 'T3.9'
        and r['metric'] == 'APbbM'
    ]
    assert len(full_ap) == 1
    assert float(full_ap[0]['ours']) == pytest.approx(43.0)
    assert float(full_ap[0]['paper']) == 42.1


def test_ablation_report_errors(tmp_path):
    unknown = fake_run(tmp_path / 'x', 'some_other_config', 0.1, 0.1)
    with pytest.raises(SystemExit, match='not a row of the paper tables'):
        ablation_report.main([unknown])
    with pytest.raises(SystemExit, match='unknown row'):
        ablation_report.main([f'T3.42={unknown}'])
    empty = tmp_path / 'empty'
    os.makedirs(empty)
    with pytest.raises(SystemExit, match='no COCO metrics'):
        ablation_report.main([f'T3.1={empty}'])
    with pytest.raises(SystemExit, match='work dir not found'):
        ablation_report.main([f'T3.1={tmp_path / "missing"}'])


def test_feature_level_share(tmp_path, shapes_data):
    cfg_path = osp.join(ROOT, 'configs', 'shapes',
                        'panet_r18-w32_pafpn-relu_1100i_shapes.py')
    cfg = Config.fromfile(cfg_path)
    model = build(cfg.model)
    ckpt = tmp_path / 'model.pth'
    torch.save(
        dict(
            state_dict=model.state_dict(),
            meta=dict(dataset_meta=dict(classes=cfg.classes))), ckpt)
    out = tmp_path / 'fig3'
    feature_level_share.main([
        cfg_path,
        str(ckpt), '--out-dir',
        str(out), '--num-images', '2', '--cfg-options',
        f'test_dataloader.dataset.data_root={shapes_data}/',
        'test_dataloader.num_workers=0',
        'test_dataloader.persistent_workers=False',
        'test_dataloader.dataset.pipeline.1.scale=(96,96)',
        'model.test_cfg.rcnn.score_thr=0.0'
    ])
    result = json.loads((out / 'feature_level_share.json').read_text())
    shares = torch.tensor(result['shares'], dtype=torch.float64)
    assert shares.shape == (4, 4)
    counted = torch.tensor(result['rois_elements']) > 0
    assert counted.any()
    # every RoI group with RoIs has shares summing to one
    assert torch.allclose(shares[counted].sum(1),
                          torch.ones(int(counted.sum()), dtype=torch.float64))
    assert (out / 'feature_level_share.png').stat().st_size > 1000
    assert 'from level 4' in (out / 'feature_level_share.md').read_text()


def test_level_share_counter_counts_the_argmax():
    from mmpanet.models.layers import AdaptiveFeatureFusion

    class Extractor(torch.nn.Module):

        def map_roi_levels(self, rois, num_levels):
            return torch.tensor([0, 3])

        def forward(self, feats, rois):
            return feats

    fusion = AdaptiveFeatureFusion(torch.nn.Identity(), 4, 'max')
    counter = LevelShareCounter(Extractor(), fusion)
    x = torch.zeros(2, 4, 3)
    x[0, 2] = 1.0  # RoI 0 (FPN level 1): every element from level 3
    x[1, 0, :2] = 1.0  # RoI 1 (FPN level 4): 2 from level 1, 1 from ...
    x[1, 1, 2] = 1.0  # ... level 2
    fusion(counter.extractor(x, None))
    assert counter.counts[0].tolist() == [0, 0, 3, 0]
    assert counter.counts[3].tolist() == [2, 1, 0, 0]
    with pytest.raises(ValueError, match='max fusion'):
        LevelShareCounter(Extractor(),
                          AdaptiveFeatureFusion(torch.nn.Identity(), 4, 'sum'))


def test_tta_cost_measures_each_setting_in_its_own_process(root):
    """Each setting is probed in a fresh process: time and that process's
    own peak memory come back, labelled; a failing probe names its
    setting."""
    from mmpanet.analysis.tta_cost import Setting, measure
    config = osp.join(root, main_job_config())
    results = measure(
        config, [Setting(0), Setting(1, 'detectron')],
        img_size=(64, 96),
        max_per_img=10,
        repeats=1,
        warmup=0)
    assert [r['label']
            for r in results] == ['single pass', 'TTA, 1 view(s), detectron']
    for r in results:
        assert r['seconds'] > 0 and r['peak_mb'] > 0
    with pytest.raises(RuntimeError, match=r'TTA, 1 view\(s\), no_such'):
        measure(
            config, [Setting(1, 'no_such')],
            img_size=(64, 96),
            repeats=1,
            warmup=0)
