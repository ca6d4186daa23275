# Copyright (c) mmpanet contributors. All rights reserved.
"""Regenerate configs/panet/metafile.yml and the tables of
configs/panet/README.md from mmpanet/paper/tables.py.

    python tools/misc/update_model_zoo.py [--check]

``--check`` changes nothing and exits 1 when a file is out of date.
"""
import argparse
import os.path as osp
import sys

from mmpanet.paper import model_zoo

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        '--check', action='store_true', help='only report stale files')
    args = parser.parse_args(argv)
    readme = osp.join(ROOT, model_zoo.CONFIG_DIR, 'README.md')
    with open(readme) as f:
        old_readme = f.read()
    wanted = {
        osp.join(ROOT, model_zoo.CONFIG_DIR, 'metafile.yml'):
        model_zoo.metafile_text(),
        readme:
        model_zoo.replace_readme_tables(old_readme),
    }
    stale = []
    for path, text in wanted.items():
        with open(path) as f:
            if f.read() == text:
                continue
        stale.append(path)
        if not args.check:
            with open(path, 'w') as f:
                f.write(text)
    for path in stale:
        print(f'{"stale" if args.check else "updated"}: {path}')
    if args.check and stale:
        sys.exit(1)


if __name__ == '__main__':
    main()
