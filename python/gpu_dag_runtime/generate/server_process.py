"""The model server's process group: started with its output in the server log, waited for until
``/v1/models`` answers, stopped with SIGTERM then SIGKILL."""
from __future__ import annotations

import os
import shlex
import signal
import subprocess
import time
import urllib.error
import urllib.request

from .._common import EXIT_SERVER, RunnerError


def log_tail(path: str, lines: int = 25) -> str:
    """The last ``lines`` of the server log, indented, for error messages."""
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            content = f.read().splitlines()
    except OSError:
        return "(no server log)"
    tail = content[-lines:]
    return "\n".join("    " + line for line in tail) if tail else "    (server log is empty)"


class Server:
    """A model server process group: start, wait ready, stop."""

    def __init__(self, cmd: list[str], log_path: str, env: dict[str, str]) -> None:
        self.cmd = cmd
        self.log_path = log_path
        self.env = env
        self.proc: subprocess.Popen | None = None
        self._log = None

    def start(self) -> None:
        """Starts the command in its own session (process group), output appended to the log."""
        self._log = open(self.log_path, "ab", buffering=0)
        self._log.write(f"[gpu-dag] starting: {shlex.join(self.cmd)}\n".encode())
        try:
            self.proc = subprocess.Popen(
                self.cmd, stdout=self._log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                env=self.env, start_new_session=True,
            )
        except OSError as error:
            raise RunnerError(f"cannot start the model server ({shlex.join(self.cmd)}): {error}", EXIT_SERVER)

    def wait_ready(self, base_url: str, timeout_s: float) -> None:
        """Returns once ``GET /v1/models`` answers 200; exit 4 when the server exits or ``timeout_s`` passes."""
        deadline = time.monotonic() + timeout_s
        url = base_url + "/v1/models"
        last_error = "no answer yet"
        while True:
            assert self.proc is not None
            code = self.proc.poll()
            if code is not None:
                raise RunnerError(
                    f"model server exited with code {code} before it was ready ({shlex.join(self.cmd)}); "
                    f"last lines of {self.log_path}:\n{log_tail(self.log_path)}",
                    EXIT_SERVER,
                )
            try:
                with urllib.request.urlopen(url, timeout=5) as response:
                    if response.status == 200:
                        return
                    last_error = f"HTTP {response.status}"
            except urllib.error.HTTPError as error:
                last_error = f"HTTP {error.code}"
            except (urllib.error.URLError, OSError) as error:
                last_error = str(getattr(error, "reason", error))
            if time.monotonic() >= deadline:
                raise RunnerError(
                    f"model server not ready after {timeout_s:g}s: GET {url} gave {last_error}; "
                    f"last lines of {self.log_path}:\n{log_tail(self.log_path)}",
                    EXIT_SERVER,
                )
            time.sleep(1.0)

    def stop(self, grace_s: float = 30.0) -> int | None:
        """SIGTERM to the process group, SIGKILL after ``grace_s``; returns the server's exit code."""
        proc = self.proc
        if proc is None:
            return None
        code = proc.poll()
        if code is None:
            try:
                os.killpg(proc.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            try:
                code = proc.wait(timeout=grace_s)
            except subprocess.TimeoutExpired:
                try:
                    os.killpg(proc.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                code = proc.wait()
        # Children that ignored SIGTERM but outlived the leader.
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        if self._log is not None:
            self._log.write(f"[gpu-dag] server exited with code {code}\n".encode())
            self._log.close()
            self._log = None
        self.proc = None
        return code
