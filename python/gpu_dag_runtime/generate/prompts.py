"""The prompt: the prompt config (YAML), and the chat messages or plain prompt of an input row."""
from __future__ import annotations

import os
from typing import Any

from .._common import RunnerError


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
    """The prompt config at ``path`` (default: the row's ``question`` as the user turn), checked."""
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
    """Chat messages for input row ``index``: system, few-shot user/assistant pairs, the row's user turn."""
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
