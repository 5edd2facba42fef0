"""Writes the outputs manifest, ``$GPU_DAG_OUTPUT_DIR/outputs.json``.

Shape (strict, ``version`` 1; the TypeScript side validates it with zod)::

    {"version": 1, "simulated": false,
     "models": [{"name": str, "path": str, "framework": str}],
     "artifacts": [{"name": str, "path": str}],
     "metrics": {"name": number},
     "series": {"name": [{"iteration": number, "value": number}]},   # optional
     "groups": {"group": ["subtask", ...]}}                            # optional

``report_scalar(name, value, iteration)`` keeps every value of a metric reported more than once
(ClearML's ``report_scalar``): the series goes to ``series`` and its last value to ``metrics``.
``set_groups`` records lm-eval's ``group_subtasks`` so reports can show a group's direct members.

Writes are atomic (temp file, fsync, rename, fsync of the directory). A manifest already in the
directory is merged: entries with the same name are replaced, others kept, so several runners in
one attempt directory add up. Metrics that are not finite numbers (NaN, inf, None, strings) are
dropped with a warning on stderr.
"""
from __future__ import annotations

import contextlib
import json
import math
import os
import sys
import tempfile
from typing import Any, Iterator, TextIO

MANIFEST_NAME = "outputs.json"


def _warn(message: str) -> None:
    sys.stderr.write(f"gpu-dag: warning: {message}\n")


def finite_number(value: Any) -> float | int | None:
    """``value`` as an int/float when it is a finite real number (bools excluded), else None."""
    if isinstance(value, (bool, str, bytes)) or value is None:
        return None
    if isinstance(value, int):
        return value
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


class Manifest:
    """Collects models, artifacts and metrics; :meth:`write` stores them atomically."""

    def __init__(self, output_dir: str) -> None:
        self.output_dir = os.path.abspath(output_dir)
        self.models: list[dict[str, str]] = []
        self.artifacts: list[dict[str, str]] = []
        self.metrics: dict[str, float | int] = {}
        self.series: dict[str, list[dict[str, float | int]]] = {}
        self.groups: dict[str, list[str]] = {}

    @property
    def path(self) -> str:
        return os.path.join(self.output_dir, MANIFEST_NAME)

    def add_model(self, name: str, path: str, framework: str = "transformers") -> None:
        if not name or not path or not framework:
            raise ValueError("model name, path and framework must be non-empty")
        self.models = [m for m in self.models if m["name"] != name]
        self.models.append({"name": str(name), "path": os.path.abspath(path), "framework": str(framework)})

    def add_artifact(self, name: str, path: str) -> None:
        if not name or not path:
            raise ValueError("artifact name and path must be non-empty")
        self.artifacts = [a for a in self.artifacts if a["name"] != name]
        self.artifacts.append({"name": str(name), "path": os.path.abspath(path)})

    def add_metric(self, name: str, value: Any) -> bool:
        """Adds a metric; returns False (and warns) when the value is not a finite number."""
        number = finite_number(value)
        if number is None:
            _warn(f"metric {name!r} dropped: {value!r} is not a finite number")
            return False
        self.metrics[str(name)] = number
        return True

    def add_metrics(self, metrics: dict[str, Any]) -> None:
        for name, value in metrics.items():
            self.add_metric(name, value)

    def report_scalar(self, name: str, value: Any, iteration: Any = None) -> bool:
        """Appends one point to metric ``name``'s series (iteration defaults to the next index)."""
        number = finite_number(value)
        if number is None:
            _warn(f"metric {name!r} point dropped: {value!r} is not a finite number")
            return False
        points = self.series.setdefault(str(name), [])
        step = finite_number(iteration) if iteration is not None else len(points)
        if step is None:
            _warn(f"metric {name!r} point dropped: iteration {iteration!r} is not a finite number")
            return False
        points.append({"iteration": step, "value": number})
        self.metrics[str(name)] = number
        return True

    def set_groups(self, groups: dict[str, Any]) -> None:
        """Group name → its direct subtasks (lm-eval's ``group_subtasks``); empty groups are dropped."""
        for group, members in (groups or {}).items():
            names = [str(m) for m in (members or []) if m]
            if names:
                self.groups[str(group)] = names

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "version": 1,
            "simulated": False,
            "models": list(self.models),
            "artifacts": list(self.artifacts),
            "metrics": dict(self.metrics),
        }
        if self.series:
            data["series"] = {k: list(v) for k, v in self.series.items()}
        if self.groups:
            data["groups"] = {k: list(v) for k, v in self.groups.items()}
        return data

    def _merge_existing(self) -> None:
        try:
            with open(self.path, encoding="utf-8") as f:
                old = json.load(f)
        except FileNotFoundError:
            return
        except (OSError, ValueError) as error:
            _warn(f"existing {self.path} unreadable ({error}); overwriting it")
            return
        if not isinstance(old, dict):
            return
        mine_models = {m["name"] for m in self.models}
        mine_artifacts = {a["name"] for a in self.artifacts}
        models = [
            {"name": m["name"], "path": m["path"], "framework": m.get("framework", "transformers")}
            for m in old.get("models", [])
            if isinstance(m, dict) and m.get("name") and m.get("path") and m["name"] not in mine_models
        ]
        artifacts = [
            {"name": a["name"], "path": a["path"]}
            for a in old.get("artifacts", [])
            if isinstance(a, dict) and a.get("name") and a.get("path") and a["name"] not in mine_artifacts
        ]
        self.models = models + self.models
        self.artifacts = artifacts + self.artifacts
        metrics = {}
        for k, v in (old.get("metrics") or {}).items():
            n = finite_number(v)
            if n is not None:
                metrics[k] = n
        metrics.update(self.metrics)
        self.metrics = metrics
        old_series = old.get("series") if isinstance(old.get("series"), dict) else {}
        for name, points in old_series.items():
            if name not in self.series and isinstance(points, list):
                kept = [p for p in points if isinstance(p, dict) and finite_number(p.get("iteration")) is not None and finite_number(p.get("value")) is not None]
                self.series[name] = [{"iteration": p["iteration"], "value": p["value"]} for p in kept]
        old_groups = old.get("groups") if isinstance(old.get("groups"), dict) else {}
        for group, members in old_groups.items():
            if group not in self.groups and isinstance(members, list):
                self.groups[group] = [str(m) for m in members if isinstance(m, str) and m]

    def write(self, merge: bool = True) -> str:
        """Writes ``outputs.json`` atomically and returns its path."""
        os.makedirs(self.output_dir, exist_ok=True)
        if merge:
            self._merge_existing()
        data = json.dumps(self.to_dict(), indent=2, allow_nan=False)
        write_atomic(self.path, data + "\n")
        return self.path


@contextlib.contextmanager
def atomic_writer(path: str, prefix: str = ".tmp-", suffix: str | None = None) -> Iterator[TextIO]:
    """A text file that becomes ``path`` only when the block ends without an error: a temp file in
    the same directory, fsynced, renamed over ``path``, then the directory fsynced. A reader sees
    the old file or the whole new one, never a part; on an error the temp file is removed."""
    directory = os.path.dirname(os.path.abspath(path)) or "."
    fd, tmp = tempfile.mkstemp(prefix=prefix, suffix="-" + os.path.basename(path) if suffix is None else suffix, dir=directory)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    try:
        dfd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(dfd)
        finally:
            os.close(dfd)
    except OSError:
        pass


def write_atomic(path: str, text: str) -> None:
    """Writes ``text`` to ``path`` atomically (see :func:`atomic_writer`)."""
    with atomic_writer(path) as f:
        f.write(text)


def write_manifest(output_dir: str, models=(), artifacts=(), metrics=None, merge: bool = True) -> str:
    """One-call form: ``models`` as dicts (name, path, framework), ``artifacts`` as dicts (name, path)."""
    manifest = Manifest(output_dir)
    for m in models:
        manifest.add_model(m["name"], m["path"], m.get("framework", "transformers"))
    for a in artifacts:
        manifest.add_artifact(a["name"], a["path"])
    manifest.add_metrics(metrics or {})
    return manifest.write(merge=merge)
