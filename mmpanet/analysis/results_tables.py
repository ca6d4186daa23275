# Copyright (c) mmpanet contributors. All rights reserved.
"""The docs' results tables, generated from the results files.

A page marks each table with the kind of file and its path (relative to
the page)::

    <!-- results: runs results/main_job.json -->
    (generated)
    <!-- end results -->

and :func:`update_page` rewrites what lies between the marks: the table
the measuring tool prints for that file, then the command, commit and
machine that produced it. Kinds: ``benchmark``
(``tools/analysis_tools/benchmark.py --out-dir``), ``onnx_benchmark``
(``benchmark_onnx.py --out``), ``tta_cost`` (``tta_cost.py --out``) and
``runs`` (``tools/misc/record_runs.py``: one row per variant, metrics and
times across its runs).
"""
import glob
import json
import os.path as osp
import re
from typing import Callable, Dict, List, Sequence

MARK = re.compile(
    r'(<!-- results: (?P<kind>\w+) (?P<path>\S+) -->\n)(?P<body>.*?)'
    r'(<!-- end results -->)', re.S)
# metric key in a metrics.json -> column
METRICS = {
    'coco/segm_mAP': 'mask AP',
    'coco/segm_mAP_50': 'mask AP50',
    'coco/bbox_mAP': 'box AP',
}


def machine_text(machine: dict) -> str:
    """``Intel(R) Xeon(R) Processor, 2 cores (AMX-BF16), torch ...``."""
    extras = [
        name for key, name in (('amx_bf16', 'AMX-BF16'), ('avx512_bf16',
                                                          'AVX512-BF16'))
        if machine.get(key)
    ]
    text = f'{machine.get("cpu", "unknown CPU")}, {machine.get("cores")} ' \
        'cores'
    if extras:
        text += f' ({", ".join(extras)})'
    versions = ', '.join(f'{name} {machine[name]}'
                         for name in ('python', 'torch', 'mmcv', 'mmdet')
                         if name in machine)
    return text + (f'; {versions}' if versions else '')


def run_text(run: dict) -> str:
    """The provenance line of a tool's results file."""
    return (f'Measured by `python {run["command"]}` at commit '
            f'`{run["commit"]}` on {machine_text(run["machine"])}; CPU busy '
            f'{run["cpu_busy_percent"]}%, stolen {run["cpu_steal_percent"]}%'
            ' during the run.')


def span(values: Sequence[float], fmt: str) -> str:
    """``a`` if all values are equal, else ``min-max``."""
    values = [v for v in values if v is not None]
    if not values:
        return '-'
    low, high = format(min(values), fmt), format(max(values), fmt)
    return low if low == high else f'{low}-{high}'


def runs_table(data: Dict[str, dict]) -> str:
    """One row per variant of a ``record_runs`` file."""
    keys = [
        k for k in METRICS if any(
            k in run.get('metrics', {}) for entry in data.values()
            for run in entry['runs'])
    ]
    head = ['variant', 'runs', 'wall time s'] + [METRICS[k] for k in keys]
    head += ['CPU stolen %']
    lines = ['| ' + ' | '.join(head) + ' |', '|' + '---|' * len(head)]
    for variant, entry in data.items():
        runs = entry['runs']
        cells = [
            variant,
            str(len(runs)),
            span([r.get('wall_s') for r in runs], '.0f')
        ]
        cells += [
            span([r.get('metrics', {}).get(k) for r in runs], '.3f')
            for k in keys
        ]
        cells.append(span([r.get('cpu_steal_percent') for r in runs], '.1f'))
        lines.append('| ' + ' | '.join(cells) + ' |')
    lines.append('')
    for variant, entry in data.items():
        lines.append(f'- {variant}: `{entry["command"]}` at commit '
                     f'`{entry["commit"]}` on '
                     f'{machine_text(entry["machine"])}' +
                     (f' ({entry["note"]})' if entry.get('note') else '') +
                     '.')
    return '\n'.join(lines) + '\n'


def _benchmark(data: dict) -> str:
    from .benchmark import markdown, settings_from
    return markdown(data['results'], settings_from(data['settings']))


def _onnx_benchmark(data: dict) -> str:
    from .benchmark import settings_from
    from .onnx_benchmark import Settings, markdown
    return markdown(data['results'], settings_from(data['settings'], Settings))


def _tta_cost(data: dict) -> str:
    from .tta_cost import markdown
    return markdown(data['results'], data['settings']['img_size'])


# kind -> the table of a tool's results file ({run, settings, results})
TOOL_TABLES: Dict[str, Callable[[dict], str]] = dict(
    benchmark=_benchmark, onnx_benchmark=_onnx_benchmark, tta_cost=_tta_cost)
KINDS = sorted(TOOL_TABLES) + ['runs']


def render(kind: str, path: str) -> str:
    """The generated block for the results file at ``path``."""
    if kind not in KINDS:
        raise ValueError(f'results kind {kind!r} unknown; kinds: {KINDS}')
    with open(path) as f:
        data = json.load(f)
    if kind == 'runs':
        return runs_table(data)
    return TOOL_TABLES[kind](data) + '\n' + run_text(data['run']) + '\n'


def update_page(page: str, write: bool = True) -> List[str]:
    """Regenerate every results block of the Markdown file ``page``; the
    results files whose block changed (written unless ``write=False``)."""
    with open(page) as f:
        text = f.read()
    changed = []

    def fill(match):
        path = osp.join(osp.dirname(page), match['path'])
        body = render(match['kind'], path)
        if body != match['body']:
            changed.append(match['path'])
        return match.group(1) + body + match.group(5)

    new = MARK.sub(fill, text)
    if changed and write:
        with open(page, 'w') as f:
            f.write(new)
    return changed


def results_files(page: str) -> List[str]:
    """The results files ``page`` has blocks for (paths relative to it)."""
    with open(page) as f:
        return [m['path'] for m in MARK.finditer(f.read())]


def doc_pages(root: str) -> List[str]:
    """The Markdown pages that may hold results blocks: the README, the
    configs' READMEs and the docs (not their build)."""
    docs = glob.glob(osp.join(root, 'docs', '**', '*.md'), recursive=True)
    return [osp.join(root, 'README.md')] + sorted(
        glob.glob(osp.join(root, 'configs', '*', 'README.md'))) + sorted(
            p for p in docs
            if '_build' not in osp.relpath(p, root).split(osp.sep))
