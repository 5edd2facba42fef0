"""Build a tiny random-weight Llama model plus local data, with no model hub.

Usage::

    python -m gpu_dag_runtime.testing.make_tiny_model OUT_DIR [--hidden-size 128] [--layers 2] [--seed 0]

Writes under OUT_DIR:

- ``model/``            LlamaForCausalLM (random weights) + tokenizer (BPE trained here) with a chat template
- ``calibration.jsonl`` calibration rows ``{"text": ...}`` (for llm-compressor)
- ``tasks/``            lm-eval tasks over local JSONL: ``tiny_arith`` (multiple choice),
                        ``tiny_words`` (multiple choice) and the group ``tiny_suite`` of both
- ``generation_input.jsonl`` 20 rows ``{"question": ...}``
- ``prompt_config.yaml``     NeMo-Skills-style prompt config (system, user template, few-shot)
- ``fixture.json``      the paths above, for scripts and tests

Everything is deterministic for a given seed. The model is a few MB; its answers are noise, which
is all a test of the plumbing needs.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import sys

WORDS = (
    "the a one two three four five six seven eight nine ten plus minus is what answer question "
    "cat dog bird fish tree river stone light dark red green blue big small fast slow model data "
    "run step graph queue job compress evaluate generate number sum result true false yes no"
).split()
NUMBER_WORDS = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten"]

CHAT_TEMPLATE = (
    "{% for message in messages %}"
    "<|{{ message['role'] }}|>\n{{ message['content'] }}</s>\n"
    "{% endfor %}"
    "{% if add_generation_prompt %}<|assistant|>\n{% endif %}"
)


def _corpus(rng: random.Random, n: int = 3000) -> list[str]:
    lines = []
    for _ in range(n):
        a, b = rng.randint(0, 9), rng.randint(0, 9)
        kind = rng.random()
        if kind < 0.4:
            lines.append(f"Question: what is {a} plus {b}? Answer: {a + b}")
        elif kind < 0.6:
            lines.append(f"{NUMBER_WORDS[a]} plus {NUMBER_WORDS[b]} is {a + b}")
        else:
            lines.append(" ".join(rng.choice(WORDS) for _ in range(rng.randint(5, 16))))
    return lines


def build_tokenizer(corpus: list[str], vocab_size: int):
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    special = ["<unk>", "<s>", "</s>", "<pad>", "<|system|>", "<|user|>", "<|assistant|>"]
    tok = Tokenizer(models.BPE(unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=special,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tok.train_from_iterator(corpus, trainer=trainer)
    fast = PreTrainedTokenizerFast(
        tokenizer_object=tok,
        bos_token="<s>",
        eos_token="</s>",
        unk_token="<unk>",
        pad_token="<pad>",
        additional_special_tokens=["<|system|>", "<|user|>", "<|assistant|>"],
    )
    fast.chat_template = CHAT_TEMPLATE
    fast.model_max_length = 512
    return fast


def build_model(tokenizer, hidden_size: int, layers: int, seed: int):
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    torch.manual_seed(seed)
    heads = max(2, hidden_size // 32)
    config = LlamaConfig(
        vocab_size=len(tokenizer),
        hidden_size=hidden_size,
        intermediate_size=hidden_size * 2,
        num_hidden_layers=layers,
        num_attention_heads=heads,
        num_key_value_heads=max(1, heads // 2),
        max_position_embeddings=512,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
        tie_word_embeddings=False,
    )
    model = LlamaForCausalLM(config)
    model.to(torch.float32)
    model.eval()
    return model


def _write_jsonl(path: str, rows) -> None:
    with open(path, "w", encoding="utf-8") as f:
        for row in rows:
            f.write(json.dumps(row) + "\n")


def build_tasks(out: str, rng: random.Random) -> dict:
    tasks_dir = os.path.join(out, "tasks")
    os.makedirs(tasks_dir, exist_ok=True)
    arith = []
    for _ in range(24):
        a, b = rng.randint(0, 9), rng.randint(0, 9)
        right = a + b
        wrong = sorted({right + 1, max(0, right - 1), right + 3} - {right})[:3]
        choices = [str(right)] + [str(w) for w in wrong]
        rng.shuffle(choices)
        arith.append({"question": f"what is {a} plus {b}?", "choices": choices, "answer": choices.index(str(right))})
    words = []
    for _ in range(16):
        n = rng.randint(0, 10)
        choices = [NUMBER_WORDS[n], rng.choice(WORDS), rng.choice(WORDS)]
        rng.shuffle(choices)
        words.append({"question": f"the word for {n} is", "choices": choices, "answer": choices.index(NUMBER_WORDS[n])})
    arith_data = os.path.join(tasks_dir, "tiny_arith.jsonl")
    words_data = os.path.join(tasks_dir, "tiny_words.jsonl")
    _write_jsonl(arith_data, arith)
    _write_jsonl(words_data, words)

    def task_yaml(name: str, data: str, template: str) -> str:
        return (
            f"task: {name}\n"
            "dataset_path: json\n"
            "dataset_kwargs:\n"
            "  data_files:\n"
            f"    test: {json.dumps(data)}\n"
            "test_split: test\n"
            "output_type: multiple_choice\n"
            f"doc_to_text: {json.dumps(template)}\n"
            'doc_to_choice: "{{choices}}"\n'
            'doc_to_target: "{{answer}}"\n'
            "metric_list:\n"
            "  - metric: acc\n    aggregation: mean\n    higher_is_better: true\n"
            "  - metric: acc_norm\n    aggregation: mean\n    higher_is_better: true\n"
            "metadata:\n  version: 1.0\n"
        )

    with open(os.path.join(tasks_dir, "tiny_arith.yaml"), "w") as f:
        f.write(task_yaml("tiny_arith", arith_data, "Question: {{question}}\nAnswer:"))
    with open(os.path.join(tasks_dir, "tiny_words.yaml"), "w") as f:
        f.write(task_yaml("tiny_words", words_data, "{{question}}"))
    with open(os.path.join(tasks_dir, "tiny_suite.yaml"), "w") as f:
        f.write(
            "group: tiny_suite\n"
            "task:\n  - tiny_arith\n  - tiny_words\n"
            "aggregate_metric_list:\n"
            "  - metric: acc\n    aggregation: mean\n    weight_by_size: true\n"
            "metadata:\n  version: 1.0\n"
        )
    return {"tasks_dir": tasks_dir, "tasks": ["tiny_arith", "tiny_words"], "group": "tiny_suite"}


def build(out: str, hidden_size: int = 128, layers: int = 2, seed: int = 0, vocab_size: int = 512) -> dict:
    """Builds the whole fixture under ``out`` and returns the paths (also written to fixture.json)."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
    os.makedirs(out, exist_ok=True)
    rng = random.Random(seed)
    corpus = _corpus(rng)
    tokenizer = build_tokenizer(corpus, vocab_size)
    model = build_model(tokenizer, hidden_size, layers, seed)
    model_dir = os.path.join(out, "model")
    model.generation_config.do_sample = False
    model.save_pretrained(model_dir, safe_serialization=True)
    tokenizer.save_pretrained(model_dir)

    calibration = os.path.join(out, "calibration.jsonl")
    _write_jsonl(calibration, ({"text": " ".join(corpus[i : i + 4])} for i in range(0, 256, 4)))

    generation_input = os.path.join(out, "generation_input.jsonl")
    gen_rows = []
    for i in range(20):
        a, b = rng.randint(0, 9), rng.randint(0, 9)
        gen_rows.append({"id": i, "question": f"what is {a} plus {b}?", "expected_answer": str(a + b)})
    _write_jsonl(generation_input, gen_rows)

    prompt_config = os.path.join(out, "prompt_config.yaml")
    with open(prompt_config, "w") as f:
        f.write(
            "system: You answer arithmetic questions with one number.\n"
            "few_shot_examples:\n"
            "  - question: what is 1 plus 2?\n    expected_answer: '3'\n"
            "user: |-\n  Question: {question}\n  Answer:\n"
        )
    info = {
        "model": model_dir,
        "calibration": calibration,
        "generation_input": generation_input,
        "prompt_config": prompt_config,
        **build_tasks(out, rng),
    }
    with open(os.path.join(out, "fixture.json"), "w") as f:
        json.dump(info, f, indent=2)
    return info


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m gpu_dag_runtime.testing.make_tiny_model", description=__doc__.split("\n")[0])
    parser.add_argument("out_dir")
    parser.add_argument("--hidden-size", type=int, default=128)
    parser.add_argument("--layers", type=int, default=2)
    parser.add_argument("--vocab-size", type=int, default=512)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    info = build(args.out_dir, args.hidden_size, args.layers, args.seed, args.vocab_size)
    json.dump(info, sys.stdout, indent=2)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
