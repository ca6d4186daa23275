# Copyright (c) mmpanet contributors. All rights reserved.
"""The paper's ablation tables (3, 4, 5 and 9) with our results beside the
paper's, and each row's change over its parent row (the row its config
states a delta over, :func:`mmpanet.paper.tables.parent_row`), as Markdown
and CSV.

A work dir is matched to its table rows by the config file the runner saved
in it (``<config name>.py``); ``KEY=WORK_DIR`` assigns it to a row by hand
(``T3.9=work_dirs/x`` for the mask run, ``T3.9:det=work_dirs/y`` for the
detection-only run). Metrics come from ``metrics.json`` (written by
``tools/test.py``), else from the last validation in the run's logs. A row's
change is taken over its nearest ancestor that has results.
"""
import glob
import json
import os.path as osp
from typing import Dict, List, Optional

from mmpanet.paper.tables import METRICS, TABLES, parent_row


def read_metrics(work_dir: str) -> Dict[str, float]:
    """COCO metrics of a finished run, keys without the ``coco/`` prefix,
    values in percent."""
    if not osp.isdir(work_dir):
        raise FileNotFoundError(f'work dir not found: {work_dir}')
    found: Dict[str, float] = {}
    path = osp.join(work_dir, 'metrics.json')
    if osp.isfile(path):
        with open(path) as f:
            found = json.load(f)
    else:
        # the last validation logged by the runner
        for log in sorted(
                glob.glob(osp.join(work_dir, '*', 'vis_data',
                                   'scalars.json'))):
            with open(log) as f:
                for line in f:
                    entry = json.loads(line)
                    if any(k.endswith('_mAP') for k in entry):
                        found = entry
    metrics = {}
    for key, value in found.items():
        key = key.split('/')[-1]
        if key.endswith(('_mAP', '_50', '_75', '_s', '_m', '_l')):
            metrics[key] = 100.0 * float(value)
    if not metrics:
        raise ValueError(f'no COCO metrics in {work_dir}: expected '
                         'metrics.json (tools/test.py) or a validation in '
                         '*/vis_data/scalars.json')
    return metrics


def config_name(work_dir: str) -> Optional[str]:
    """Name of the config the runner dumped into ``work_dir``."""
    names = [
        osp.basename(p)[:-3] for p in glob.glob(osp.join(work_dir, '*.py'))
    ]
    return names[0] if len(names) == 1 else None


def collect_runs(specs: List[str]) -> Dict[tuple, Dict[str, float]]:
    """``{(row key, 'mask' | 'det'): metrics}`` from the command line."""
    by_config = {}
    for table in TABLES:
        for row in table.rows:
            by_config.setdefault(row.config, []).append((row.key, 'mask'))
            if row.det_config:
                by_config.setdefault(row.det_config, []).append(
                    (row.key, 'det'))
    known_keys = {row.key for table in TABLES for row in table.rows}
    runs = {}
    for spec in specs:
        if '=' in spec:
            key, work_dir = spec.split('=', 1)
            key, _, kind = key.partition(':')
            kind = kind or 'mask'
            if key not in known_keys or kind not in ('mask', 'det'):
                raise ValueError(
                    f'unknown row {spec.split("=")[0]!r}: use one of '
                    f'{sorted(known_keys)}, optionally with ":det"')
            targets = [(key, kind)]
        else:
            work_dir = spec
            name = config_name(work_dir)
            targets = by_config.get(name, [])
            if not targets:
                raise ValueError(
                    f'{work_dir}: its config ({name}) is not a row of the '
                    'paper tables; assign it with KEY=WORK_DIR')
        metrics = read_metrics(work_dir)
        for target in targets:
            runs[target] = metrics
    return runs


def ours(runs, row, column) -> Optional[float]:
    kind, key = METRICS[column]
    return runs.get((row.key, kind), {}).get(key)


def build_rows(table, runs) -> List[dict]:
    """One dict per table row: paper and our numbers and changes."""
    parents = {row.key: parent_row(table, row) for row in table.rows}
    out = []
    for row in table.rows:
        entry = dict(key=row.key, setting=row.setting, config=row.config)
        for col in table.columns:
            value = ours(runs, row, col)
            paper = row.paper.get(col)
            # nearest ancestor with a result for this column
            parent = parents[row.key]
            ref = parent
            while ref is not None and ours(runs, ref, col) is None:
                ref = parents[ref.key]
            entry[col] = dict(
                paper=paper,
                ours=value,
                paper_change=(None if parent is None or paper is None
                              or parent.paper.get(col) is None else paper -
                              parent.paper[col]),
                ours_change=(None if ref is None or value is None else value -
                             ours(runs, ref, col)),
                over=ref.key
                if ref is not None and value is not None else None)
        out.append(entry)
    return out


def fmt(value, signed=False):
    if value is None:
        return '-'
    return f'{value:+.1f}' if signed else f'{value:.1f}'


def markdown(table, rows) -> str:
    lines = [
        f'### {table.name}: {table.title}', '',
        'Each cell: paper / ours; in brackets the change over the parent '
        'row (paper / ours; ours over the nearest row with results).', '',
        '| row | setting | ' + ' | '.join(table.columns) + ' |',
        '|---|---|' + '---|' * len(table.columns)
    ]
    for entry in rows:
        cells = []
        for col in table.columns:
            c = entry[col]
            cell = f'{fmt(c["paper"])} / {fmt(c["ours"])}'
            if c['paper_change'] is not None or c['ours_change'] is not None:
                over = f' vs {c["over"]}' if c['ours_change'] is not None \
                    else ''
                cell += (f' ({fmt(c["paper_change"], True)} / '
                         f'{fmt(c["ours_change"], True)}{over})')
            cells.append(cell)
        lines.append(f'| {entry["key"]} | {entry["setting"]} | ' +
                     ' | '.join(cells) + ' |')
    return '\n'.join(lines) + '\n'


def csv_rows(table, rows) -> List[dict]:
    out = []
    for entry in rows:
        for col in table.columns:
            c = entry[col]
            out.append(
                dict(
                    table=table.name,
                    row=entry['key'],
                    setting=entry['setting'],
                    config=entry['config'],
                    metric=col,
                    paper=c['paper'],
                    ours=c['ours'],
                    paper_change=c['paper_change'],
                    ours_change=c['ours_change'],
                    ours_change_over=c['over']))
    return out


def report(specs: List[str], tables: Optional[List[str]] = None):
    """Markdown text and CSV records for the given runs."""
    runs = collect_runs(specs)
    known = {t.name.replace('Table ', 'T'): t for t in TABLES}
    if tables:
        unknown = set(tables) - set(known)
        if unknown:
            raise ValueError(f'--tables: unknown {sorted(unknown)}, choose '
                             f'from {sorted(known)}')
        chosen = [known[t] for t in tables]
    else:
        measured = {key for key, _ in runs}
        chosen = [t for t in TABLES if any(r.key in measured
                                           for r in t.rows)] or TABLES
    text, records = [], []
    for table in chosen:
        rows = build_rows(table, runs)
        text.append(markdown(table, rows))
        records += csv_rows(table, rows)
    return '\n'.join(text), records
