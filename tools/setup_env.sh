#!/usr/bin/env bash
# Set up (or check) the project-local environment in .venv.
#
# Idempotent: every step is skipped when what it installs is already there, so
# a second run finishes in seconds. The one slow step is the first build of
# mmcv's compiled ops (12-35 minutes on 2 cores, its progress printed every
# 30 s); pip caches the wheel, so a fresh clone on the same machine reuses it.
#
# Environment variables:
#   VENV      where the environment lives (default: <repo>/.venv)
#   PYTHON    interpreter used to create it (default: python3)
#   MAX_JOBS  parallel compile jobs for mmcv (default: number of cores)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${VENV:-$ROOT/.venv}"
PYTHON="${PYTHON:-python3}"
LOG_DIR="$ROOT/.setup-logs"

TORCH_VERSION=2.13.0
MMCV_VERSION=2.1.0
MMDET_VERSION=3.3.0
MMENGINE_VERSION=0.10.7
OPENMIM_VERSION=0.3.9

REQS=("mmengine==$MMENGINE_VERSION" "mmdet==$MMDET_VERSION" "openmim==$OPENMIM_VERSION"
      pycocotools pytest isort==5.13.2 yapf==0.40.1 flake8 matplotlib cityscapesscripts
      seaborn)
# the `deploy` extra and the docs tools (requirements/{deploy,docs}.txt; exact
# versions in constraints)
for extra in deploy docs; do
    mapfile -t EXTRA < <(sed -e 's/#.*//' -e 's/[<>=!~ ].*//' -e '/^$/d' "$ROOT/requirements/$extra.txt")
    REQS+=("${EXTRA[@]}")
done

say() { printf '[setup] %s\n' "$*"; }
die() { printf '[setup] ERROR: %s\n' "$*" >&2; exit 1; }

# ---------------------------------------------------------------- venv
if [ ! -x "$VENV/bin/python" ]; then
    command -v "$PYTHON" >/dev/null || die "no '$PYTHON' on PATH; install Python 3.11 or set PYTHON=/path/to/python3"
    say "creating virtual environment $VENV"
    "$PYTHON" -m venv "$VENV" || die "'$PYTHON -m venv' failed; on Debian/Ubuntu: apt-get install python3-venv"
fi
PY="$VENV/bin/python"
PIP=("$PY" -m pip --disable-pip-version-check)
PIN=(-c "$ROOT/tools/constraints.txt")

# Everything below in place (build tools, torch, mmcv's compiled ops, the
# pinned requirements, mmpanet installed editable from $ROOT with its .mim
# links)? One Python process checks it all and prints the versions; the
# steps below run only when it fails. Run at the end again, errors shown.
ready() {
    (cd / && "$PY" - "$ROOT" "${REQS[@]}" <<'PYEOF')
import os.path as osp
import sys
from importlib.metadata import version

root, reqs = sys.argv[1], sys.argv[2:]
setuptools = tuple(map(int, version('setuptools').split('.')[:3]))
assert (77, 0, 3) <= setuptools < (80, ), 'setuptools not in [77.0.3, 80)'
version('ninja'), version('wheel'), version('torch'), version('mmpanet')
for req in reqs:
    name, _, want = req.partition('==')
    have = version(name)
    assert not want or have == want, f'{name} {have}, not {want}'
from mmcv.ops import RoIAlign  # noqa: F401  (the compiled ops)
import mmcv, mmdet, mmpanet, torch  # noqa: E401
where = osp.dirname(osp.dirname(osp.realpath(mmpanet.__file__)))
assert where == osp.realpath(root), f'mmpanet imported from {where}'
assert osp.exists(osp.join(root, 'mmpanet', '.mim', 'configs')), 'no .mim'
print('[setup] ok: mmpanet', mmpanet.__version__, '| torch',
      torch.__version__, '| mmcv', mmcv.__version__, '| mmdet',
      mmdet.__version__)
PYEOF
}
if ready 2>/dev/null; then
    exit 0
fi

show_build_progress() {  # PID LOG: every 30 s while PID runs, ninja's count
    local pid=$1 log=$2 start=$SECONDS last=$SECONDS step n_done total el
    while kill -0 "$pid" 2>/dev/null; do
        sleep 2
        [ $((SECONDS - last)) -ge "${PROGRESS_EVERY:-30}" ] || continue
        last=$SECONDS
        el=$((SECONDS - start))
        step=$(grep -o '\[[0-9][0-9]*/[0-9][0-9]*\]' "$log" 2>/dev/null | tail -n 1 | tr -d '[]' || true)
        if [ -z "$step" ]; then
            say "mmcv: preparing, $((el / 60))m$((el % 60))s elapsed"
            continue
        fi
        n_done=${step%/*}; total=${step#*/}
        if [ "$n_done" -gt 0 ]; then
            say "building mmcv: $n_done/$total files compiled, $((el / 60))m$((el % 60))s elapsed, about $(( (el * (total - n_done) / n_done + 59) / 60 )) min left"
        else
            say "building mmcv: 0/$total files compiled, $((el / 60))m$((el % 60))s elapsed"
        fi
    done
    el=$((SECONDS - start))
    say "mmcv: pip finished after $((el / 60))m$((el % 60))s"
}

has() {  # has DIST==VERSION (or DIST) installed?
    "$PY" - "$1" <<'PYEOF' >/dev/null 2>&1
import sys
from importlib.metadata import version
name, _, want = sys.argv[1].partition('==')
have = version(name)
sys.exit(0 if not want or have == want else 1)
PYEOF
}

# openxlab (pulled in by opendatalab > 0.0.9, an openmim dependency) pins
# setuptools 60, which conflicts with torch: an environment made before the
# pin in constraints.txt drops it
if has openxlab; then
    say "replacing opendatalab's openxlab (it pins setuptools 60)"
    "${PIP[@]}" uninstall -y -q openxlab
    "${PIP[@]}" install -q "${PIN[@]}" opendatalab
fi

# Build tooling. mmcv's setup.py imports pkg_resources (gone in setuptools 80),
# and `mim`/mmengine's `mmdet::` lookup import it too.
if ! "$PY" -c 'import setuptools, sys; v = tuple(map(int, setuptools.__version__.split(".")[:3])); sys.exit(not (77, 0, 3) <= v < (80, ))' 2>/dev/null \
        || ! has ninja || ! has wheel; then
    say "installing build tools (setuptools>=77.0.3,<80, wheel, ninja)"
    "${PIP[@]}" install -q "${PIN[@]}" 'setuptools>=77.0.3,<80' wheel ninja
fi

# ---------------------------------------------------------------- torch
# Installed first, pinned: unpinned, pip would pull the newest CUDA build.
if ! has "torch==$TORCH_VERSION" && ! has torch; then
    say "installing torch==$TORCH_VERSION"
    "${PIP[@]}" install -q "${PIN[@]}" "torch==$TORCH_VERSION"
fi

# ---------------------------------------------------------------- mmcv
if ! "$PY" -c 'import mmcv, mmcv.ops; from mmcv.ops import RoIAlign' >/dev/null 2>&1; then
    # Check what the build needs before starting a 20-minute compile.
    CXX_BIN="${CXX:-c++}"
    command -v "$CXX_BIN" >/dev/null || command -v g++ >/dev/null \
        || die "no C++ compiler found: mmcv $MMCV_VERSION is built from source (its compiled ops).
  Debian/Ubuntu: apt-get install -y build-essential
  Fedora/RHEL:   dnf install -y gcc-c++ make"
    "$PY" - <<'PYEOF' || die "Python development headers (Python.h) not found.
  Debian/Ubuntu: apt-get install -y python3-dev   (or python3.11-dev)"
import os, sys, sysconfig
sys.exit(0 if os.path.exists(os.path.join(sysconfig.get_paths()['include'], 'Python.h')) else 1)
PYEOF
    mkdir -p "$LOG_DIR"
    say "installing mmcv==$MMCV_VERSION with compiled ops: pip's cached wheel, or else a build from source (12-35 min on 2 cores, once; log: $LOG_DIR/mmcv-build.log)"
    export MAX_JOBS="${MAX_JOBS:-$(nproc 2>/dev/null || echo 2)}"
    export MMCV_WITH_OPS=1
    # -v puts ninja's "[done/total]" lines in the log; a watcher prints them
    "${PIP[@]}" install -v "${PIN[@]}" --no-build-isolation "mmcv==$MMCV_VERSION" >"$LOG_DIR/mmcv-build.log" 2>&1 &
    build_pid=$!
    show_build_progress "$build_pid" "$LOG_DIR/mmcv-build.log"
    build_rc=0
    wait "$build_pid" || build_rc=$?
    if [ "$build_rc" -ne 0 ]; then
        echo >&2
        grep -E -m 15 'error:|Error:|fatal error|No such file|not found' "$LOG_DIR/mmcv-build.log" >&2 || tail -n 15 "$LOG_DIR/mmcv-build.log" >&2
        die "building mmcv==$MMCV_VERSION failed (first errors above; full log: $LOG_DIR/mmcv-build.log).
  Check: a working C++ compiler (g++ --version), Python headers (python3-dev),
  enough memory (set MAX_JOBS=1 to compile one file at a time), and that torch imports.
  For a CUDA build, run in an environment with a CUDA torch and nvcc; see docs/en/get_started.md, 'Into an existing environment (CUDA)'."
    fi
    "$PY" -c 'from mmcv.ops import RoIAlign' || die "mmcv installed but its compiled ops do not import (see $LOG_DIR/mmcv-build.log)"
fi

# ---------------------------------------------------------------- the rest
missing=()
for r in "${REQS[@]}"; do has "$r" || missing+=("$r"); done
if [ ${#missing[@]} -gt 0 ]; then
    say "installing ${missing[*]}"
    "${PIP[@]}" install -q "${PIN[@]}" "${missing[@]}"
fi

# ---------------------------------------------------------------- mmpanet
# Development (editable) install through setup.py, so `mim` finds the configs
# and tools that setup.py links into mmpanet/.mim. Reached only when ready()
# failed, so (re)installing it here costs seconds once; ready() then checks it.
say "installing mmpanet (editable) from $ROOT"
(cd "$ROOT" && "${PIP[@]}" install -q "${PIN[@]}" --no-build-isolation --no-deps -e .)

ready || die "the environment in $VENV does not check out (the error above)"
