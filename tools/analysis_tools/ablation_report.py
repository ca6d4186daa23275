# Copyright (c) mmpanet contributors. All rights reserved.
"""Print the paper's ablation tables (3, 4, 5 and 9) with our results beside
the paper's, and each row's change over its parent row, as Markdown and CSV.

    python tools/analysis_tools/ablation_report.py WORK_DIR [WORK_DIR ...]
        [KEY=WORK_DIR ...] [--out-dir DIR] [--tables T3 T4]

A work dir is matched to its rows by the config the runner saved in it;
``KEY=WORK_DIR`` assigns it by hand (``T3.9=work_dirs/x``,
``T3.9:det=work_dirs/y`` for a detection-only run).
"""
import argparse
import csv
import os
import os.path as osp
import sys

from mmpanet.analysis.ablation_report import report


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='Ablation tables: the paper and our runs side by side')
    parser.add_argument(
        'runs',
        nargs='+',
        help='work dirs of finished runs, or KEY=WORK_DIR / KEY:det=WORK_DIR')
    parser.add_argument(
        '--out-dir',
        default=None,
        help='write ablation_report.md and ablation_report.csv here')
    parser.add_argument(
        '--tables',
        nargs='+',
        default=None,
        help='tables to print, e.g. T3 T4 (default: those with results, '
        'or all when none has)')
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    try:
        text, records = report(args.runs, args.tables)
    except (FileNotFoundError, ValueError) as e:
        sys.exit(f'error: {e}')
    print(text)
    if args.out_dir:
        os.makedirs(args.out_dir, exist_ok=True)
        with open(osp.join(args.out_dir, 'ablation_report.md'), 'w') as f:
            f.write(text)
        with open(
                osp.join(args.out_dir, 'ablation_report.csv'), 'w',
                newline='') as f:
            writer = csv.DictWriter(f, fieldnames=list(records[0]))
            writer.writeheader()
            writer.writerows(records)
        print(f'written: {args.out_dir}/ablation_report.{{md,csv}}')


if __name__ == '__main__':
    main()
