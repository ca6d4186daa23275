#!/usr/bin/env bash
# Multi-process training through torchrun (see dist_launch.sh for multi-node).
#   bash tools/dist_train.sh CONFIG NUM_PROCS [train.py options]
exec bash "$(dirname "$0")/dist_launch.sh" train.py "$2" "$1" "${@:3}"
