"""The model server's launch command per ``--server-type``, and the port it listens on."""
from __future__ import annotations

import argparse
import os
import shlex
import shutil
import socket
import sys

from .._common import EXIT_SERVER, RunnerError, require


def port_is_free(port: int, host: str = "127.0.0.1") -> bool:
    """True when nothing listens on ``host:port`` and it can be bound."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        try:
            s.bind((host, port))
        except OSError:
            return False
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.settimeout(0.5)
        return s.connect_ex((host, port)) != 0


def pick_free_port() -> int:
    """A port on 127.0.0.1 that is free now (it may still be taken before the server binds it)."""
    for _ in range(50):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        if port_is_free(port):
            return port
    raise RunnerError("could not find a free port for the model server", EXIT_SERVER)


def _venv_tool(name: str) -> str | None:
    beside = os.path.join(os.path.dirname(sys.executable), name)
    if os.path.exists(beside):
        return beside
    return shutil.which(name)


def server_command(args: argparse.Namespace, model: str, port: int) -> list[str]:
    """The argv that serves ``model`` on ``port``: ``--server-command`` when given, else per ``--server-type``."""
    extra = shlex.split(args.server_args or "")
    gpus, nodes = args.server_gpus, args.server_nodes
    kind = args.server_type
    if args.server_command and kind not in ("openai", "custom"):
        # The controller rendered the launch command (so it shows in dry runs and batch scripts):
        # use it, finding the tool beside this interpreter when it is a venv's.
        parts = [part.replace("{port}", str(port)).replace("{model}", model).replace("{gpus}", str(gpus))
                 for part in shlex.split(args.server_command)]
        parts[0] = _venv_tool(parts[0]) or parts[0]
        return parts
    if kind == "vllm":
        require("vllm")
        exe = _venv_tool("vllm")
        base = [exe, "serve"] if exe else [sys.executable, "-m", "vllm.entrypoints.cli.main", "serve"]
        cmd = base + [model, "--host", "127.0.0.1", "--port", str(port), "--tensor-parallel-size", str(max(1, gpus))]
        if nodes > 1:
            cmd += ["--pipeline-parallel-size", str(nodes), "--distributed-executor-backend", "ray"]
        return cmd + extra
    if kind == "sglang":
        require("sglang")
        cmd = [sys.executable, "-m", "sglang.launch_server", "--model-path", model, "--host", "127.0.0.1",
               "--port", str(port), "--tp", str(max(1, gpus) * max(1, nodes))]
        if nodes > 1:
            cmd += ["--nnodes", str(nodes), "--node-rank", os.environ.get("SLURM_NODEID", "0")]
        return cmd + extra
    if kind == "trtllm":
        require("tensorrt_llm")
        exe = _venv_tool("trtllm-serve") or "trtllm-serve"
        return [exe, model, "--host", "127.0.0.1", "--port", str(port), "--tp_size", str(max(1, gpus) * max(1, nodes)),
                "--pp_size", "1"] + extra
    if kind == "transformers":
        require("transformers", "torch", "fastapi", "uvicorn")
        exe = _venv_tool("transformers")
        base = [exe] if exe else [sys.executable, "-c", "import sys; from transformers.cli.transformers import main; sys.exit(main())"]
        device = "cpu" if gpus <= 0 else "auto"
        return base + ["serve", model, "--host", "127.0.0.1", "--port", str(port), "--device", device] + extra
    if kind == "custom":
        if not args.server_command:
            raise RunnerError("--server-type custom needs --server-command")
        return [part.replace("{port}", str(port)).replace("{model}", model).replace("{gpus}", str(gpus))
                for part in shlex.split(args.server_command)] + extra
    raise RunnerError(f"--server-type {kind!r} starts no server")
