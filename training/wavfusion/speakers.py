"""Per-speaker statistics for the speaker-normalised statistics path (``speaker_normalised_statistics``).

Each utterance's raw statistics (:meth:`WavFusionModel.utterance_statistics`, [4M]) are computed once; a
speaker's mean and standard deviation over their utterances ([2, 4M]) is the model's
``speaker_statistics`` input for each of them. No labels are read: only which utterances share a speaker,
which a studio project knows from its speaker column, so test speakers are normalised by their own
utterances exactly as the studio does for a new speaker. Speakers with fewer than
:data:`MIN_UTTERANCES` utterances, and items without a speaker, get no statistics (NaN): the model then
uses the training set's (``LogMelStatistics.fallback``)."""
from __future__ import annotations

from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np
import torch

from .data import Item

# a speaker's statistics are trusted from this many utterances on (fewer: the training set's); the studio
# reads the same number from model.json ("speaker_normalisation.min_utterances")
MIN_UTTERANCES = 5


@torch.no_grad()
def utterance_statistics(model, items: Sequence[Item], max_samples: int, batch_size: int = 32) -> np.ndarray:
    """[N, 4M] raw statistics of each item's audio (its first ``max_samples`` samples, as evaluation
    reads it), in the order of ``items``."""
    if not items:
        return np.zeros((0, model.log_mel_statistics.dim), dtype=np.float32)
    was_training = model.training
    model.eval()
    dev = next(model.parameters()).device
    order = sorted(range(len(items)), key=lambda j: len(items[j].loaded_audio()))
    out: List[Optional[np.ndarray]] = [None] * len(items)
    for i in range(0, len(order), batch_size):
        b = order[i:i + batch_size]
        clips = [items[j].loaded_audio()[:max_samples] for j in b]
        n = max(len(c) for c in clips)
        audio = np.zeros((len(b), n), dtype=np.float32)
        for r, c in enumerate(clips):
            audio[r, :len(c)] = c
        lengths = torch.tensor([len(c) for c in clips], dtype=torch.long)
        stats = model.utterance_statistics(torch.from_numpy(audio).to(dev), lengths.to(dev)).cpu().numpy()
        for r, j in enumerate(b):
            out[j] = stats[r]
    model.train(was_training)
    return np.stack([o for o in out if o is not None]).astype(np.float32)


def speaker_key(it: Item) -> Optional[Tuple[str, str]]:
    """Items share statistics when corpus and speaker match; generated ``file:`` speakers are no speaker."""
    if not it.speaker or it.speaker.startswith("file:"):
        return None
    return (it.corpus, it.speaker)


def mean_and_deviation(stats: np.ndarray) -> np.ndarray:
    """[N, 4M] statistics -> [2, 4M] float32: their mean and population standard deviation."""
    return np.stack([stats.mean(0), stats.std(0)]).astype(np.float32)


def assign_speaker_statistics(model, items: Sequence[Item], max_samples: int,
                              min_utterances: int = MIN_UTTERANCES,
                              stats: Optional[np.ndarray] = None) -> Dict[str, int]:
    """Sets ``Item.speaker_statistics`` ([2, 4M] float32, or None) for every item; returns counts
    (speakers normalised, items normalised, items left to the training set's statistics). ``stats``:
    the items' :func:`utterance_statistics` when the caller has them already."""
    if stats is None:
        stats = utterance_statistics(model, items, max_samples)
    groups: Dict[Tuple[str, str], List[int]] = {}
    for i, it in enumerate(items):
        key = speaker_key(it)
        if key is not None:
            groups.setdefault(key, []).append(i)
    for it in items:
        it.speaker_statistics = None
    speakers = normalised = 0
    for rows in groups.values():
        if len(rows) < min_utterances:
            continue
        pair = mean_and_deviation(stats[rows])
        for i in rows:
            items[i].speaker_statistics = pair
        speakers += 1
        normalised += len(rows)
    return {"speakers": speakers, "items": normalised, "fallback_items": len(items) - normalised}


def training_fallback(train_stats: np.ndarray) -> torch.Tensor:
    """Mean and standard deviation [2, 4M] of the training items' statistics (:func:`utterance_statistics`):
    what rows without a speaker are normalised by."""
    return torch.from_numpy(mean_and_deviation(train_stats))
