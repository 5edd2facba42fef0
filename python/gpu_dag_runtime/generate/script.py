"""``--script``: the user's own main script runs against the server instead of the built-in client."""
from __future__ import annotations

import argparse
import os
import subprocess
import sys

from .._common import RunnerError, check_model
from .model_server import ModelServer, install_signal_handlers
from .outputs import output_paths, write_manifest


def run_script(args: argparse.Namespace, rest: list[str]) -> int:
    """``--script``: the user's own main script runs against the server instead of the built-in client.

    It gets the main arguments unchanged and, in its environment, ``GPU_DAG_SERVER_URL`` (base URL
    without ``/v1``), ``OPENAI_BASE_URL`` (with ``/v1``), ``GPU_DAG_MODEL``, ``GPU_DAG_INPUT_FILE``,
    ``GPU_DAG_OUTPUT_FILE``. The job's exit code is the script's.
    """
    script = os.path.abspath(os.path.expanduser(args.script))
    if not os.path.isfile(script):
        raise RunnerError(f"--script not found: {script}")
    output_file, manifest_dir = output_paths(args)
    model = args.model if args.server_type == "openai" else check_model(args.model)
    log_path = os.path.join(manifest_dir, "server.log")
    install_signal_handlers()
    with ModelServer(args, model, log_path) as server:
        env = dict(os.environ)
        env.update({
            "GPU_DAG_SERVER_URL": server.base_url,
            "OPENAI_BASE_URL": server.base_url + "/v1",
            "GPU_DAG_MODEL": model,
            "GPU_DAG_INPUT_FILE": os.path.abspath(os.path.expanduser(args.input_file)),
            "GPU_DAG_OUTPUT_FILE": output_file,
        })
        env.setdefault("OPENAI_API_KEY", "EMPTY")
        argv = ([sys.executable, script] if script.endswith(".py") else [script]) + rest
        code = subprocess.call(argv, env=env)
        print(f"gpu-dag: main script exited with code {code}", file=sys.stderr)
    write_manifest(manifest_dir, [("output", output_file)] if os.path.exists(output_file) else [], log_path, {})
    return code if code >= 0 else 128 - code
