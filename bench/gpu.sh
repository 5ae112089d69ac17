#!/usr/bin/env bash
# The NER and classification benchmarks on a CUDA GPU, written beside the CPU results:
# bench/results/ner-gpu.{json,md} and classify-gpu.{json,md}.
#
# Training picks CUDA by itself when PyTorch sees a device (lexicraft.ml.finetune.pick_device)
# and keeps the same data-decided schedule, so a GPU run trains the same steps as a CPU run;
# only the clock differs. Lexicraft's systems only by default (spaCy trains on the CPU and is
# measured by the CPU benches); pass bench/ner.py's and bench/classify.py's own arguments to
# change that, e.g. `bench/gpu.sh --dataset conll2003`. Needs `make .venv/.installed`.
set -euo pipefail
cd "$(dirname "$0")/.."
python=.venv/bin/python
"$python" - <<'PY'
import sys

import torch

if not torch.cuda.is_available():
    sys.exit("bench/gpu.sh: PyTorch sees no CUDA device; run it on a GPU machine")
print(f"GPU: {torch.cuda.get_device_name(0)}", flush=True)
PY
systems=(--systems lexicraft,lexicraft-fast)
for argument in "$@"; do
  [[ "$argument" == --systems* ]] && systems=()
done
ner_arguments=()
classify_arguments=()
ner_sets=0
classify_sets=0
# --dataset names one benchmark's set: each gets its own, and with any named, a benchmark
# none was named for does not run.
while (($#)); do
  case "$1" in
    --dataset)
      case "$2" in
        conll2003 | mit_restaurant | wnut17 | wikiann_de)
          ner_arguments+=(--dataset "$2")
          ner_sets=$((ner_sets + 1))
          ;;
        *)
          classify_arguments+=(--dataset "$2")
          classify_sets=$((classify_sets + 1))
          ;;
      esac
      shift 2
      ;;
    *)
      ner_arguments+=("$1")
      classify_arguments+=("$1")
      shift
      ;;
  esac
done
named=$((ner_sets + classify_sets))
if ((named == 0 || ner_sets > 0)); then
  "$python" bench/ner.py "${systems[@]}" "${ner_arguments[@]}" --output bench/results/ner-gpu.json
fi
if ((named == 0 || classify_sets > 0)); then
  "$python" bench/classify.py "${systems[@]}" "${classify_arguments[@]}" \
    --output bench/results/classify-gpu.json
fi
