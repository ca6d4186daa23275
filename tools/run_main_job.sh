#!/usr/bin/env bash
# The main job on the built-in data: set up (if needed), generate the
# synthetic shapes dataset (if missing), train PANet, evaluate it with COCO
# metrics and draw its predictions on the val images.
#   bash tools/run_main_job.sh
# Environment variables:
#   CONFIG     config to train (default: the PANet shapes config)
#   WORK_DIR   output folder (default: work_dirs/main_job)
#   MAX_ITERS  override the config's iteration count (e.g. for a quick look)
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
bash "$ROOT/tools/setup_env.sh"
cd "$ROOT"
PY="${VENV:-$ROOT/.venv}/bin/python"
CONFIG="${CONFIG:-configs/shapes/panet_r18-w32_pafpn-relu_mbn-adamw-550i_shapes.py}"
WORK_DIR="${WORK_DIR:-work_dirs/main_job}"
OPTS=()
if [ -n "${MAX_ITERS:-}" ]; then
    OPTS=(--cfg-options "train_cfg.max_iters=$MAX_ITERS"
          "train_cfg.val_interval=$MAX_ITERS"
          "default_hooks.checkpoint.interval=$MAX_ITERS"
          "param_scheduler.1.end=$MAX_ITERS")
fi
start=$(date +%s)
cpu_before="$(head -n 1 /proc/stat 2>/dev/null || true)"

if [ ! -f data/shapes/annotations/instances_val.json ]; then
    "$PY" tools/generate_shapes_data.py --out data/shapes
fi
# no evaluation at the end of training: test.py evaluates the same checkpoint
# on the same images next, and draws the predictions
"$PY" tools/train.py "$CONFIG" --work-dir "$WORK_DIR" "${OPTS[@]}" \
    --cfg-options val_cfg=None val_dataloader=None val_evaluator=None
CKPT="$(cat "$WORK_DIR/last_checkpoint")"
"$PY" tools/test.py "$CONFIG" "$CKPT" --work-dir "$WORK_DIR" \
    --show-dir predictions "${OPTS[@]}"

steal="$("$PY" mmpanet/analysis/cpu_steal.py "$cpu_before" 2>/dev/null || echo n/a)"

echo
echo "main job done in $(( $(date +%s) - start ))s (CPU time stolen by the hypervisor meanwhile: $steal)"
echo "  checkpoint:  $CKPT"
echo "  metrics:     $WORK_DIR/metrics.json"
echo "  predictions: $(ls -d "$WORK_DIR"/*/predictions | tail -n 1)/"
