"""One (seed, chunk) element of a fanned-out generation (``--seed-index S --chunk-id C --num-chunks N``).

The element generates only seed ``S``'s rows of chunk ``C``, with its own server, into its shard
(:mod:`.shards`: ``<stem>.chunk-{C}-of-{N}.rows-{a}-{b}.jsonl`` in ``--shard-dir``, default the
final file's directory). Resume is per shard: with ``++skip_filled=true`` (the default) its complete
rows are kept and only the rest is requested; a complete shard starts no server. It never merges:
``python -m gpu_dag_runtime.generate merge`` does, once, after every chunk of the seed succeeded.

Manifest: artifacts ``shard`` and ``server_log``; metrics ``generation/num_rows`` (rows in the
shard), ``generation/row_start``, ``generation/row_end`` (exclusive), ``generation/seed_index``,
``generation/chunk_id``, ``generation/duration_s``.
"""
from __future__ import annotations

import argparse
import os
import sys
import time

from .._common import RunnerError
from .chunks import seed_paths
from .client import Client, generate_file
from .jsonl import count_filled
from .model_server import ModelServer, install_signal_handlers
from .outputs import write_manifest
from .shards import expected_shard, shard_path


def check_element_args(args: argparse.Namespace) -> None:
    """``--seed-index`` in range; exclusive with ``--script``."""
    if args.seed_index is None:
        return
    if args.script:
        raise RunnerError("--seed-index (one element of a fanned-out generation) needs the built-in client, not --script")
    if not (0 <= args.seed_index < args.num_random_seeds):
        raise RunnerError(f"--seed-index must be in [0, {args.num_random_seeds}) (got {args.seed_index} with --num-random-seeds {args.num_random_seeds})")


def run_element(args: argparse.Namespace, model: str, rows: list[dict], config: dict, options: dict,
                output_file: str, manifest_dir: str, max_concurrency: int) -> int:
    """Generates this element's shard; see the module docstring."""
    final = dict(seed_paths(output_file, args.num_random_seeds))[args.seed_index]
    shard_dir = os.path.abspath(os.path.expanduser(args.shard_dir)) if args.shard_dir else os.path.dirname(final)
    os.makedirs(shard_dir, exist_ok=True)
    name = expected_shard(final, len(rows), args.chunk_id, args.num_chunks)
    target = shard_path(shard_dir, name)
    key = options["generation_key"]
    indices = list(range(name.start, name.end))
    if not options["skip_filled"] and os.path.exists(target):
        os.unlink(target)
    done = count_filled(target, key, repair=True)
    if done > name.size:
        raise RunnerError(f"shard {target} has {done} rows, more than the {name.size} of rows {name.start}-{name.end}; remove it")
    install_signal_handlers()
    log_path = os.path.join(manifest_dir, "server.log")
    started = time.time()
    with ModelServer(args, model, log_path, start=done < name.size) as server:
        if done < name.size:
            client = Client(server.base_url, model, options, args.request_timeout_s, os.environ.get("OPENAI_API_KEY"))
            seed = int(options["inference.random_seed"] or 0) + args.seed_index
            written = generate_file(client, rows, indices, target, seed, config, options, max_concurrency)
            print(f"gpu-dag: wrote {written - done} rows to {target} ({done} were there)", file=sys.stderr)
        else:
            print(f"gpu-dag: {target}: all {name.size} rows already filled", file=sys.stderr)
    if not os.path.exists(target):
        open(target, "a", encoding="utf-8").close()  # an empty chunk (more chunks than rows) is still a shard
    metrics = {
        "generation/num_rows": count_filled(target, key),
        "generation/row_start": name.start,
        "generation/row_end": name.end,
        "generation/seed_index": args.seed_index,
        "generation/chunk_id": args.chunk_id,
        "generation/duration_s": round(time.time() - started, 3),
    }
    write_manifest(manifest_dir, [("shard", target)], log_path, metrics)
    return 0
