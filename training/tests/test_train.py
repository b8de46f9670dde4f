"""Round trip on real espeak-ng clips in the studio's export layout: train -> bundle -> reload."""
import csv
import json
import os

import onnx
import onnx.checker
import pytest
import torch

from wavfusion.data import load_corpus, read_manifest
from wavfusion.export import load_bundle
from wavfusion.train import train


def test_reads_export_layout(espeak_corpus):
    c = load_corpus(espeak_corpus)
    assert c.labels == ["neutral", "happy", "angry", "sad"]
    tr, va = c.split("train"), c.split("validation")
    assert tr and va and not ({i.speaker for i in tr} & {i.speaker for i in va})


def test_manifest_gets_speaker_independent_split(espeak_corpus, tmp_path):
    rows = []
    for split in ("train", "validation"):
        with open(os.path.join(espeak_corpus, split, "metadata.csv")) as f:
            for r in csv.DictReader(f):
                rows.append({"path": os.path.join(espeak_corpus, split, r["file_name"]), "text": r["text"],
                             "label": r["label"], "speaker": r["speaker"]})
    man = tmp_path / "manifest.jsonl"
    man.write_text("\n".join(json.dumps(r) for r in rows))
    c = read_manifest(str(man), seed=0)
    tr, va = c.split("train"), c.split("validation")
    assert tr and va and not ({i.speaker for i in tr} & {i.speaker for i in va})


def test_train_writes_loadable_bundle_and_is_reproducible(espeak_corpus, tmp_path):
    out = str(tmp_path / "bundle")
    logs = []
    res = train(espeak_corpus, out, config="tiny", epochs=1, batch_size=8, seed=3, vocab_size=300,
                log=logs.append)
    assert any("epoch 1/1" in l and "UA" in l and "weighted-F1" in l for l in logs)
    for f in ("model.onnx", "model.json", "tokenizer.json", "model.pt"):
        assert os.path.exists(os.path.join(out, f)), f
    meta = json.load(open(os.path.join(out, "model.json")))
    for k in ("name", "version", "labels", "sample_rate", "max_seconds", "tokenizer", "empty_text_ids", "config",
              "training"):
        assert k in meta, k
    assert meta["labels"] == ["neutral", "happy", "angry", "sad"]
    assert meta["empty_text_ids"] == [0, 2] and meta["sample_rate"] == 16000
    assert set(meta["training"]["metrics"]["validation"]) >= {"WA", "UA", "macro_F1", "weighted_F1"}
    onnx.checker.check_model(onnx.load(os.path.join(out, "model.onnx")))
    model, tok, _ = load_bundle(out)
    a = torch.randn(1, 8000) * 0.1
    ids = torch.tensor([tok.encode("hello there")])
    m = torch.ones_like(ids)
    with torch.no_grad():
        o1 = model(a, torch.tensor([8000]), ids, m)
        o2 = res["model"](a, torch.tensor([8000]), ids, m)
    assert torch.allclose(o1.logits, o2.logits, atol=1e-6)
    # same seed -> same result
    res2 = train(espeak_corpus, None, config="tiny", epochs=1, batch_size=8, seed=3, vocab_size=300,
                 log=lambda *a: None)
    assert abs(res2["history"][0]["loss"] - res["history"][0]["loss"]) < 1e-6


def test_selection_on_some_validation_corpora(espeak_corpus):
    corpus = load_corpus(espeak_corpus, seed=0)
    val = corpus.split("validation")
    for i, it in enumerate(val):
        it.corpus = "held-out" if i % 2 else "known-voices"
    logs = []
    res = train(corpus, None, config="tiny", epochs=2, batch_size=8, seed=3, vocab_size=300, max_train_items=16,
                select_corpora=["held-out"], log=logs.append)
    n = sum(1 for it in val if it.corpus == "held-out")
    assert res["training_info"]["recipe"]["selection"] == f"best validation UA on held-out ({n} items)"
    scores = [h["selection"]["UA"] for h in res["history"]]
    assert res["best_epoch"] == 1 + scores.index(max(scores))
    assert all("selection UA" in line for line in logs if line.startswith("epoch "))


def test_selection_on_a_corpus_without_validation_items_is_refused(espeak_corpus):
    corpus = load_corpus(espeak_corpus, seed=0)
    with pytest.raises(ValueError, match="--select-corpora tess: no validation items from these corpora"):
        train(corpus, None, config="tiny", epochs=1, batch_size=8, vocab_size=300, max_train_items=8,
              select_corpora=["tess"], log=lambda *_: None)
