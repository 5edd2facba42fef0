"""The JSONL files: reading the input, and counting (and keeping) the complete rows of an output to resume after."""
from __future__ import annotations

import json
import os

from .._common import RunnerError


def read_jsonl(path: str) -> list[dict]:
    """The rows of the input file (blank lines skipped); a line that is not a JSON object is an error."""
    rows = []
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except ValueError as error:
                raise RunnerError(f"input file {path} line {n} is not JSON: {error}")
            if not isinstance(row, dict):
                raise RunnerError(f"input file {path} line {n} is not a JSON object")
            rows.append(row)
    return rows


def load_input(path: str, max_samples) -> tuple[str, list[dict]]:
    """``(absolute path, rows)`` of the input file, cut to ``++max_samples`` when that is ≥ 0."""
    input_file = os.path.abspath(os.path.expanduser(path))
    if not os.path.isfile(input_file):
        raise RunnerError(f"input file not found: {input_file}")
    rows = read_jsonl(input_file)
    if isinstance(max_samples, int) and not isinstance(max_samples, bool) and max_samples >= 0:
        rows = rows[:max_samples]
    return input_file, rows


def count_filled(path: str, key: str, repair: bool = False) -> int:
    """Number of leading complete rows (valid JSON objects with ``key``) in ``path``.

    Read-only unless ``repair``: then a torn or invalid tail is cut off (atomically: a temp file
    renamed over it) so a resumed job appends after the last complete row. Counting never rewrites
    the file, since another chunk's job may be merging it at that moment.
    """
    if not os.path.exists(path):
        return 0
    keep: list[str] = []
    complete = True
    with open(path, encoding="utf-8") as f:
        for line in f:
            if not line.endswith("\n"):
                complete = False
                break
            try:
                row = json.loads(line)
            except ValueError:
                complete = False
                break
            if not isinstance(row, dict) or key not in row:
                complete = False
                break
            keep.append(line)
    if repair and not complete:
        tmp = f"{path}.{os.getpid()}.repair"
        with open(tmp, "w", encoding="utf-8") as f:
            f.writelines(keep)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    return len(keep)
