"""Shards: the file one (seed, chunk) element writes, keyed by the input rows it covers.

A shard of final file ``<dir>/<stem>.jsonl`` (``output-rs{S}.jsonl``, or ``output.jsonl`` with one
seed) is ``<shard dir>/<stem>.chunk-{C}-of-{N}.rows-{a}-{b}.jsonl``: chunk ``C`` of ``N``, input
rows ``a`` (inclusive) to ``b`` (exclusive), as Python's ``range(a, b)``. Line ``i`` of the shard is
the output of input row ``a + i``. The name says everything the merge checks, so a shard written
for another input size, chunk count or seed can never be taken for this one.
"""
from __future__ import annotations

import os
import re
from dataclasses import dataclass

from .chunks import chunk_slice

_SHARD = re.compile(r"^(?P<stem>.+)\.chunk-(?P<chunk>\d+)-of-(?P<of>\d+)\.rows-(?P<start>\d+)-(?P<end>\d+)\.jsonl$")


@dataclass(frozen=True)
class ShardName:
    """What a shard's file name says."""

    stem: str
    chunk: int
    num_chunks: int
    start: int
    end: int

    @property
    def size(self) -> int:
        """Rows the shard must hold when complete."""
        return self.end - self.start

    def file_name(self) -> str:
        return f"{self.stem}.chunk-{self.chunk}-of-{self.num_chunks}.rows-{self.start}-{self.end}.jsonl"


def chunk_range(num_rows: int, chunk_id: int, num_chunks: int) -> tuple[int, int]:
    """``(start, end)`` input rows of chunk ``chunk_id`` of ``num_chunks`` (end exclusive)."""
    rows = chunk_slice(num_rows, chunk_id, num_chunks)
    start = chunk_id * num_rows // num_chunks
    return start, start + len(rows)


def final_stem(final: str) -> str:
    """``/x/output-rs1.jsonl`` → ``output-rs1``."""
    return os.path.splitext(os.path.basename(final))[0]


def expected_shard(final: str, num_rows: int, chunk_id: int, num_chunks: int) -> ShardName:
    """The shard chunk ``chunk_id`` of ``num_chunks`` writes for final file ``final`` over ``num_rows`` input rows."""
    start, end = chunk_range(num_rows, chunk_id, num_chunks)
    return ShardName(final_stem(final), chunk_id, num_chunks, start, end)


def shard_path(shard_dir: str, name: ShardName) -> str:
    return os.path.join(shard_dir, name.file_name())


def parse_shard_name(path: str) -> ShardName | None:
    """The shard name of ``path``, or None when its file name is not a shard's."""
    match = _SHARD.match(os.path.basename(path))
    if not match:
        return None
    return ShardName(match["stem"], int(match["chunk"]), int(match["of"]), int(match["start"]), int(match["end"]))


def shards_in(directory: str, stem: str) -> list[str]:
    """Paths of the shards of final file stem ``stem`` in ``directory`` (any chunk count or range)."""
    try:
        names = os.listdir(directory)
    except FileNotFoundError:
        return []
    found = []
    for name in sorted(names):
        parsed = parse_shard_name(name)
        if parsed is not None and parsed.stem == stem:
            found.append(os.path.join(directory, name))
    return found
