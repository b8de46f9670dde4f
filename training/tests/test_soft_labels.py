"""Soft labels: the annotators' vote distribution from a studio export (soft_label column) as the
training target (train --soft-labels)."""
import csv
import json
import os
import shutil

import pytest
import torch

from wavfusion.data import Batcher, load_audio_cache, parse_soft_label, read_export_dir
from wavfusion.tokenizer import train_bpe
from wavfusion.train import train

LABELS = ["neutral", "happy", "angry", "sad"]


def test_parse_soft_label():
    assert parse_soft_label("[0.5,0.5,0,0]", LABELS) == ({"neutral": 0.5, "happy": 0.5}, "")
    assert parse_soft_label("", LABELS) == (None, "")
    assert parse_soft_label("[0,0,0,0]", LABELS) == (None, "")  # nobody voted: the label alone
    assert parse_soft_label("[1,0]", LABELS)[1] == "soft_label '[1,0]' is not 4 shares >= 0 (label_map.json has 4 labels)"
    assert parse_soft_label("[0.5,", LABELS)[1] == "soft_label '[0.5,' is not a JSON list"
    assert parse_soft_label("[1,0,0,0]", None)[1] == "soft_label without label_map.json (its order is unknown)"


def _with_soft_labels(src: str, dst: str) -> str:
    """A copy of an export whose train rows carry a soft_label (split 2:1 between the row's label and the
    next one); one row's cell is broken on purpose."""
    shutil.copytree(src, dst)
    with open(os.path.join(dst, "label_map.json"), "w") as f:
        json.dump({"labels": LABELS}, f)
    meta = os.path.join(dst, "train", "metadata.csv")
    with open(meta, newline="") as f:
        rows = list(csv.DictReader(f))
    for i, row in enumerate(rows):
        shares = [0.0] * 4
        k = LABELS.index(row["label"])
        shares[k], shares[(k + 1) % 4] = 2 / 3, 1 / 3
        row["soft_label"] = json.dumps(shares) if i else "not json"
    with open(meta, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0].keys()))
        w.writeheader()
        w.writerows(rows)
    return dst


def test_export_soft_labels_are_read_and_become_the_targets(espeak_corpus, tmp_path):
    folder = _with_soft_labels(espeak_corpus, str(tmp_path / "export"))
    corpus = read_export_dir(folder)
    train_items = corpus.split("train")
    assert train_items[0].soft is None and train_items[1].soft is not None
    assert any("soft_label 'not json' is not a JSON list; the row is trained on its label alone" in str(p)
               for p in corpus.problems)
    load_audio_cache(train_items)
    tok = train_bpe([it.text for it in train_items], vocab_size=300)
    soft = Batcher(train_items, corpus.labels, tok, 64, 32, train=False, soft_labels=True)
    hard = Batcher(train_items, corpus.labels, tok, 64, 32, train=False)
    first = next(iter(soft))
    labels, targets = first.labels, first.targets
    second = next(iter(hard))
    hard_labels, hard_targets = second.labels, second.targets
    assert torch.equal(labels, hard_labels)
    assert torch.equal(hard_targets, torch.nn.functional.one_hot(hard_labels, len(corpus.labels)).float())
    order = sorted(range(len(train_items)), key=lambda j: len(train_items[j].loaded_audio()))
    for row, j in enumerate(order):
        expected = train_items[j].soft
        if expected is None:
            assert float(targets[row].max()) == 1.0
        else:
            assert targets[row].tolist() == pytest.approx([expected.get(l, 0.0) for l in corpus.labels], abs=1e-6)
            assert int(targets[row].argmax()) == int(labels[row])


def test_training_with_soft_labels_runs_and_says_so(espeak_corpus, tmp_path):
    folder = _with_soft_labels(espeak_corpus, str(tmp_path / "export"))
    logs = []
    res = train(folder, None, config="tiny", epochs=1, batch_size=8, seed=3, vocab_size=300, soft_labels=True,
                log=logs.append)
    assert any("soft labels: 15 of 16 training rows have a vote distribution" in line for line in logs)
    assert "against the vote distribution" in res["training_info"]["recipe"]["loss"]
    hard = train(folder, None, config="tiny", epochs=1, batch_size=8, seed=3, vocab_size=300, log=lambda *_: None)
    # same seed and data: only the targets differ, so the weights do too
    a, b = res["model"].state_dict(), hard["model"].state_dict()
    assert any(not torch.equal(a[k], b[k]) for k in a)
