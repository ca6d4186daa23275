# Copyright (c) mmpanet contributors. All rights reserved.
"""The paper's ablation configs (configs/panet): lineage, names, and one
loss + predict step of every config's model on CPU."""
import copy
import glob
import os.path as osp

import pytest
from mmengine.config import Config
from model_utils import TWO_SIZES, build, run_loss_and_predict
from tool_utils import main_job_config

from mmpanet.paper.tables import (FIXED_PROPOSAL_ROWS, OTHER_CONFIGS, RELEASED,
                                  ROWS, SEPARATE_RPN, T3, base_config,
                                  config_names)
from mmpanet.testing import add_proposals, make_batch
from mmpanet.utils.proposals import proposal_file

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
PANET_DIR = osp.join(ROOT, 'configs', 'panet')
ALL_CONFIGS = sorted(
    p for p in glob.glob(
        osp.join(ROOT, 'configs', '**', '*.py'), recursive=True)
    if '/_base_/' not in p)
# the settings a run actually uses (helper variables such as ``img_scale``
# are left out: their effect shows up in these)
RUN_KEYS = ('model', 'train_dataloader', 'val_dataloader', 'test_dataloader',
            'train_cfg', 'val_cfg', 'test_cfg', 'param_scheduler',
            'optim_wrapper', 'val_evaluator', 'test_evaluator',
            'default_hooks', 'env_cfg', 'custom_imports', 'load_from',
            'auto_scale_lr', 'tta_model', 'tta_pipeline')

# component sets, as paths into the resolved config
PIPELINES = ('train_dataloader.dataset.pipeline',
             'val_dataloader.dataset.pipeline',
             'test_dataloader.dataset.pipeline')
MST = ('train_dataloader.dataset.pipeline', )
BPA = ('model.neck', )
AFP_BOX = ('model.roi_head.bbox_roi_extractor', 'model.roi_head.bbox_head')
AFP = AFP_BOX + ('model.roi_head.mask_roi_extractor',
                 'model.roi_head.mask_head')
MBN_BOX = ('model.backbone', 'model.neck', 'model.roi_head.bbox_head')
MBN = MBN_BOX + ('model.roi_head.mask_head', )
FF = ('model.roi_head.mask_head', )
HHD = ('model.roi_head.bbox_head', )
SCHEDULE = ('train_cfg', 'param_scheduler')
LOADERS = ('train_dataloader', 'val_dataloader', 'test_dataloader')
# the paper's RPN protocol: the RPN alone, and a row on its fixed proposals
RPN_ONLY = ('model.type', 'model.roi_head', 'model.train_cfg.rpn_proposal',
            'model.train_cfg.rcnn', 'model.test_cfg.rcnn', 'val_evaluator',
            'test_evaluator')
FIXED_PROPOSALS = (
    'model.rpn_head', 'model.train_cfg.rpn', 'model.train_cfg.rpn_proposal',
    'model.test_cfg.rpn') + PIPELINES + tuple(f'{loader}.dataset.proposal_file'
                                              for loader in LOADERS)
MASK_BRANCH = ('model.type', 'model.roi_head.mask_roi_extractor',
               'model.roi_head.mask_head', 'val_evaluator',
               'test_evaluator') + PIPELINES + SCHEDULE

# Table 3's rows and detection-only twins, as the report tool knows them
ROW = {int(r.key[3:]): r.config for r in T3.rows}
TWIN = {int(r.key[3:]): r.det_config for r in T3.rows if r.det_config}
OTHER = {
    c.config.split('_')[1]: c.config
    for c in OTHER_CONFIGS if c.config.startswith('panet_')
}
AUTHORS_MASK, AUTHORS_DET, AUTHORS_DET_2FC = (m.config for m in RELEASED)

# Each config's delta over its parent: the components in which it must
# differ from it, and nothing else. The parent is the config's ``_base_``
# (read from the file, mmpanet.paper.tables.base_config): the lineage is
# written once, in the configs.
DELTAS = {
    # Table 3
    ROW[2]:
    PIPELINES,
    ROW[3]:
    MST,
    ROW[4]:
    MBN,
    ROW[5]:
    BPA,
    ROW[6]:
    AFP,
    ROW[7]:
    BPA,
    ROW[8]:
    FF,
    ROW[9]:
    HHD,
    # detection-only twins
    TWIN[1]:
    MASK_BRANCH,
    TWIN[2]:
    PIPELINES,
    TWIN[3]:
    MST,
    TWIN[4]:
    MBN_BOX,
    TWIN[5]:
    BPA,
    TWIN[6]:
    AFP_BOX,
    TWIN[7]:
    BPA,
    TWIN[9]:
    HHD,
    # Table 4 (over row 6 and its twin)
    ROWS['T4.fu'].config:
    ('model.roi_head.bbox_head', 'model.roi_head.mask_head'),
    ROWS['T4.sum'].config:
    ('model.roi_head.bbox_head', 'model.roi_head.mask_head'),
    ROWS['T4.fu'].det_config:
    HHD,
    ROWS['T4.sum'].det_config:
    HHD,
    # Table 5 (over row 8 = conv3, sum)
    **{
        ROWS[f'T5.{v}'].config: FF
        for v in ('conv2', 'conv4', 'max', 'prod')
    },
    # Table 9 (Cityscapes)
    ROWS['T9.2'].config:
    MBN,
    ROWS['T9.3'].config:
    BPA + AFP,
    # authors' code (over full PANet)
    AUTHORS_MASK: ('model.data_preprocessor', 'model.backbone', 'model.neck',
                   'model.rpn_head', 'model.roi_head.type', 'model.train_cfg',
                   'model.test_cfg') + AFP + PIPELINES + SCHEDULE,
    AUTHORS_DET:
    MASK_BRANCH,
    AUTHORS_DET_2FC: ('model.roi_head.bbox_head', ),
    # the paper's RPN protocol (the RPN: row 2's, alone)
    SEPARATE_RPN:
    RPN_ONLY,
    **{
        config: FIXED_PROPOSALS
        for config in FIXED_PROPOSAL_ROWS.values()
    },
    # Table 6 (the COCO challenge entry; row 1 is Table 3 row 9)
    ROWS['T6.2'].config: ('model.backbone', 'model.data_preprocessor'),
    ROWS['T6.3'].config: ('tta_model', 'tta_pipeline'),
    ROWS['T6.4'].config: ('model.backbone', ),
    ROWS['T6.5'].config: ('model', ),
    # Table 10 (MVD; over full PANet on COCO)
    ROWS['T10.1'].config:
    ('model.rpn_head.anchor_generator', 'model.roi_head.bbox_head.num_classes',
     'model.roi_head.mask_head.num_classes', 'val_evaluator', 'test_evaluator')
    + SCHEDULE + tuple(f'{loader}.dataset' for loader in LOADERS),
    ROWS['T10.2'].config: ('tta_model', 'tta_pipeline'),
    # Table 8 (row 1 is Table 9 row 3)
    ROWS['T8.2'].config: ('load_from', ),
    OTHER['r101']: ('model.backbone', ),
    OTHER['x101-64x4d']: ('model.backbone', ),
    OTHER['swin-t-p4-w7']: ('model.backbone', 'model.neck', 'optim_wrapper'),
}
# the roots: configs over mmdet's and the shared bases only
ROOTS = (ROW[1], ROWS['T9.1'].config)
# other pairs that must differ in these components only
SIBLINGS = [
    (ROW[7], ROW[5], AFP),
    *[(TWIN[i], ROW[i], MASK_BRANCH) for i in (2, 3, 4, 5, 6, 7, 9)],
]
LINEAGE = [(child, base_config(child), components)
           for child, components in DELTAS.items()] + SIBLINGS


def load(name):
    return Config.fromfile(osp.join(PANET_DIR, name + '.py'))


def leaves(obj, prefix=''):
    """Flatten nested dicts/lists into {'a.b.0.c': value}."""
    if isinstance(obj, dict):
        items = obj.items()
    elif isinstance(obj, (list, tuple)) and any(
            isinstance(v, (dict, list, tuple)) for v in obj):
        items = enumerate(obj)
    else:
        return {prefix: obj}
    out = {}
    for key, value in items:
        out.update(leaves(value, f'{prefix}.{key}' if prefix else str(key)))
    return out


def differing_paths(a, b):
    la = leaves({k: a.get(k) for k in RUN_KEYS})
    lb = leaves({k: b.get(k) for k in RUN_KEYS})
    # ``_scope_`` records which package a base file came from (mmdet's
    # bases); the runner builds in mmdet's scope either way
    return {
        k
        for k in la.keys() | lb.keys()
        if la.get(k) != lb.get(k) and not k.endswith('._scope_')
    }


def under(path, prefix):
    return path == prefix or path.startswith(prefix + '.')


@pytest.mark.parametrize(
    'child,parent,components',
    LINEAGE,
    ids=[f'{c}-vs-{p}' for c, p, _ in LINEAGE])
def test_row_differs_from_parent_in_its_components_only(
        child, parent, components):
    diff = differing_paths(load(child).to_dict(), load(parent).to_dict())
    stray = sorted(p for p in diff if not any(under(p, c) for c in components))
    assert not stray, f'{child} also changes {stray} over {parent}'
    unchanged = [c for c in components if not any(under(p, c) for p in diff)]
    assert not unchanged, f'{child} does not change {unchanged}'


def panet_config_files():
    return {
        osp.basename(p)[:-3]
        for p in glob.glob(osp.join(PANET_DIR, '*.py'))
    }


def test_every_panet_config_is_in_the_lineage():
    assert panet_config_files() == set(DELTAS) | set(ROOTS)
    assert [c for c in ROOTS if base_config(c) is not None] == []


def test_the_tables_name_every_config_once():
    """paper_tables is the one list of configs/panet."""
    names = config_names()
    assert len(names) == len(set(names))
    assert set(names) == panet_config_files()


def test_cityscapes_panet_is_the_coco_panet_model():
    city = load(ROWS['T9.3'].config).model
    coco = load(ROW[9]).model
    diff = {p for p in differing_paths(dict(model=city), dict(model=coco))}
    assert diff == {
        'model.roi_head.bbox_head.num_classes',
        'model.roi_head.mask_head.num_classes'
    }


def test_paper_settings_of_the_rows():
    rbl = load(ROW[2])
    assert rbl.train_dataloader.dataset.pipeline[2].scale == (1000, 800)
    assert rbl.model.train_cfg.rcnn.sampler.num == 512
    assert rbl.model.train_cfg.rcnn.sampler.pos_fraction == 0.25
    assert rbl.train_cfg.max_iters == 160000
    assert rbl.param_scheduler[1].milestones == [120000]
    assert rbl.optim_wrapper.optimizer.lr == 0.02
    assert rbl.train_dataloader.batch_size * 8 == 16
    mst = load(ROW[3]).train_dataloader.dataset.pipeline[2]
    assert mst.scale == [(1400, 400), (1400, 1400)]
    twin = load(TWIN[9])
    assert twin.train_cfg.max_iters == 80000
    assert twin.param_scheduler[1].milestones == [60000]
    full = load(ROW[9]).model
    assert full.backbone.frozen_stages == -1
    assert full.backbone.norm_cfg.type == 'SyncBN'
    assert full.neck.bottom_up_norm_cfg.type == 'SyncBN'
    assert full.roi_head.mask_head.ff_after == 'conv3'
    city = load(ROWS['T9.1'].config)
    for cfg in (load(ROW[1]), load(ROW[9]), city):  # spec: 2x2 samples
        for key in ('bbox_roi_extractor', 'mask_roi_extractor'):
            roi_layer = cfg.model.roi_head[key].roi_layer
            assert roi_layer.type == 'RoIAlign'
            assert roi_layer.sampling_ratio == 2
    assert city.train_cfg.max_iters == 24000
    assert city.param_scheduler[1].milestones == [18000]
    assert city.optim_wrapper.optimizer.lr == 0.01


SHAPES_RPN = 'configs/shapes/rpn_r18-w32_fpn_1100i_shapes.py'
SHAPES_FIXED = ('configs/shapes/panet_r18-w32_pafpn-relu_sep-rpn-1100i_'
                'shapes.py')
SHAPES_PANET = 'configs/shapes/panet_r18-w32_pafpn-relu_1100i_shapes.py'
SHAPES_MAIN_JOB = main_job_config()  # tools/run_main_job.sh's default


@pytest.mark.parametrize('config,rpn',
                         [(osp.join(PANET_DIR, c + '.py'), SEPARATE_RPN)
                          for c in FIXED_PROPOSAL_ROWS.values()] +
                         [(SHAPES_FIXED, SHAPES_RPN)])
def test_fixed_proposals_are_the_separate_rpn_files(config, rpn):
    """Each split reads the file dump_proposals.py writes for its images."""
    cfg = Config.fromfile(osp.join(ROOT, config))
    assert cfg.model.rpn_head is None
    for loader in LOADERS:
        dataset = cfg[loader].dataset
        assert dataset.proposal_file == proposal_file(rpn, dataset.ann_file)


def test_shapes_fixed_proposal_config_is_the_panet_config_on_proposals():
    panet = Config.fromfile(osp.join(ROOT, SHAPES_PANET))
    fixed = Config.fromfile(osp.join(ROOT, SHAPES_FIXED))
    diff = differing_paths(fixed.to_dict(), panet.to_dict())
    assert {p
            for p in diff
            if not any(under(p, c) for c in FIXED_PROPOSALS)} == set()
    rpn = Config.fromfile(osp.join(ROOT, SHAPES_RPN))
    baseline = Config.fromfile(
        osp.join(ROOT, 'configs/shapes/mask-rcnn_r18-w32_fpn_1100i_shapes.py'))
    diff = differing_paths(rpn.to_dict(), baseline.to_dict())
    assert {p for p in diff if not any(under(p, c) for c in RPN_ONLY)} == set()


def test_main_job_is_the_shapes_panet_config_with_mbn_on_its_own_schedule():
    """The main job adds the paper's MBN to the PANet shapes config and
    otherwise changes only its optimizer and schedule; its name states
    them."""
    assert osp.dirname(SHAPES_MAIN_JOB) == osp.dirname(SHAPES_PANET)
    main_job = Config.fromfile(osp.join(ROOT, SHAPES_MAIN_JOB))
    panet = Config.fromfile(osp.join(ROOT, SHAPES_PANET))
    schedule = SCHEDULE + ('optim_wrapper.optimizer',
                           'default_hooks.checkpoint.interval')
    diff = differing_paths(main_job.to_dict(), panet.to_dict())
    assert {p
            for p in diff
            if not any(under(p, c) for c in schedule + MBN)} == set()
    assert main_job.optim_wrapper.type == 'CPUAmpOptimWrapper'
    assert main_job.optim_wrapper.optimizer.type == 'AdamW'
    iters = main_job.train_cfg.max_iters
    assert f'_mbn-adamw-{iters}i_' in SHAPES_MAIN_JOB
    assert main_job.train_cfg.val_interval == iters
    assert main_job.default_hooks.checkpoint.interval == iters
    assert main_job.param_scheduler[1].end == iters
    # MBN as in the full COCO model: the same norm on the same modules
    full = leaves(load(ROWS['T3.9'].config).model.to_dict(), 'model')
    ours = leaves(main_job.model.to_dict(), 'model')

    def norms(flat):
        return {
            p: v
            for p, v in flat.items()
            if '.norm_cfg.' in p or '.bottom_up_norm_cfg.' in p
        }

    assert norms(full) and norms(ours) == norms(full)


def test_config_names_are_unique():
    names = [osp.basename(p) for p in ALL_CONFIGS]
    assert len(names) == len(set(names))


def shrink(cfg):
    """Small inputs for a CPU step: fewer proposals and sampled RoIs (data
    and sampling settings only; every module stays as configured)."""
    model = copy.deepcopy(cfg.model)
    train_cfg, test_cfg = model.train_cfg, model.test_cfg
    if train_cfg.get('rpn_proposal'):
        train_cfg.rpn_proposal.max_per_img = 64
    if train_cfg.get('rcnn'):
        train_cfg.rcnn.sampler.num = 32
        test_cfg.rcnn.max_per_img = 10
    if test_cfg.get('rpn'):
        test_cfg.rpn.max_per_img = 32
    return model


def test_mvd_settings_are_the_papers():
    from mmpanet.dataset_converters.mapillary_vistas import INSTANCE_CLASSES
    mvd = load(ROWS['T10.1'].config)
    for loader in LOADERS:
        assert mvd[loader].dataset.metainfo.classes == INSTANCE_CLASSES
    assert mvd.model.roi_head.bbox_head.num_classes == 37
    anchors = mvd.model.rpn_head.anchor_generator
    sizes = {s * stride for s in anchors.scales for stride in anchors.strides}
    assert sorted(sizes) == [8, 16, 32, 64, 128, 256, 512]
    assert anchors.ratios == [0.2, 0.5, 1, 2, 5]
    assert mvd.train_pipeline[2].scale == [(2400, 600), (2400, 2000)]
    assert mvd.train_cfg.max_iters == 80000
    assert mvd.param_scheduler[1].milestones == [60000]
    tta = load(ROWS['T10.2'].config)
    assert [t.scale
            for t in tta.tta_pipeline[1].transforms[0]] == [(2400, 1600),
                                                            (2400, 1800),
                                                            (2400, 2000)]


def test_table6_testing_tricks_are_the_papers():
    tta = load(ROWS['T6.3'].config)
    assert tta.tta_model.type == 'InstanceSegTTAModel'
    # the authors' merge (Detectron's), their TEST settings: NMS 0.5,
    # score > 0.05, 100 per image, box voting IoU 0.8 with 'ID' scoring,
    # soft masks averaged; the challenge entry's tightened boxes
    assert tta.tta_model.tta_cfg == dict(
        merge='detectron',
        score_thr=0.05,
        nms=dict(type='nms', iou_threshold=0.5),
        max_per_img=100,
        box_voting=dict(iou_thr=0.8, scoring='ID'),
        mask_heuristic='SOFT_AVG',
        tighten_boxes=True)
    for key in ('T6.3', 'T10.2'):  # the TTA models these configs build
        from mmdet.registry import MODELS
        cfg = load(ROWS[key].config)
        assert MODELS.get(cfg.tta_model.type) is not None
        assert cfg.tta_model.tta_cfg['merge'] == 'detectron'
    scales, flips = tta.tta_pipeline[1].transforms[:2]
    assert [t.scale for t in scales] == [(1400, 600), (1400, 800),
                                         (1400, 1000), (1400, 1200)]
    assert sorted(t.prob for t in flips) == [0., 1.]
    ensemble = load(ROWS['T6.5'].config)
    assert [
        m.config for m in ensemble.model.members
    ] == [f'configs/panet/{ROWS[k].config}.py'
          for k in ('T6.4', 'T6.2')] + [f'configs/panet/{OTHER["r101"]}.py']


@pytest.mark.parametrize(
    'path', ALL_CONFIGS, ids=[osp.basename(p) for p in ALL_CONFIGS])
def test_every_config_builds_and_runs(path):
    cfg = Config.fromfile(path)
    if cfg.model.type == 'DetectorEnsemble':
        # its members load trained checkpoints, which the repo does not have
        with pytest.raises(FileNotFoundError, match=r'members\[0\]'):
            build(cfg.model, init_weights=False)
        return
    model = build(shrink(cfg), init_weights=False)  # no downloads
    data = make_batch(TWO_SIZES)
    if cfg.model.type == 'RPN':
        losses = run_loss_and_predict(model, data)
        assert {'loss_rpn_cls', 'loss_rpn_bbox'} <= set(losses)
        return
    if not model.with_rpn:  # trained on fixed proposals
        add_proposals(data)
    losses = run_loss_and_predict(model, data)
    assert ('loss_mask' in losses) == model.roi_head.with_mask
    assert any(k.startswith('loss_rpn') for k in losses) == model.with_rpn
