"""Simulated runtime: stands in for llm-compressor, lm-eval and generation on machines without them.

Invoked as ``python -m gpu_dag_runtime.simulate <compress|evaluate|generate> <the real runner's
arguments>`` (subcommands too: ``generate merge``, ``evaluate list``, ``evaluate recombine``; a
generation element, ``--seed-index``, writes its shard as the real one does, and the merge is the
real merge's checks and atomic write). It is a real subprocess that reads the same arguments and writes an outputs manifest
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
    tasks = [flags["subtask"]] if "subtask" in flags else [t for t in flags.get("tasks", "task").split(",") if t]
    metrics = {f"{task}/acc": _score(model, task) for task in tasks}
    results_path = os.path.join(out_dir, "results.json")
    with open(results_path, "w", encoding="utf-8") as handle:
        json.dump({"simulated": True, "model": model, "results": metrics}, handle, indent=2)
    for key, value in metrics.items():
        print(f"{BANNER} {key} = {value} for {model} (no real lm-eval run)")
    return {"models": [], "artifacts": [{"name": "results", "path": results_path}], "metrics": metrics}


def _input_rows(flags: dict[str, str]) -> list[dict]:
    rows = []
    input_file = flags.get("input-file")
    if input_file and os.path.exists(input_file):
        with open(input_file, encoding="utf-8") as handle:
            rows = [json.loads(line) for line in handle if line.strip()]
    max_samples = flags.get("++max_samples")
    if max_samples is not None and max_samples.lstrip("-").isdigit() and int(max_samples) >= 0:
        rows = rows[: int(max_samples)]
    return rows


def _final_file(flags: dict[str, str], out_dir: str, seed: int) -> str:
    output = flags.get("output-file") or os.path.join(out_dir, "output.jsonl")
    seeds = int(flags.get("num-random-seeds", "1"))
    return output if seeds <= 1 else os.path.join(os.path.dirname(output), f"output-rs{seed}.jsonl")


def _generate_element(flags: dict[str, str], out_dir: str) -> dict:
    """One (seed, chunk) element: its shard, named and placed as the real runner's."""
    from .generate.shards import expected_shard, shard_path

    rows = _input_rows(flags)
    seed, chunk, chunks = int(flags["seed-index"]), int(flags.get("chunk-id", "0")), int(flags.get("num-chunks", "1"))
    final = _final_file(flags, out_dir, seed)
    name = expected_shard(final, len(rows), chunk, chunks)
    shard_dir = flags.get("shard-dir") or os.path.dirname(final)
    os.makedirs(shard_dir, exist_ok=True)
    path = shard_path(shard_dir, name)
    with open(path, "w", encoding="utf-8") as handle:
        for index in range(name.start, name.end):
            handle.write(json.dumps({**rows[index], "generation": f"{BANNER} answer {index} seed {seed}"}) + "\n")
    print(f"{BANNER} element seed {seed} chunk {chunk}: rows {name.start}-{name.end} into {path}")
    metrics = {"generation/num_rows": name.size, "generation/row_start": name.start, "generation/row_end": name.end,
               "generation/seed_index": seed, "generation/chunk_id": chunk}
    return {"models": [], "artifacts": [{"name": "shard", "path": path}], "metrics": metrics}


def _generate_merge(argv: list[str], out_dir: str) -> dict:
    """The real merge's checks and atomic write (they need nothing but the standard library)."""
    from ._common import RunnerError
    from .elements import read_elements
    from .generate.merge import plan_merge, write_merged
    from .generate.shards import final_stem, shards_in

    flags = _flags([w for w in argv if not w.startswith("--shards")])
    seed, chunks = int(flags.get("seed-index", "0")), int(flags.get("num-chunks", "1"))
    rows = _input_rows(flags)
    final = _final_file(flags, out_dir, seed)
    failed: list[dict] = []
    if "--shards" in argv:
        candidates = [os.path.abspath(w) for w in argv[argv.index("--shards") + 1:] if not w.startswith(("--", "++"))]
    elif "elements" in flags:
        candidates, failed = read_elements(flags["elements"], "shard")
    else:
        candidates = shards_in(flags.get("shard-dir") or os.path.dirname(final), final_stem(final))
    try:
        shards = plan_merge(final, rows, chunks, candidates, "--shards" in argv, failed, "generation", seed)
    except RunnerError as error:
        print(f"{BANNER} {error}", file=sys.stderr)
        raise SystemExit(error.code)
    written = write_merged(final, shards)
    print(f"{BANNER} merged {len(shards)} shards ({written} rows) into {final}")
    name = "output" if int(flags.get("num-random-seeds", "1")) <= 1 else f"output-rs{seed}"
    return {"models": [], "artifacts": [{"name": name, "path": final}, {"name": "merged", "path": final}],
            "metrics": {"generation/num_rows": written, "generation/num_shards": len(shards), "generation/seed_index": seed}}


def _evaluate_list(flags: dict[str, str], out_dir: str) -> dict:
    """Each requested task stands for one subtask (no lm-eval here to know a group's leaves)."""
    tasks = [t for t in flags.get("tasks", "task").split(",") if t]
    path = os.path.join(out_dir, "subtasks.json")
    tree = os.path.join(out_dir, "task_tree.json")
    with open(path, "w", encoding="utf-8") as handle:
        json.dump(tasks, handle)
    with open(tree, "w", encoding="utf-8") as handle:
        json.dump({"simulated": True, "requested": tasks, "subtasks": tasks, "groups": {}}, handle)
    print(f"{BANNER} subtasks of {','.join(tasks)}: {', '.join(tasks)} (no real lm-eval task index)")
    return {"models": [], "artifacts": [{"name": "subtasks", "path": path}, {"name": "task_tree", "path": tree}],
            "metrics": {"eval/num_subtasks": len(tasks)}}


def _evaluate_recombine(argv: list[str], out_dir: str) -> dict:
    """The subtask results' metrics together, and each requested task's ``acc`` as their mean."""
    from .elements import read_elements

    flags = _flags([w for w in argv if not w.startswith("--results")])
    if "--results" in argv:
        paths = [w for w in argv[argv.index("--results") + 1:] if not w.startswith("--")]
    else:
        paths, missing = read_elements(flags.get("elements", ""), "results")
        if missing:
            print(f"{BANNER} cannot recombine: {len(missing)} subtask element(s) have no results", file=sys.stderr)
            raise SystemExit(2)
    metrics: dict = {}
    for path in paths:
        with open(path, encoding="utf-8") as handle:
            metrics.update(json.load(handle).get("results") or {})
    accs = [v for k, v in metrics.items() if k.endswith("/acc")]
    for task in [t for t in flags.get("tasks", "").split(",") if t]:
        if accs and f"{task}/acc" not in metrics:
            metrics[f"{task}/acc"] = round(sum(accs) / len(accs), 6)
    results_path = os.path.join(out_dir, "results.json")
    with open(results_path, "w", encoding="utf-8") as handle:
        json.dump({"simulated": True, "results": metrics, "recombined_from": paths}, handle, indent=2)
    print(f"{BANNER} recombined {len(paths)} subtask results (no real lm-eval aggregation)")
    return {"models": [], "artifacts": [{"name": "results", "path": results_path}], "metrics": {**metrics, "eval/num_subtasks": len(paths)}}


def _generate(flags: dict[str, str], out_dir: str) -> dict:
    if "seed-index" in flags:
        return _generate_element(flags, out_dir)
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
SUBCOMMANDS = {
    "generate": {"merge": _generate_merge},
    "evaluate": {"list": lambda argv, out: _evaluate_list(_flags(argv), out), "recombine": _evaluate_recombine},
}


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
    subcommand = argv[1] if len(argv) > 1 and argv[1] in SUBCOMMANDS.get(runner, {}) else None
    if subcommand:
        manifest = SUBCOMMANDS[runner][subcommand](argv[2:], out_dir)
    else:
        manifest = RUNNERS[runner](flags, out_dir)
    _write_manifest(out_dir, manifest)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
