#!/usr/bin/env bash
# torchrun wrapper shared by dist_train.sh and dist_test.sh.
#   bash tools/dist_launch.sh SCRIPT NUM_PROCS [script arguments]
# Multi-node: set NNODES, NODE_RANK, MASTER_ADDR (and MASTER_PORT) on every
# node.
set -euo pipefail
SCRIPT=$1
NPROC=$2
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
PYTHONPATH="$ROOT:${PYTHONPATH:-}" \
"${PYTHON:-python}" -m torch.distributed.run \
    --nnodes="${NNODES:-1}" \
    --node_rank="${NODE_RANK:-0}" \
    --master_addr="${MASTER_ADDR:-127.0.0.1}" \
    --nproc_per_node="$NPROC" \
    --master_port="${MASTER_PORT:-${PORT:-29500}}" \
    "$ROOT/tools/$SCRIPT" "${@:3}" --launcher pytorch
