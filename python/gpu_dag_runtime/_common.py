"""Helpers shared by the runners: clear one-line failures, package checks, model path checks."""
from __future__ import annotations

import importlib
import os
import sys
from typing import NoReturn

EXIT_TOOL = 1
EXIT_USAGE = 2
EXIT_MISSING_PACKAGE = 3
EXIT_SERVER = 4


class RunnerError(Exception):
    """A failure with a one-line message and an exit code; turned into ``die()`` by ``main`` wrappers."""

    def __init__(self, message: str, code: int = EXIT_USAGE) -> None:
        super().__init__(message)
        self.code = code


def die(message: str, code: int = EXIT_USAGE) -> NoReturn:
    """Prints ``gpu-dag: <message>`` on stderr (last line, one line) and exits with ``code``."""
    sys.stdout.flush()
    sys.stderr.write(f"gpu-dag: {str(message).rstrip()}\n")
    sys.stderr.flush()
    sys.exit(code)


def warn(message: str) -> None:
    sys.stderr.write(f"gpu-dag: warning: {message}\n")
    sys.stderr.flush()


# Import name -> pip distribution name, for the message.
_DISTRIBUTIONS = {
    "llmcompressor": "llmcompressor",
    "lm_eval": "lm-eval",
    "transformers": "transformers",
    "datasets": "datasets",
    "torch": "torch",
    "yaml": "PyYAML",
    "vllm": "vllm",
    "sglang": "sglang",
    "tensorrt_llm": "tensorrt-llm",
    "compressed_tensors": "compressed-tensors",
    "fastapi": "fastapi (transformers[serving])",
    "uvicorn": "uvicorn (transformers[serving])",
}


def require(*modules: str) -> None:
    """Imports each module; on failure exits 3 naming the package and how to install it."""
    for name in modules:
        try:
            importlib.import_module(name)
        except ImportError as error:
            dist = _DISTRIBUTIONS.get(name, name)
            die(
                f"missing Python package '{dist}' (import {name} failed: {error}) in {sys.executable}; "
                "run `gpu-dag setup-python` to create a venv with the pinned tools, "
                "or set the task's python to an interpreter that has it",
                EXIT_MISSING_PACKAGE,
            )


def looks_like_path(value: str) -> bool:
    """True when ``value`` is meant as a filesystem path rather than a hub name (``org/name``)."""
    if value.startswith(("/", "./", "../", "~")) or value in (".", ".."):
        return True
    if os.sep == "\\" and len(value) > 1 and value[1] == ":":
        return True
    return value.count("/") > 1


def check_model(model: str) -> str:
    """Returns the model as given (path expanded); exits 2 when a path is given that does not exist."""
    expanded = os.path.expanduser(model)
    if os.path.exists(expanded):
        if os.path.isdir(expanded) and not os.path.exists(os.path.join(expanded, "config.json")):
            die(f"model path {expanded} is a directory without config.json (not a Hugging Face model directory)")
        return os.path.abspath(expanded)
    if looks_like_path(model):
        die(f"model path not found: {expanded}")
    if os.environ.get("HF_HUB_OFFLINE") == "1":
        # A hub name is fine only if it is already in the local cache.
        try:
            from huggingface_hub import snapshot_download  # type: ignore

            return snapshot_download(model, local_files_only=True)
        except Exception:
            die(f"model path not found: {model} (not a local path, and HF_HUB_OFFLINE=1 with no cached copy of that hub name)")
    return model


def resolve_output_dir(cli_value: str | None) -> str:
    """``$GPU_DAG_OUTPUT_DIR``, else ``--output-dir``; created if missing."""
    out = os.environ.get("GPU_DAG_OUTPUT_DIR") or cli_value
    if not out:
        die("no output directory: set GPU_DAG_OUTPUT_DIR or pass --output-dir")
    out = os.path.abspath(os.path.expanduser(out))
    os.makedirs(out, exist_ok=True)
    return out


def parse_bool(value: str) -> bool:
    lowered = value.strip().lower()
    if lowered in ("true", "1", "yes", "on"):
        return True
    if lowered in ("false", "0", "no", "off"):
        return False
    raise ValueError(f"expected true or false, got {value!r}")


def run_main(main) -> None:
    """Runs ``main()`` and exits with its code, turning :class:`RunnerError` into a clear line."""
    try:
        code = main()
    except RunnerError as error:
        die(str(error), error.code)
    except KeyboardInterrupt:
        die("interrupted", 130)
    sys.exit(code or 0)
