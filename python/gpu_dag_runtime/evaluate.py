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
``average/<metric>`` is their plain mean. lm-eval's ``group_subtasks`` go to the manifest's
``groups`` (reports show a group's direct members). Artifact ``results``: the full results JSON.
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
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    out = resolve_output_dir(args.output_dir)
    tasks = [t.strip() for t in args.tasks.split(",") if t.strip()]
    if not tasks:
        raise RunnerError("--tasks is empty")
    if args.include_path and not os.path.isdir(os.path.expanduser(args.include_path)):
        raise RunnerError(f"--include-path {args.include_path} is not a directory")
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
    from lm_eval.tasks import TaskManager

    include = os.path.abspath(os.path.expanduser(args.include_path)) if args.include_path else None
    task_manager = TaskManager(include_path=include)
    known = set(task_manager.all_tasks)
    unknown = [t for t in tasks if t not in known]
    if unknown:
        hints = []
        for t in unknown:
            close = difflib.get_close_matches(t, list(known), n=3)
            hints.append(f"{t!r}" + (f" (did you mean {', '.join(close)}?)" if close else ""))
        raise RunnerError(f"unknown lm-eval task(s): {'; '.join(hints)}" + ("" if include else "; pass --include-path for local task YAMLs"), EXIT_USAGE)

    limit = None
    if args.limit is not None:
        limit = int(args.limit) if args.limit >= 1 else args.limit

    start = time.time()
    results = simple_evaluate(
        model=args.backend,
        model_args=model_args,
        tasks=tasks,
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
    manifest.add_metrics(collect_metrics(results, tasks))
    manifest.set_groups(results.get("group_subtasks") or {})
    manifest.add_metric("eval/duration_s", round(duration, 3))
    manifest.write()
    for task, values in (results.get("results") or {}).items():
        shown = ", ".join(f"{k}={v:.4f}" for k, v in values.items() if isinstance(v, float))
        print(f"gpu-dag: {task}: {shown}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    run_main(main)
