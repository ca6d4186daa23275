#!/usr/bin/env bash
# Set up the environment if needed (tools/setup_env.sh), then run the test
# suite, style checks included. Extra arguments go to pytest.
#   bash tools/run_tests.sh [-k PATTERN] [-x] ...
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
bash "$ROOT/tools/setup_env.sh"
cd "$ROOT"
exec "${VENV:-$ROOT/.venv}/bin/python" -m pytest tests "$@"
