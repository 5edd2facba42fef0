"""The model server as a context manager: ``with ModelServer(args, model, log_path) as server:``
starts it (on ``--server-port``, else on a free port, trying another when that one was taken
before the server bound it), waits until it is ready, and always stops it on the way out — the
job's exit code stays the client's. ``--server-type openai`` starts nothing and talks to
``--server-address``."""
from __future__ import annotations

import argparse
import os
import signal
import sys

from .._common import EXIT_SERVER, RunnerError, warn
from .server_command import pick_free_port, port_is_free, server_command
from .server_process import Server, log_tail


class ModelServer:
    """See the module docstring. ``base_url`` (no ``/v1``) is set once entered.

    ``start=False`` starts nothing (there is no work): ``base_url`` is then ``--server-address``'s.
    """

    def __init__(self, args: argparse.Namespace, model: str, log_path: str, start: bool = True) -> None:
        self.args = args
        self.model = model
        self.log_path = log_path
        self.start = start and args.server_type != "openai"
        self.base_url = ""
        self.server: Server | None = None

    def __enter__(self) -> "ModelServer":
        if self.start:
            self.base_url, self.server = _start_server(self.args, self.model, self.log_path)
        else:
            self.base_url = (self.args.server_address or "").rstrip("/").removesuffix("/v1")
        return self

    def __exit__(self, *_exc: object) -> bool:
        if self.server is not None:
            code = self.server.stop()
            self.server = None
            print(f"gpu-dag: model server stopped (exit code {code}; the job's exit code is the client's)", file=sys.stderr)
        return False


def install_signal_handlers() -> None:
    """SIGTERM / SIGHUP (cancel, time limit) raise SystemExit, so that the server is still stopped."""

    def handler(signum, _frame):
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, handler)
    signal.signal(signal.SIGHUP, handler)


def _start_server(args: argparse.Namespace, model: str, log_path: str) -> tuple[str, Server]:
    """Starts the server and waits until it is ready; a server that did not get ready is stopped."""
    env = dict(os.environ)
    if args.server_type == "transformers":
        # `transformers serve` lists the hub cache on /v1/models and fails when it does not exist.
        try:
            from huggingface_hub import constants

            os.makedirs(constants.HF_HUB_CACHE, exist_ok=True)
        except Exception:
            pass
    user_port = args.server_port
    if user_port:
        if not port_is_free(user_port):
            raise RunnerError(f"--server-port {user_port} is already in use on 127.0.0.1; pick another or leave it unset", EXIT_SERVER)
    tries = 1 if user_port else 3
    for attempt in range(tries):
        port = user_port or pick_free_port()
        cmd = server_command(args, model, port)
        server = Server(cmd, log_path, env)
        server.start()
        base_url = f"http://127.0.0.1:{port}"
        try:
            server.wait_ready(base_url, args.timeout_s)
            print(f"gpu-dag: {args.server_type} server ready on {base_url} (log {log_path})", file=sys.stderr)
            return base_url, server
        except RunnerError:
            server.stop(grace_s=10)
            in_use = "address already in use" in log_tail(log_path, 40).lower()
            if in_use and attempt + 1 < tries:
                warn(f"port {port} was taken before the server bound it; retrying on another port")
                continue
            raise
        except BaseException:
            server.stop(grace_s=10)
            raise
    raise RunnerError("model server did not start", EXIT_SERVER)
