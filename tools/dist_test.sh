#!/usr/bin/env bash
# Multi-process testing through torchrun (see dist_launch.sh for multi-node).
#   bash tools/dist_test.sh CONFIG CHECKPOINT NUM_PROCS [test.py options]
exec bash "$(dirname "$0")/dist_launch.sh" test.py "$3" "$1" "$2" "${@:4}"
