# Copyright (c) mmpanet contributors. All rights reserved.
"""The paper's tables, and the configs of ``configs/panet``: the ablation
tables (COCO val-2017, R-50; Cityscapes val; the COCO challenge entry of
Table 6) with the config that reproduces each row, the other configs
(authors' code, other backbones, the separately trained RPN), and the
authors' released models.

Every config name is spelled out here once. ``configs/panet/metafile.yml``
and the tables of ``configs/panet/README.md`` are generated from this module
(:mod:`mmpanet.paper.model_zoo`), and tests check that the files and the
config folder agree with it.

Each row names its mask config (``config``) and, where the table has box AP
of a detector trained without the mask branch (``APbb``), that
detection-only config (``det_config``). The lineage of the rows (which row
each states a delta over) is written once, in the configs' ``_base_``;
:func:`parent_row` reads it. Numbers are the paper's, in percent; ``None``
where the paper has none.
"""
import ast
import os.path as osp
from dataclasses import dataclass, field
from typing import Dict, List, Optional

# metric column -> (which run, COCO metric key)
#   'mask': the mask model's run, 'det': the detection-only twin's run
METRICS = {
    'AP': ('mask', 'segm_mAP'),
    'AP50': ('mask', 'segm_mAP_50'),
    'AP75': ('mask', 'segm_mAP_75'),
    'APS': ('mask', 'segm_mAP_s'),
    'APM': ('mask', 'segm_mAP_m'),
    'APL': ('mask', 'segm_mAP_l'),
    'APbbM': ('mask', 'bbox_mAP'),
    'APbb': ('det', 'bbox_mAP'),
    'APbb50': ('det', 'bbox_mAP_50'),
    'APbb75': ('det', 'bbox_mAP_75'),
}


@dataclass
class Row:
    key: str
    setting: str
    config: Optional[str]
    paper: Dict[str, Optional[float]]
    det_config: Optional[str] = None


@dataclass
class Table:
    name: str
    title: str
    columns: List[str]
    rows: List[Row] = field(default_factory=list)
    dataset: str = 'COCO'


@dataclass
class OtherConfig:
    """A config that is not a table row: what it is and what it reproduces.
    """
    config: str
    description: str
    dataset: str = 'COCO'
    task: str = 'Instance Segmentation'


@dataclass
class ReleasedModel:
    """One of the authors' released checkpoints (ShuLiu1993/PANet README),
    converted by ``tools/model_converters/panet_authors_to_mmdet.py``:
    its box head ('4conv1fc' or '2fc'), whether it has the mask branch, the
    config it loads into, and the authors' own COCO val2017 numbers."""
    name: str
    config: str
    box_head: str
    with_mask: bool
    authors_config: str
    download: str
    authors_box_ap: float
    authors_mask_ap: Optional[float] = None

    @property
    def task(self) -> str:
        return 'Instance Segmentation' if self.with_mask else \
            'Object Detection'


def _row(key, setting, config, numbers, columns, det=None):
    return Row(key, setting, config, dict(zip(columns, numbers)), det)


T3_COLS = ['AP', 'APbb', 'APbbM', 'AP50', 'AP75', 'APS', 'APM', 'APL']
T3 = Table('Table 3', 'Components (COCO val-2017, R-50)', T3_COLS, [
    _row('T3.1', 'MRB', 'mask-rcnn_r50_fpn_160k_coco',
         [33.6, 33.9, None, 55.2, 35.3, None, None, None], T3_COLS,
         'faster-rcnn_r50_fpn_80k_coco'),
    _row('T3.2', 'RBL', 'mask-rcnn_r50_fpn_rbl-160k_coco',
         [33.4, 35.0, 36.4, 54.3, 35.5, 14.1, 35.7, 50.8], T3_COLS,
         'faster-rcnn_r50_fpn_rbl-80k_coco'),
    _row('T3.3', 'RBL+MST', 'mask-rcnn_r50_fpn_rbl-mst-160k_coco',
         [35.3, 35.0, 38.2, 56.7, 37.9, 17.6, 38.6, 50.6], T3_COLS,
         'faster-rcnn_r50_fpn_rbl-mst-80k_coco'),
    _row('T3.4', 'RBL+MST+MBN', 'mask-rcnn_r50_fpn_rbl-mst-mbn-160k_coco',
         [35.7, 37.1, 38.9, 57.3, 38.0, 18.6, 39.4, 51.7], T3_COLS,
         'faster-rcnn_r50_fpn_rbl-mst-mbn-80k_coco'),
    _row('T3.5', '+ BPA', 'panet-bpa_r50_pafpn-relu_rbl-mst-mbn-160k_coco',
         [36.4, 38.0, 39.9, 57.8, 39.2, 19.3, 39.7, 52.6], T3_COLS,
         'panet-det-bpa_r50_pafpn-relu_rbl-mst-mbn-80k_coco'),
    _row('T3.6', '+ AFP', 'panet-afp_r50_fpn_rbl-mst-mbn-160k_coco',
         [36.3, 37.9, 39.6, 58.0, 38.9, 19.0, 40.1, 52.4], T3_COLS,
         'panet-det-afp_r50_fpn_rbl-mst-mbn-80k_coco'),
    _row('T3.7', '+ BPA + AFP',
         'panet-bpa-afp_r50_pafpn-relu_rbl-mst-mbn-160k_coco',
         [36.9, 39.0, 40.6, 58.5, 39.7, 19.6, 40.7, 53.2], T3_COLS,
         'panet-det-bpa-afp_r50_pafpn-relu_rbl-mst-mbn-80k_coco'),
    _row('T3.8', '+ BPA + AFP + FF',
         'panet-bpa-afp-ff_r50_pafpn-relu_rbl-mst-mbn-160k_coco',
         [37.6, None, None, 59.1, 40.6, 20.3, 41.3, 53.8], T3_COLS),
    _row('T3.9', '+ HHD (full PANet)',
         'panet_r50_pafpn-relu_rbl-mst-mbn-160k_coco',
         [37.8, 39.2, 42.1, 59.4, 41.0, 19.2, 41.5, 54.3], T3_COLS,
         'panet-det_r50_pafpn-relu_rbl-mst-mbn-80k_coco'),
])

T4_COLS = ['AP', 'AP50', 'AP75', 'APbb', 'APbb50', 'APbb75']
T4 = Table(
    'Table 4', 'AFP fusion position and op (baseline: Table 3 row 4)', T4_COLS,
    [
        _row('T4.base', 'baseline', 'mask-rcnn_r50_fpn_rbl-mst-mbn-160k_coco',
             [35.7, 57.3, 38.0, 37.1, 58.9, 40.0], T4_COLS,
             'faster-rcnn_r50_fpn_rbl-mst-mbn-80k_coco'),
        _row('T4.fu', 'fu.fc1fc2',
             'panet-afp-fu-roialign_r50_fpn_rbl-mst-mbn-160k_coco',
             [35.7, 57.2, 38.2, 37.3, 59.1, 40.1], T4_COLS,
             'panet-det-afp-fu-roialign_r50_fpn_rbl-mst-mbn-80k_coco'),
        _row('T4.max', 'fc1fu.fc2 (max)',
             'panet-afp_r50_fpn_rbl-mst-mbn-160k_coco',
             [36.3, 58.0, 38.9, 37.9, 60.0, 40.7], T4_COLS,
             'panet-det-afp_r50_fpn_rbl-mst-mbn-80k_coco'),
        _row('T4.sum', 'SUM (at fc1fu.fc2)',
             'panet-afp-sum_r50_fpn_rbl-mst-mbn-160k_coco',
             [36.2, 58.0, 38.8, 38.0, 59.8, 40.7], T4_COLS,
             'panet-det-afp-sum_r50_fpn_rbl-mst-mbn-80k_coco'),
    ])

T5_COLS = ['AP', 'AP50', 'AP75', 'APS', 'APM', 'APL']
T5 = Table(
    'Table 5', 'FF branch start and fusion op (baseline: Table 3 '
    'row 7)', T5_COLS, [
        _row('T5.base', 'baseline',
             'panet-bpa-afp_r50_pafpn-relu_rbl-mst-mbn-160k_coco',
             [36.9, 58.5, 39.7, 19.6, 40.7, 53.2], T5_COLS),
        _row('T5.conv2', 'conv2 (sum)',
             'panet-bpa-afp-ff-conv2_r50_pafpn-relu_rbl-mst-mbn-'
             '160k_coco', [37.5, 59.3, 40.1, 20.7, 41.2, 54.1], T5_COLS),
        _row('T5.conv3', 'conv3 (sum)',
             'panet-bpa-afp-ff_r50_pafpn-relu_rbl-mst-mbn-160k_coco',
             [37.6, 59.1, 40.6, 20.3, 41.3, 53.8], T5_COLS),
        _row('T5.conv4', 'conv4 (sum)',
             'panet-bpa-afp-ff-conv4_r50_pafpn-relu_rbl-mst-mbn-'
             '160k_coco', [37.2, 58.9, 40.0, 19.0, 41.2, 52.8], T5_COLS),
        _row('T5.prod', 'PROD (conv3)',
             'panet-bpa-afp-ff-prod_r50_pafpn-relu_rbl-mst-mbn-'
             '160k_coco', [36.9, 58.6, 39.7, 20.2, 40.8, 52.2], T5_COLS),
        _row('T5.max', 'MAX (conv3)',
             'panet-bpa-afp-ff-max_r50_pafpn-relu_rbl-mst-mbn-'
             '160k_coco', [37.1, 58.7, 39.9, 19.9, 41.1, 52.5], T5_COLS),
    ])

T9_COLS = ['AP', 'AP50']
T9 = Table(
    'Table 9',
    'Cityscapes val (fine only)',
    T9_COLS, [
        _row('T9.1', 'Mask R-CNN (re-implemented)',
             'mask-rcnn_r50_fpn_rbl-24k_cityscapes', [33.1, 59.1], T9_COLS),
        _row('T9.2', '+ MBN', 'mask-rcnn_r50_fpn_rbl-mbn-24k_cityscapes',
             [34.6, 62.4], T9_COLS),
        _row('T9.3', 'PANet', 'panet_r50_pafpn-relu_rbl-mbn-24k_cityscapes',
             [36.5, 62.9], T9_COLS),
    ],
    dataset='Cityscapes')

T6_COLS = ['AP', 'AP50', 'AP75', 'APS', 'APM', 'APL']
T6 = Table(
    'Table 6', 'COCO 2017 challenge (mask AP, test-dev; each row adds to '
    'the one above)', T6_COLS, [
        _row('T6.1', 'PANet baseline (full PANet, MST)',
             'panet_r50_pafpn-relu_rbl-mst-mbn-160k_coco',
             [38.2, 60.2, 41.4, 19.1, 41.1, 52.6], T6_COLS),
        _row('T6.2', '+ DCN',
             'panet_r50-dconv-c3-c5_pafpn-relu_rbl-mst-mbn-160k_coco',
             [39.5, 62.0, 42.8, 19.8, 42.2, 54.7], T6_COLS),
        _row('T6.3', '+ testing tricks (--tta)',
             'panet_r50-dconv-c3-c5_pafpn-relu_rbl-mst-mbn-160k-tta_coco',
             [42.0, 63.5, 46.0, 21.8, 44.4, 58.1], T6_COLS),
        _row(
            'T6.4', '+ larger model (X-101 64x4d)',
            'panet_x101-64x4d-dconv-c3-c5_pafpn-relu_rbl-mst-mbn-160k-'
            'tta_coco', [44.4, 67.0, 48.5, 23.6, 46.5, 62.2], T6_COLS),
        _row(
            'T6.5', '+ ensemble (--tta)',
            'panet-ensemble_x101-64x4d-dconv-c3-c5_pafpn-relu_rbl-mst-mbn-'
            '160k-tta_coco', [46.7, 69.5, 51.3, 26.0, 49.1, 64.0], T6_COLS),
    ])

T8 = Table(
    'Table 8',
    'Cityscapes val with COCO pre-training',
    T9_COLS, [
        _row('T8.1', 'PANet (fine only)',
             'panet_r50_pafpn-relu_rbl-mbn-24k_cityscapes', [36.5, None],
             T9_COLS),
        _row('T8.2', 'PANet fine-tuned from COCO',
             'panet_r50_pafpn-relu_rbl-mbn-24k-coco-pre_cityscapes',
             [41.4, None], T9_COLS),
    ],
    dataset='Cityscapes')

T10 = Table(
    'Table 10',
    'Mapillary Vistas val (37 instance classes)',
    T9_COLS, [
        _row('T10.1', 'PANet', 'panet_r50_pafpn-relu_mbn-80k_mvd',
             [23.6, 43.3], T9_COLS),
        _row('T10.2', 'PANet with test tricks (--tta)',
             'panet_r50_pafpn-relu_mbn-80k-tta_mvd', [24.9, 44.7], T9_COLS),
    ],
    dataset='Mapillary Vistas')

TABLES = [T3, T4, T5, T9, T6, T8, T10]
ROWS = {row.key: row for table in TABLES for row in table.rows}

# The paper's RPN protocol (spec section 4): one RPN trained on its own
# (``SEPARATE_RPN``) and rows trained and tested on its fixed proposals
# (row key -> config; each config states only that delta over its row).
SEPARATE_RPN = 'rpn_r50_fpn_rbl-80k_coco'
FIXED_PROPOSAL_ROWS = {
    'T3.2': 'mask-rcnn_r50_fpn_rbl-sep-rpn-160k_coco',
    'T3.9': 'panet_r50_pafpn-relu_rbl-mst-mbn-sep-rpn-160k_coco',
}

OTHER_CONFIGS = [
    OtherConfig('panet_r101_pafpn-relu_rbl-mst-mbn-160k_coco',
                'full PANet (Table 3 row 9) with ResNet-101'),
    OtherConfig(
        'panet_x101-64x4d_pafpn-relu_rbl-mst-mbn-160k_coco',
        'full PANet (Table 3 row 9) with ResNeXt-101 64x4d, the paper\'s '
        'headline backbone'),
    OtherConfig('panet_swin-t-p4-w7_pafpn-relu_rbl-mst-mbn-160k_coco',
                'full PANet (Table 3 row 9) with Swin-T, trained with AdamW'),
    OtherConfig(
        SEPARATE_RPN,
        'the separately trained RPN of the paper\'s protocol (Table 3 row '
        '2\'s R-50-FPN RPN alone); tools/misc/dump_proposals.py writes its '
        'proposals',
        task='Object Detection'),
    *[
        OtherConfig(
            config, f'Table 3 row {key[3:]} ({ROWS[key].setting}) trained '
            f'and tested on the fixed proposals of {SEPARATE_RPN}')
        for key, config in FIXED_PROPOSAL_ROWS.items()
    ],
]

_DRIVE = 'https://drive.google.com/file/d/{}/view?usp=sharing'
RELEASED = [
    ReleasedModel('panet_r50_pafpn-gn_ms-180k_coco_authors',
                  'panet_r50_pafpn-gn_ms-180k_coco', '4conv1fc', True,
                  'configs/panet/e2e_panet_R-50-FPN_2x_mask.yaml',
                  _DRIVE.format('1-pVZQ3GR6Aj7KJzH9nWoRQ-Lts8IcdMS'), 43.1,
                  38.3),
    ReleasedModel('panet-det_r50_pafpn-gn_ms-90k_coco_authors',
                  'panet-det_r50_pafpn-gn_ms-90k_coco', '4conv1fc', False,
                  'configs/panet/e2e_panet_R-50-FPN_1x_det.yaml',
                  _DRIVE.format('1_ahNQHY3D4mbsMWHR2FwmItBkLwYOrS4'), 39.8),
    ReleasedModel('panet-det-2fc_r50_pafpn-gn_ms-90k_coco_authors',
                  'panet-det-2fc_r50_pafpn-gn_ms-90k_coco', '2fc', False,
                  'configs/panet/e2e_panet_R-50-FPN_1x_det_2fc.yaml',
                  _DRIVE.format('1s-xm8GxHbmnt5M3gOMacXIRMvCGaDeRR'), 39.6),
]


def config_names() -> List[str]:
    """Every config of ``configs/panet``, each once, in table order."""
    names = []
    for row in ROWS.values():
        names += [row.config, row.det_config]
    names += [c.config for c in OTHER_CONFIGS]
    names += [m.config for m in RELEASED]
    return list(dict.fromkeys(n for n in names if n))


def config_dir() -> str:
    """``configs/panet``: in the source tree, or under ``mmpanet/.mim``
    when installed from a wheel."""
    package = osp.dirname(osp.dirname(osp.abspath(__file__)))
    for root in (osp.dirname(package), osp.join(package, '.mim')):
        path = osp.join(root, 'configs', 'panet')
        if osp.isdir(path):
            return path
    raise FileNotFoundError(
        f'configs/panet not found beside or inside {package}')


def base_config(name: str) -> Optional[str]:
    """The config of ``configs/panet`` that config ``name`` states its delta
    over: the first ``./<name>.py`` of its ``_base_``, read from the file
    (not executed); None for a config over mmdet's or shared bases only."""
    with open(osp.join(config_dir(), name + '.py')) as f:
        tree = ast.parse(f.read())
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(
                isinstance(t, ast.Name) and t.id == '_base_'
                for t in node.targets):
            bases = ast.literal_eval(node.value)
            bases = [bases] if isinstance(bases, str) else list(bases)
            for base in bases:
                if base.startswith('./'):
                    return osp.splitext(base[2:])[0]
            return None
    return None


def parent_row(table: Table, row: Row) -> Optional[Row]:
    """The row of ``table`` that ``row`` states its delta over: the nearest
    config up ``row.config``'s ``_base_`` chain that is a row of the
    table."""
    by_config = {r.config: r for r in table.rows if r is not row}
    name = base_config(row.config)
    while name is not None and name not in by_config:
        name = base_config(name)
    return by_config.get(name)
