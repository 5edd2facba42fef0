"""A map step's elements file (``${<map>[*].elements}``): one entry per element, gaps explicit.

Read leniently, since it is the controller's: a JSON array (or ``{"elements": [...]}``) of objects
with ``status`` (``succeeded``/``cached`` count as done), ``item``, ``index``/``key``/``label``,
``reason`` when not done, and ``outputs``, an outputs manifest whose ``artifacts`` are a list of
``{name, path|url}`` (or a mapping name → path or ``{path|url}``).
"""
from __future__ import annotations

import json
import os

from ._common import RunnerError

DONE = ("succeeded", "cached")


def artifact_path(outputs: object, name: str) -> str | None:
    """The path of artifact ``name`` in an element's outputs, or None."""
    if not isinstance(outputs, dict):
        return None
    artifacts = outputs.get("artifacts")
    if isinstance(artifacts, list):
        for a in artifacts:
            if isinstance(a, dict) and a.get("name") == name:
                return a.get("path") or a.get("url")
    elif isinstance(artifacts, dict) and name in artifacts:
        value = artifacts[name]
        if isinstance(value, str):
            return value
        if isinstance(value, dict):
            return value.get("path") or value.get("url")
    return None


def read_elements(path: str, artifact: str, flag: str = "--elements") -> tuple[list[str], list[dict]]:
    """``(paths of artifact ``artifact`` of the done elements, elements without it)``."""
    try:
        with open(os.path.expanduser(path), encoding="utf-8") as f:
            data = json.load(f)
    except (OSError, ValueError) as error:
        raise RunnerError(f"{flag} {path}: cannot read it as JSON: {error}")
    elements = data.get("elements") if isinstance(data, dict) else data
    if not isinstance(elements, list):
        raise RunnerError(f"{flag} {path}: expected a JSON array of elements (or {{\"elements\": [...]}})")
    found, missing = [], []
    for n, element in enumerate(elements):
        if not isinstance(element, dict):
            raise RunnerError(f"{flag} {path}: element {n} is not an object")
        file = artifact_path(element.get("outputs"), artifact)
        if element.get("status", "succeeded") in DONE and file:
            found.append(os.path.abspath(os.path.expanduser(file)))
        else:
            missing.append(element)
    return found, missing


def element_text(element: dict) -> str:
    """``gen[seed=0,chunk=1] failed: exit code 1`` for messages."""
    label = element.get("label") or element.get("key") or f"element {element.get('index', '?')}"
    status = element.get("status", "without outputs")
    reason = element.get("reason")
    return f"{label} {status}" + (f": {reason}" if reason else "")


def paths_from_words(words: list[str], flag: str) -> list[str]:
    """Paths given as argv words, each a path or a JSON array of paths (how a list placeholder may arrive)."""
    paths: list[str] = []
    for word in words:
        text = word.strip()
        if text.startswith("["):
            try:
                value = json.loads(text)
            except ValueError as error:
                raise RunnerError(f"{flag} {text[:80]!r} looks like a JSON array but is not one: {error}")
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise RunnerError(f"{flag}: a JSON value must be an array of paths")
            paths.extend(value)
        elif text:
            paths.append(text)
    return [os.path.abspath(os.path.expanduser(p)) for p in paths]
