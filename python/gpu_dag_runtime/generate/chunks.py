"""Seeds and chunks: one output file per random seed, and a job's slice of the input written to its
own chunk file, marked done, and merged into the final file by the chunk that finds every one done."""
from __future__ import annotations

import fcntl
import os
import shutil


def chunk_slice(num_rows: int, chunk_id: int, num_chunks: int) -> list[int]:
    """Input row indices of chunk ``chunk_id`` of ``num_chunks`` (contiguous, sizes differing by at most 1)."""
    start_i = chunk_id * num_rows // num_chunks
    end_i = (chunk_id + 1) * num_rows // num_chunks
    return list(range(start_i, end_i))


def chunk_path(path: str, chunk_id: int) -> str:
    """The file chunk ``chunk_id`` of final file ``path`` writes."""
    stem, ext = os.path.splitext(path)
    return f"{stem}_chunk{chunk_id}{ext or '.jsonl'}"


def done_marker(path: str, chunk_id: int) -> str:
    """The marker saying chunk ``chunk_id`` of final file ``path`` is complete."""
    stem, _ext = os.path.splitext(path)
    return f"{stem}_chunk{chunk_id}.done"


def seed_paths(output_file: str, num_seeds: int) -> list[tuple[int, str]]:
    """``(seed index, final file)`` per seed: ``output_file`` alone, or ``output-rs{seed}.jsonl`` beside it."""
    if num_seeds <= 1:
        return [(0, output_file)]
    directory = os.path.dirname(output_file) or "."
    return [(s, os.path.join(directory, f"output-rs{s}.jsonl")) for s in range(num_seeds)]


def merge_chunks(final: str, num_chunks: int) -> bool:
    """Called by a finished chunk: merges when every chunk is done. True when this call merged."""
    lock_path = final + ".merge.lock"
    with open(lock_path, "a+") as lock:
        fcntl.flock(lock.fileno(), fcntl.LOCK_EX)
        try:
            if not all(os.path.exists(done_marker(final, k)) for k in range(num_chunks)):
                return False
            tmp = final + ".merging"
            with open(tmp, "w", encoding="utf-8") as out:
                for k in range(num_chunks):
                    with open(chunk_path(final, k), encoding="utf-8") as part:
                        shutil.copyfileobj(part, out)
                out.flush()
                os.fsync(out.fileno())
            os.replace(tmp, final)
            for k in range(num_chunks):
                for p in (chunk_path(final, k), done_marker(final, k)):
                    try:
                        os.unlink(p)
                    except FileNotFoundError:
                        pass
            return True
        finally:
            fcntl.flock(lock.fileno(), fcntl.LOCK_UN)


def mark_done(final: str, chunk_id: int) -> None:
    """Marks chunk ``chunk_id`` of ``final`` complete (atomic rename)."""
    marker = done_marker(final, chunk_id)
    tmp = marker + ".tmp"
    with open(tmp, "w") as f:
        f.write(str(os.getpid()))
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, marker)
