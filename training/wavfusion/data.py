"""Reading the studio's export format (or a plain manifest) and batching.

Export folder (HF audiofolder layout, written by WavFusion Studio):
    label_map.json            {"labels": [...], "label2id": {...}, "id2label": {...}}
    provenance.json
    train/metadata.csv        file_name,label,text,speaker,start,end,annotator[,valence,arousal,dominance,note,annotated_at]
    train/*.wav               16 kHz mono 16-bit PCM clips (file_name relative to the split folder)
    validation/..., test/...
The export's own (speaker-independent) train/validation/test split is respected.

Manifest: CSV or JSONL with columns path,text,label,speaker (paths relative to the
manifest or absolute); optional start,end (seconds, segment of ``path``) and split. Without
a split column a seeded speaker-independent split is made here. The studio's flat
``dataset.csv`` / ``dataset.jsonl`` exports are manifests of this kind.
"""
from __future__ import annotations

import csv
import json
import os
import random
from dataclasses import dataclass, field
from typing import Dict, Iterable, List, NamedTuple, Optional, Sequence, Tuple

import numpy as np
import torch

from .audio import load_audio
from .config import LABELS_4
from .tokenizer import EMPTY_TEXT_IDS, ByteLevelBPETokenizer, pad_batch

SPLITS = ("train", "validation", "test")


@dataclass
class Item:
    path: str
    text: str
    label: str
    speaker: str
    split: str = "train"
    start: Optional[float] = None
    end: Optional[float] = None
    audio: Optional[np.ndarray] = None
    corpus: str = ""
    # the annotators' vote distribution (a studio export's soft_label column), label -> share; None: the
    # hard label only
    soft: Optional[Dict[str, float]] = None
    # mean and standard deviation [2, 4M] of the statistics over this item's speaker (wavfusion.speakers);
    # None: the model's training-set statistics
    speaker_statistics: Optional[np.ndarray] = None

    def loaded_audio(self) -> np.ndarray:
        """``audio``, once loaded (load_audio_checked / load_audio_cache, or a reader that fills it in)."""
        if self.audio is None:
            raise ValueError(f"{self.path}: audio is not loaded")
        return self.audio


@dataclass
class RowProblem:
    """A manifest or export row that is not used, and why (reported, never silently dropped)."""
    where: str  # "manifest.csv row 12" / "train/metadata.csv row 3"
    path: str
    reason: str

    def __str__(self) -> str:
        return f"{self.where}: {self.reason} ({self.path})" if self.path else f"{self.where}: {self.reason}"


@dataclass
class Corpus:
    items: List[Item]
    labels: List[str]
    source: str
    kind: str
    split_origin: str
    info: Dict = field(default_factory=dict)
    problems: List[RowProblem] = field(default_factory=list)

    def split(self, name: str) -> List[Item]:
        return [it for it in self.items if it.split == name]

    def summary(self) -> Dict:
        out = {"source": self.source, "kind": self.kind, "split": self.split_origin, "labels": self.labels}
        for s in SPLITS:
            items = self.split(s)
            out[s] = {"items": len(items), "speakers": len({i.speaker for i in items}),
                      "by_label": {l: sum(1 for i in items if i.label == l) for l in self.labels}}
        return out


def _float(v) -> Optional[float]:
    if v is None or v == "":
        return None
    return float(v)


def order_labels(found: Iterable[str]) -> List[str]:
    found = sorted(set(found))
    if set(found) <= set(LABELS_4):
        return [l for l in LABELS_4 if l in found]
    return found


def parse_soft_label(value: Optional[str], labels: Optional[List[str]]) -> Tuple[Optional[Dict[str, float]], str]:
    """A studio export's ``soft_label`` cell (a JSON list of shares in label_map.json's order) ->
    (label -> share, or None; why it could not be used, or "")."""
    if not value or not value.strip():
        return None, ""
    if not labels:
        return None, "soft_label without label_map.json (its order is unknown)"
    try:
        shares = json.loads(value)
    except ValueError:
        return None, f"soft_label {value[:40]!r} is not a JSON list"
    if (not isinstance(shares, list) or len(shares) != len(labels)
            or not all(isinstance(x, (int, float)) and x >= 0 for x in shares)):
        return None, f"soft_label {value[:40]!r} is not {len(labels)} shares >= 0 (label_map.json has {len(labels)} labels)"
    if sum(shares) <= 0:
        return None, ""  # nobody voted: the label alone
    return {l: float(x) for l, x in zip(labels, shares) if x > 0}, ""


def read_export_dir(folder: str) -> Corpus:
    items: List[Item] = []
    problems: List[RowProblem] = []
    map_labels: Optional[List[str]] = None
    label_map_path = os.path.join(folder, "label_map.json")
    if os.path.exists(label_map_path):
        with open(label_map_path, encoding="utf-8") as f:
            map_labels = list(json.load(f).get("labels") or []) or None
    for split in SPLITS:
        meta = os.path.join(folder, split, "metadata.csv")
        if not os.path.exists(meta):
            continue
        with open(meta, newline="", encoding="utf-8") as f:
            for n, row in enumerate(csv.DictReader(f), start=2):
                where = f"{split}/metadata.csv line {n}"
                name = row.get("file_name") or ""
                p = os.path.join(folder, split, name)
                if not name:
                    problems.append(RowProblem(where, "", "no file_name"))
                elif not (row.get("label") or "").strip():
                    problems.append(RowProblem(where, p, "no label"))
                elif not os.path.isfile(p):
                    problems.append(RowProblem(where, p, "file not found"))
                else:
                    soft, why = parse_soft_label(row.get("soft_label"), map_labels)
                    if why:
                        problems.append(RowProblem(where, p, f"{why}; the row is trained on its label alone"))
                    items.append(Item(path=p, text=row.get("text") or "", label=row["label"].strip(),
                                      speaker=row.get("speaker") or f"file:{name}", split=split, soft=soft))
    if not items:
        if problems:
            raise ValueError(f"{folder}: no usable rows ({len(problems)} rows could not be used; first: {problems[0]})")
        raise ValueError(f"{folder}: no <split>/metadata.csv found (expected a WavFusion Studio audiofolder export)")
    labels = None
    lm = os.path.join(folder, "label_map.json")
    if os.path.exists(lm):
        with open(lm, encoding="utf-8") as f:
            labels = list(json.load(f).get("labels") or []) or None
    used = {it.label for it in items}
    if labels is None:
        labels = order_labels(used)
    else:
        # keep the studio's label order; drop labels nobody used, add unknown ones at the end
        labels = [l for l in labels if l in used] + sorted(used - set(labels))
    info = {}
    prov = os.path.join(folder, "provenance.json")
    if os.path.exists(prov):
        with open(prov, encoding="utf-8") as f:
            info["provenance"] = json.load(f)
    origin = "export"
    return Corpus(items, labels, os.path.abspath(folder), "studio-export", origin, info, problems=problems)


def read_manifest(path: str, seed: int = 0, val_fraction: float = 0.15) -> Corpus:
    base = os.path.dirname(os.path.abspath(path))
    rows: List[Dict] = []
    if path.endswith(".jsonl") or path.endswith(".json"):
        with open(path, encoding="utf-8") as f:
            rows = [json.loads(line) for line in f if line.strip()]
    else:
        with open(path, newline="", encoding="utf-8") as f:
            rows = list(csv.DictReader(f))
    items = []
    problems: List[RowProblem] = []
    name = os.path.basename(path)
    for i, r in enumerate(rows):
        where = f"{name} row {i + 1}"
        p = str(r.get("path") or r.get("file_name") or "")
        if not p:
            problems.append(RowProblem(where, "", "no path"))
            continue
        p = p if os.path.isabs(p) else os.path.join(base, p)
        label = str(r.get("label") or "").strip()
        if not label:
            problems.append(RowProblem(where, p, "no label"))
            continue
        if not os.path.isfile(p):
            problems.append(RowProblem(where, p, "file not found"))
            continue
        try:
            start, end = _float(r.get("start")), _float(r.get("end"))
        except ValueError:
            problems.append(RowProblem(where, p, "start/end are not numbers"))
            continue
        if start is not None and end is not None and end <= start:
            problems.append(RowProblem(where, p, f"end ({end}) is not after start ({start})"))
            continue
        items.append(Item(path=p, text=str(r.get("text") or ""), label=label,
                          speaker=str(r.get("speaker") or f"file:{p}"), split=str(r.get("split") or ""),
                          start=start, end=end))
    if not items:
        first = f"; first: {problems[0]}" if problems else ""
        raise ValueError(f"{path}: no usable rows ({len(problems)} of {len(rows)} could not be used{first})")
    if all(it.split in SPLITS for it in items) and any(it.split == "validation" for it in items):
        origin = "manifest"
    else:
        speaker_split(items, seed, val_fraction)
        origin = f"speaker-independent (seed {seed}, ~{val_fraction:.0%} of items in validation)"
    return Corpus(items, order_labels(it.label for it in items), os.path.abspath(path), "manifest", origin,
                  problems=problems)


def speaker_split(items: List[Item], seed: int, val_fraction: float) -> None:
    """Assign whole speakers to validation until ~val_fraction of the (non-test) items are there."""
    pool = [it for it in items if it.split != "test"]
    speakers = sorted({it.speaker for it in pool})
    rng = random.Random(seed)
    rng.shuffle(speakers)
    target = max(1, int(round(val_fraction * len(pool))))
    val, n = set(), 0
    for s in speakers:
        if n >= target or len(val) >= len(speakers) - 1:
            break
        val.add(s)
        n += sum(1 for it in pool if it.speaker == s)
    for it in pool:
        it.split = "validation" if it.speaker in val else "train"


def load_corpus(path: str, seed: int = 0) -> Corpus:
    if os.path.isdir(path):
        corpus = read_export_dir(path)
        if not corpus.split("validation"):
            speaker_split(corpus.items, seed, 0.15)
            corpus.split_origin = f"export (train/test) + speaker-independent validation (seed {seed})"
        return corpus
    return read_manifest(path, seed=seed)


def load_audio_checked(items: Sequence[Item], min_samples: int) -> Tuple[List[Item], List[RowProblem]]:
    """Loads each item's audio; returns the usable items and a problem per unreadable or too short clip."""
    ok: List[Item] = []
    problems: List[RowProblem] = []
    for it in items:
        if it.audio is None:
            try:
                it.audio = load_audio(it.path, it.start, it.end)
            except Exception as e:  # a clip that cannot be decoded is reported, the run goes on
                problems.append(RowProblem(it.split or "item", it.path, f"unreadable audio ({type(e).__name__})"))
                continue
        if len(it.audio) < min_samples:
            problems.append(RowProblem(it.split or "item", it.path,
                                       f"shorter than one frame ({len(it.audio)} samples < {min_samples})"))
            continue
        ok.append(it)
    return ok, problems


def load_audio_cache(items: Sequence[Item], max_samples: Optional[int] = None) -> None:
    for it in items:
        if it.audio is None:
            a = load_audio(it.path, it.start, it.end)
            if max_samples is not None and len(a) > max_samples:
                a = a[:max_samples]
            it.audio = a


def speed_change(a: np.ndarray, factor: float) -> np.ndarray:
    """Play ``a`` ``factor`` times faster (linear interpolation; pitch moves with tempo)."""
    n = max(1, int(round(len(a) / factor)))
    return np.interp(np.arange(n) * factor, np.arange(len(a)), a).astype(np.float32)


class Batch(NamedTuple):
    """One batch. ``audio`` [B, S] float32 (zero-padded), ``lengths`` [B], ``input_ids`` and
    ``attention_mask`` [B, N], ``labels`` [B], ``text_present`` [B] bool, ``targets`` [B, L] (each row's
    vote distribution where it has one and soft labels are on, else the one-hot of its label),
    ``speaker_statistics`` [B, 2, 4M] (NaN rows: no speaker statistics) or None when no item has any."""
    audio: torch.Tensor
    lengths: torch.Tensor
    input_ids: torch.Tensor
    attention_mask: torch.Tensor
    labels: torch.Tensor
    text_present: torch.Tensor
    targets: torch.Tensor
    speaker_statistics: Optional[torch.Tensor]


class Batcher:
    """Length-bucketed, seeded :class:`Batch` es of ``items``."""

    def __init__(self, items: Sequence[Item], labels: Sequence[str], tokenizer: ByteLevelBPETokenizer,
                 batch_size: int, max_tokens: int, train: bool, seed: int = 0, text_dropout: float = 0.0,
                 max_samples: Optional[int] = None, noise: bool = False, use_text: bool = True,
                 balanced: bool = False, speed_perturb: float = 0.0, soft_labels: bool = False):
        self.items = list(items)
        self.soft_labels = soft_labels
        self.label_ids = {l: i for i, l in enumerate(labels)}
        self.tok = tokenizer
        self.batch_size = batch_size
        self.max_tokens = max_tokens
        self.train = train
        self.rng = random.Random(seed)
        self.np_rng = np.random.RandomState(seed)
        self.text_dropout = text_dropout
        self.max_samples = max_samples
        self.noise = noise
        self.use_text = use_text
        self._ids = [tokenizer.encode(it.text, max_length=max_tokens) for it in self.items]
        self.speed_perturb = speed_perturb
        self.weights: Optional[np.ndarray] = None
        if balanced:
            groups: Dict[Tuple[str, str], int] = {}
            for it in self.items:
                k = (it.corpus, it.label)
                groups[k] = groups.get(k, 0) + 1
            w = np.array([1.0 / groups[(it.corpus, it.label)] for it in self.items])
            self.weights = w / w.sum()

    def __len__(self) -> int:
        return (len(self.items) + self.batch_size - 1) // self.batch_size

    def __iter__(self):
        idx = list(range(len(self.items)))
        if self.train:
            if self.weights is not None:
                idx = [int(j) for j in self.np_rng.choice(len(self.items), size=len(self.items), p=self.weights)]
            self.rng.shuffle(idx)
            chunk = self.batch_size * 20
            groups = [sorted(idx[i:i + chunk], key=lambda j: len(self.items[j].loaded_audio())) for i in range(0, len(idx), chunk)]
            batches = [g[i:i + self.batch_size] for g in groups for i in range(0, len(g), self.batch_size)]
            self.rng.shuffle(batches)
        else:
            idx.sort(key=lambda j: len(self.items[j].loaded_audio()))
            batches = [idx[i:i + self.batch_size] for i in range(0, len(idx), self.batch_size)]
        for b in batches:
            yield self.collate(b)

    def collate(self, b: Sequence[int]):
        audios = []
        for j in b:
            a = self.items[j].loaded_audio()
            if self.train and self.speed_perturb > 0:
                a = speed_change(a, self.rng.uniform(1 - self.speed_perturb, 1 + self.speed_perturb))
            if self.max_samples is not None and len(a) > self.max_samples:
                off = self.rng.randint(0, len(a) - self.max_samples) if self.train else 0
                a = a[off:off + self.max_samples]
            if self.train and self.noise:
                rms = float(np.sqrt(np.mean(a ** 2)) + 1e-8)
                snr_db = self.rng.uniform(15.0, 40.0)
                a = a + self.np_rng.randn(len(a)).astype(np.float32) * rms * (10 ** (-snr_db / 20))
                a = a * self.rng.uniform(0.3, 1.0)
            audios.append(a.astype(np.float32))
        n = max(len(a) for a in audios)
        audio = np.zeros((len(b), n), dtype=np.float32)
        for i, a in enumerate(audios):
            audio[i, :len(a)] = a
        lengths = torch.tensor([len(a) for a in audios], dtype=torch.long)
        seqs, present = [], []
        for j in b:
            drop = (not self.use_text) or (self.train and self.rng.random() < self.text_dropout)
            seqs.append(list(EMPTY_TEXT_IDS) if drop else self._ids[j])
            present.append(not drop and len(self._ids[j]) > 2)
        ids, mask = pad_batch(seqs)
        labels = torch.tensor([self.label_ids[self.items[j].label] for j in b], dtype=torch.long)
        targets = torch.nn.functional.one_hot(labels, len(self.label_ids)).to(torch.float32)
        if self.soft_labels:
            for row, j in enumerate(b):
                soft = self.items[j].soft
                if soft:
                    dist = torch.tensor([soft.get(l, 0.0) for l in self.label_ids], dtype=torch.float32)
                    if float(dist.sum()) > 0:
                        targets[row] = dist / dist.sum()
        speaker_statistics = None
        given = [self.items[j].speaker_statistics for j in b]
        shape = next((g.shape for g in given if g is not None), None)
        if shape is not None:
            speaker_statistics = torch.from_numpy(np.stack([g if g is not None else np.full(shape, np.nan, np.float32)
                                                            for g in given]).astype(np.float32))
        return Batch(torch.from_numpy(audio), lengths, torch.tensor(ids, dtype=torch.long),
                     torch.tensor(mask, dtype=torch.long), labels, torch.tensor(present, dtype=torch.bool), targets,
                     speaker_statistics)
