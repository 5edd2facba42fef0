"""The client: OpenAI-compatible requests to the server, and an output file filled in input order."""
from __future__ import annotations

import concurrent.futures
import json
import os
import socket
import sys
import threading
import time
import urllib.error
import urllib.request
from typing import Any

from .._common import EXIT_TOOL, RunnerError
from .jsonl import count_filled
from .prompts import build_messages, messages_to_prompt


class Client:
    """Requests to the server at ``base_url`` with the ``inference.*`` options; 3 tries on connection errors."""

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
        """``(generated text, completion tokens or None)`` for ``messages`` (chat, or completions API)."""
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
    done = count_filled(target, key, repair=True) if options["skip_filled"] else 0
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
