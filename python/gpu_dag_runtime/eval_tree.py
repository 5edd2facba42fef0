"""The leaf subtasks of lm-eval tasks and groups, found by lm-eval's own TaskManager without loading
a single dataset (so without the hub), and the real task of one leaf, built as the group builds it.

``TaskManager.load`` builds groups with lm-eval's ``TaskFactory``: group names, nesting (inline
subgroups become ``parent::name``), tags, the overrides a group passes down to its children, and
each group's ``aggregate_metric_list``. Only the construction of a leaf task downloads its dataset.
:func:`load_tree` runs that same ``load`` with the factory's leaf constructors deferred: each leaf is
a :class:`DeferredLeaf` holding exactly what the factory would have built it from (the index entry
and the overrides, or an inline task's config). :func:`build_leaf` later builds the real task from
that — the same call the factory makes in an unsplit run — so a subtask run alone evaluates the
task exactly as the group's run does. The groups :func:`load_tree` returns are lm-eval's own
``Group`` objects, which is what recombination aggregates with.
"""
from __future__ import annotations

import contextlib
import copy
import difflib
import os
import threading
from typing import Any

from ._common import EXIT_USAGE, RunnerError

_PATCH_LOCK = threading.Lock()


def task_manager(include_path: str | None):
    """lm-eval's ``TaskManager`` over the built-in tasks and ``include_path`` (checked)."""
    from lm_eval.tasks import TaskManager

    include = None
    if include_path:
        include = os.path.abspath(os.path.expanduser(include_path))
        if not os.path.isdir(include):
            raise RunnerError(f"--include-path {include_path} is not a directory")
    return TaskManager(include_path=include)


def check_known(manager, tasks: list[str], include_path: str | None) -> None:
    """Unknown task names → one error with did-you-means."""
    known = set(manager.all_tasks)
    unknown = [t for t in tasks if t not in known]
    if unknown:
        hints = []
        for t in unknown:
            close = difflib.get_close_matches(t, list(known), n=3)
            hints.append(f"{t!r}" + (f" (did you mean {', '.join(close)}?)" if close else ""))
        raise RunnerError(f"unknown lm-eval task(s): {'; '.join(hints)}" + ("" if include_path else "; pass --include-path for local task YAMLs"), EXIT_USAGE)


def _leaf_class():
    from lm_eval.api.task import Task

    class DeferredLeaf(Task):
        """A leaf task not built yet: lm-eval's ``Task`` type (so ``Group`` walks and aggregates it),
        holding what the factory would build it from. Never evaluated."""

        def __init__(self, name: str, entry: Any = None, overrides: dict | None = None, inline_config: dict | None = None) -> None:
            # No Task.__init__: that downloads the dataset.
            self._name = name
            self.entry = entry
            self.overrides = copy.deepcopy(overrides)
            self.inline_config = copy.deepcopy(inline_config)

        @property
        def task_name(self) -> str:
            return self._name

        def _never(self, *_a: Any, **_k: Any):
            raise RuntimeError(f"{self._name} is a deferred leaf; build it with build_leaf()")

        has_training_docs = has_validation_docs = has_test_docs = _never
        doc_to_text = doc_to_target = construct_requests = process_results = _never
        aggregation = higher_is_better = _never

    return DeferredLeaf


@contextlib.contextmanager
def _deferred_leaves(manager):
    """Within: ``manager.load`` builds groups for real and leaves as ``DeferredLeaf``s."""
    import lm_eval.tasks._factory as factory_module
    from lm_eval.tasks._factory import TaskFactory

    leaf = _leaf_class()

    class DeferringFactory(TaskFactory):
        def _build_task(self, entry, overrides):  # the registry-task route (tasks, tags, Python tasks)
            name = (overrides or {}).get("task") or entry.name
            return leaf(name, entry=entry, overrides=overrides)

    def inline_task(config=None, **_kwargs):  # the inline-task route: ConfigurableTask(config=task_cfg)
        return leaf(config["task"], inline_config=config)

    with _PATCH_LOCK:
        real_factory, real_task_class = manager._factory, factory_module.ConfigurableTask
        manager._factory = DeferringFactory(meta=real_factory._meta)
        factory_module.ConfigurableTask = inline_task
        try:
            yield
        finally:
            manager._factory = real_factory
            factory_module.ConfigurableTask = real_task_class


def load_tree(manager, tasks: list[str]) -> dict:
    """``manager.load(tasks)`` with deferred leaves: ``{"tasks": {leaf: DeferredLeaf}, "groups": {name: Group}, "group_map": ...}``."""
    with _deferred_leaves(manager):
        try:
            return manager.load(list(tasks))
        except (KeyError, ValueError, TypeError) as error:
            raise RunnerError(f"lm-eval could not resolve tasks {', '.join(tasks)}: {error}")


def leaves_in_order(loaded: dict) -> list[str]:
    """Leaf subtask names in lm-eval's order (as an unsplit run lists them)."""
    return list(loaded["tasks"].keys())


def build_leaf(manager, leaf) -> Any:
    """The real task of ``leaf``, built with the same call (and overrides) the factory makes for it in a group."""
    from lm_eval.api.task import ConfigurableTask

    if leaf.inline_config is not None:
        return ConfigurableTask(config=copy.deepcopy(leaf.inline_config))
    return manager._factory._build_task(leaf.entry, copy.deepcopy(leaf.overrides))


def tree_summary(loaded: dict, requested: list[str]) -> dict:
    """A JSON-able picture of the tree: requested names, leaves, and each group's children and aggregation."""
    from dataclasses import asdict

    groups = {}
    for name, group in loaded["groups"].items():
        groups[name] = {
            "children": group.child_names,
            "leaves": [t.task_name for t in group.get_all_tasks()],
            "aggregate_metric_list": [
                {k: (v if isinstance(v, (str, int, float, bool, list, type(None))) else str(v)) for k, v in asdict(a).items()}
                for a in (group.aggregate_metric_list or [])
            ],
        }
    return {"requested": requested, "subtasks": leaves_in_order(loaded), "groups": groups}
