"""Served generation, NeMo-Skills style: start a model server, run the client against it, stop it.

    python -m gpu_dag_runtime.generate
        --server-type vllm|sglang|trtllm|openai|transformers|custom
        --model PATH_OR_NAME --input-file JSONL [--output-file JSONL]
        [--server-gpus N] [--server-nodes N] [--server-args "..."] [--server-address URL]
        [--server-port N] [--server-command "..."] [--timeout-s N] [--request-timeout-s N]
        [--prompt-config YAML_PATH] [--num-random-seeds N] [--num-chunks N --chunk-id K]
        [--max-concurrency N] [--script PATH] [--output-dir DIR]
        [++key=value ...]

Server and client run in this one process tree. The server (``vllm serve``, ``sglang.launch_server``,
``trtllm-serve``, ``transformers serve`` — the CPU one, used by the tests — or ``--server-command``
for ``custom``, with ``{port}``, ``{model}``, ``{gpus}`` substituted) starts in its own process group
on a port checked free (``--server-port``, else a free one is picked), its output goes to
``server.log``, and readiness is probed on ``/v1/models`` for ``--timeout-s`` seconds; when it
exits early or never answers, the runner exits 4 quoting the log's tail. ``openai`` starts nothing
and talks to ``--server-address``. When the client ends, the server's process group gets SIGTERM
(SIGKILL after 30 s); the exit code is the client's, whatever the server's.

The client reads the input JSONL, fills the prompt config (YAML: ``system``, ``user`` template with
``{field}``s of the row, optional ``few_shot_examples`` rendered with the same template and answered
with the ``assistant`` template, default ``{expected_answer}``), calls the server with at most
``--max-concurrency`` requests in flight (``--request-timeout-s`` each, 3 tries on connection errors) and
writes each input row plus ``generation`` to the output JSONL, in input order.

- ``--num-random-seeds N`` (N > 1): one file per seed, ``output-rs{seed}.jsonl`` beside
  ``--output-file``, request seed ``inference.random_seed + seed``.
- ``--num-chunks N --chunk-id K``: this job does the K-th contiguous slice into
  ``<stem>_chunk{K}.jsonl``, marks it done (atomic rename), and the chunk that finds every marker
  under the merge lock merges the chunks into the final file and removes them.
- resume (``++skip_filled=true``, the default): rows already in an output file (line i = input row i)
  are kept; generation starts after the last complete line.
- ``--seed-index S`` (with ``--num-chunks N --chunk-id C``): one element of a fanned-out generation
  (a map over (seed, chunk), one process and server each): only seed ``S``'s rows of chunk ``C``,
  into the shard ``<stem>.chunk-{C}-of-{N}.rows-{a}-{b}.jsonl`` (rows ``a`` to ``b``, ``b``
  exclusive) in ``--shard-dir`` (default: the final file's directory), resumed per shard; it never
  merges. See :mod:`.element`.
- ``python -m gpu_dag_runtime.generate merge ...``: one seed's shards into its final file, after
  checking every chunk's shard is there and complete (their rows add up to the input's) — every gap
  named, nothing written otherwise — atomically (temp file, fsync, rename). See :mod:`.merge`.

Main (Hydra-style) arguments: see :data:`KNOWN_KEYS`; an unknown ``++key`` is an error with a
"did you mean". ``--script PATH`` runs your own main script instead of the built-in client (see
:func:`run_script`); its ``++keys`` are passed through unchecked. ``--output-file`` defaults to
``output.jsonl`` in ``$GPU_DAG_OUTPUT_DIR`` (or ``--output-dir``).

Manifest: artifacts ``output`` (or ``output-rs{seed}``, or ``output_chunk{K}`` for a chunk that did
not merge) and ``server_log``; metrics ``generation/num_rows``, ``generation/duration_s``. An element:
``shard`` and ``server_log``, plus ``generation/row_start``, ``generation/row_end``,
``generation/seed_index``, ``generation/chunk_id``. A merge: ``output``/``output-rs{S}`` and
``merged``, ``generation/num_rows``, ``generation/num_shards``, ``generation/seed_index``.
"""
from __future__ import annotations

# The runner's parts, one concern each: arguments.py (command line and ++keys), prompts.py (prompt
# config, messages), jsonl.py (input and resumable output files), chunks.py (seeds, chunks and
# their merge), server_command.py (launch command, ports), server_process.py (the server's
# process group), model_server.py (``with ModelServer(...) as server:``: start, ready, always
# stopped), client.py (requests, output rows), outputs.py (output paths, manifest), script.py
# (``--script``), shards.py (an element's shard name), element.py (one (seed, chunk) element),
# merge.py (``generate merge``), cli.py (``main``). ``python -m gpu_dag_runtime.generate`` runs __main__.py.
from .arguments import KNOWN_KEYS, SERVER_TYPES, build_parser, parse_main_args
from .chunks import chunk_path, done_marker, merge_chunks, seed_paths
from .cli import main
from .client import Client, generate_file
from .merge import merge_main, plan_merge, write_merged
from .shards import ShardName, expected_shard, parse_shard_name
from .jsonl import count_filled, read_jsonl
from .model_server import ModelServer
from .prompts import build_messages, load_prompt_config, messages_to_prompt
from .script import run_script
from .server_command import pick_free_port, port_is_free, server_command
from .server_process import Server, log_tail

__all__ = [
    "KNOWN_KEYS",
    "SERVER_TYPES",
    "Client",
    "ModelServer",
    "Server",
    "ShardName",
    "build_messages",
    "build_parser",
    "chunk_path",
    "count_filled",
    "done_marker",
    "expected_shard",
    "generate_file",
    "load_prompt_config",
    "log_tail",
    "main",
    "merge_chunks",
    "merge_main",
    "messages_to_prompt",
    "parse_main_args",
    "parse_shard_name",
    "pick_free_port",
    "plan_merge",
    "port_is_free",
    "read_jsonl",
    "run_script",
    "seed_paths",
    "server_command",
    "write_merged",
]
