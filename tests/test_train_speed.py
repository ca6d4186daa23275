# Copyright (c) mmpanet contributors. All rights reserved.
"""tools/analysis_tools/train_speed.py on two configs and the tiny dataset,
and the steal reading it reports."""
import os
import re
import subprocess
import sys

import pytest
from test_tools import FAST, run

from mmpanet.analysis.cpu_steal import read_cpu_times, steal_percent

CONFIGS = [
    'configs/shapes/mask-rcnn_r18-w32_fpn_1100i_shapes.py',
    'configs/shapes/panet_r18-w32_pafpn-relu_1100i_shapes.py'
]


def test_steal_percent_is_steal_over_all_time():
    before = [100, 0, 100, 800, 0, 0, 0, 0, 0, 0]
    after = [200, 0, 200, 1500, 0, 0, 0, 100, 0, 0]
    assert steal_percent(before, after) == 10.0
    assert steal_percent(before, before) == 0.0
    # an earlier reading kept as the text of /proc/stat's first line
    assert read_cpu_times('cpu  1 2 3 4 5 6 7 8 9 10') == list(range(1, 11))


def test_steal_script_runs_without_site_packages(root):
    """run_main_job.sh runs cpu_steal.py by its path to skip importing the
    package; -S (no site-packages: no torch, no mmdet) proves it can."""
    out = subprocess.run([
        sys.executable, '-S',
        os.path.join(root, 'mmpanet', 'analysis', 'cpu_steal.py'),
        'cpu  0 0 0 0 0 0 0 0 0 0'
    ],
                         capture_output=True,
                         text=True,
                         check=True).stdout
    assert re.fullmatch(r'\d+\.\d%\n', out), out


def test_two_configs_interleaved_with_profile(workspace, root):
    configs = [os.path.join(root, c) for c in CONFIGS]
    out = run([
        sys.executable,
        os.path.join(root, 'tools/analysis_tools/train_speed.py'), *configs,
        '--iters', '3', '--warmup', '1', '--rounds', '2', '--profile', '1',
        '--cfg-options', *FAST
    ], workspace)
    # blocks alternate A, B, A, B
    rounds = re.findall(r'round (\d)/2: (\S+\.py)', out)
    assert rounds == [('1', configs[0]), ('1', configs[1]), ('2', configs[0]),
                      ('2', configs[1])]
    rows = re.findall(
        r'^\| (\S+\.py) \| ([\d.]+) \| ([\d., ]+) \| ([\d.]+) '
        r'\| ([\d.]+) \| ([\d.]+)x \|$', out, re.M)
    assert [r[0] for r in rows] == configs
    for name, median, blocks, its, data, speed in rows:
        assert float(median) > 0 and len(blocks.split(',')) == 2
        assert float(its) * float(median) == pytest.approx(1, rel=0.05)
    assert rows[0][5] == '1.00'
    assert re.search(r'CPU steal during the run: [\d.]+%', out)
    # the profile of the first block lists operators and module ranges
    assert 'module::roi_head.bbox_roi_extractor' in out
    assert 'module::backbone' in out
    assert 'aten::' in out
