"""llm-compressor ``oneshot`` runner.

    python -m gpu_dag_runtime.compress --model PATH_OR_NAME --recipe-yaml TEXT
        [--recipe-args JSON] [--dataset PATH_OR_NAME] [--dataset-split SPLIT]
        [--num-samples N] [--max-seq-length N] [--save-compressed true|false]
        [--output-dir DIR]

``--recipe-yaml`` is the recipe's YAML text itself. ``--recipe-args`` is a JSON object whose keys
replace ``$key`` / ``${key}`` in that text (``$$`` is a literal ``$``); a placeholder with no value is
an error, a key the recipe never uses a warning. ``--dataset`` is a local ``.json``/``.jsonl`` file
(rows with ``text``, or chat ``messages`` rendered with the model's chat template), a local dataset
directory, or a dataset name llm-compressor knows (e.g. ``open_platypus``). ``--output-dir`` is where
the model is saved (default ``$GPU_DAG_OUTPUT_DIR/model``).

Manifest: model ``<basename of --model>-<scheme>`` (the saved directory), artifact ``recipe`` (the
recipe file after substitution), metrics ``compress/duration_s``, ``compress/model_size_mb``.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import sys
import time

from ._common import (
    EXIT_TOOL,
    EXIT_USAGE,
    RunnerError,
    check_model,
    die,
    parse_bool,
    require,
    run_main,
    warn,
)

_PLACEHOLDER = re.compile(r"\$(?:(\$)|\{([A-Za-z_][A-Za-z0-9_]*)\}|([A-Za-z_][A-Za-z0-9_]*))")


def substitute_recipe_args(text: str, args: dict) -> str:
    """Replaces ``$key``/``${key}`` with ``args[key]``; ``$$`` is ``$``; any other ``$`` is kept.

    Raises :class:`RunnerError` for a placeholder without a value; warns about unused keys.
    """
    used: set[str] = set()
    missing: list[str] = []

    def replace(match: re.Match) -> str:
        if match.group(1):
            return "$"
        key = match.group(2) or match.group(3)
        if key not in args:
            missing.append(key)
            return match.group(0)
        used.add(key)
        value = args[key]
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, (list, dict)):
            return json.dumps(value)
        return str(value)

    result = _PLACEHOLDER.sub(replace, text)
    if missing:
        raise RunnerError(
            f"bad recipe: placeholder(s) {', '.join('$' + m for m in sorted(set(missing)))} have no value in --recipe-args "
            f"(given: {', '.join(sorted(args)) or 'none'})"
        )
    unused = sorted(set(args) - used)
    if unused:
        warn(f"recipe args {', '.join(unused)} are not used by the recipe (it has no $key for them)")
    return result


def validate_recipe_yaml(text: str) -> dict:
    """Parses the recipe text; exits 2 with the YAML problem (and line) when it is not a recipe."""
    import yaml

    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
        problem = getattr(error, "problem", None) or str(error).splitlines()[0]
        raise RunnerError(f"bad recipe YAML{where}: {problem}")
    if not isinstance(data, dict) or not data:
        raise RunnerError(
            f"bad recipe YAML: expected a mapping of stages/modifiers (e.g. quant_stage: {{quant_modifiers: ...}}), got {type(data).__name__}"
        )
    return data


def find_scheme(recipe: object) -> str | None:
    """The first ``scheme`` value in the recipe (W4A16, W8A8, …), or None."""
    if isinstance(recipe, dict):
        for key, value in recipe.items():
            if key == "scheme" and isinstance(value, str):
                return value
            if key == "scheme" and isinstance(value, dict) and value:
                return next(iter(value))
        for value in recipe.values():
            found = find_scheme(value)
            if found:
                return found
    elif isinstance(recipe, list):
        for value in recipe:
            found = find_scheme(value)
            if found:
                return found
    return None


def load_calibration(dataset: str, split: str | None, model: str):
    """A ``datasets.Dataset`` with a ``text`` column for a local file or directory, else the name."""
    import datasets

    expanded = os.path.expanduser(dataset)
    if os.path.isfile(expanded):
        lower = expanded.lower()
        if not lower.endswith((".json", ".jsonl")):
            raise RunnerError(f"calibration file {expanded} must be .json or .jsonl")
        ds = datasets.load_dataset("json", data_files=expanded, split=split or "train")
    elif os.path.isdir(expanded):
        try:
            ds = datasets.load_from_disk(expanded)
        except Exception:
            ds = datasets.load_dataset(expanded, split=split or "train")
        if isinstance(ds, datasets.DatasetDict):
            ds = ds[split or "train"]
    elif dataset.startswith(("/", "./", "../", "~")):
        raise RunnerError(f"calibration dataset not found: {expanded}")
    else:
        return dataset  # a name llm-compressor resolves (registered dataset or hub id)

    columns = set(ds.column_names)
    if "text" in columns:
        return ds.select_columns(["text"])
    if "messages" in columns:
        from transformers import AutoTokenizer

        tokenizer = AutoTokenizer.from_pretrained(model)
        if not getattr(tokenizer, "chat_template", None):
            raise RunnerError(f"calibration rows have 'messages' but the tokenizer of {model} has no chat template")
        return ds.map(
            lambda row: {"text": tokenizer.apply_chat_template(row["messages"], tokenize=False)},
            remove_columns=ds.column_names,
        )
    if "prompt" in columns:
        return ds.map(lambda row: {"text": row["prompt"]}, remove_columns=ds.column_names)
    raise RunnerError(f"calibration data {expanded} has neither a 'text' nor a 'messages' field (columns: {sorted(columns)})")


def _dir_size_mb(path: str) -> float:
    total = 0
    for root, _dirs, files in os.walk(path):
        for name in files:
            try:
                total += os.path.getsize(os.path.join(root, name))
            except OSError:
                pass
    return total / (1024 * 1024)


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m gpu_dag_runtime.compress", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", required=True, help="model directory or hub name")
    p.add_argument("--recipe-yaml", required=True, help="the recipe YAML text (not a path)")
    p.add_argument("--recipe-args", default=None, help="JSON object substituted for $key/${key} in the recipe")
    p.add_argument("--dataset", default=None, help="calibration data: local .json/.jsonl, local dataset dir, or dataset name")
    p.add_argument("--dataset-split", default=None, help="split of the calibration dataset (default train)")
    p.add_argument("--num-samples", type=int, default=512, help="number of calibration samples")
    p.add_argument("--max-seq-length", type=int, default=2048, help="max tokens per calibration sample")
    p.add_argument("--save-compressed", default="true", help="true|false: save in compressed-tensors packed format")
    p.add_argument("--output-dir", default=None, help="where to save the model (default $GPU_DAG_OUTPUT_DIR/model)")
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        save_compressed = parse_bool(args.save_compressed)
    except ValueError as error:
        raise RunnerError(f"--save-compressed: {error}")
    if args.num_samples <= 0 or args.max_seq_length <= 0:
        raise RunnerError("--num-samples and --max-seq-length must be positive integers")

    manifest_dir = os.environ.get("GPU_DAG_OUTPUT_DIR")
    model_dir = args.output_dir or (os.path.join(manifest_dir, "model") if manifest_dir else None)
    if not model_dir:
        raise RunnerError("no output directory: set GPU_DAG_OUTPUT_DIR or pass --output-dir")
    model_dir = os.path.abspath(os.path.expanduser(model_dir))
    manifest_dir = os.path.abspath(manifest_dir) if manifest_dir else model_dir

    require("yaml")
    recipe_args = {}
    if args.recipe_args:
        try:
            recipe_args = json.loads(args.recipe_args)
        except ValueError as error:
            raise RunnerError(f"--recipe-args is not valid JSON: {error}")
        if not isinstance(recipe_args, dict):
            raise RunnerError("--recipe-args must be a JSON object")
    recipe_text = substitute_recipe_args(args.recipe_yaml, recipe_args)
    recipe = validate_recipe_yaml(recipe_text)

    model = check_model(args.model)
    require("torch", "transformers", "datasets", "compressed_tensors", "llmcompressor")

    os.makedirs(manifest_dir, exist_ok=True)
    recipe_path = os.path.join(manifest_dir, "recipe.yaml")
    with open(recipe_path, "w", encoding="utf-8") as f:
        f.write(recipe_text)

    # Let llm-compressor check the recipe before the model is loaded: unknown modifiers or
    # fields are a "bad recipe", not a crash halfway through.
    from llmcompressor.recipe import Recipe

    try:
        Recipe.create_instance(recipe_path)
    except Exception as error:  # pydantic ValidationError, ValueError, KeyError …
        first = " ".join(str(error).split())[:500]
        raise RunnerError(f"bad recipe: llm-compressor rejected it: {type(error).__name__}: {first}")

    dataset = load_calibration(args.dataset, args.dataset_split, model) if args.dataset else None
    if dataset is None:
        warn("no --dataset given: running oneshot without calibration data (data-free schemes only)")

    from llmcompressor import oneshot

    start = time.time()
    kwargs = dict(
        model=model,
        recipe=recipe_path,
        output_dir=model_dir,
        save_compressed=save_compressed,
        max_seq_length=args.max_seq_length,
        num_calibration_samples=args.num_samples,
    )
    if dataset is not None:
        kwargs["dataset"] = dataset
        if args.dataset_split and isinstance(dataset, str):
            kwargs["splits"] = {"calibration": args.dataset_split}
    oneshot(**kwargs)
    duration = time.time() - start

    if not os.path.exists(os.path.join(model_dir, "config.json")):
        raise RunnerError(f"llm-compressor finished but wrote no config.json in {model_dir}", EXIT_TOOL)

    from .manifest import Manifest

    scheme = find_scheme(recipe)
    base = os.path.basename(os.path.normpath(args.model)) or "model"
    name = f"{base}-{scheme}" if scheme else f"{base}-compressed"
    manifest = Manifest(manifest_dir)
    manifest.add_model(name, model_dir, "transformers")
    manifest.add_artifact("recipe", recipe_path)
    manifest.add_metric("compress/duration_s", round(duration, 3))
    manifest.add_metric("compress/model_size_mb", round(_dir_size_mb(model_dir), 3))
    manifest.write()
    print(f"gpu-dag: saved {name} to {model_dir}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    run_main(main)
