# Copyright (c) mmpanet contributors. All rights reserved.
"""Every config, resolved, against a stored copy: a change to a config (or to
a base it inherits) that changes what runs shows up here, key by key.

A deliberate change is stored with ``python tests/test_config_golden.py
--update``; the commit then lists the changed keys and why.
"""
import argparse
import glob
import json
import os
import os.path as osp

import mmdet
import pytest
from mmengine.config import Config

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
GOLDEN_DIR = osp.join(ROOT, 'tests', 'data', 'resolved_configs')
CONFIGS = sorted(
    osp.relpath(p, ROOT) for p in glob.glob(
        osp.join(ROOT, 'configs', '**', '*.py'), recursive=True)
    if '/_base_/' not in p)
# absolute paths that differ from machine to machine
PLACES = ((ROOT, '{ROOT}'), (osp.dirname(mmdet.__file__), '{MMDET}'))


def without_default_scope(value, scope):
    """``value`` without the ``_scope_`` keys naming the default scope
    (mmengine marks every dict read from an ``mmdet::`` base with it; they
    are built in that scope either way)."""
    if isinstance(value, dict):
        return {
            k: without_default_scope(v, scope)
            for k, v in value.items() if not (k == '_scope_' and v == scope)
        }
    if isinstance(value, list):
        return [without_default_scope(v, scope) for v in value]
    return value


def normalised(value):
    """``value`` as JSON would store it (tuples as lists), with the
    machine's paths replaced by placeholders and default-scope marks
    dropped."""
    text = json.dumps(value, sort_keys=True)
    for path, name in PLACES:
        text = text.replace(json.dumps(path)[1:-1], name)
    value = json.loads(text)
    return without_default_scope(value, value.get('default_scope'))


def resolve(config: str) -> dict:
    return normalised(Config.fromfile(osp.join(ROOT, config)).to_dict())


def golden_path(config: str) -> str:
    name = osp.splitext(osp.relpath(config, 'configs'))[0]
    return osp.join(GOLDEN_DIR, name + '.json')


def leaf_paths(a, b, prefix=''):
    """Paths at which ``a`` and ``b`` differ."""
    if isinstance(a, dict) and isinstance(b, dict):
        out = []
        for key in sorted(a.keys() | b.keys()):
            if key not in a or key not in b:
                out.append(f'{prefix}{key}' +
                           (' (added)' if key not in b else ' (removed)'))
            else:
                out += leaf_paths(a[key], b[key], f'{prefix}{key}.')
        return out
    if isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        out = []
        for i, (x, y) in enumerate(zip(a, b)):
            out += leaf_paths(x, y, f'{prefix}{i}.')
        return out
    return [] if a == b else [prefix.rstrip('.')]


def test_every_config_has_a_stored_copy():
    stored = {
        osp.relpath(p, GOLDEN_DIR)
        for p in glob.glob(
            osp.join(GOLDEN_DIR, '**', '*.json'), recursive=True)
    }
    wanted = {osp.relpath(golden_path(c), GOLDEN_DIR) for c in CONFIGS}
    assert stored == wanted, (
        f'configs without a stored copy: {sorted(wanted - stored)}; stored '
        f'copies without a config: {sorted(stored - wanted)} (python '
        'tests/test_config_golden.py --update)')


@pytest.mark.parametrize(
    'config', CONFIGS, ids=[osp.basename(c) for c in CONFIGS])
def test_resolved_config_is_unchanged(config):
    with open(golden_path(config)) as f:
        stored = json.load(f)
    changed = leaf_paths(resolve(config), stored)
    assert not changed, (
        f'{config} resolves differently from its stored copy at: '
        f'{changed}. If that is intended, store it (python '
        'tests/test_config_golden.py --update) and say why in the commit.')


def update() -> None:
    """Write the stored copy of every config, drop those of removed ones."""
    wanted = {golden_path(c): c for c in CONFIGS}
    for path in glob.glob(
            osp.join(GOLDEN_DIR, '**', '*.json'), recursive=True):
        if path not in wanted:
            os.remove(path)
            print(f'removed: {osp.relpath(path, ROOT)}')
    for path, config in wanted.items():
        text = json.dumps(resolve(config), indent=1, sort_keys=True) + '\n'
        old = open(path).read() if osp.isfile(path) else None
        if text != old:
            os.makedirs(osp.dirname(path), exist_ok=True)
            with open(path, 'w') as f:
                f.write(text)
            print(f'{"written" if old is None else "changed"}: '
                  f'{osp.relpath(path, ROOT)}')


if __name__ == '__main__':
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        '--update',
        action='store_true',
        help='store the resolved configs as they are now')
    if parser.parse_args().update:
        import mmpanet  # noqa: F401  (registers what the configs name)
        update()
