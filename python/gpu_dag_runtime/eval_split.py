"""An lm-eval group split across jobs: ``evaluate list`` (the leaf subtasks) and ``evaluate recombine``
(the group scores from the leaves' results, as lm-eval computes them).

    python -m gpu_dag_runtime.evaluate list --tasks GROUPS [--include-path DIR] [--output-dir DIR]

Writes ``subtasks.json`` (a JSON array of the leaf subtask names, in lm-eval's order: one map
element each) and ``task_tree.json`` (each group's children, leaves and ``aggregate_metric_list``).
No dataset is loaded. Manifest: artifacts ``subtasks``, ``task_tree``; metric ``eval/num_subtasks``.

    python -m gpu_dag_runtime.evaluate recombine --tasks GROUPS [--include-path DIR]
        (--results FILE... | --elements JSON) [--output-dir DIR]

Takes the leaves' results JSONs (``--results``: the ``results`` artifacts of the ``--subtask`` runs,
as paths or one JSON array; ``--elements``: the map's elements file, each element's ``results``
artifact) and aggregates them with lm-eval's own code: the groups of ``--tasks`` are lm-eval's
``Group`` objects (:mod:`.eval_tree`), their scores ``Group.aggregate`` (``aggregate_subtask_metrics``
over the leaves, weighted by sample count when the group's ``aggregate_metric_list`` says
``weight_by_size``; ``pooled_sample_stderr``, or ``unweighted_mean_stderr`` when not weighted),
bottom-up as ``aggregate_groups`` does, and the results document is ``EvalAcc._to_eval_results``'s.
Every leaf must have exactly one result, and all results the same model, model args and limit,
else exit 2 naming the missing leaves (and the failed elements) or the disagreeing files.

Writes ``lm_eval_results.json`` (artifact ``results``) and the metrics an unsplit run of ``--tasks``
writes (``<task>/<metric>``, ``<group>/<metric>``, ``<task>/n_samples``, ``average/<metric>``; not
``eval/duration_s``), plus ``eval/num_subtasks``.
"""
from __future__ import annotations

import argparse
import json
import os
import sys

from ._common import EXIT_USAGE, RunnerError, require, resolve_output_dir
from .elements import element_text, paths_from_words, read_elements
from .eval_tree import check_known, leaves_in_order, load_tree, task_manager, tree_summary
from .manifest import Manifest, write_atomic


def _parser(prog: str, recombine: bool) -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog=f"python -m gpu_dag_runtime.evaluate {prog}", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--tasks", required=True, help="comma-separated task or group names, as for the unsplit run")
    p.add_argument("--include-path", default=None, help="directory of extra task YAMLs")
    p.add_argument("--output-dir", default=None, help="used when GPU_DAG_OUTPUT_DIR is unset")
    if recombine:
        p.add_argument("--results", nargs="+", default=None, help="the subtask runs' results JSONs (or one JSON array of paths)")
        p.add_argument("--elements", default=None, help="the map's elements file (each element's 'results' artifact)")
    return p


def _tasks(text: str) -> list[str]:
    tasks = [t.strip() for t in text.split(",") if t.strip()]
    if not tasks:
        raise RunnerError("--tasks is empty")
    return tasks


def list_main(argv: list[str]) -> int:
    """``evaluate list``: see the module docstring."""
    args = _parser("list", recombine=False).parse_args(argv)
    tasks = _tasks(args.tasks)
    out = resolve_output_dir(args.output_dir)
    require("lm_eval")
    manager = task_manager(args.include_path)
    check_known(manager, tasks, args.include_path)
    loaded = load_tree(manager, tasks)
    subtasks = leaves_in_order(loaded)
    subtasks_path = os.path.join(out, "subtasks.json")
    tree_path = os.path.join(out, "task_tree.json")
    write_atomic(subtasks_path, json.dumps(subtasks, indent=2) + "\n")
    write_atomic(tree_path, json.dumps(tree_summary(loaded, tasks), indent=2) + "\n")
    manifest = Manifest(out)
    manifest.add_artifact("subtasks", subtasks_path)
    manifest.add_artifact("task_tree", tree_path)
    manifest.add_metric("eval/num_subtasks", len(subtasks))
    manifest.write()
    print(f"gpu-dag: {','.join(tasks)}: {len(subtasks)} subtasks: {', '.join(subtasks)}", file=sys.stderr)
    return 0


def _read_results(path: str) -> dict:
    try:
        with open(path, encoding="utf-8") as f:
            data = json.load(f)
    except (OSError, ValueError) as error:
        raise RunnerError(f"results file {path}: cannot read it as JSON: {error}")
    if not isinstance(data, dict) or not isinstance(data.get("results"), dict):
        raise RunnerError(f"results file {path}: not an lm-eval results JSON (no 'results' mapping)")
    return data


def _same_run_settings(files: dict[str, dict]) -> None:
    """All subtask runs evaluated the same model the same way; else one error naming the files."""
    def key(data: dict) -> str:
        config = data.get("config") or {}
        return json.dumps({k: config.get(k) for k in ("model", "model_args", "limit")}, sort_keys=True, default=str)

    groups: dict[str, list[str]] = {}
    for path, data in files.items():
        groups.setdefault(key(data), []).append(path)
    if len(groups) > 1:
        described = "; ".join(f"{settings} in {', '.join(paths)}" for settings, paths in groups.items())
        raise RunnerError(f"the subtask results disagree on model, model_args or limit: {described}", EXIT_USAGE)


def recombine(loaded: dict, files: dict[str, dict], missing_elements: list[dict], tasks: list[str]) -> dict:
    """lm-eval's results document for ``tasks`` from the leaves' results (see the module docstring)."""
    from lm_eval.evaluator_utils import EvalAcc, aggregate_groups

    leaves = leaves_in_order(loaded)
    by_leaf: dict[str, str] = {}
    problems: list[str] = []
    for path, data in files.items():
        for name in data["results"]:
            if name in leaves:
                if name in by_leaf:
                    problems.append(f"subtask {name} is in both {by_leaf[name]} and {path}")
                by_leaf[name] = path
            elif name not in loaded["groups"]:
                problems.append(f"{path} has task {name}, which is not a subtask of {','.join(tasks)}")
    absent = [leaf for leaf in leaves if leaf not in by_leaf]
    if absent:
        why = f" ({'; '.join(element_text(e) for e in missing_elements)})" if missing_elements else ""
        problems.insert(0, f"{len(absent)} of {len(leaves)} subtasks have no result: {', '.join(absent)}{why}")
    if problems:
        raise RunnerError(f"cannot recombine {','.join(tasks)}: " + "; ".join(problems), EXIT_USAGE)

    acc = EvalAcc()
    acc.groups = loaded["groups"]
    for leaf in leaves:
        data = files[by_leaf[leaf]]
        acc.metrics[leaf] = dict(data["results"][leaf])
        acc.configs[leaf] = (data.get("configs") or {}).get(leaf, {})
        acc.versions[leaf] = (data.get("versions") or {}).get(leaf)
        acc.num_fewshot[leaf] = (data.get("n-shot") or {}).get(leaf, 0)
        acc.higher_is_better[leaf] = (data.get("higher_is_better") or {}).get(leaf, {})
        if leaf in (data.get("n-samples") or {}):
            acc.n_samples[leaf] = data["n-samples"][leaf]
    aggregate_groups(acc)
    results = dict(acc._to_eval_results())
    first = files[by_leaf[leaves[0]]]
    if "config" in first:
        results["config"] = first["config"]
    results["recombined_from"] = {leaf: by_leaf[leaf] for leaf in leaves}
    return results


def recombine_main(argv: list[str]) -> int:
    """``evaluate recombine``: see the module docstring."""
    from .evaluate import collect_metrics

    args = _parser("recombine", recombine=True).parse_args(argv)
    tasks = _tasks(args.tasks)
    if (args.results is None) == (args.elements is None):
        raise RunnerError("give one of --results (the subtask runs' results files) or --elements (the map's elements file)")
    out = resolve_output_dir(args.output_dir)
    missing: list[dict] = []
    if args.results is not None:
        paths = paths_from_words(args.results, "--results")
    else:
        paths, missing = read_elements(args.elements, "results")
    files = {path: _read_results(path) for path in paths}
    _same_run_settings(files)
    require("lm_eval")
    manager = task_manager(args.include_path)
    check_known(manager, tasks, args.include_path)
    loaded = load_tree(manager, tasks)
    results = recombine(loaded, files, missing, tasks)

    results_path = os.path.join(out, "lm_eval_results.json")
    write_atomic(results_path, json.dumps(results, indent=2, default=str) + "\n")
    manifest = Manifest(out)
    manifest.add_artifact("results", results_path)
    manifest.add_metrics(collect_metrics(results, tasks))
    manifest.set_groups(results.get("group_subtasks") or {})
    manifest.add_metric("eval/num_subtasks", len(results["recombined_from"]))
    manifest.write()
    for name in loaded["groups"]:
        values = results["results"].get(name, {})
        shown = ", ".join(f"{k}={v:.4f}" for k, v in values.items() if isinstance(v, float))
        print(f"gpu-dag: {name}: {shown or 'no aggregate metrics'} (from {len(files)} subtask results)", file=sys.stderr)
    return 0
