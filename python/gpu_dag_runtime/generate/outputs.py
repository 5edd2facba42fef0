"""Where the runner writes: the output file and manifest directory, and the manifest itself."""
from __future__ import annotations

import argparse
import os
import sys
from typing import Any

from .._common import RunnerError
from .chunks import chunk_path, done_marker, merge_chunks, seed_paths
from .jsonl import count_filled


def output_paths(args: argparse.Namespace) -> tuple[str, str]:
    """(output file, manifest directory) from ``--output-file``, ``GPU_DAG_OUTPUT_DIR``, ``--output-dir``."""
    out_dir = os.environ.get("GPU_DAG_OUTPUT_DIR") or args.output_dir
    if args.output_file:
        output_file = os.path.abspath(os.path.expanduser(args.output_file))
    elif out_dir:
        output_file = os.path.join(os.path.abspath(os.path.expanduser(out_dir)), "output.jsonl")
    else:
        raise RunnerError("no output: pass --output-file, or set GPU_DAG_OUTPUT_DIR / --output-dir")
    os.makedirs(os.path.dirname(output_file), exist_ok=True)
    manifest_dir = os.path.abspath(os.path.expanduser(out_dir)) if out_dir else os.path.dirname(output_file)
    os.makedirs(manifest_dir, exist_ok=True)
    return output_file, manifest_dir


def write_manifest(manifest_dir: str, artifacts: list[tuple[str, str]], log_path: str | None, metrics: dict[str, Any]) -> None:
    """``outputs.json`` in ``manifest_dir``: ``artifacts``, then ``server_log`` when there is one, then ``metrics``."""
    from ..manifest import Manifest

    manifest = Manifest(manifest_dir)
    for name, path in artifacts:
        manifest.add_artifact(name, path)
    if log_path and os.path.exists(log_path):
        manifest.add_artifact("server_log", log_path)
    for name, value in metrics.items():
        manifest.add_metric(name, value)
    manifest.write()


def produced_files(output_file: str, args: argparse.Namespace, generation_key: str) -> tuple[list[tuple[str, str]], int]:
    """``([(artifact name, file)], rows in them)`` of what this job leaves, per seed: the final file, or
    (a chunk that did not merge) its chunk file; merges the chunks when every one is done."""
    produced: list[tuple[str, str]] = []
    total_rows = 0
    for seed_index, final in seed_paths(output_file, args.num_random_seeds):
        name = "output" if args.num_random_seeds <= 1 else f"output-rs{seed_index}"
        if args.num_chunks > 1 and not os.path.exists(final):
            if merge_chunks(final, args.num_chunks):
                print(f"gpu-dag: merged {args.num_chunks} chunks into {final}", file=sys.stderr)
        if os.path.exists(final) and (args.num_chunks == 1 or not os.path.exists(done_marker(final, args.chunk_id))):
            produced.append((name, final))
            total_rows += count_filled(final, generation_key)
        else:
            part = chunk_path(final, args.chunk_id)
            produced.append((f"{name}_chunk{args.chunk_id}", part))
            total_rows += count_filled(part, generation_key)
    return produced, total_rows
