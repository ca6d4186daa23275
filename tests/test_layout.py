# Copyright (c) mmpanet contributors. All rights reserved.
"""The package's layering: the models stand alone, tools are thin command
lines over the package, and ``import mmpanet`` alone registers everything.
"""
import ast
import glob
import os.path as osp
import subprocess
import sys

import pytest
from tool_utils import ROOT

PACKAGE = osp.join(ROOT, 'mmpanet')
MODULES = sorted(
    p for p in glob.glob(osp.join(PACKAGE, '**', '*.py'), recursive=True)
    if '/.mim/' not in p)
# what the model code must not reach: the engine, the analyses, the command
# lines' glue and the tools
NOT_FROM_MODELS = ('mmpanet.engine', 'mmpanet.analysis',
                   'mmpanet.utils.entrypoint', 'tools')


def module_name(path: str) -> str:
    rel = osp.splitext(osp.relpath(path, ROOT))[0].split(osp.sep)
    return '.'.join(rel[:-1] if rel[-1] == '__init__' else rel)


def imports(path: str) -> set:
    """The absolute names of every module ``path`` imports (relative imports
    resolved)."""
    with open(path) as f:
        tree = ast.parse(f.read())
    package = module_name(path).split('.')
    if not path.endswith('__init__.py'):
        package = package[:-1]
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ''
            if node.level:
                parent = package[:len(package) - node.level + 1]
                base = '.'.join(parent + ([base] if base else []))
            found.add(base)
            found.update(f'{base}.{a.name}' for a in node.names)
    return found


def offending(paths, forbidden):
    return {
        module_name(p):
        sorted(
            i for i in imports(p) if any(i == f or i.startswith(f + '.')
                                         for f in forbidden))
        for p in paths
    }


def test_models_import_nothing_from_engine_analysis_glue_or_tools():
    models = [p for p in MODULES if '/mmpanet/models/' in p]
    assert len(models) > 20
    bad = {k: v for k, v in offending(models, NOT_FROM_MODELS).items() if v}
    assert not bad, f'model modules importing outside models/: {bad}'


def test_no_package_module_imports_tools_or_the_cli_glue():
    glue = osp.join(PACKAGE, 'utils', 'entrypoint.py')
    bad = {
        k: v
        for k, v in offending([p for p in MODULES if p != glue], (
            'tools', 'mmpanet.utils.entrypoint')).items() if v
    }
    assert not bad, f'package modules importing tools or the CLI glue: {bad}'


def test_the_validator_comes_from_models_utils_only():
    """Every model module takes check_choice from mmpanet.models.utils."""
    for path in MODULES:
        with open(path) as f:
            text = f.read()
        if 'check_choice' in text and '/models/' in path and \
                not path.endswith('models/utils.py'):
            assert any(
                i.endswith('models.utils.check_choice')
                for i in imports(path)), path


REGISTRIES = '''
import importlib, pkgutil
import mmdet.registry as mmdet_reg
import mmengine.registry as root_reg

def snapshot():
    out = {}
    for mod in (mmdet_reg, root_reg):
        for name in dir(mod):
            reg = getattr(mod, name)
            if isinstance(reg, root_reg.Registry):
                out[f'{mod.__name__}.{name}'] = sorted(reg.module_dict)
    return out

import mmpanet
after_import = snapshot()
for info in pkgutil.walk_packages(mmpanet.__path__, 'mmpanet.'):
    importlib.import_module(info.name)
assert snapshot() == after_import, {
    k: sorted(set(v) - set(after_import.get(k, [])))
    for k, v in snapshot().items() if v != after_import.get(k)}
print('registered', sum(len(v) for v in after_import.values()))
'''


def test_import_mmpanet_alone_registers_everything():
    """Importing every other module of the package registers nothing more
    than ``import mmpanet`` did."""
    proc = subprocess.run([sys.executable, '-c', REGISTRIES],
                          capture_output=True,
                          text=True,
                          cwd=ROOT)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert 'registered' in proc.stdout


@pytest.mark.parametrize(
    'path',
    sorted(glob.glob(osp.join(ROOT, 'tools', '**', '*.py'), recursive=True)),
    ids=lambda p: osp.relpath(p, ROOT))
def test_tools_edit_no_sys_path(path):
    with open(path) as f:
        text = f.read()
    assert 'sys.path' not in text
