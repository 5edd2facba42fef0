"""``python -m gpu_dag_runtime.generate merge``: one seed's chunk shards into its final file.

    python -m gpu_dag_runtime.generate merge --input-file JSONL --num-chunks N
        [--seed-index S --num-random-seeds K] [--output-file JSONL] [--output-dir DIR]
        [--shards PATH ... | --elements JSON | --shard-dir DIR] [++max_samples=N] [++generation_key=KEY]

The final file is the one a single job writes for seed ``S``: ``output-rs{S}.jsonl`` beside
``--output-file`` (default ``output.jsonl`` in ``$GPU_DAG_OUTPUT_DIR``) when ``K > 1``, else
``--output-file`` itself. Its shards (see :mod:`.shards`) come from ``--shards`` (paths, or one JSON
array of paths), from ``--elements`` (the map's elements file: every element's ``shard`` artifact;
failed elements are named in the error), or else from ``--shard-dir`` (default: the final file's
directory).

Before anything is written, every chunk ``0..N-1`` must have its shard, for exactly the rows the
chunk covers over this input (``++max_samples`` applied), complete (as many rows as its range), each
row carrying its input row's fields; the shard rows must add up to the input rows. Otherwise the
merge exits 2 naming *every* missing, short, stale or foreign shard — it never merges what is
there and stops at the first gap. The final file is written to a temporary file in its directory,
fsynced and renamed over the final one (then the directory is fsynced), so a reader sees the old
file or the whole new one, and two merges of the same seed racing each other both leave a
complete file. Shards are kept.

Manifest: artifacts ``output`` (one seed) or ``output-rs{S}``, and ``merged`` (the same file, one
name for every seed); metrics ``generation/num_rows`` (rows merged = input rows),
``generation/num_shards``, ``generation/seed_index``.
"""
from __future__ import annotations

import argparse
import json
import os
import sys

from .._common import RunnerError
from ..manifest import atomic_writer
from ..elements import element_text, paths_from_words, read_elements
from .arguments import parse_main_args
from .chunks import seed_paths
from .jsonl import count_filled, load_input
from .outputs import output_paths, write_manifest
from .shards import ShardName, expected_shard, final_stem, parse_shard_name, shards_in


def build_merge_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m gpu_dag_runtime.generate merge", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--input-file", required=True, help="the input JSONL the elements generated from")
    p.add_argument("--num-chunks", type=int, required=True)
    p.add_argument("--seed-index", type=int, default=0)
    p.add_argument("--num-random-seeds", type=int, default=1)
    p.add_argument("--output-file", default=None, help="as the elements' --output-file (default: output.jsonl in the output dir)")
    p.add_argument("--output-dir", default=None, help="manifest directory when GPU_DAG_OUTPUT_DIR is unset")
    p.add_argument("--shards", nargs="+", default=None, help="shard paths (or one JSON array of paths)")
    p.add_argument("--elements", default=None, help="the map's elements JSON file (each element's 'shard' artifact)")
    p.add_argument("--shard-dir", default=None, help="directory to find the shards in (default: the final file's)")
    return p


def _chunk_of(element: dict) -> int | None:
    item = element.get("item")
    if isinstance(item, dict) and isinstance(item.get("chunk"), int):
        return item["chunk"]
    return None


def _check_rows(path: str, name: ShardName, rows: list[dict], key: str) -> str | None:
    """None when line ``i`` of the shard is input row ``start + i`` plus its generation; else why not."""
    with open(path, encoding="utf-8") as f:
        for i in range(name.size):
            row = json.loads(f.readline())
            source = rows[name.start + i]
            for field, value in source.items():
                if field not in (key, "num_generated_tokens") and row.get(field) != value:
                    return (f"{os.path.basename(path)} line {i + 1} is not input row {name.start + i} "
                            f"(field {field!r}: {row.get(field)!r} != {value!r})")
    return None


def plan_merge(final: str, rows: list[dict], num_chunks: int, candidates: list[str], explicit: bool,
               failed: list[dict], key: str, seed_index: int) -> list[tuple[str, ShardName]]:
    """The shard of every chunk, in chunk order; raises one error naming every problem."""
    n = len(rows)
    stem = final_stem(final)
    expected = [expected_shard(final, n, c, num_chunks) for c in range(num_chunks)]
    found: dict[int, str] = {}
    problems: list[str] = []
    stale: dict[int, list[str]] = {}
    for path in candidates:
        parsed = parse_shard_name(path)
        if parsed is None or parsed.stem != stem:
            if explicit:
                problems.append(f"{path} is not a shard of {os.path.basename(final)} "
                                f"(expected names like {expected[0].file_name()})")
            continue
        want = expected[parsed.chunk] if parsed.chunk < num_chunks and parsed.num_chunks == num_chunks else None
        if want is None or parsed != want:
            stale.setdefault(parsed.chunk, []).append(os.path.basename(path))
            if explicit:
                problems.append(f"{os.path.basename(path)} covers rows {parsed.start}-{parsed.end} of {parsed.num_chunks} "
                                f"chunks, not a chunk of {num_chunks} over these {n} input rows")
            continue
        if parsed.chunk in found and found[parsed.chunk] != path:
            problems.append(f"chunk {parsed.chunk} given twice: {found[parsed.chunk]} and {path}")
            continue
        found[parsed.chunk] = path
    failed_by_chunk: dict[int | None, list[str]] = {}
    for element in failed:
        failed_by_chunk.setdefault(_chunk_of(element), []).append(element_text(element))
    incomplete = 0
    total = 0
    for want in expected:
        where = f"chunk {want.chunk} (rows {want.start}-{want.end})"
        path = found.get(want.chunk)
        if path is None or not os.path.exists(path):
            incomplete += 1
            extra = failed_by_chunk.get(want.chunk, [])
            others = stale.get(want.chunk, [])
            problems.append(f"{where}: no shard {want.file_name()}"
                            + (f" ({'; '.join(extra)})" if extra else "")
                            + (f" (found only {', '.join(others)}: another input size or chunk count)" if others else ""))
            continue
        filled = count_filled(path, key)
        if filled != want.size:
            incomplete += 1
            problems.append(f"{where}: {path} has {filled} complete rows of {want.size}" if filled < want.size
                            else f"{where}: {path} has {filled} rows, more than the {want.size} of its range")
            continue
        mismatch = _check_rows(path, want, rows, key)
        if mismatch:
            problems.append(f"{where}: {mismatch}")
            continue
        total += filled
    if not problems and total != n:
        problems.append(f"the shards hold {total} rows but the input has {n}")
    if problems:
        unplaced = failed_by_chunk.get(None, [])
        head = (f"cannot merge seed {seed_index} into {final}: {incomplete} of {num_chunks} chunks missing or short"
                if incomplete else f"cannot merge seed {seed_index} into {final}")
        tail = f"; elements without a shard: {'; '.join(unplaced)}" if unplaced else ""
        raise RunnerError(f"{head} — " + "; ".join(problems) + tail)
    return [(found[w.chunk], w) for w in expected]


def write_merged(final: str, shards: list[tuple[str, ShardName]]) -> int:
    """Concatenates the shards' rows into ``final`` atomically; returns the rows written."""
    written = 0
    with atomic_writer(final, prefix=f".{os.path.basename(final)}.", suffix=".merging") as out:
        for path, name in shards:
            with open(path, encoding="utf-8") as part:
                for _ in range(name.size):
                    out.write(part.readline())
                    written += 1
    return written

def merge_main(argv: list[str]) -> int:
    """``generate merge``: see the module docstring."""
    # ++key=value words first: --shards takes every word after it.
    plus = [w for w in argv if w.startswith("++")]
    args, rest = build_merge_parser().parse_known_args([w for w in argv if not w.startswith("++")])
    if rest:
        raise RunnerError(f"generate merge: unexpected arguments {' '.join(rest)}")
    options = parse_main_args(plus)
    if args.num_chunks < 1:
        raise RunnerError(f"--num-chunks must be at least 1 (got {args.num_chunks})")
    if args.num_random_seeds < 1 or not (0 <= args.seed_index < args.num_random_seeds):
        raise RunnerError(f"--seed-index must be in [0, {args.num_random_seeds}) (got {args.seed_index} with --num-random-seeds {args.num_random_seeds})")
    if sum(x is not None for x in (args.shards, args.elements, args.shard_dir)) > 1:
        raise RunnerError("give one of --shards, --elements, --shard-dir")
    key = options["generation_key"]
    _input, rows = load_input(args.input_file, options["max_samples"])
    output_file, manifest_dir = output_paths(args)
    final = dict(seed_paths(output_file, args.num_random_seeds))[args.seed_index]
    failed: list[dict] = []
    if args.shards is not None:
        candidates, explicit = paths_from_words(args.shards, "--shards"), True
    elif args.elements is not None:
        (candidates, failed), explicit = read_elements(args.elements, "shard"), False
        # Another seed's failed elements are that seed's merge's business.
        failed = [e for e in failed if not (isinstance(e.get("item"), dict) and "seed" in e["item"] and e["item"]["seed"] != args.seed_index)]
    else:
        shard_dir = os.path.abspath(os.path.expanduser(args.shard_dir)) if args.shard_dir else os.path.dirname(final)
        candidates, explicit = shards_in(shard_dir, final_stem(final)), False
    shards = plan_merge(final, rows, args.num_chunks, candidates, explicit, failed, key, args.seed_index)
    written = write_merged(final, shards)
    print(f"gpu-dag: merged {len(shards)} shards ({written} rows) into {final}", file=sys.stderr)
    name = "output" if args.num_random_seeds <= 1 else f"output-rs{args.seed_index}"
    metrics = {"generation/num_rows": written, "generation/num_shards": len(shards), "generation/seed_index": args.seed_index}
    write_manifest(manifest_dir, [(name, final), ("merged", final)], None, metrics)
    return 0
