#!/usr/bin/env bash
# GPU check, part 1 (here, on the CPU machine): gathers into one ignored folder everything
# scripts/gpu-check/run.sh needs on the lent GPU machine, where nothing can be downloaded:
#
#   .gpu-check/wheels/     x86-64 wheels for CPython 3.12 of llm-compressor, compressed-tensors,
#                          lm-eval, the transformers-serve server and every dependency the device
#                          image lacks (python/requirements.txt's pins; device-packages.txt says what
#                          the image has; sdist-only packages are built into wheels here)
#   .gpu-check/node.xz     this machine's Node.js binary, xz-compressed (the device has no Node)
#   .gpu-check/gpu-dag/    the GPU check driver bundled with gpu-dag (one .mjs), its package.json,
#                          the job-side Python runtime, the task configs, the in-job probe, flock
#   .gpu-check/manifest.json  what is inside, with sizes and hashes
#
# Then it checks the wheels are complete (check_bundle.py) and that the folder plus the rest of
# the working tree fit in what travels to the device (64 MiB), and fails, naming the sizes, if not.
#
# Settings (environment): GPU_CHECK_DIR (default <repo>/.gpu-check), GPU_CHECK_CACHE (downloads
# and the compressed Node are reused from there; default ~/.cache/gpu-dag/gpu-check),
# GPU_CHECK_LIMIT_MIB (default 64), GPU_CHECK_NODE (default: `node` on PATH), GPU_CHECK_PIP_PYTHON
# (the Python whose pip downloads; default python3), GPU_CHECK_EXTRA_PINS (more name==version).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
dest="${GPU_CHECK_DIR:-$root/.gpu-check}"
cache="${GPU_CHECK_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/gpu-dag/gpu-check}"
limit_mib="${GPU_CHECK_LIMIT_MIB:-64}"
pip_python="${GPU_CHECK_PIP_PYTHON:-python3}"
node_bin="${GPU_CHECK_NODE:-$(command -v node || true)}"

die() { echo "prepare.sh: $*" >&2; exit 1; }
say() { echo "prepare.sh: $*" >&2; }
case "$limit_mib" in '' | *[!0-9]*) die "GPU_CHECK_LIMIT_MIB=$limit_mib is not a whole number of MiB" ;; esac
[ -x "$root/node_modules/.bin/esbuild" ] || die "no node_modules/.bin/esbuild in $root: run npm ci first"
[ -n "$node_bin" ] && [ -x "$node_bin" ] || die "no Node.js binary (GPU_CHECK_NODE or node on PATH)"
"$pip_python" -m pip --version >/dev/null 2>&1 || die "$pip_python has no pip (GPU_CHECK_PIP_PYTHON)"

case "$dest" in # inside the checkout it must be ignored: carried, not sent (and counted) twice
  "$root"/*) (cd "$root" && git check-ignore -q "$dest") || die "GPU_CHECK_DIR=$dest is in the checkout but not ignored by git: use .gpu-check, or ignore it" ;;
esac
stage="$(mktemp -d "${TMPDIR:-/tmp}/gpu-check-stage.XXXXXX")" # outside the checkout: never counted in its tree
mkdir -p "$stage/wheels" "$stage/gpu-dag" "$cache/wheels"
trap 'rm -rf "$stage"' EXIT

# --- wheels ----------------------------------------------------------------------------------
platforms=(--platform manylinux_2_28_x86_64 --platform manylinux_2_27_x86_64 --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64 --platform manylinux1_x86_64)
# shellcheck disable=SC2086
mapfile -t pins < <("$pip_python" "$here/wheel_pins.py" "$root/python/requirements.txt" "$here/device-packages.txt" "$here/carry-too.txt" ${GPU_CHECK_EXTRA_PINS:-})
[ "${#pins[@]}" -gt 0 ] || die "wheel_pins.py chose no wheels"
norm() { echo "$1" | tr 'A-Z.-' 'a-z__'; }
cached_wheel() { # name version → path of a cached wheel of that name and version, or nothing
  local n v f base
  n="$(norm "$1")"; v="$2"
  for f in "$cache/wheels"/*.whl; do
    [ -e "$f" ] || continue
    base="$(basename "$f")"
    [ "$(norm "${base%%-*}")" = "$n" ] || continue
    rest="${base#*-}"
    [ "${rest%%-*}" = "$v" ] && { echo "$f"; return 0; }
  done
  return 0
}
fetched=0
for pin in "${pins[@]}"; do
  name="${pin%%==*}"; version="${pin#*==}"
  wheel="$(cached_wheel "$name" "$version")"
  if [ -z "$wheel" ]; then
    fetched=$((fetched + 1))
    tmp="$(mktemp -d)"
    if ! "$pip_python" -m pip download -q --no-deps --only-binary=:all: --python-version 3.12 --implementation cp "${platforms[@]}" -d "$tmp" "$pin" >"$tmp.log" 2>&1; then
      # No wheel for the device: build one here from the sdist (pure Python, e.g. rouge_score).
      "$pip_python" -m pip download -q --no-deps --no-binary=:all: -d "$tmp/src" "$pin" >>"$tmp.log" 2>&1 || die "no wheel and no sdist of $pin on the index: $(tail -n 3 "$tmp.log")"
      "$pip_python" -m pip wheel -q --no-deps -w "$tmp" "$tmp"/src/* >>"$tmp.log" 2>&1 || die "could not build a wheel of $pin: $(tail -n 5 "$tmp.log")"
      built="$(ls "$tmp"/*.whl)"
      case "$built" in *-py3-none-any.whl | *-py2.py3-none-any.whl) ;; *) die "the wheel built from $pin's sdist is not pure Python ($(basename "$built")): it would not install on the device" ;; esac
    fi
    mv "$tmp"/*.whl "$cache/wheels/"
    rm -rf "$tmp" "$tmp.log"
    wheel="$(cached_wheel "$name" "$version")"
    [ -n "$wheel" ] || die "downloaded $pin but found no wheel named ${name}-${version}-… in $cache/wheels"
  fi
  cp "$wheel" "$stage/wheels/"
done
say "${#pins[@]} wheels ($fetched downloaded, the rest from $cache)"

# --- Node.js ---------------------------------------------------------------------------------
[ "$(uname -m)" = x86_64 ] || die "this machine is $(uname -m): its Node binary would not run on the x86-64 device (set GPU_CHECK_NODE to an x86-64 one)"
node_version="$("$node_bin" --version)"
# Only the C/C++ runtime may be linked dynamically: the device image has those and nothing else of ours.
if command -v ldd >/dev/null; then
  extra_libs="$(ldd "$node_bin" | awk '{print $1}' | grep -vE '^(linux-vdso|/lib64/ld-linux|libc\.|libm\.|libdl\.|libpthread\.|librt\.|libstdc\+\+\.|libgcc_s\.)' || true)"
  [ -z "$extra_libs" ] || die "$node_bin needs libraries the device may lack: $(echo "$extra_libs" | tr '\n' ' ')(use a nodejs.org-style build: GPU_CHECK_NODE)"
fi
node_sha="$(sha256sum "$node_bin" | cut -c1-64)"
node_xz="$cache/node-${node_sha:0:16}.xz"
if [ ! -s "$node_xz" ]; then
  say "compressing $node_bin ($node_version, $(($(stat -c %s "$node_bin") / 1048576)) MiB) with xz; cached for next time"
  if command -v xz >/dev/null; then
    xz -T0 -6 -c "$node_bin" >"$node_xz.tmp.$$"
  else # the same .xz format from Python's lzma, one thread
    "$pip_python" -c $'import lzma, shutil, sys\nwith open(sys.argv[1], "rb") as i, lzma.open(sys.argv[2], "wb", preset=6) as o: shutil.copyfileobj(i, o, 1 << 20)' "$node_bin" "$node_xz.tmp.$$"
  fi
  mv "$node_xz.tmp.$$" "$node_xz"
fi
cp "$node_xz" "$stage/node.xz"

# --- gpu-dag: the bundled driver, the job-side runtime, configs, probe ------------------------
"$root/node_modules/.bin/esbuild" "$here/pipeline.ts" --bundle --platform=node --format=esm --target=node20 \
  --outfile="$stage/gpu-dag/gpu-check.mjs" --log-level=warning \
  --external:node-ssh --external:ssh2 --external:cpu-features --external:esbuild '--external:*.node' \
  "--banner:js=import { createRequire as __gdCreateRequire } from 'node:module'; const require = __gdCreateRequire(import.meta.url);"
version="$("$node_bin" -p 'require(process.argv[1]).version' "$root/package.json")"
printf '{ "name": "gpu-dag", "version": "%s", "type": "module", "private": true }\n' "$version" >"$stage/gpu-dag/package.json"
mkdir -p "$stage/gpu-dag/src/tasks"
cp -r "$root/python" "$stage/gpu-dag/python"
cp -r "$root/src/tasks/configs" "$stage/gpu-dag/src/tasks/configs"
cp -r "$here/probe" "$stage/gpu-dag/probe"
cp "$here/check_bundle.py" "$here/device-packages.txt" "$stage/gpu-dag/"
# flock(1): the local backend's GPU leases need it; run.sh uses this copy only if the image has none.
flock_bin="$(command -v flock)" || die "flock (util-linux) is missing here: apt-get install util-linux"
mkdir -p "$stage/gpu-dag/bin" && cp "$flock_bin" "$stage/gpu-dag/bin/flock"
find "$stage/gpu-dag" -name __pycache__ -type d -prune -exec rm -rf {} +
"$node_bin" "$stage/gpu-dag/gpu-check.mjs" --self-test >/dev/null || die "the bundled driver does not load: $node_bin $stage/gpu-dag/gpu-check.mjs --self-test"

# --- complete? --------------------------------------------------------------------------------
"$pip_python" "$here/check_bundle.py" "$stage/wheels" --device-packages "$here/device-packages.txt" \
  --require llmcompressor --require compressed-tensors --require lm-eval --require datasets \
  --require fastapi --require uvicorn --require openai --report "$stage/check.json" ||
  die "the wheels are incomplete for the device (above; report: $stage/check.json)"

# --- manifest and size --------------------------------------------------------------------------
files_bytes() { find "$1" -type f -printf '%s\n' | awk '{s += $1} END {print s + 0}'; }
bundle_bytes="$(files_bytes "$stage")" # manifest.json excepted: it is written below, with this number
# Files may come and go while this runs (tests writing in the checkout): a vanished one counts 0.
tree_bytes="$(cd "$root" && { git ls-files -z -co --exclude-standard | xargs -0 stat -c %s 2>/dev/null || true; } | awk '{s += $1} END {print s + 0}')"
[ -d "$root/shared" ] && tree_bytes=$((tree_bytes + $(du -sb "$root/shared" | cut -f1)))
"$pip_python" - "$stage" "$node_version" "$node_sha" "$bundle_bytes" "$tree_bytes" "$limit_mib" "$(cd "$root" && git rev-parse HEAD 2>/dev/null || echo unknown)" <<'EOF'
import hashlib, json, os, sys, time
stage, node_version, node_sha, bundle, tree, limit, commit = sys.argv[1:]
files = []
for base, _dirs, names in os.walk(stage):
    for name in sorted(names):
        path = os.path.join(base, name)
        with open(path, "rb") as f:
            digest = hashlib.sha256(f.read()).hexdigest()
        files.append({"path": os.path.relpath(path, stage), "bytes": os.path.getsize(path), "sha256": digest})
report = json.load(open(os.path.join(stage, "check.json")))
manifest = {
    "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    "commit": commit,
    "node": {"version": node_version, "sha256": node_sha, "file": "node.xz"},
    "wheels": report["wheels"],
    "bundle_bytes": int(bundle),
    "tree_bytes": int(tree),
    "limit_bytes": int(limit) * 1048576,
    "files": sorted(files, key=lambda f: f["path"]),
}
json.dump(manifest, open(os.path.join(stage, "manifest.json"), "w"), indent=2)
EOF
bundle_bytes="$(files_bytes "$stage")"
total=$((bundle_bytes + tree_bytes))
mib() { awk -v b="$1" 'BEGIN {printf "%.1f MiB", b / 1048576}'; }
if [ "$total" -gt $((limit_mib * 1048576)) ]; then
  largest="$(cd "$stage" && find . -type f -printf '%s %P\n' | sort -rn | head -n 5 | awk '{printf "%s %.1f MiB; ", $2, $1 / 1048576}')"
  die "too big to travel: the bundle is $(mib "$bundle_bytes") and the rest of the working tree $(mib "$tree_bytes"), $(mib "$total") in all > ${limit_mib} MiB (GPU_CHECK_LIMIT_MIB). Largest: $largest"
fi
rm -rf "$dest"
mv "$stage" "$dest"
trap - EXIT
say "ready: $dest, $(mib "$bundle_bytes") (+ $(mib "$tree_bytes") of working tree = $(mib "$total") of ${limit_mib} MiB)"
case "$dest" in
  "$root/.gpu-check") say "on the device: run \"bash scripts/gpu-check/run.sh\" with carry [\".gpu-check\"]" ;;
  "$root"/*) say "on the device: run \"GPU_CHECK_DIR=${dest#"$root"/} bash scripts/gpu-check/run.sh\" with carry [\"${dest#"$root"/}\"]" ;;
  *) say "$dest is outside the checkout, so it does not travel: for the device, prepare into an ignored folder of the checkout (the default, .gpu-check)" ;;
esac
