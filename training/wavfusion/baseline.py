"""Sanity floor for any emotion model: log-mel statistics + a small MLP, same data and split.

Features per clip: 64 log-mel bands (25 ms window, 10 ms hop) of the per-utterance normalised
waveform; mean, standard deviation, 10th and 90th percentile over frames, of the bands and of their
first differences (64 x 4 x 2 = 512 values), standardised with training-split statistics. A two-layer
MLP (512 -> 256 -> classes, dropout 0.3) is trained with AdamW and early-stopped on validation UA.
"""
from __future__ import annotations

import copy
from typing import Dict, List, Sequence

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from .data import Item
from .metrics import classification_metrics


def logmel_stats(audio: np.ndarray, mel: "torch.nn.Module") -> np.ndarray:
    x = torch.from_numpy(audio.astype(np.float32))
    x = (x - x.mean()) / (x.std() + 1e-7)
    m = torch.log(mel(x) + 1e-6)  # [64, T]
    d = m[:, 1:] - m[:, :-1] if m.shape[1] > 1 else torch.zeros_like(m)
    feats = []
    for z in (m, d):
        feats += [z.mean(1), z.std(1, unbiased=False), torch.quantile(z, 0.1, dim=1), torch.quantile(z, 0.9, dim=1)]
    return torch.cat(feats).numpy()


def features(items: Sequence[Item]) -> np.ndarray:
    import torchaudio

    mel = torchaudio.transforms.MelSpectrogram(sample_rate=16000, n_fft=400, win_length=400, hop_length=160,
                                               n_mels=64)
    with torch.no_grad():
        return np.stack([logmel_stats(it.loaded_audio(), mel) for it in items])


def normalise_per_speaker(feats: np.ndarray, speakers: Sequence[str]) -> np.ndarray:
    """Each speaker's clips z-normalised by that speaker's own mean and deviation (all of their clips,
    no labels: what a studio project can do for any speaker column)."""
    out = feats.copy()
    spk = np.asarray(speakers)
    for s in np.unique(spk):
        rows = spk == s
        out[rows] = (feats[rows] - feats[rows].mean(0)) / (feats[rows].std(0) + 1e-6)
    return out


def train_baseline(items: List[Item], labels: Sequence[str], seed: int = 0, epochs: int = 200,
                   log=print, speaker_normalise: bool = False) -> Dict:
    """``speaker_normalise``: z-normalise the features per speaker before the MLP (see
    :func:`normalise_per_speaker`)."""
    torch.manual_seed(seed)
    lid = {l: i for i, l in enumerate(labels)}
    split = {s: [it for it in items if it.split == s] for s in ("train", "validation", "test")}
    raw = {s: features(v) for s, v in split.items() if v}
    if speaker_normalise:
        raw = {s: normalise_per_speaker(f, [it.speaker for it in split[s]]) for s, f in raw.items()}
    X = {s: torch.tensor(f, dtype=torch.float32) for s, f in raw.items()}
    y = {s: torch.tensor([lid[it.label] for it in v]) for s, v in split.items() if v}
    mu, sd = X["train"].mean(0), X["train"].std(0) + 1e-6
    X = {s: (v - mu) / sd for s, v in X.items()}
    model = nn.Sequential(nn.Dropout(0.1), nn.Linear(X["train"].shape[1], 256), nn.GELU(), nn.Dropout(0.3),
                          nn.Linear(256, len(labels)))
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3, weight_decay=1e-2)
    # class-balanced loss: the same correction the main recipe gets from balanced sampling
    counts = torch.bincount(y["train"], minlength=len(labels)).float().clamp(min=1)
    weight = counts.sum() / counts / len(labels)
    best = (-1.0, None, 0)
    g = torch.Generator().manual_seed(seed)
    for ep in range(epochs):
        model.train()
        perm = torch.randperm(len(y["train"]), generator=g)
        for i in range(0, len(perm), 64):
            b = perm[i:i + 64]
            loss = F.cross_entropy(model(X["train"][b]), y["train"][b], weight=weight)
            opt.zero_grad()
            loss.backward()
            opt.step()
        model.eval()
        with torch.no_grad():
            ua = classification_metrics(y["validation"].tolist(), model(X["validation"]).argmax(-1).tolist(),
                                        len(labels))["UA"]
        if ua > best[0]:
            best = (ua, copy.deepcopy(model.state_dict()), ep + 1)
    if best[1] is None:
        raise ValueError(f"no epoch was trained (epochs={epochs})")
    model.load_state_dict(best[1])
    model.eval()
    out: Dict = {"best_epoch": best[2], "validation_UA": best[0]}
    if "test" in X:
        with torch.no_grad():
            pred = model(X["test"]).argmax(-1).tolist()
        out["test"] = classification_metrics(y["test"].tolist(), pred, len(labels))
        test_items = split["test"]
        by_corpus: Dict[str, Dict] = {}
        for c in sorted({it.corpus for it in test_items}):
            idx = [i for i, it in enumerate(test_items) if it.corpus == c]
            by_corpus[c] = classification_metrics([int(y["test"][i]) for i in idx], [pred[i] for i in idx],
                                                  len(labels))
        out["test_by_corpus"] = by_corpus
    return out
