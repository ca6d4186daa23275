# Copyright (c) mmpanet contributors. All rights reserved.
"""The command-line tools of tools/ as modules, to call their main() in the
test process."""
import importlib.util
import os.path as osp

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))


def load_tool(path: str):
    """``tools/...py`` (a path relative to the repository) as a module."""
    spec = importlib.util.spec_from_file_location(
        osp.splitext(osp.basename(path))[0], osp.join(ROOT, path))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
