"""WA (accuracy), UA (macro recall), macro-F1 and weighted F1."""
from __future__ import annotations

from typing import Dict, Sequence

import numpy as np


def confusion(y_true: Sequence[int], y_pred: Sequence[int], n: int) -> np.ndarray:
    c = np.zeros((n, n), dtype=np.int64)
    for t, p in zip(y_true, y_pred):
        c[int(t), int(p)] += 1
    return c


def classification_metrics(y_true: Sequence[int], y_pred: Sequence[int], n: int) -> Dict[str, float]:
    c = confusion(y_true, y_pred, n)
    support = c.sum(1)
    predicted = c.sum(0)
    tp = np.diag(c).astype(np.float64)
    total = max(int(support.sum()), 1)
    present = support > 0
    recall = np.where(support > 0, tp / np.maximum(support, 1), 0.0)
    precision = np.where(predicted > 0, tp / np.maximum(predicted, 1), 0.0)
    f1 = np.where(precision + recall > 0, 2 * precision * recall / np.maximum(precision + recall, 1e-12), 0.0)
    return {
        "WA": float(tp.sum() / total),
        "UA": float(recall[present].mean()) if present.any() else 0.0,
        "macro_F1": float(f1[present].mean()) if present.any() else 0.0,
        "weighted_F1": float((f1 * support).sum() / total),
        "n": int(support.sum()),
        "confusion": c.tolist(),
    }
