# Copyright (c) mmpanet contributors. All rights reserved.
"""The command-line tools of tools/ as modules, to call their main() in the
test process."""
import importlib.util
import os.path as osp
import re
import subprocess
import sys

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))


def load_tool(path: str):
    """``tools/...py`` (a path relative to the repository) as a module."""
    spec = importlib.util.spec_from_file_location(
        osp.splitext(osp.basename(path))[0], osp.join(ROOT, path))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def main_job_config() -> str:
    """The config ``tools/run_main_job.sh`` trains unless told otherwise (a
    path relative to the repository); the script is where it is stated."""
    with open(osp.join(ROOT, 'tools', 'run_main_job.sh')) as f:
        match = re.search(r'^CONFIG="\$\{CONFIG:-([^}]+)\}"$', f.read(), re.M)
    assert match, 'run_main_job.sh no longer sets CONFIG="${CONFIG:-...}"'
    return match.group(1)


def run_tool(args, cwd, timeout=600) -> str:
    """``python ARGS`` in ``cwd``; asserts it succeeds, returns its output."""
    proc = subprocess.run(
        [sys.executable] + list(args),
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout)
    assert proc.returncode == 0, (proc.stdout + proc.stderr)[-4000:]
    return proc.stdout + proc.stderr
