# Copyright (c) mmpanet contributors. All rights reserved.
"""The share of CPU time the hypervisor stole, and the machine's load, from
``/proc/stat``.

Standard library only, so that ``tools/run_main_job.sh`` runs this file by
its path, without importing the package (torch and mmdet take seconds):

    python mmpanet/analysis/cpu_steal.py "$(head -n 1 /proc/stat)"

prints the steal share since that earlier reading.
"""
import sys
from typing import List, Optional, Sequence


def read_cpu_times(line: Optional[str] = None) -> List[int]:
    """The aggregate ``cpu`` line of ``/proc/stat`` (jiffies): user, nice,
    system, idle, iowait, irq, softirq, steal, ...; from ``line`` if given
    (one read earlier), else read now."""
    if line is None:
        with open('/proc/stat') as f:
            line = f.readline()
    return [int(v) for v in line.split()[1:]]


def steal_percent(before: Sequence[int], after: Sequence[int]) -> float:
    """Share (%) of CPU time stolen by the hypervisor between two
    :func:`read_cpu_times` readings."""
    delta = [b - a for a, b in zip(before, after)]
    return 100.0 * delta[7] / max(sum(delta[:8]), 1)


def busy_percent(before: Sequence[int], after: Sequence[int]) -> float:
    """Share (%) of all CPUs' time not idle (user, nice, system, irq,
    softirq, steal) between two :func:`read_cpu_times` readings: what
    this run and anything else running used."""
    delta = [b - a for a, b in zip(before, after)]
    idle = delta[3] + delta[4]
    return 100.0 * (sum(delta[:8]) - idle) / max(sum(delta[:8]), 1)


if __name__ == '__main__':
    before = read_cpu_times(sys.argv[1])
    print(f'{steal_percent(before, read_cpu_times()):.1f}%')
