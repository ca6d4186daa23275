# Copyright (c) mmpanet contributors. All rights reserved.
"""Run a command several times and record what a results file for the docs
needs: each run's wall time, metrics and the machine's load, the command,
the commit and the machine (``mmpanet.analysis.provenance``).

    python tools/misc/record_runs.py RESULTS.json VARIANT [--repeats 3]
        [--metrics WORK_DIR/metrics.json] -- COMMAND ...

``VARIANT`` names this command's entry in ``RESULTS.json`` (other entries
are kept), e.g. ``single pass`` and ``--tta`` for one table.
"""
import argparse
import json
import os
import os.path as osp
import sys

from mmpanet.analysis.provenance import record_runs


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    if '--' not in argv:
        sys.exit('error: give the command after --')
    split = argv.index('--')
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('results', help='the results file (JSON)')
    parser.add_argument('variant', help='this command\'s name in it')
    parser.add_argument('--repeats', type=int, default=3)
    parser.add_argument(
        '--metrics', help='the JSON file of metrics each run writes')
    args = parser.parse_args(argv[:split])
    command = argv[split + 1:]
    if not command or args.repeats < 1:
        sys.exit('error: give a command after -- and --repeats >= 1')
    results = {}
    if osp.isfile(args.results):
        with open(args.results) as f:
            results = json.load(f)
    results[args.variant] = record_runs(command, args.repeats, args.metrics)
    if osp.dirname(args.results):
        os.makedirs(osp.dirname(args.results), exist_ok=True)
    with open(args.results, 'w') as f:
        json.dump(results, f, indent=2)
    print(f'written: {args.results} [{args.variant}]')


if __name__ == '__main__':
    main()
