"""The runner's command line: ``--options`` (argparse) and Hydra-style ``++key=value`` main arguments."""
from __future__ import annotations

import argparse
import difflib
from typing import Any

from .._common import RunnerError

SERVER_TYPES = ("vllm", "sglang", "trtllm", "openai", "transformers", "custom")

#: ``++key`` main arguments this script understands, with their defaults.
KNOWN_KEYS: dict[str, Any] = {
    "prompt_config": None,
    "system_message": None,
    "generation_key": "generation",
    "max_samples": -1,
    "skip_filled": True,
    "use_completions_api": False,
    "max_concurrent_requests": None,
    "inference.temperature": 0.0,
    "inference.top_p": 0.95,
    "inference.top_k": None,
    "inference.min_p": None,
    "inference.repetition_penalty": None,
    "inference.tokens_to_generate": 2048,
    "inference.random_seed": 0,
    "inference.stop_phrases": None,
    "inference.stop": None,  # alias of inference.stop_phrases
}


def parse_main_args(tokens: list[str]) -> dict[str, Any]:
    """``++a.b=value`` tokens → ``{"a.b": value}`` (values parsed as YAML scalars/lists)."""
    import yaml

    values = dict(KNOWN_KEYS)
    for token in tokens:
        if not token.startswith("+"):
            raise RunnerError(f"unexpected argument {token!r}: main arguments are ++key=value")
        body = token.lstrip("+")
        if "=" not in body:
            raise RunnerError(f"main argument {token!r} has no '=value'")
        key, raw = body.split("=", 1)
        key = key.strip()
        if key not in KNOWN_KEYS:
            close = difflib.get_close_matches(key, list(KNOWN_KEYS), n=1)
            hint = f" (did you mean ++{close[0]}?)" if close else ""
            raise RunnerError(f"unknown main argument ++{key}{hint}; known: {', '.join(sorted(KNOWN_KEYS))}")
        try:
            value = yaml.safe_load(raw) if raw != "" else ""
        except yaml.YAMLError:
            value = raw
        values[key] = value
    return values


def build_parser() -> argparse.ArgumentParser:
    """The ``--options`` parser; its help is the package docstring."""
    from . import __doc__ as usage

    p = argparse.ArgumentParser(prog="python -m gpu_dag_runtime.generate", description=usage, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--server-type", required=True, choices=SERVER_TYPES)
    p.add_argument("--model", required=True)
    p.add_argument("--server-gpus", type=int, default=0)
    p.add_argument("--server-nodes", type=int, default=1)
    p.add_argument("--server-args", default="")
    p.add_argument("--server-address", default=None, help="base URL of a running server (openai)")
    p.add_argument("--server-port", type=int, default=0, help="port for the server (default: a free one)")
    p.add_argument("--server-command", default=None, help="custom server command; {port} {model} {gpus} substituted")
    p.add_argument("--timeout-s", "--server-timeout-s", dest="timeout_s", type=float, default=900.0,
                   help="seconds to wait for the server to become ready")
    p.add_argument("--request-timeout-s", type=float, default=600.0, help="per-request timeout")
    p.add_argument("--script", default=None, help="your own main script, run instead of the built-in client")
    p.add_argument("--input-file", required=True)
    p.add_argument("--output-file", default=None, help="output JSONL (default: output.jsonl in the output dir)")
    p.add_argument("--prompt-config", default=None)
    p.add_argument("--num-random-seeds", type=int, default=1)
    p.add_argument("--num-chunks", type=int, default=1)
    p.add_argument("--chunk-id", type=int, default=0)
    p.add_argument("--seed-index", type=int, default=None,
                   help="one (seed, chunk) element: seed S only, written to its chunk shard (merged by `generate merge`)")
    p.add_argument("--shard-dir", default=None, help="where an element's shard goes (default: the final file's directory)")
    p.add_argument("--max-concurrency", type=int, default=None)
    p.add_argument("--output-dir", default=None, help="manifest directory when GPU_DAG_OUTPUT_DIR is unset")
    return p
