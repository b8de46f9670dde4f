"""Real emotional-speech corpora (``../shared/corpora``): manifests, label mapping, speaker splits, audio cache.

Each corpus folder holds ``manifest.csv`` (``path,text,label,speaker,...``; paths relative to it) and
16 kHz mono Ogg Opus clips. Decoding thousands of Opus files on every run would dominate a CPU
training run, so clips are decoded once with ffmpeg (16 kHz mono, int16) into one ``.npz`` per corpus
under a cache folder; the cache is keyed by the manifest's content and rebuilt when it changes.

Label mapping (studio's default four classes): ``calm`` is merged into ``neutral`` (RAVDESS's calm is
a low-arousal neutral delivery, see training/README for the measurement), and ``fearful``,
``disgust`` and ``surprised`` are dropped (no counterpart among the four classes).

Splits are speaker-independent and seeded, per corpus: whole speakers go to test and validation.
"""
from __future__ import annotations

import csv
import hashlib
import os
import random
import shutil
import subprocess
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Dict, Iterable, List, Optional, Sequence, Tuple

import numpy as np

from .data import Item

CORPORA = ("ravdess-speech", "tess", "nemo-pl")

# source label -> studio label (None: dropped)
LABEL_MAP_4: Dict[str, Optional[str]] = {
    "neutral": "neutral", "calm": "neutral", "happy": "happy", "angry": "angry", "sad": "sad",
    "fearful": None, "disgust": None, "surprised": None,
}
# the same without merging calm (the alternative measured in training/README)
LABEL_MAP_4_DROP_CALM: Dict[str, Optional[str]] = dict(LABEL_MAP_4, calm=None)

# speakers held out per corpus (count for validation, count for test); TESS has two speakers and is
# evaluated by training on one and testing on the other (see ``tess_fold``)
HELD_OUT = {"ravdess-speech": (2, 4), "nemo-pl": (1, 2)}


def default_root() -> Optional[str]:
    """``../shared/corpora`` from the repository root, or $WAVFUSION_CORPORA; None when absent."""
    env = os.environ.get("WAVFUSION_CORPORA")
    if env:
        return env if os.path.isdir(env) else None
    here = os.path.dirname(os.path.abspath(__file__))
    p = os.path.normpath(os.path.join(here, "..", "..", "..", "shared", "corpora"))
    return p if os.path.isdir(p) else None


def require_root() -> str:
    """The corpora folder (:func:`default_root`), or a clear error saying where it is looked for."""
    root = default_root()
    if root is None:
        raise ValueError("no corpora folder: set WAVFUSION_CORPORA or put them in ../shared/corpora")
    return root


@dataclass
class CorpusRow:
    corpus: str
    path: str
    text: str
    source_label: str
    speaker: str
    extra: Dict[str, str]


def read_corpus_manifest(root: str, name: str) -> List[CorpusRow]:
    folder = os.path.join(root, name)
    path = os.path.join(folder, "manifest.csv")
    if not os.path.exists(path):
        raise FileNotFoundError(f"{path}: no manifest.csv (expected a corpus folder with manifest.csv)")
    rows: List[CorpusRow] = []
    with open(path, newline="", encoding="utf-8") as f:
        for r in csv.DictReader(f):
            rows.append(CorpusRow(name, os.path.join(folder, r["path"]), r.get("text") or "", r["label"],
                                  r.get("speaker") or r["path"],
                                  {k: v for k, v in r.items() if k not in ("path", "text", "label", "speaker")}))
    return rows


def _decode_ffmpeg(path: str) -> np.ndarray:
    out = subprocess.run(["ffmpeg", "-v", "error", "-nostdin", "-i", path, "-f", "s16le", "-ac", "1",
                          "-ar", "16000", "-"], capture_output=True, check=False)
    if out.returncode != 0:
        raise ValueError(f"{path}: ffmpeg could not decode it ({out.stderr.decode(errors='replace').strip()[:200]})")
    return np.frombuffer(out.stdout, dtype="<i2")


def cache_dir() -> str:
    here = os.path.dirname(os.path.abspath(__file__))
    return os.environ.get("WAVFUSION_CACHE") or os.path.join(here, "..", ".cache")


def load_corpus_audio(root: str, name: str, jobs: int = 2, log=print) -> Dict[str, np.ndarray]:
    """path -> int16 samples at 16 kHz for every clip of a corpus (decoded once, cached)."""
    rows = read_corpus_manifest(root, name)
    with open(os.path.join(root, name, "manifest.csv"), "rb") as f:
        key = hashlib.sha256(f.read()).hexdigest()[:16]
    os.makedirs(cache_dir(), exist_ok=True)
    cpath = os.path.join(cache_dir(), f"{name}-{key}.npz")
    rel = [os.path.relpath(r.path, os.path.join(root, name)) for r in rows]
    if os.path.exists(cpath):
        z = np.load(cpath)
        data, offsets, names = z["data"], z["offsets"], list(z["names"])
        return {os.path.join(root, name, n): data[offsets[i]:offsets[i + 1]] for i, n in enumerate(names)}
    if shutil.which("ffmpeg") is None:
        raise RuntimeError("ffmpeg is needed to decode the corpora (apt-get install ffmpeg)")
    log(f"decoding {len(rows)} clips of {name} (once; cached in {cpath})")
    with ThreadPoolExecutor(max_workers=jobs) as ex:
        decoded = list(ex.map(_decode_ffmpeg, [r.path for r in rows]))
    offsets = np.zeros(len(decoded) + 1, dtype=np.int64)
    offsets[1:] = np.cumsum([len(d) for d in decoded])
    tmp = cpath + ".tmp.npz"
    np.savez(tmp, data=np.concatenate(decoded), offsets=offsets, names=np.array(rel))
    os.replace(tmp, cpath)
    return {r.path: d for r, d in zip(rows, decoded)}


def speaker_folds(speakers: Sequence[str], n_val: int, n_test: int, seed: int) -> Tuple[List[str], List[str]]:
    s = sorted(set(speakers))
    random.Random(seed).shuffle(s)
    return s[:n_val], s[n_val:n_val + n_test]


def build_items(root: str, names: Iterable[str], label_map: Dict[str, Optional[str]], seed: int = 0,
                tess_test_speaker: str = "tess_YAF", test_corpus: Optional[str] = None,
                log=print) -> List[Item]:
    """Items with audio (float32) and a speaker-independent split per corpus.

    ``test_corpus``: leave-one-corpus-out; that corpus is entirely test, the others train/validation.
    TESS: ``tess_test_speaker`` is test; the other speaker is split between train and validation by
    sentence word (no speaker is shared between TESS's train and test)."""
    items: List[Item] = []
    for name in names:
        rows = read_corpus_manifest(root, name)
        audio = load_corpus_audio(root, name, log=log)
        kept = [r for r in rows if label_map.get(r.source_label) is not None]
        if name == test_corpus:
            splits = {r.speaker: "test" for r in kept}
        elif name == "tess":
            splits = {}
        else:
            n_val, n_test = HELD_OUT.get(name, (1, 1))
            if test_corpus is not None:
                n_val, n_test = n_val + n_test, 0
            val, test = speaker_folds([r.speaker for r in kept], n_val, n_test, seed)
            splits = {s: ("validation" if s in val else "test" if s in test else "train") for s in {r.speaker for r in kept}}
        rng = random.Random(seed)
        for r in kept:
            if name == "tess" and name != test_corpus:
                if test_corpus is None and r.speaker == tess_test_speaker:
                    split = "test"
                else:
                    split = "validation" if rng.random() < 0.15 else "train"
            else:
                split = splits[r.speaker]
            it = Item(path=r.path, text=r.text, label=label_map[r.source_label] or "", speaker=r.speaker,
                      split=split, corpus=name)
            it.audio = audio[r.path].astype(np.float32) / 32768.0
            items.append(it)
    return items
