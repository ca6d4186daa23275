# Copyright (c) mmpanet contributors. All rights reserved.
"""What a results file records about the run that made it: the command,
the commit, the machine and the load on it (from ``/proc/stat``), so that
a figure in the docs can be reproduced and judged."""
import os
import platform
import subprocess
import sys
from typing import Optional, Sequence

from .cpu_steal import busy_percent, read_cpu_times, steal_percent


def commit(root: Optional[str] = None) -> str:
    """The git commit of ``root`` (the package's checkout), with
    ``-dirty`` when it has uncommitted changes; 'unknown' outside git."""
    root = root or os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    try:
        sha = subprocess.run(['git', 'rev-parse', '--short', 'HEAD'],
                             cwd=root,
                             capture_output=True,
                             text=True,
                             check=True).stdout.strip()
        dirty = subprocess.run(['git', 'status', '--porcelain', '-uno'],
                               cwd=root,
                               capture_output=True,
                               text=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return 'unknown'
    return sha + ('-dirty' if dirty else '')


def cpu_model() -> str:
    try:
        with open('/proc/cpuinfo') as f:
            for line in f:
                if line.startswith('model name'):
                    return line.split(':', 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or 'unknown'


def machine() -> dict:
    """The processor, its cores and the software stack."""
    import mmcv
    import mmdet
    import torch
    flags = ''
    try:
        with open('/proc/cpuinfo') as f:
            flags = next((line for line in f if line.startswith('flags')), '')
    except OSError:
        pass
    return dict(
        cpu=cpu_model(),
        cores=os.cpu_count(),
        amx_bf16='amx_bf16' in flags,
        avx512_bf16='avx512_bf16' in flags,
        python=platform.python_version(),
        torch=torch.__version__,
        mmcv=mmcv.__version__,
        mmdet=mmdet.__version__)


class RunRecord:
    """Start at the beginning of a run, :meth:`finish` at its end: the
    command, commit, machine, and the CPUs' busy and stolen shares over the
    run."""

    def __init__(self, argv: Optional[Sequence[str]] = None) -> None:
        self.command = ' '.join(argv if argv is not None else sys.argv)
        self.before = read_cpu_times()

    def finish(self) -> dict:
        after = read_cpu_times()
        return dict(
            command=self.command,
            commit=commit(),
            machine=machine(),
            cpu_busy_percent=round(busy_percent(self.before, after), 1),
            cpu_steal_percent=round(steal_percent(self.before, after), 1))


def record_runs(command: Sequence[str],
                repeats: int,
                metrics_file: Optional[str] = None) -> dict:
    """Run ``command`` ``repeats`` times, one after the other; per run its
    wall time, the CPUs' busy and stolen shares and the metrics it wrote to
    ``metrics_file`` (JSON); with the commit and the machine. A failing run
    raises ``subprocess.CalledProcessError``."""
    import json
    import time
    runs = []
    for i in range(repeats):
        if metrics_file and os.path.exists(metrics_file):
            os.remove(metrics_file)
        record = RunRecord(command)
        start = time.perf_counter()
        subprocess.run(list(command), check=True)
        run = dict(wall_s=round(time.perf_counter() - start, 1))
        info = record.finish()
        run.update(
            cpu_busy_percent=info['cpu_busy_percent'],
            cpu_steal_percent=info['cpu_steal_percent'])
        if metrics_file:
            with open(metrics_file) as f:
                run['metrics'] = json.load(f)
        runs.append(run)
        print(f'run {i + 1}/{repeats}: {run["wall_s"]} s', flush=True)
    return dict(
        command=' '.join(command),
        commit=commit(),
        machine=machine(),
        runs=runs)
