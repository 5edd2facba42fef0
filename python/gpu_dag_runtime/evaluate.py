"""lm-eval runner.

    python -m gpu_dag_runtime.evaluate --model PATH_OR_NAME --backend hf|vllm --tasks a,b,c
        [--include-path DIR] [--num-fewshot N] [--batch-size B] [--limit L]
        [--apply-chat-template] [--tensor-parallel-size N] [--model-args k=v,...]
        [--device cpu|cuda] [--output-dir DIR]

Runs ``lm_eval.simple_evaluate``. ``--tensor-parallel-size`` (vllm) defaults to the number of GPUs in
``CUDA_VISIBLE_DEVICES`` (1 when unset). ``--model-args`` entries override the runner's own.
``--limit`` below 1 is a fraction of each task, otherwise a count.

Manifest metrics: every numeric result as ``<task>/<metric>`` — lm-eval's ``,none`` filter suffix is
dropped, another filter becomes a suffix ``<task>/<metric>/<filter>`` — stderr values as
``<task>/<metric>_stderr``; groups lm-eval aggregates appear under the group's name, a group it
does not aggregate gets the plain mean of its subtasks, and when several tasks are asked for,
``average/<metric>`` is their plain mean; ``<task>/n_samples`` (and ``<task>/n_samples_original``,
before ``--limit``) per leaf task. lm-eval's ``group_subtasks`` go to the manifest's ``groups``
(reports show a group's direct members). Artifact ``results``: the full results JSON.

Split evaluation (one job per leaf subtask of a group, then one recombination):

    python -m gpu_dag_runtime.evaluate list --tasks GROUPS [--include-path DIR]
    python -m gpu_dag_runtime.evaluate --tasks GROUPS --subtask LEAF ...   (the options above)
    python -m gpu_dag_runtime.evaluate recombine --tasks GROUPS [--include-path DIR]
        (--results FILE... | --elements JSON)

``list`` writes the leaf subtasks (``subtasks.json``, a JSON array of names) found by lm-eval's
TaskManager without loading a dataset. ``--subtask LEAF`` evaluates that one leaf of ``--tasks``,
built exactly as the group builds it (the group's overrides included). ``recombine`` aggregates
the leaves' results with lm-eval's own group aggregation and writes what an unsplit run writes;
see :mod:`gpu_dag_runtime.eval_split`.
"""
from __future__ import annotations

import argparse
import difflib
import json
import os
import sys
import time

from ._common import EXIT_USAGE, RunnerError, check_model, require, resolve_output_dir, run_main


def default_tensor_parallel_size() -> int:
    visible = os.environ.get("CUDA_VISIBLE_DEVICES", "").strip()
    if not visible or visible == "-1" or visible.lower() == "nodevfiles":
        return 1
    return max(1, len([d for d in visible.split(",") if d.strip()]))


def parse_model_args(text: str | None) -> dict[str, str]:
    """``k=v,k2=v2`` → dict (values kept as strings; lm-eval converts them)."""
    result: dict[str, str] = {}
    if not text:
        return result
    for part in text.split(","):
        part = part.strip()
        if not part:
            continue
        if "=" not in part:
            raise RunnerError(f"--model-args: {part!r} is not key=value")
        key, value = part.split("=", 1)
        result[key.strip()] = value.strip()
    return result


def split_metric_key(key: str) -> tuple[str, str | None]:
    """``acc,none`` → (``acc``, None); ``exact_match,strict-match`` → (``exact_match``, ``strict-match``)."""
    if "," in key:
        metric, filt = key.split(",", 1)
        return metric, (None if filt == "none" else filt)
    return key, None


def _number(value):
    from .manifest import finite_number

    return finite_number(value)


def collect_metrics(results: dict, requested: list[str]) -> dict[str, float]:
    """Flattens lm-eval results into ``task/metric`` numbers plus group and overall averages."""
    metrics: dict[str, float] = {}
    per_task: dict[str, dict[str, float]] = {}
    for task, values in (results.get("results") or {}).items():
        task_metrics: dict[str, float] = {}
        for key, value in values.items():
            if key in ("alias", "samples", "name", "sample_len", "sample_count"):
                continue
            number = _number(value)
            if number is None:
                continue  # "N/A" stderr, strings
            metric, filt = split_metric_key(key)
            name = f"{metric}/{filt}" if filt else metric
            task_metrics[name] = number
        per_task[task] = task_metrics
        for name, number in task_metrics.items():
            metrics[f"{task}/{name}"] = number

    def mean_over(tasks: list[str]) -> dict[str, float]:
        sums: dict[str, list[float]] = {}
        for t in tasks:
            for name, number in per_task.get(t, {}).items():
                if "_stderr" in name:
                    continue
                sums.setdefault(name, []).append(number)
        return {name: sum(v) / len(v) for name, v in sums.items() if len(v) == len(tasks)}

    for group, subtasks in (results.get("group_subtasks") or {}).items():
        if not subtasks:
            continue
        for name, number in mean_over(list(subtasks)).items():
            metrics.setdefault(f"{group}/{name}", number)

    for task, counts in (results.get("n-samples") or {}).items():
        if isinstance(counts, dict):
            for key, suffix in (("effective", "n_samples"), ("original", "n_samples_original")):
                number = _number(counts.get(key))
                if number is not None:
                    metrics[f"{task}/{suffix}"] = number

    top = [t for t in requested if t in per_task]
    if len(top) > 1:
        for name, number in mean_over(top).items():
            metrics[f"average/{name}"] = number
    return metrics


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m gpu_dag_runtime.evaluate", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", required=True)
    p.add_argument("--backend", choices=["hf", "vllm"], default="hf")
    p.add_argument("--tasks", required=True, help="comma-separated task or group names")
    p.add_argument("--include-path", default=None, help="directory of extra task YAMLs")
    p.add_argument("--num-fewshot", type=int, default=None)
    p.add_argument("--batch-size", default="1", help="integer or 'auto'")
    p.add_argument("--limit", type=float, default=None)
    p.add_argument("--apply-chat-template", action="store_true")
    p.add_argument("--tensor-parallel-size", type=int, default=None)
    p.add_argument("--model-args", default=None, help="extra lm-eval model_args, k=v,k2=v2")
    p.add_argument("--device", default=None, help="cpu|cuda (default: cuda when available)")
    p.add_argument("--output-dir", default=None, help="used when GPU_DAG_OUTPUT_DIR is unset")
    p.add_argument("--subtask", default=None, help="evaluate only this leaf subtask of --tasks (see `list`)")
    return p


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv[:1] in (["list"], ["recombine"]):
        from .eval_split import list_main, recombine_main

        return (list_main if argv[0] == "list" else recombine_main)(argv[1:])
    args = build_parser().parse_args(argv)
    out = resolve_output_dir(args.output_dir)
    tasks = [t.strip() for t in args.tasks.split(",") if t.strip()]
    if not tasks:
        raise RunnerError("--tasks is empty")
    if args.include_path and not os.path.isdir(os.path.expanduser(args.include_path)):
        raise RunnerError(f"--include-path {args.include_path} is not a directory")
    if args.subtask is not None and not args.subtask.strip():
        raise RunnerError("--subtask is empty")
    user_model_args = parse_model_args(args.model_args)
    batch_size: int | str = args.batch_size
    if str(batch_size) != "auto" and not str(batch_size).startswith("auto:"):
        try:
            batch_size = int(batch_size)
        except ValueError:
            raise RunnerError(f"--batch-size must be an integer or 'auto', got {args.batch_size!r}")

    model = check_model(args.model)
    require("torch", "transformers", "lm_eval")
    if args.backend == "vllm":
        require("vllm")

    import torch

    device = args.device or ("cuda" if torch.cuda.is_available() else "cpu")
    model_args: dict[str, object] = {"pretrained": model}
    if args.backend == "hf":
        if device == "cpu":
            model_args["dtype"] = "float32"
    else:
        model_args["tensor_parallel_size"] = args.tensor_parallel_size or default_tensor_parallel_size()
        model_args.setdefault("gpu_memory_utilization", 0.85)
    model_args.update(user_model_args)

    from lm_eval import simple_evaluate

    from .eval_tree import build_leaf, check_known, load_tree, task_manager as make_task_manager

    task_manager = make_task_manager(args.include_path)
    check_known(task_manager, tasks, args.include_path)
    to_run: list = list(tasks)
    reported = tasks
    if args.subtask:
        leaves = load_tree(task_manager, tasks)["tasks"]
        if args.subtask not in leaves:
            close = difflib.get_close_matches(args.subtask, list(leaves), n=3)
            hint = f" (did you mean {', '.join(close)}?)" if close else ""
            raise RunnerError(f"--subtask {args.subtask!r} is not a leaf subtask of {','.join(tasks)}{hint}; "
                              f"leaves: {', '.join(list(leaves)[:20])}{' …' if len(leaves) > 20 else ''}", EXIT_USAGE)
        # Built as the group builds it (its overrides included), so it evaluates as in an unsplit run.
        to_run = [build_leaf(task_manager, leaves[args.subtask])]
        reported = [args.subtask]

    limit = None
    if args.limit is not None:
        limit = int(args.limit) if args.limit >= 1 else args.limit

    start = time.time()
    results = simple_evaluate(
        model=args.backend,
        model_args=model_args,
        tasks=to_run,
        num_fewshot=args.num_fewshot,
        batch_size=batch_size,
        device=device if args.backend == "hf" else None,
        limit=limit,
        apply_chat_template=args.apply_chat_template,
        task_manager=task_manager,
        log_samples=False,
    )
    duration = time.time() - start
    if results is None:  # non-zero ranks in multi-process runs
        return 0

    from .manifest import Manifest, write_atomic

    results_path = os.path.join(out, "lm_eval_results.json")
    serializable = {k: v for k, v in results.items() if k != "samples"}
    write_atomic(results_path, json.dumps(serializable, indent=2, default=str) + "\n")

    manifest = Manifest(out)
    manifest.add_artifact("results", results_path)
    manifest.add_metrics(collect_metrics(results, reported))
    manifest.set_groups(results.get("group_subtasks") or {})
    manifest.add_metric("eval/duration_s", round(duration, 3))
    manifest.write()
    for task, values in (results.get("results") or {}).items():
        shown = ", ".join(f"{k}={v:.4f}" for k, v in values.items() if isinstance(v, float))
        print(f"gpu-dag: {task}: {shown}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    run_main(main)
