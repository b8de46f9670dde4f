"""Fine-tuning from a bundle refuses what does not fit, with one clear message and nothing written:
labels the bundle does not know, a bundle without PyTorch weights (or model.json, or tokenizer),
weights whose shapes do not fit the bundle's architecture, a label set or vocabulary that differs."""
import json
import os

import pytest
import torch

from conftest import tiny_cfg
from wavfusion import train as train_module
from wavfusion.data import load_corpus
from wavfusion.finetune import bundle_model, finetune, read_init_bundle
from wavfusion.modules import WavFusionModel


def _bundle(folder, cfg, weights_cfg=None, labels=None, weights=True, tokenizer=True, meta=True):
    """A bundle folder: model.json for ``cfg`` (``labels`` override), model.pt of ``weights_cfg`` (else cfg)."""
    os.makedirs(folder, exist_ok=True)
    if weights:
        torch.manual_seed(3)
        torch.save(WavFusionModel(weights_cfg or cfg).state_dict(), os.path.join(folder, "model.pt"))
    if tokenizer:
        with open(os.path.join(folder, "tokenizer.json"), "w") as f:
            f.write("{}")
    if meta:
        with open(os.path.join(folder, "model.json"), "w") as f:
            json.dump({"name": "t", "version": "1", "labels": labels or cfg.labels, "config": cfg.to_dict()}, f)
    return str(folder)


def test_labels_the_bundle_does_not_know_are_refused_before_any_training(espeak_corpus, tmp_path):
    labels = load_corpus(espeak_corpus, seed=0).labels
    assert len(labels) >= 2
    known, unknown = labels[:-1], labels[-1]
    cfg = tiny_cfg(labels=known)
    bundle = _bundle(tmp_path / "bundle", cfg)
    out = tmp_path / "out"
    called = []
    original = train_module.train
    train_module.train = lambda *a, **k: called.append(1)
    try:
        with pytest.raises(ValueError, match=f"the data has labels the model does not know: {unknown} "):
            finetune(espeak_corpus, str(out), bundle, epochs=1)
    finally:
        train_module.train = original
    assert called == [] and not out.exists()


def test_a_bundle_without_weights_model_json_or_tokenizer_is_refused(tmp_path):
    cfg = tiny_cfg()
    with pytest.raises(ValueError, match=r"no PyTorch weights \(model.pt\); it can only be used for inference"):
        read_init_bundle(_bundle(tmp_path / "a", cfg, weights=False))
    with pytest.raises(ValueError, match=r"no model.json \(not a model bundle\)"):
        read_init_bundle(_bundle(tmp_path / "b", cfg, meta=False))
    with pytest.raises(ValueError, match="tokenizer file tokenizer.json is missing"):
        read_init_bundle(_bundle(tmp_path / "c", cfg, tokenizer=False))
    folder = _bundle(tmp_path / "d", cfg)
    with open(os.path.join(folder, "model.json"), "w") as f:
        json.dump({"name": "t", "labels": []}, f)
    with pytest.raises(ValueError, match="model.json has no config or labels"):
        read_init_bundle(folder)


def test_weights_that_do_not_fit_the_architecture_are_refused_with_the_shapes(tmp_path):
    cfg = tiny_cfg()
    # The same architecture but one label more: the classifier's weights have another shape.
    other = tiny_cfg(labels=list(cfg.labels) + ["bored"])
    init = read_init_bundle(_bundle(tmp_path / "bundle", cfg, weights_cfg=other))
    with bundle_model(init, lambda *a: None):
        with pytest.raises(ValueError, match=r"model.pt does not fit the bundle's architecture \(shape .*\(5, .*vs \(4, "):
            train_module.build_model("tiny", cfg.labels, 300, {})
    # The fitting weights load, and build_model is restored afterwards.
    fitting = read_init_bundle(_bundle(tmp_path / "fits", cfg))
    with bundle_model(fitting, lambda *a: None):
        assert isinstance(train_module.build_model("tiny", cfg.labels, 300, {}), WavFusionModel)
        with pytest.raises(ValueError, match="differs from the model's"):
            train_module.build_model("tiny", list(reversed(cfg.labels)), 300, {})
        with pytest.raises(ValueError, match="tokenizer has 100000 ids but the text encoder only 300"):
            train_module.build_model("tiny", cfg.labels, 100000, {})
    assert train_module.build_model.__name__ == "build_model"
