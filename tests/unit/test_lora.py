"""LoRA fine-tuning (`train <task> --base`) on a tiny random causal LM: the path without the real model or network."""

from __future__ import annotations

import json
import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")

from micromarket.specialists.microllm import lora  # noqa: E402
from micromarket.specialists.microllm.train_dates import DatesTask  # noqa: E402
from tests.tiny_models import build_tiny_causal_lm  # noqa: E402


def test_answer_only_labels_on_left_padded_batch():
    from tests.tiny_models import build_tokenizer

    tok = build_tokenizer()
    ids, mask, labels, keep = lora._batch(tok, ["a long prompt here", "hi"], ["2021-03-03", "1"])
    assert ids.shape == mask.shape and mask[1, 0] == 0 and mask[:, -1].all()  # left padding
    answers = tok(["2021-03-03", "1"], add_special_tokens=False)["input_ids"]
    for row, a in enumerate(answers):
        want = a + [tok.eos_token_id]
        got = [int(x) for x in labels[row] if x != -100]
        assert got == want
        assert (ids[row, -len(want):].tolist() == want)  # labels line up with the last positions
    assert keep == max(len(a) for a in answers) + 2


def test_lora_run_saves_adapter_serves_base_plus_adapter_and_is_deterministic(tmp_path):
    from micromarket.specialists.microllm.engine import LocalBackend

    base = build_tiny_causal_lm(tmp_path / "base")
    task = DatesTask()
    outs = []
    for name in ("a", "b"):
        cfg = lora.LoraTrainConfig(steps=3, batch_size=2, rank=2, alpha=4, eval_n=2)
        summary = lora.run(task, str(base), cfg, tmp_path / name, json_out=True)
        outs.append(tmp_path / name)
        assert summary["steps"] == 3 and summary["base"] == str(base)
        assert not summary["gate"]["passed"] and not summary["gate"]["registered"]  # no register_card given
    a, b = ((p / "adapter_model.safetensors").read_bytes() for p in outs)
    assert a == b  # same seed, same command: the same adapter
    assert json.loads((outs[0] / "adapter_config.json").read_text())["r"] == 2
    cfg = json.loads((outs[0] / "microllm.json").read_text())
    assert cfg["system"] == task.instruction and cfg["base_model"] == str(base)
    backend = LocalBackend(str(outs[0]))  # what `specialist serve --model DIR` builds: base + adapter, merged
    assert not hasattr(backend.model, "peft_config")
    assert backend.config.validator == "iso_date"
    gen = backend.generate([backend.prompt("March 3rd, 2021")])[0]
    assert gen.text == "UNKNOWN" or len(gen.text) <= 10
    assert "microllm-dates-lora" in (outs[0] / "card.yaml").read_text()
