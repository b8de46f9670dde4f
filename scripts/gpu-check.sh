#!/usr/bin/env bash
# The GPU path, verified (issue 15, item 3). On a machine with an NVIDIA GPU:
#   1. installs onnxruntime-node's CUDA binaries as the README says (`npm rebuild onnxruntime-node
#      --onnxruntime-node-install=cuda12`), unless they are there already;
#   2. writes a base-size WavFusion bundle (wav2vec2-base + roberta-base shapes, random weights:
#      speed and parity need no trained weights) with benchmarks/inference_bundles.py;
#   3. runs `wavfusion predict` over a corpus (the demo corpus copied COPIES times) on the CPU in float32,
#      then on CUDA at several audio-seconds budgets per batch (the engine sorts by length);
#   4. reports × real time, batch budget, peak GPU memory (nvidia-smi), peak process memory, and parity
#      with the CPU float32 run (label agreement, largest probability difference).
# Without a GPU it says so and runs the CPU path alone (what CI tests, with --quick).
#
#   bash scripts/gpu-check.sh [--quick] [--out DIR] [--copies N] [--budgets "15 60 120"]
#     --quick   the demo bundle on the demo corpus once (seconds), instead of base on COPIES copies
#
# Writes DIR/report.md (default benchmarks/.work/gpu-check) and prints it; exits 1 when a run failed.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
OUT=benchmarks/.work/gpu-check
QUICK=0
COPIES=10
BUDGETS="15 60 120"
while [ $# -gt 0 ]; do
  case "$1" in
    --quick) QUICK=1 ;;
    --out) OUT=$2; shift ;;
    --copies) COPIES=$2; shift ;;
    --budgets) BUDGETS=$2; shift ;;
    *) echo "gpu-check: unknown option $1 (see the head of $0)" >&2; exit 2 ;;
  esac
  shift
done
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
DEMO="$ROOT/resources/demo/corpus"
PY=/usr/bin/python3
[ -x "$PY" ] || PY=python3

GPU=""
if command -v nvidia-smi > /dev/null 2>&1 && nvidia-smi -L > /dev/null 2>&1; then
  GPU=$(nvidia-smi --query-gpu=name,memory.total --format=csv,noheader | head -n 1)
fi

NOTES=()
if [ -n "$GPU" ]; then
  if ! ls node_modules/onnxruntime-node/bin/napi-v*/linux/x64/libonnxruntime_providers_cuda.so > /dev/null 2>&1; then
    echo "gpu-check: installing onnxruntime-node's CUDA binaries (npm rebuild onnxruntime-node --onnxruntime-node-install=cuda12)" >&2
    if ! npm rebuild onnxruntime-node --onnxruntime-node-install=cuda12 >&2; then
      NOTES+=("onnxruntime-node's CUDA binaries could not be installed (offline?): the CUDA runs below fall back or fail, as their device column says")
    fi
  fi
fi

# the model
if [ "$QUICK" = 1 ]; then
  MODEL="$ROOT/resources/models/wavfusion-demo"
  MODEL_NAME="wavfusion-demo (tiny)"
  COPIES=1
else
  cat "$DEMO"/*/*.txt > "$OUT/transcripts.txt"
  if [ ! -f "$OUT/bundles/base/model.onnx" ]; then
    echo "gpu-check: writing the base-size bundle (random weights, ~0.9 GB) to $OUT/bundles/base" >&2
    "$PY" benchmarks/inference_bundles.py --out "$OUT/bundles" --transcripts "$OUT/transcripts.txt" --models base > /dev/null
  fi
  MODEL="$OUT/bundles/base"
  MODEL_NAME="base (random weights)"
fi

# the corpus: the demo corpus's clips and transcripts, COPIES times
CORPUS="$OUT/corpus-$COPIES"
if [ ! -d "$CORPUS" ]; then
  for k in $(seq 1 "$COPIES"); do mkdir -p "$CORPUS/copy-$k" && cp -r "$DEMO"/* "$CORPUS/copy-$k/"; done
fi

# one predict run: device, budget -> the stderr summary line and the JSONL
predict() {
  local name=$1 device=$2 budget=$3
  local mem_pid=""
  if [ "$device" = cuda ] && [ -n "$GPU" ]; then
    nvidia-smi --query-gpu=memory.used --format=csv,noheader,nounits -lms 200 > "$OUT/$name.gpu-mem" 2> /dev/null &
    mem_pid=$!
  fi
  local rc=0
  node bin/wavfusion.mjs predict "$CORPUS" --model "$MODEL" --device "$device" --precision fp32 \
    --batch-seconds "$budget" --out "$OUT/$name.jsonl" 2> "$OUT/$name.log" || rc=$?
  [ -n "$mem_pid" ] && kill "$mem_pid" 2> /dev/null && wait "$mem_pid" 2> /dev/null || true
  return $rc
}

FAILED=0
RUNS=("cpu-fp32 cpu 15")
if [ -n "$GPU" ]; then for b in $BUDGETS; do RUNS+=("cuda-$b cuda $b"); done; fi
for run in "${RUNS[@]}"; do
  read -r name device budget <<< "$run"
  echo "gpu-check: $name (device $device, $budget s of audio per batch)" >&2
  predict "$name" "$device" "$budget" || {
    NOTES+=("$name exited with an error: $(tail -n 1 "$OUT/$name.log")")
    FAILED=1
  }
done

"$PY" - "$OUT" "$MODEL_NAME" "$GPU" "${RUNS[@]}" "--" "${NOTES[@]+"${NOTES[@]}"}" << 'EOF'
import json, os, re, sys

out, model, gpu = sys.argv[1:4]
rest = sys.argv[4:]
runs = [r.split() for r in rest[:rest.index("--")]]
notes = rest[rest.index("--") + 1:]


def lines(name):
    path = os.path.join(out, name + ".jsonl")
    if not os.path.exists(path):
        return {}
    rows = [json.loads(l) for l in open(path) if l.strip()]
    return {(r["path"], r.get("start"), r.get("end")): r for r in rows if "scores" in r}


reference = lines("cpu-fp32")
report = [f"# GPU check: {model}", ""]
report.append(f"GPU: {gpu}" if gpu else "GPU: **none found (no nvidia-smi or no device): the CPU path only was run.** "
              "On a machine with an NVIDIA GPU this script installs the CUDA binaries and adds the CUDA rows.")
report += ["", "| run | device (as the engine reports it) | audio s per batch | items | × real time | peak GPU memory | "
           "peak process memory | label agreement with CPU fp32 | max probability difference |", "|---|---|---|---|---|---|---|---|---|"]
for name, device, budget in runs:
    log = open(os.path.join(out, name + ".log")).read() if os.path.exists(os.path.join(out, name + ".log")) else ""
    m = re.search(r"predicted (\d+), failed (\d+); audio [\d.]+ h in [\d.]+ s \(([\d.]+)× real time\); device (\S+) "
                  r"\(([^)]*)\), (\w+); peak memory (\d+) MB", log)
    if not m:
        report.append(f"| {name} | {device} (failed) | {budget} | – | – | – | – | – | – |")
        continue
    mem = os.path.join(out, name + ".gpu-mem")
    peak_gpu = "–"
    if os.path.exists(mem):
        values = [int(v) for v in open(mem).read().split() if v.strip().isdigit()]
        peak_gpu = f"{max(values)} MiB" if values else "–"
    got = lines(name)
    shared = [k for k in got if k in reference]
    agree = sum(got[k]["label"] == reference[k]["label"] for k in shared)
    diff = max((abs(got[k]["scores"][l] - reference[k]["scores"][l]) for k in shared for l in got[k]["scores"]),
               default=0.0)
    report.append(f"| {name} | {m.group(4)} ({m.group(5)}) | {budget} | {m.group(1)} (failed {m.group(2)}) | "
                  f"{float(m.group(3)):.1f} | {peak_gpu} | {m.group(7)} MB | {agree}/{len(shared)} | {diff:.2e} |")
if notes:
    report += [""] + [f"- {n}" for n in notes]
text = "\n".join(report) + "\n"
open(os.path.join(out, "report.md"), "w").write(text)
print(text)
EOF
exit "$FAILED"
