"""Simulated runtime: stands in for llm-compressor, lm-eval and generation on machines without them.

Invoked as ``python -m gpu_dag_runtime.simulate <compress|evaluate|generate> <the real runner's
arguments>``. It is a real subprocess that reads the same arguments and writes an outputs manifest
of the same shape as the real runner, with ``"simulated": true``, and says so loudly in its log.
Standard library only, so it runs anywhere Python 3 does.

Environment knobs (for demos and tests): ``GPU_DAG_SIMULATE_SECONDS`` (how long the "work"
takes, default 0.5) and ``GPU_DAG_SIMULATE_FAIL`` (exit with this code instead).
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
import time

BANNER = "[SIMULATED]"


def _flags(argv: list[str]) -> dict[str, str]:
    """``--name value`` / bare ``--flag`` pairs; ``++hydra`` words are kept under their key."""
    out: dict[str, str] = {}
    i = 0
    while i < len(argv):
        word = argv[i]
        if word.startswith("--"):
            if i + 1 < len(argv) and not argv[i + 1].startswith("--"):
                out[word[2:]] = argv[i + 1]
                i += 2
                continue
            out[word[2:]] = "true"
        elif word.startswith("++") and "=" in word:
            key, value = word[2:].split("=", 1)
            out["++" + key] = value
        i += 1
    return out


def _score(*parts: str) -> float:
    """A stable pseudo-metric in [0.2, 0.8] so reruns give the same numbers."""
    digest = hashlib.sha256("|".join(parts).encode()).digest()
    return round(0.2 + 0.6 * int.from_bytes(digest[:4], "big") / 2**32, 4)


def _write_manifest(out_dir: str, manifest: dict) -> None:
    manifest = {"version": 1, "simulated": True, **manifest}
    tmp = os.path.join(out_dir, "outputs.json.tmp")
    with open(tmp, "w", encoding="utf-8") as handle:
        json.dump(manifest, handle, indent=2)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, os.path.join(out_dir, "outputs.json"))


def _compress(flags: dict[str, str], out_dir: str) -> dict:
    model = flags.get("model", "model")
    recipe = flags.get("recipe-yaml", "")
    scheme = next((s for s in ("W4A16", "W8A8", "FP8", "W8A16") if s in recipe), "compressed")
    name = f"{os.path.basename(model.rstrip('/')) or 'model'}-{scheme}"
    model_dir = flags.get("output-dir") or os.path.join(out_dir, "model")
    os.makedirs(model_dir, exist_ok=True)
    with open(os.path.join(model_dir, "config.json"), "w", encoding="utf-8") as handle:
        json.dump({"simulated": True, "source_model": model, "quantization_config": {"scheme": scheme}}, handle, indent=2)
    recipe_path = os.path.join(out_dir, "recipe.yaml")
    with open(recipe_path, "w", encoding="utf-8") as handle:
        handle.write(recipe)
    print(f"{BANNER} compressed {model} with scheme {scheme} into {model_dir} (no real llm-compressor run)")
    return {
        "models": [{"name": name, "path": model_dir, "framework": "compressed-tensors"}],
        "artifacts": [{"name": "recipe", "path": recipe_path}],
        "metrics": {},
    }


def _evaluate(flags: dict[str, str], out_dir: str) -> dict:
    model = flags.get("model", "model")
    tasks = [t for t in flags.get("tasks", "task").split(",") if t]
    metrics = {f"{task}/acc": _score(model, task) for task in tasks}
    results_path = os.path.join(out_dir, "results.json")
    with open(results_path, "w", encoding="utf-8") as handle:
        json.dump({"simulated": True, "model": model, "results": metrics}, handle, indent=2)
    for key, value in metrics.items():
        print(f"{BANNER} {key} = {value} for {model} (no real lm-eval run)")
    return {"models": [], "artifacts": [{"name": "results", "path": results_path}], "metrics": metrics}


def _generate(flags: dict[str, str], out_dir: str) -> dict:
    rows = []
    input_file = flags.get("input-file")
    if input_file and os.path.exists(input_file):
        with open(input_file, encoding="utf-8") as handle:
            rows = [json.loads(line) for line in handle if line.strip()]
    output = flags.get("output-file") or os.path.join(out_dir, "output.jsonl")
    with open(output, "w", encoding="utf-8") as handle:
        for index, row in enumerate(rows):
            handle.write(json.dumps({**row, "generation": f"{BANNER} answer {index}"}) + "\n")
    print(f"{BANNER} generated {len(rows)} rows with a {flags.get('server-type', 'vllm')} server stand-in")
    return {"models": [], "artifacts": [{"name": "output", "path": output}], "metrics": {"generation/num_rows": len(rows)}}


RUNNERS = {"compress": _compress, "evaluate": _evaluate, "generate": _generate}


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in RUNNERS:
        print(f"usage: python -m gpu_dag_runtime.simulate {{{'|'.join(RUNNERS)}}} ARGS...", file=sys.stderr)
        return 2
    runner, flags = argv[0], _flags(argv[1:])
    out_dir = os.environ.get("GPU_DAG_OUTPUT_DIR") or os.getcwd()
    print(f"{BANNER} gpu-dag simulate runtime: '{runner}' stand-in; outputs are marked simulated", flush=True)
    print(f"{BANNER} CUDA_VISIBLE_DEVICES={os.environ.get('CUDA_VISIBLE_DEVICES', '')}", flush=True)
    time.sleep(float(os.environ.get("GPU_DAG_SIMULATE_SECONDS", "0.5")))
    fail = os.environ.get("GPU_DAG_SIMULATE_FAIL")
    if fail:
        print(f"{BANNER} failing on purpose with exit code {fail}", file=sys.stderr)
        return int(fail)
    _write_manifest(out_dir, RUNNERS[runner](flags, out_dir))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
