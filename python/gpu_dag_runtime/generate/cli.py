"""``main``: the built-in client run — arguments checked, input sliced, the server started, every
seed's file generated, chunks merged, the manifest written; or one (seed, chunk) element
(``--seed-index``, :mod:`.element`); or ``merge`` (:mod:`.merge`)."""
from __future__ import annotations

import os
import sys
import time

from .._common import RunnerError, check_model, require
from .arguments import build_parser, parse_main_args
from .chunks import chunk_path, chunk_slice, mark_done, seed_paths
from .client import Client, generate_file
from .element import check_element_args, run_element
from .jsonl import count_filled, load_input
from .merge import merge_main
from .model_server import ModelServer, install_signal_handlers
from .outputs import output_paths, produced_files, write_manifest
from .prompts import build_messages, load_prompt_config
from .script import run_script


def main(argv: list[str] | None = None) -> int:
    """Runs the runner with ``argv`` (default: ``sys.argv[1:]``); returns the exit code (the client's)."""
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv[:1] == ["merge"]:
        return merge_main(argv[1:])
    parser = build_parser()
    args, rest = parser.parse_known_args(argv)
    check_element_args(args)
    require("yaml")
    if args.server_type == "openai" and not args.server_address:
        raise RunnerError("--server-type openai needs --server-address (the running server's base URL)")
    if args.script:
        return run_script(args, rest)
    options = parse_main_args(rest)
    if args.num_chunks < 1 or not (0 <= args.chunk_id < args.num_chunks):
        raise RunnerError(f"--chunk-id must be in [0, {args.num_chunks}) (got {args.chunk_id} with --num-chunks {args.num_chunks})")
    if args.num_random_seeds < 1:
        raise RunnerError("--num-random-seeds must be at least 1")
    prompt_path = args.prompt_config or options["prompt_config"]
    if args.prompt_config and options["prompt_config"] and args.prompt_config != options["prompt_config"]:
        raise RunnerError("both --prompt-config and ++prompt_config given, with different values")
    config = load_prompt_config(prompt_path)
    max_concurrency = args.max_concurrency or options["max_concurrent_requests"] or 16

    _input_file, rows = load_input(args.input_file, options["max_samples"])
    n = len(rows)
    indices = chunk_slice(n, args.chunk_id, args.num_chunks)

    output_file, manifest_dir = output_paths(args)

    model = args.model if args.server_type == "openai" else check_model(args.model)
    # Build the prompts now: a template error is the user's, found before a server is started.
    for i in indices[:1]:
        build_messages(config, rows[i], i, options["system_message"])

    if args.seed_index is not None:
        return run_element(args, model, rows, config, options, output_file, manifest_dir, max_concurrency)

    # Work per seed; a seed whose final file is complete is skipped.
    work: list[tuple[int, str, str]] = []  # (seed, final file, file this job writes)
    for seed_index, final in seed_paths(output_file, args.num_random_seeds):
        if options["skip_filled"] and os.path.exists(final) and count_filled(final, options["generation_key"]) >= n:
            continue
        target = chunk_path(final, args.chunk_id) if args.num_chunks > 1 else final
        work.append((seed_index, final, target))

    install_signal_handlers()
    log_path = os.path.join(manifest_dir, "server.log")
    started = time.time()
    with ModelServer(args, model, log_path, start=bool(work)) as server:
        client = Client(server.base_url, model, options, args.request_timeout_s, os.environ.get("OPENAI_API_KEY"))
        base_seed = int(options["inference.random_seed"] or 0)
        for seed_index, final, target in work:
            written = generate_file(client, rows, indices, target, base_seed + seed_index, config, options, max_concurrency)
            print(f"gpu-dag: wrote {written} rows to {target}", file=sys.stderr)
            if args.num_chunks > 1:
                mark_done(final, args.chunk_id)
        produced, total_rows = produced_files(output_file, args, options["generation_key"])

    metrics = {"generation/num_rows": total_rows, "generation/duration_s": round(time.time() - started, 3)}
    write_manifest(manifest_dir, produced, log_path, metrics)
    return 0
