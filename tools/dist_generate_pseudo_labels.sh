#!/usr/bin/env bash
# Usage: bash tools/dist_generate_pseudo_labels.sh CLS_CONFIG CHECKPOINT GPUS --out-dir DIR [options]
# Each rank writes a disjoint share of the images (rank r: images r, r + GPUS, ...); same files as one process.
# On CPU-only machines add --device cpu (the gloo backend is then used).
CONFIG=$1
CHECKPOINT=$2
GPUS=$3
NNODES=${NNODES:-1}
NODE_RANK=${NODE_RANK:-0}
PORT=${PORT:-29500}
MASTER_ADDR=${MASTER_ADDR:-"127.0.0.1"}

PYTHONPATH="$(dirname "$0")/..":$PYTHONPATH \
torchrun \
    --nnodes=$NNODES \
    --node_rank=$NODE_RANK \
    --master_addr=$MASTER_ADDR \
    --nproc_per_node=$GPUS \
    --master_port=$PORT \
    "$(dirname "$0")/generate_pseudo_labels.py" \
    "$CONFIG" \
    "$CHECKPOINT" \
    --launcher pytorch "${@:4}"
