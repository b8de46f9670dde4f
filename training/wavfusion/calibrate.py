"""Class-prior calibration: one offset per class added to the classifier's bias, chosen on validation data.

A model trained with (corpus, label)-balanced sampling on acted corpora still leans towards some classes
on new voices (0.3.1: TESS "happy" heard as "angry", RAVDESS "sad" as "happy"). Adding a constant to a
class's logit moves every decision boundary of that class at once; chosen to maximise unweighted
accuracy on the validation speakers, it is "logit adjustment" / bias calibration (e.g. Menon et al.
2021, Zhao et al. 2021), a post-hoc step that changes no weight but the classifier's bias, so the
bundle's graph and size stay as they were. The offsets are recorded in model.json
(``training.calibration``). Choose it on validation data; evaluate on test once.

The objective is the mean of two unweighted accuracies over the validation items: with the transcript
over every corpus given, and without it over the real corpora (the studio mostly hears recordings
without transcripts). Coordinate ascent over a grid, class 0 fixed at 0 (only differences matter).
"""
from __future__ import annotations

import os
from typing import Any, Callable, Dict, List, Optional, Sequence

import numpy as np

GRID = np.round(np.arange(-3.0, 3.0001, 0.05), 4)


def predict_logits(model, tok, items, labels: Sequence[str], use_text: bool, batch_size: int = 16) -> np.ndarray:
    """[N, L] logits in the order of ``items``."""
    import torch

    from .data import Batcher

    b = Batcher(items, labels, tok, batch_size, model.config.text.max_text_tokens, train=False,
                max_samples=int(model.config.max_seconds * 16000), use_text=use_text)
    order = sorted(range(len(items)), key=lambda j: len(items[j].loaded_audio()))
    rows: List[np.ndarray] = []
    model.eval()
    dev = next(model.parameters()).device
    with torch.no_grad():
        for batch in b:
            spk = batch.speaker_statistics.to(dev) if batch.speaker_statistics is not None else None
            rows.append(model(batch.audio.to(dev), batch.lengths.to(dev), batch.input_ids.to(dev),
                              batch.attention_mask.to(dev), speaker_statistics=spk).logits.cpu().numpy())
    stacked = np.concatenate(rows, 0)
    out = np.zeros_like(stacked)
    for k, j in enumerate(order):
        out[j] = stacked[k]
    return out


def unweighted_accuracy(gold: np.ndarray, pred: np.ndarray, n: int) -> float:
    recalls = [float(np.mean(pred[gold == c] == c)) for c in range(n) if np.any(gold == c)]
    return float(np.mean(recalls)) if recalls else 0.0


def fit_offsets(parts: Sequence[tuple], n: int, passes: int = 4) -> np.ndarray:
    """Offsets (class 0 at 0) maximising the mean UA of ``parts``: (logits [N, n], gold [N]) pairs."""
    def score(offset: np.ndarray) -> float:
        return float(np.mean([unweighted_accuracy(g, (z + offset).argmax(1), n) for z, g in parts]))

    offset = np.zeros(n)
    best = score(offset)
    for _ in range(passes):
        moved = False
        for c in range(1, n):
            for v in GRID:
                trial = offset.copy()
                trial[c] = v
                s = score(trial)
                # ties: the smaller change
                if s > best + 1e-9 or (abs(s - best) <= 1e-9 and abs(v) < abs(offset[c]) - 1e-9):
                    best, offset, moved = s, trial, True
        if not moved:
            break
    return offset


def calibrate_bundle(model_dir: str, out_dir: str, corpora: Sequence[str], synthetic: Optional[str] = None,
                     seed: int = 0, name: Optional[str] = None, log: Callable[..., Any] = print) -> Dict[str, Any]:
    import torch

    from .checkpoint import torch_load
    from .corpora import LABEL_MAP_4, build_items, require_root
    from .export import derive_bundle, load_bundle
    from .recipe import load_synthetic

    if os.path.exists(out_dir):
        raise ValueError(f"{out_dir} exists; choose a new folder")
    model, tok, meta = load_bundle(model_dir)
    labels = meta["labels"]
    lid = {l: i for i, l in enumerate(labels)}
    items = []
    if corpora:
        root = require_root()
        items += [it for it in build_items(root, corpora, LABEL_MAP_4, seed=seed, log=log) if it.split == "validation"]
    real = len(items)
    if synthetic:
        items += [it for it in load_synthetic(synthetic) if it.split == "validation"]
    items = [it for it in items if it.label in labels]
    if not items:
        raise ValueError("no validation items with the model's labels")
    if model.config.speaker_normalised_statistics:
        from .speakers import assign_speaker_statistics

        assign_speaker_statistics(model, items, int(model.config.max_seconds * 16000))
    gold = np.array([lid[it.label] for it in items])
    parts = []
    if model.uses_text:
        parts.append((predict_logits(model, tok, items, labels, use_text=True), gold))
    if model.uses_audio and real:
        parts.append((predict_logits(model, tok, items[:real], labels, use_text=False), gold[:real]))
    n = len(labels)
    before = [unweighted_accuracy(g, z.argmax(1), n) for z, g in parts]
    offset = fit_offsets(parts, n)
    after = [unweighted_accuracy(g, (z + offset).argmax(1), n) for z, g in parts]
    log(f"validation UA (with text, all; audio only, real corpora): {[round(x, 4) for x in before]} -> "
        f"{[round(x, 4) for x in after]}; offsets {dict(zip(labels, offset.round(3).tolist()))}")

    state = torch_load(os.path.join(model_dir, meta.get("pytorch_weights") or "model.pt"))
    state["classifier.bias"] = state["classifier.bias"] + torch.tensor(offset, dtype=state["classifier.bias"].dtype)
    meta = derive_bundle(model_dir, out_dir, state, meta, name, "calibration", {
        "method": "per-class offsets added to the classifier bias, chosen on validation speakers "
                  "(mean UA: with text over all validation items, audio only over the real corpora)",
        "offsets": dict(zip(labels, offset.round(4).tolist())),
        "validation_UA_before": [round(x, 4) for x in before],
        "validation_UA_after": [round(x, 4) for x in after],
        "corpora": list(corpora), "synthetic": bool(synthetic), "calibrated_from": os.path.abspath(model_dir)})
    log(f"calibrated bundle written to {out_dir}")
    return meta
