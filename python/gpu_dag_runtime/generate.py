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

Main (Hydra-style) arguments: see :data:`KNOWN_KEYS`; an unknown ``++key`` is an error with a
"did you mean". ``--script PATH`` runs your own main script instead of the built-in client (see
:func:`run_script`); its ``++keys`` are passed through unchecked. ``--output-file`` defaults to
``output.jsonl`` in ``$GPU_DAG_OUTPUT_DIR`` (or ``--output-dir``).

Manifest: artifacts ``output`` (or ``output-rs{seed}``, or ``output_chunk{K}`` for a chunk that did
not merge) and ``server_log``; metrics ``generation/num_rows``, ``generation/duration_s``.
"""
from __future__ import annotations

import argparse
import concurrent.futures
import difflib
import fcntl
import json
import os
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from typing import Any

from ._common import (
    EXIT_SERVER,
    EXIT_TOOL,
    EXIT_USAGE,
    RunnerError,
    check_model,
    require,
    run_main,
    warn,
)

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


# ---------------------------------------------------------------------------------------------
# Main (++) arguments


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


# ---------------------------------------------------------------------------------------------
# Prompt


class _Row(dict):
    def __init__(self, row: dict, index: int, template_name: str) -> None:
        super().__init__(row)
        self.index = index
        self.template_name = template_name

    def __missing__(self, key: str) -> Any:
        raise RunnerError(
            f"prompt config {self.template_name} template uses {{{key}}} but input row {self.index} has no field "
            f"'{key}' (fields: {', '.join(sorted(self)) or 'none'})"
        )


def load_prompt_config(path: str | None) -> dict[str, Any]:
    if not path:
        return {"system": "", "user": "{question}", "few_shot_examples": []}
    import yaml

    expanded = os.path.expanduser(path)
    if not os.path.isfile(expanded):
        raise RunnerError(f"prompt config not found: {expanded}")
    try:
        with open(expanded, encoding="utf-8") as f:
            config = yaml.safe_load(f)
    except yaml.YAMLError as error:
        raise RunnerError(f"bad prompt config YAML {expanded}: {' '.join(str(error).split())}")
    if not isinstance(config, dict) or not isinstance(config.get("user"), str):
        raise RunnerError(f"bad prompt config {expanded}: needs a 'user' template string (and optional 'system', 'few_shot_examples')")
    unknown = set(config) - {"system", "user", "few_shot_examples", "assistant"}
    if unknown:
        raise RunnerError(f"bad prompt config {expanded}: unknown keys {sorted(unknown)} (known: system, user, few_shot_examples, assistant)")
    examples = config.get("few_shot_examples") or []
    if not isinstance(examples, list) or not all(isinstance(e, dict) for e in examples):
        raise RunnerError(f"bad prompt config {expanded}: few_shot_examples must be a list of mappings")
    config["few_shot_examples"] = examples
    config["system"] = config.get("system") or ""
    return config


def _fill(template: str, row: dict, index: int, name: str) -> str:
    try:
        return template.format_map(_Row(row, index, name))
    except (ValueError, IndexError) as error:
        raise RunnerError(f"prompt config {name} template {template!r} is not a valid format string: {error}")


def build_messages(config: dict, row: dict, index: int, system_override: str | None) -> list[dict[str, str]]:
    messages: list[dict[str, str]] = []
    system = system_override if system_override is not None else config.get("system", "")
    if system:
        messages.append({"role": "system", "content": _fill(system, row, index, "system")})
    answer_template = config.get("assistant") or "{expected_answer}"
    for n, example in enumerate(config.get("few_shot_examples") or []):
        messages.append({"role": "user", "content": _fill(config["user"], example, n, "user (few-shot example)")})
        messages.append({"role": "assistant", "content": _fill(answer_template, example, n, "assistant (few-shot example)")})
    messages.append({"role": "user", "content": _fill(config["user"], row, index, "user")})
    return messages


def messages_to_prompt(messages: list[dict[str, str]]) -> str:
    """Plain-text prompt for the completions API: turns separated by blank lines, answers inline."""
    parts: list[str] = []
    for m in messages:
        if m["role"] == "assistant" and parts:
            parts[-1] = parts[-1] + " " + m["content"]
        else:
            parts.append(m["content"])
    return "\n\n".join(parts)


# ---------------------------------------------------------------------------------------------
# Files


def read_jsonl(path: str) -> list[dict]:
    rows = []
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except ValueError as error:
                raise RunnerError(f"input file {path} line {n} is not JSON: {error}")
            if not isinstance(row, dict):
                raise RunnerError(f"input file {path} line {n} is not a JSON object")
            rows.append(row)
    return rows


def count_filled(path: str, key: str) -> int:
    """Number of leading complete rows (valid JSON objects with ``key``) in ``path``; truncates the rest."""
    if not os.path.exists(path):
        return 0
    keep: list[str] = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            if not line.endswith("\n"):
                break
            try:
                row = json.loads(line)
            except ValueError:
                break
            if not isinstance(row, dict) or key not in row:
                break
            keep.append(line)
    with open(path, "w", encoding="utf-8") as f:
        f.writelines(keep)
        f.flush()
        os.fsync(f.fileno())
    return len(keep)


def chunk_path(path: str, chunk_id: int) -> str:
    stem, ext = os.path.splitext(path)
    return f"{stem}_chunk{chunk_id}{ext or '.jsonl'}"


def done_marker(path: str, chunk_id: int) -> str:
    stem, _ext = os.path.splitext(path)
    return f"{stem}_chunk{chunk_id}.done"


def seed_paths(output_file: str, num_seeds: int) -> list[tuple[int, str]]:
    if num_seeds <= 1:
        return [(0, output_file)]
    directory = os.path.dirname(output_file) or "."
    return [(s, os.path.join(directory, f"output-rs{s}.jsonl")) for s in range(num_seeds)]


def merge_chunks(final: str, num_chunks: int) -> bool:
    """Called by a finished chunk: merges when every chunk is done. True when this call merged."""
    lock_path = final + ".merge.lock"
    with open(lock_path, "a+") as lock:
        fcntl.flock(lock.fileno(), fcntl.LOCK_EX)
        try:
            if not all(os.path.exists(done_marker(final, k)) for k in range(num_chunks)):
                return False
            tmp = final + ".merging"
            with open(tmp, "w", encoding="utf-8") as out:
                for k in range(num_chunks):
                    with open(chunk_path(final, k), encoding="utf-8") as part:
                        shutil.copyfileobj(part, out)
                out.flush()
                os.fsync(out.fileno())
            os.replace(tmp, final)
            for k in range(num_chunks):
                for p in (chunk_path(final, k), done_marker(final, k)):
                    try:
                        os.unlink(p)
                    except FileNotFoundError:
                        pass
            return True
        finally:
            fcntl.flock(lock.fileno(), fcntl.LOCK_UN)


def _mark_done(final: str, chunk_id: int) -> None:
    marker = done_marker(final, chunk_id)
    tmp = marker + ".tmp"
    with open(tmp, "w") as f:
        f.write(str(os.getpid()))
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, marker)


# ---------------------------------------------------------------------------------------------
# Server


def port_is_free(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        try:
            s.bind((host, port))
        except OSError:
            return False
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.settimeout(0.5)
        return s.connect_ex((host, port)) != 0


def pick_free_port() -> int:
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


def log_tail(path: str, lines: int = 25) -> str:
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


# ---------------------------------------------------------------------------------------------
# Client


class Client:
    def __init__(self, base_url: str, model: str, options: dict[str, Any], timeout_s: float, api_key: str | None) -> None:
        self.base_url = base_url
        self.model = model
        self.options = options
        self.timeout_s = timeout_s
        self.api_key = api_key

    def _post(self, path: str, body: dict) -> dict:
        data = json.dumps(body).encode()
        headers = {"Content-Type": "application/json"}
        if self.api_key:
            headers["Authorization"] = f"Bearer {self.api_key}"
        last: Exception | None = None
        for attempt in range(3):
            request = urllib.request.Request(self.base_url + path, data=data, headers=headers, method="POST")
            try:
                with urllib.request.urlopen(request, timeout=self.timeout_s) as response:
                    return json.loads(response.read().decode())
            except urllib.error.HTTPError as error:
                detail = error.read().decode(errors="replace")[:300]
                if error.code >= 500 and attempt < 2:
                    last = RuntimeError(f"HTTP {error.code}: {detail}")
                    time.sleep(1 + attempt)
                    continue
                raise RuntimeError(f"HTTP {error.code} from {path}: {detail}")
            except (urllib.error.URLError, ConnectionError, TimeoutError, socket.timeout) as error:
                last = error
                time.sleep(1 + attempt)
        raise RuntimeError(f"{path} failed after 3 tries: {last}")

    def generate(self, messages: list[dict[str, str]], seed: int) -> tuple[str, int | None]:
        o = self.options
        body: dict[str, Any] = {
            "model": self.model,
            "max_tokens": int(o["inference.tokens_to_generate"]),
            "temperature": float(o["inference.temperature"]),
            "top_p": float(o["inference.top_p"]),
            "seed": int(seed),
        }
        for key, name in (("inference.top_k", "top_k"), ("inference.min_p", "min_p"),
                          ("inference.repetition_penalty", "repetition_penalty")):
            if o[key] is not None:
                body[name] = o[key]
        stop = o["inference.stop_phrases"] if o["inference.stop_phrases"] is not None else o["inference.stop"]
        if stop:
            body["stop"] = stop if isinstance(stop, list) else [stop]
        if o["use_completions_api"]:
            body["prompt"] = messages_to_prompt(messages)
            response = self._post("/v1/completions", body)
            text = response["choices"][0].get("text") or ""
        else:
            body["messages"] = messages
            response = self._post("/v1/chat/completions", body)
            message = response["choices"][0].get("message") or {}
            text = message.get("content") or ""
        usage = response.get("usage") or {}
        return text, usage.get("completion_tokens")


def generate_file(client: Client, rows: list[dict], indices: list[int], target: str, seed: int,
                  config: dict, options: dict, max_concurrency: int) -> int:
    """Fills ``target`` with one output row per input row (resuming after its complete rows)."""
    key = options["generation_key"]
    done = count_filled(target, key) if options["skip_filled"] else 0
    if not options["skip_filled"] and os.path.exists(target):
        os.unlink(target)
    todo = list(range(done, len(indices)))
    if not todo:
        print(f"gpu-dag: {target}: all {len(indices)} rows already filled", file=sys.stderr)
        return len(indices)
    messages = {
        pos: build_messages(config, rows[indices[pos]], indices[pos], options["system_message"]) for pos in todo
    }
    finished: dict[int, dict] = {}
    next_to_write = done
    lock = threading.Lock()
    with open(target, "a", encoding="utf-8") as out, \
            concurrent.futures.ThreadPoolExecutor(max_workers=max(1, max_concurrency)) as pool:
        futures = {pool.submit(client.generate, messages[pos], seed): pos for pos in todo}
        try:
            for future in concurrent.futures.as_completed(futures):
                pos = futures[future]
                try:
                    text, tokens = future.result()
                except Exception as error:
                    raise RunnerError(f"generation for input row {indices[pos]} failed: {error}", EXIT_TOOL)
                row = dict(rows[indices[pos]])
                row[key] = text
                if tokens is not None:
                    row["num_generated_tokens"] = tokens
                with lock:
                    finished[pos] = row
                    while next_to_write in finished:
                        out.write(json.dumps(finished.pop(next_to_write), ensure_ascii=False) + "\n")
                        next_to_write += 1
                    out.flush()
        except BaseException:
            for f in futures:
                f.cancel()
            raise
        os.fsync(out.fileno())
    return next_to_write


# ---------------------------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m gpu_dag_runtime.generate", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
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
    p.add_argument("--max-concurrency", type=int, default=None)
    p.add_argument("--output-dir", default=None, help="manifest directory when GPU_DAG_OUTPUT_DIR is unset")
    return p


def _install_signal_handlers() -> None:
    def handler(signum, _frame):
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, handler)
    signal.signal(signal.SIGHUP, handler)


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args, rest = parser.parse_known_args(argv)
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

    input_file = os.path.abspath(os.path.expanduser(args.input_file))
    if not os.path.isfile(input_file):
        raise RunnerError(f"input file not found: {input_file}")
    rows = read_jsonl(input_file)
    if isinstance(options["max_samples"], int) and options["max_samples"] >= 0:
        rows = rows[: options["max_samples"]]
    n = len(rows)
    start_i = args.chunk_id * n // args.num_chunks
    end_i = (args.chunk_id + 1) * n // args.num_chunks
    indices = list(range(start_i, end_i))

    output_file, manifest_dir = _output_paths(args)

    model = args.model if args.server_type == "openai" else check_model(args.model)
    # Build the prompts now: a template error is the user's, found before a server is started.
    for i in indices[:1]:
        build_messages(config, rows[i], i, options["system_message"])

    # Work per seed; a seed whose final file is complete is skipped.
    work: list[tuple[int, str, str]] = []  # (seed, final file, file this job writes)
    for seed_index, final in seed_paths(output_file, args.num_random_seeds):
        if options["skip_filled"] and os.path.exists(final) and count_filled(final, options["generation_key"]) >= n:
            continue
        target = chunk_path(final, args.chunk_id) if args.num_chunks > 1 else final
        work.append((seed_index, final, target))

    _install_signal_handlers()
    server: Server | None = None
    log_path = os.path.join(manifest_dir, "server.log")
    started = time.time()
    client_code = 0
    produced: list[tuple[str, str]] = []
    total_rows = 0
    try:
        if work and args.server_type != "openai":
            base_url, server = _start_server(args, model, log_path)
        else:
            base_url = (args.server_address or "").rstrip("/").removesuffix("/v1")
        client = Client(base_url, model, options, args.request_timeout_s, os.environ.get("OPENAI_API_KEY"))
        base_seed = int(options["inference.random_seed"] or 0)
        for seed_index, final, target in work:
            written = generate_file(client, rows, indices, target, base_seed + seed_index, config, options, max_concurrency)
            print(f"gpu-dag: wrote {written} rows to {target}", file=sys.stderr)
            if args.num_chunks > 1:
                _mark_done(final, args.chunk_id)
        for seed_index, final in seed_paths(output_file, args.num_random_seeds):
            name = "output" if args.num_random_seeds <= 1 else f"output-rs{seed_index}"
            if args.num_chunks > 1 and not os.path.exists(final):
                if merge_chunks(final, args.num_chunks):
                    print(f"gpu-dag: merged {args.num_chunks} chunks into {final}", file=sys.stderr)
            if os.path.exists(final) and (args.num_chunks == 1 or not os.path.exists(done_marker(final, args.chunk_id))):
                produced.append((name, final))
                total_rows += count_filled(final, options["generation_key"])
            else:
                part = chunk_path(final, args.chunk_id)
                produced.append((f"{name}_chunk{args.chunk_id}", part))
                total_rows += count_filled(part, options["generation_key"])
    finally:
        if server is not None:
            code = server.stop()
            print(f"gpu-dag: model server stopped (exit code {code}; the job's exit code is the client's)", file=sys.stderr)

    from .manifest import Manifest

    manifest = Manifest(manifest_dir)
    for name, path in produced:
        manifest.add_artifact(name, path)
    if os.path.exists(log_path):
        manifest.add_artifact("server_log", log_path)
    manifest.add_metric("generation/num_rows", total_rows)
    manifest.add_metric("generation/duration_s", round(time.time() - started, 3))
    manifest.write()
    return client_code


def _output_paths(args: argparse.Namespace) -> tuple[str, str]:
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


def run_script(args: argparse.Namespace, rest: list[str]) -> int:
    """``--script``: the user's own main script runs against the server instead of the built-in client.

    It gets the main arguments unchanged and, in its environment, ``GPU_DAG_SERVER_URL`` (base URL
    without ``/v1``), ``OPENAI_BASE_URL`` (with ``/v1``), ``GPU_DAG_MODEL``, ``GPU_DAG_INPUT_FILE``,
    ``GPU_DAG_OUTPUT_FILE``. The job's exit code is the script's.
    """
    script = os.path.abspath(os.path.expanduser(args.script))
    if not os.path.isfile(script):
        raise RunnerError(f"--script not found: {script}")
    output_file, manifest_dir = _output_paths(args)
    model = args.model if args.server_type == "openai" else check_model(args.model)
    log_path = os.path.join(manifest_dir, "server.log")
    _install_signal_handlers()
    server: Server | None = None
    try:
        if args.server_type != "openai":
            base_url, server = _start_server(args, model, log_path)
        else:
            base_url = (args.server_address or "").rstrip("/").removesuffix("/v1")
        env = dict(os.environ)
        env.update({
            "GPU_DAG_SERVER_URL": base_url,
            "OPENAI_BASE_URL": base_url + "/v1",
            "GPU_DAG_MODEL": model,
            "GPU_DAG_INPUT_FILE": os.path.abspath(os.path.expanduser(args.input_file)),
            "GPU_DAG_OUTPUT_FILE": output_file,
        })
        env.setdefault("OPENAI_API_KEY", "EMPTY")
        argv = ([sys.executable, script] if script.endswith(".py") else [script]) + rest
        code = subprocess.call(argv, env=env)
        print(f"gpu-dag: main script exited with code {code}", file=sys.stderr)
    finally:
        if server is not None:
            server_code = server.stop()
            print(f"gpu-dag: model server stopped (exit code {server_code}; the job's exit code is the client's)", file=sys.stderr)
    from .manifest import Manifest

    manifest = Manifest(manifest_dir)
    if os.path.exists(output_file):
        manifest.add_artifact("output", output_file)
    if os.path.exists(log_path):
        manifest.add_artifact("server_log", log_path)
    manifest.write()
    return code if code >= 0 else 128 - code


def _start_server(args: argparse.Namespace, model: str, log_path: str) -> tuple[str, Server]:
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


if __name__ == "__main__":
    run_main(main)
