#!/usr/bin/env bash
# GPU check, part 2 (on the lent GPU machine, one call of at most 10 minutes):
#
#   run (device tool): command "bash scripts/gpu-check/run.sh", carry [".gpu-check"], timeout_s 600
#
# Unpacks what prepare.sh gathered (.gpu-check/: Node, wheels, the bundled driver), installs the
# wheels beside the image's torch, builds a random-weight Llama model here (no hub), and runs the
# driver: gpu-dag's own Pipeline on the local backend, GPUs detected by `nvidia-smi` —
# compress (GPTQ W4A16) → lm-eval hf on the base and the compressed model → generate with
# `transformers serve` — then writes to $OUT:
#
#   summary.json   detected GPUs, each step's CUDA_VISIBLE_DEVICES and torch.cuda.get_device_name()
#                  (probed inside its processes), wall times, metrics, log tails, the checks, and
#                  the preflight (versions, install times, dependency check); written on failure too
#   run.log        this script's output
#   logs.tar.gz    the run's store (journal, job logs; no model weights) and the raw probes/samples
#
# Exit 0 only when every check passed. Without CUDA it stops, unless GPU_CHECK_ALLOW_CPU=1 (CI:
# the same run on the CPU, device names recorded as "cpu"). Settings: GPU_CHECK_DIR (the bundle,
# default <repo>/.gpu-check), GPU_CHECK_PYTHON (default python3), GPU_CHECK_WORK (scratch, default
# a new /tmp/gpu-check.*), GPU_CHECK_HIDDEN / GPU_CHECK_LAYERS (model size, default 2048 / 8),
# GPU_CHECK_TIMEOUT_S (the pipeline's limit, default 390), GPU_CHECK_NUM_SAMPLES, GPU_CHECK_SEQ_LEN.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
bundle="$(cd "${GPU_CHECK_DIR:-$root/.gpu-check}" 2>/dev/null && pwd || echo "${GPU_CHECK_DIR:-$root/.gpu-check}")"
py="${GPU_CHECK_PYTHON:-python3}"
work="${GPU_CHECK_WORK:-$(mktemp -d /tmp/gpu-check.XXXXXX)}"
out="${OUT:-$work/out}"
hidden="${GPU_CHECK_HIDDEN:-2048}"
layers="${GPU_CHECK_LAYERS:-8}"
mkdir -p "$out" "$work"
: >"$out/run.log"
exec > >(tee -a "$out/run.log") 2>&1

phase=start
phase_at=$(date +%s%3N)
started_at=$phase_at
: >"$work/phases.txt"
next() { # ends the current phase (its seconds go to phases.txt) and starts the next
  local now
  now=$(date +%s%3N)
  echo "$phase $(((now - phase_at)))" >>"$work/phases.txt"
  phase="$1"
  phase_at=$now
  echo "run.sh: [$(((now - started_at) / 1000)) s] $phase"
}
die() { echo "run.sh: $phase: $*" >&2; exit 1; }
sampler=""
finish() {
  local rc=$?
  [ -z "$sampler" ] || kill "$sampler" 2>/dev/null || true
  if [ ! -s "$out/summary.json" ]; then # the driver never ran (or died): say where it stopped
    "$py" - "$out/summary.json" "$phase" "$rc" "$out/run.log" <<'EOF' || printf '{"ok": false, "failedPhase": "%s", "exitCode": %s}\n' "$phase" "$rc" >"$out/summary.json"
import json, sys
path, phase, rc, log = sys.argv[1:]
lines = [l.rstrip("\n") for l in open(log, encoding="utf-8", errors="replace")][-60:]
json.dump({"ok": False, "failedPhase": phase, "exitCode": int(rc), "runLogTail": "\n".join(lines)}, open(path, "w"), indent=2)
EOF
  fi
  [ "$rc" = 0 ] || echo "run.sh: stopped in phase '$phase' (exit $rc); summary: $out/summary.json"
  exit "$rc"
}
trap finish EXIT

case "$hidden:$layers" in *[!0-9:]* | :* | *:) die "GPU_CHECK_HIDDEN=$hidden / GPU_CHECK_LAYERS=$layers must be whole numbers" ;; esac
[ $((hidden % 128)) = 0 ] && [ "$hidden" -gt 0 ] || die "GPU_CHECK_HIDDEN=$hidden must be a positive multiple of 128 (W4A16 quantizes in groups of 128)"

next bundle
for f in manifest.json node.xz wheels gpu-dag/gpu-check.mjs gpu-dag/probe/sitecustomize.py; do
  [ -e "$bundle/$f" ] || die "no $f in $bundle: run scripts/gpu-check/prepare.sh on the CPU machine first, and carry .gpu-check"
done

next cuda
cuda="$("$py" -c 'import torch; ok = torch.cuda.is_available(); print(torch.__version__, "yes" if ok else "no", torch.cuda.get_device_name(0) if ok else "cpu")')" || die "$py cannot import torch"
echo "run.sh: torch and CUDA: $cuda"
device=cuda
if [ "$(echo "$cuda" | cut -d' ' -f2)" != yes ]; then
  [ "${GPU_CHECK_ALLOW_CPU:-0}" = 1 ] || die "CUDA is not available to $py (torch $(echo "$cuda" | cut -d' ' -f1)): this is not the GPU machine. GPU_CHECK_ALLOW_CPU=1 runs the check on the CPU (as CI does)"
  device=cpu
fi

next tools
flock_from=image
if ! command -v flock >/dev/null; then # the GPU leases need it
  export PATH="$bundle/gpu-dag/bin:$PATH"
  flock_from=bundle
fi
flock --version >/dev/null 2>&1 || die "flock does not run (from the $flock_from)"
visible_before="${CUDA_VISIBLE_DEVICES-<unset>}"
unset CUDA_VISIBLE_DEVICES # the pool must find the GPUs itself, with nvidia-smi -L
gpus="$(nvidia-smi -L 2>&1)" || die "nvidia-smi -L failed: $gpus"
echo "$gpus" | grep -q '^GPU ' || die "nvidia-smi -L lists no GPU: $gpus"
echo "$gpus"

next node
mkdir -p "$work/node/bin"
node="$work/node/bin/node"
"$py" -c $'import lzma, shutil, sys\nwith lzma.open(sys.argv[1]) as i, open(sys.argv[2], "wb") as o: shutil.copyfileobj(i, o, 1 << 20)' "$bundle/node.xz" "$node"
chmod +x "$node"
node_version="$("$node" --version)" || die "the carried Node does not run here"
expected="$("$py" -c 'import json, sys; print(json.load(open(sys.argv[1]))["node"]["version"])' "$bundle/manifest.json")"
[ "$node_version" = "$expected" ] || die "the carried Node says $node_version, the manifest $expected"

next wheels
py_version="$("$py" -c 'import sys; print("%d.%d" % sys.version_info[:2])')"
site="$work/site"
pip_flags=(-q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target "$site")
if [ "$py_version" = 3.12 ]; then
  "$py" -m pip install "${pip_flags[@]}" "$bundle"/wheels/*.whl || die "pip could not install the carried wheels"
  site_on_path=1
else
  # Not the device's Python (CI's venv): install them as for the device, to prove they install
  # together, but leave them off the path; that venv has the same pins for its own version.
  "$py" -m pip install "${pip_flags[@]}" --python-version 3.12 --implementation cp --only-binary=:all: \
    --platform manylinux_2_28_x86_64 --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64 \
    "$bundle"/wheels/*.whl || die "pip could not install the carried wheels (for 3.12)"
  site_on_path=0
fi
# The probe (inert until the jobs' GPU_CHECK_PROBE_DIR) and the wheels go before the image's packages.
if [ "$site_on_path" = 1 ]; then export PYTHONPATH="$bundle/gpu-dag/probe:$site"; else export PYTHONPATH="$bundle/gpu-dag/probe"; fi
export HF_HUB_OFFLINE=1 HF_DATASETS_OFFLINE=1 TOKENIZERS_PARALLELISM=false PYTHONUNBUFFERED=1

next imports
"$py" "$bundle/gpu-dag/check_bundle.py" "$bundle/wheels" --device-packages "$bundle/gpu-dag/device-packages.txt" --installed --report "$work/deps.json" ||
  echo "run.sh: this interpreter lacks some requirement (deps.json); the pipeline will show whether it matters"
"$py" - "$work/imports.json" <<'EOF' || die "a tool does not import (imports.json above)"
import importlib, importlib.metadata as md, json, sys, time
result, failed = {}, []
for module, dist in [("torch", "torch"), ("transformers", "transformers"), ("compressed_tensors", "compressed-tensors"),
                     ("llmcompressor", "llmcompressor"), ("lm_eval", "lm_eval"), ("datasets", "datasets"),
                     ("fastapi", "fastapi"), ("uvicorn", "uvicorn"), ("openai", "openai"), ("pydantic", "pydantic")]:
    start = time.time()
    try:
        mod = importlib.import_module(module)
        result[module] = {"version": md.version(dist), "file": getattr(mod, "__file__", None), "import_s": round(time.time() - start, 2)}
    except Exception as error:  # noqa: BLE001
        result[module] = {"error": f"{type(error).__name__}: {error}"}
        failed.append(module)
json.dump(result, open(sys.argv[1], "w"), indent=2)
print(json.dumps(result, indent=1))
sys.exit(1 if failed else 0)
EOF

next model
PYTHONPATH="$bundle/gpu-dag/python:$PYTHONPATH" "$py" -m gpu_dag_runtime.testing.make_tiny_model "$work/fixture" --hidden-size "$hidden" --layers "$layers" >/dev/null ||
  die "could not build the model"

next preflight
"$py" - "$work" "$cuda" "$device" "$visible_before" "$node_version" "$py_version" "$site_on_path" "$hidden" "$layers" "$(command -v "$py")" "$flock_from" <<'EOF'
import json, os, sys
work, cuda, device, visible, node, py_version, on_path, hidden, layers, exe, flock = sys.argv[1:]
torch_version, available, name = cuda.split(" ", 2)
model = os.path.join(work, "fixture", "model")
weights = sum(os.path.getsize(os.path.join(model, f)) for f in os.listdir(model) if f.endswith(".safetensors"))
config = json.load(open(os.path.join(model, "config.json")))
phases = [dict(zip(("phase", "ms"), line.split())) for line in open(os.path.join(work, "phases.txt")) if line.strip()]
deps = json.load(open(os.path.join(work, "deps.json")))
json.dump({
    "python": {"exe": exe, "version": py_version},
    "torch": torch_version, "cudaAvailable": available == "yes", "deviceName0": name, "device": device,
    "cudaVisibleDevicesBefore": visible, "node": node, "flock": flock,
    "wheels": {"count": len(deps["wheels"]), "onPath": on_path == "1"},
    "deps": {"problems": deps["problems"], "conflicts": deps["conflicts"], "unverified": len(deps["unverified"])},
    "imports": json.load(open(os.path.join(work, "imports.json"))),
    "model": {"hidden": int(hidden), "layers": int(layers), "vocab": config["vocab_size"], "weightsMiB": round(weights / 2**20, 1),
              "params": weights // 4},
    "phasesS": {p["phase"]: int(p["ms"]) / 1000 for p in phases if p["phase"] != "start"},
}, open(os.path.join(work, "preflight.json"), "w"), indent=2)
EOF

next pipeline
if nvidia-smi --query-gpu=index,utilization.gpu,memory.used --format=csv,noheader,nounits >/dev/null 2>&1; then
  (while :; do echo "$(date +%s%3N) $(nvidia-smi --query-gpu=index,utilization.gpu,memory.used --format=csv,noheader,nounits 2>/dev/null | tr '\n' ';')"; sleep 0.5; done) >"$work/gpu-samples.txt" &
  sampler=$!
fi
rc=0
GPU_CHECK_FIXTURE="$work/fixture/fixture.json" GPU_CHECK_DEVICE="$device" GPU_CHECK_PYTHON="$(command -v "$py")" \
  GPU_CHECK_WORK="$work" GPU_CHECK_SUMMARY="$out/summary.json" GPU_CHECK_PREFLIGHT="$work/preflight.json" \
  GPU_CHECK_SAMPLES="$work/gpu-samples.txt" GPU_CHECK_PROBE_DIR="$work/probes" \
  GPU_CHECK_TIMEOUT_S="${GPU_CHECK_TIMEOUT_S:-390}" \
  "$node" "$bundle/gpu-dag/gpu-check.mjs" || rc=$?
[ -z "$sampler" ] || { kill "$sampler" 2>/dev/null || true; wait "$sampler" 2>/dev/null || true; sampler=""; }

next logs
(cd "$work" && tar -czf "$out/logs.tar.gz" --exclude='*.safetensors' --exclude='*.bin' --exclude='*.pt' \
  store probes phases.txt preflight.json deps.json imports.json $([ -e gpu-samples.txt ] && echo gpu-samples.txt)) ||
  echo "run.sh: could not pack the logs"
next done
exit "$rc"
