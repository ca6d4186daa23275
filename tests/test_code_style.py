# Copyright (c) mmpanet contributors. All rights reserved.
"""The code passes the isort / yapf / flake8 settings in setup.cfg."""
import subprocess
import sys

import pytest

TARGETS = ['mmpanet', 'tools', 'tests', 'configs', 'setup.py']


@pytest.mark.parametrize(
    'cmd', [
        ['flake8'] + TARGETS,
        ['isort', '--check-only', '--diff', '--quiet'] + TARGETS,
        ['yapf', '--diff', '--recursive'] + TARGETS,
    ],
    ids=['flake8', 'isort', 'yapf'])
def test_style(cmd, root):
    proc = subprocess.run(
        [sys.executable, '-m'] + cmd, cwd=root, capture_output=True, text=True)
    assert proc.returncode == 0 and not proc.stdout.strip(), (
        proc.stdout + proc.stderr)
