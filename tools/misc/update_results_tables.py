# Copyright (c) mmpanet contributors. All rights reserved.
"""Regenerate the results tables of the docs from the results files
(``mmpanet.analysis.results_tables``).

    python tools/misc/update_results_tables.py [PAGE.md ...] [--check]

Default pages: README.md, configs/*/README.md and the pages under docs/.
``--check`` writes nothing and exits with status 1 when a table differs
from its file.
"""
import argparse
import os.path as osp
import sys

from mmpanet.analysis.results_tables import doc_pages, update_page

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('pages', nargs='*', help='default: README and docs')
    parser.add_argument('--check', action='store_true')
    args = parser.parse_args(argv)
    stale = 0
    for page in args.pages or doc_pages(ROOT):
        changed = update_page(page, write=not args.check)
        for path in changed:
            stale += 1
            print(f'{osp.relpath(page, ROOT)}: the table of {path} ' +
                  ('differs from the file' if args.check else 'updated'))
    if args.check and stale:
        sys.exit(1)
    if not stale:
        print('every results table matches its file')


if __name__ == '__main__':
    main()
