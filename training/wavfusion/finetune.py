"""Fine-tuning from an existing bundle (``train --init-from <bundle>``).

train() is used unchanged: the data is loaded here first (so that labels the bundle does not know are
refused before any work), then train() runs with the bundle's tokenizer.json and label set, while its
``build_model`` is swapped, for the duration of the call, for one that builds the bundle's own
architecture (its model.json config) and loads the bundle's model.pt into it. Shapes and labels are
checked; anything that does not fit is a ValueError with a clear message (exit 2 in the CLI).
"""
from __future__ import annotations

import json
import os
from contextlib import contextmanager
from typing import Any, Dict, Iterator, List, Optional, Tuple

from . import train as train_module
from .config import WavFusionConfig
from .data import load_corpus
from .modules import WavFusionModel


def read_init_bundle(folder: str) -> Dict[str, Any]:
    meta_path = os.path.join(folder, "model.json")
    if not os.path.isfile(meta_path):
        raise ValueError(f"--init-from {folder}: no model.json (not a model bundle)")
    with open(meta_path, encoding="utf-8") as f:
        meta = json.load(f)
    weights = os.path.join(folder, meta.get("pytorch_weights") or "model.pt")
    if not os.path.isfile(weights):
        raise ValueError(f"--init-from {folder}: the bundle has no PyTorch weights ({os.path.basename(weights)}); "
                         "it can only be used for inference")
    tok = os.path.join(folder, meta.get("tokenizer") or "tokenizer.json")
    if not os.path.isfile(tok):
        raise ValueError(f"--init-from {folder}: tokenizer file {os.path.basename(tok)} is missing")
    if "config" not in meta or not meta.get("labels"):
        raise ValueError(f"--init-from {folder}: model.json has no config or labels")
    return {"folder": os.path.abspath(folder), "meta": meta, "weights": weights, "tokenizer": tok}


def check_labels(data_labels: List[str], bundle_labels: List[str], folder: str) -> None:
    unknown = [l for l in data_labels if l not in bundle_labels]
    if unknown:
        raise ValueError(f"--init-from {folder}: the data has labels the model does not know: {', '.join(unknown)} "
                         f"(the model's labels: {', '.join(bundle_labels)}); train from scratch instead")


# architecture options a continued run may switch on; their new parameters start from the module's
# own initialisation (StatisticsPooling starts as the mean and LogMelStatistics at zero, so the continued
# model starts where it was)
# training-time settings without parameters (augmentation, path dropout): a continued run may set them
AUGMENTATION_OPTIONS = ("audio.mel_warp", "audio.mask_mel_bands", "audio.mask_mel_width", "encoder_dropout",
                        "speaker_statistics_dropout")
CONTINUABLE_OPTIONS = {"pooling": ("statistics_pooling.",), "log_mel_statistics": ("log_mel_statistics.",),
                       "speaker_normalised_statistics": ("log_mel_statistics.fallback",)}


def load_weights(model: WavFusionModel, weights: str, folder: str, new_prefixes: Tuple[str, ...] = ()) -> None:
    from .checkpoint import torch_load

    state = torch_load(weights)
    own = model.state_dict()
    missing = [k for k in own if k not in state and not k.startswith(new_prefixes)]
    unexpected = [k for k in state if k not in own]
    wrong = [f"{k} {tuple(state[k].shape)} vs {tuple(own[k].shape)}" for k in own
             if k in state and tuple(state[k].shape) != tuple(own[k].shape)]
    if missing or unexpected or wrong:
        detail = "; ".join(x for x in [
            f"missing {', '.join(missing[:5])}" if missing else "",
            f"unexpected {', '.join(unexpected[:5])}" if unexpected else "",
            f"shape {', '.join(wrong[:5])}" if wrong else ""] if x)
        raise ValueError(f"--init-from {folder}: model.pt does not fit the bundle's architecture ({detail})")
    model.load_state_dict(state, strict=not new_prefixes)


@contextmanager
def bundle_model(init: Dict[str, Any], log) -> Iterator[None]:
    original = train_module.build_model
    meta = init["meta"]

    def build_from_bundle(_config: str, labels: List[str], vocab_size: int, overrides: Dict[str, Any]):
        if list(labels) != list(meta["labels"]):
            raise ValueError(f"--init-from {init['folder']}: label set {list(labels)} differs from the model's "
                             f"{list(meta['labels'])}")
        cfg = WavFusionConfig.from_dict(meta["config"])
        if cfg.text.vocab_size < vocab_size:
            raise ValueError(f"--init-from {init['folder']}: tokenizer has {vocab_size} ids but the text encoder "
                             f"only {cfg.text.vocab_size}")
        new_prefixes: Tuple[str, ...] = ()
        for key, prefixes in CONTINUABLE_OPTIONS.items():
            value = overrides.get(key)
            if value is not None and value != getattr(cfg, key):
                log(f"  {key}: {getattr(cfg, key)} -> {value} (new parameters: {', '.join(prefixes)})")
                setattr(cfg, key, value)
                new_prefixes += prefixes
        for key in AUGMENTATION_OPTIONS:
            value = overrides.get(key)
            if value is not None:
                owner, name = (cfg.audio, key.split(".", 1)[1]) if key.startswith("audio.") else (cfg, key)
                setattr(owner, name, value)
        cfg.validate()
        model = WavFusionModel(cfg)
        load_weights(model, init["weights"], init["folder"], new_prefixes)
        log(f"  initialised from {init['folder']} ({meta.get('name')} {meta.get('version')})")
        return model

    train_module.build_model = build_from_bundle
    try:
        yield
    finally:
        train_module.build_model = original


def finetune(data: str, out_dir: Optional[str], init_from: str, seed: int = 0, log=print, **kw: Any) -> Dict[str, Any]:
    """train() starting from ``init_from``'s weights, tokenizer and label set (``kw``: train()'s options;
    ``config``, ``tokenizer`` and ``labels`` come from the bundle)."""
    init = read_init_bundle(init_from)
    meta = init["meta"]
    corpus = load_corpus(data, seed=seed)
    check_labels(corpus.labels, list(meta["labels"]), init_from)
    for k in ("tokenizer", "labels", "audio_checkpoint", "text_checkpoint"):
        kw.pop(k, None)
    with bundle_model(init, log):
        res = train_module.train(corpus, out_dir, seed=seed, log=log, tokenizer=init["tokenizer"],
                                 labels=list(meta["labels"]), **kw)
    origin = {"folder": init["folder"], "name": meta.get("name"), "version": meta.get("version")}
    if "training_info" in res:
        res["training_info"]["recipe"]["init_from"] = origin
    if out_dir and res.get("model_json") is not None:
        path = os.path.join(out_dir, "model.json")
        with open(path, encoding="utf-8") as f:
            written = json.load(f)
        written["training"]["recipe"]["init_from"] = origin
        with open(path, "w", encoding="utf-8") as f:
            json.dump(written, f, indent=2)
    return res
