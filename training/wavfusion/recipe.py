"""The real-speech recipe: train on the shared corpora, evaluate per corpus, with and without text.

``python -m wavfusion train-corpora --out <bundle>`` trains on RAVDESS + TESS + nEMO (4 classes,
speaker-independent splits, see :mod:`wavfusion.corpora`), optionally mixed with the synthetic
espeak-ng corpus (``--synthetic <folder>``) so that the text branch keeps learning lexical cues, and
writes a bundle whose ``model.json`` carries the licence, the data per corpus and the metrics.
"""
from __future__ import annotations

import json
import os
from typing import Any, Dict, List, Optional, Sequence

import numpy as np

from .config import LABELS_4
from .corpora import CORPORA, LABEL_MAP_4, LABEL_MAP_4_DROP_CALM, build_items, default_root, require_root
from .data import Batcher, Corpus, Item, load_audio_cache, load_corpus
from .metrics import classification_metrics

LICENCE = {
    "summary": "Non-commercial use only (CC BY-NC-SA 4.0; TESS material CC BY-NC-ND 4.0). Share alike, with "
               "attribution. Trained on acted emotional speech: not a judge of real people's emotions.",
    "corpora": {
        "ravdess-speech": {"licence": "CC BY-NC-SA 4.0", "attribution": "Livingstone SR, Russo FA (2018) The "
                           "Ryerson Audio-Visual Database of Emotional Speech and Song (RAVDESS). PLoS ONE "
                           "13(5): e0196391"},
        "tess": {"licence": "CC BY-NC-ND 4.0", "attribution": "Pichora-Fuller MK, Dupuis K (2020) Toronto "
                 "Emotional Speech Set (TESS), Borealis, doi:10.5683/SP2/E8H2MF"},
        "nemo-pl": {"licence": "CC BY-NC-SA 4.0", "attribution": "Christop I (2024) nEMO: Dataset of "
                    "Emotional Speech in Polish, LREC-COLING 2024"},
    },
}


DISCLAIMER = ("Trained on acted emotional speech (RAVDESS and TESS in English, nEMO in Polish; professional actors "
              "reading fixed sentences) plus synthetic espeak-ng speech. It pre-labels recordings for human review; "
              "it is not a judge of real people's emotions, and its accuracy on spontaneous speech, other "
              "languages and other recording conditions is unknown and likely lower.")


def short(m: Dict[str, Any]) -> str:
    return f"WA {m['WA']:.3f} UA {m['UA']:.3f} macro-F1 {m['macro_F1']:.3f} weighted-F1 {m['weighted_F1']:.3f}"


def predict_items(model, tok, items: Sequence[Item], labels: Sequence[str], use_text: bool,
                  batch_size: int = 16) -> List[int]:
    """Predicted label ids in the order of ``items``."""
    import torch

    b = Batcher(items, labels, tok, batch_size, model.config.text.max_text_tokens, train=False,
                max_samples=int(model.config.max_seconds * 16000), use_text=use_text)
    order = sorted(range(len(items)), key=lambda j: len(items[j].loaded_audio()))
    preds: List[int] = []
    model.eval()
    dev = next(model.parameters()).device
    with torch.no_grad():
        for batch in b:
            spk = batch.speaker_statistics.to(dev) if batch.speaker_statistics is not None else None
            preds += model(batch.audio.to(dev), batch.lengths.to(dev), batch.input_ids.to(dev),
                           batch.attention_mask.to(dev), speaker_statistics=spk).logits.argmax(-1).tolist()
    out = [0] * len(items)
    for k, j in enumerate(order):
        out[j] = preds[k]
    return out


def report(model, tok, items: Sequence[Item], labels: Sequence[str]) -> Dict[str, Any]:
    """Metrics (with the confusion matrix) per corpus and overall, with and without the transcript."""
    lid = {l: i for i, l in enumerate(labels)}
    out: Dict[str, Any] = {}
    modes = [("with_text", True), ("without_text", False)] if model.uses_text and model.uses_audio else \
        [("without_text", False)] if model.uses_audio else [("with_text", True)]
    for mode, use_text in modes:
        preds = predict_items(model, tok, items, labels, use_text)
        gold = [lid[it.label] for it in items]
        res = {"all": classification_metrics(gold, preds, len(labels))}
        for c in sorted({it.corpus for it in items}):
            idx = [i for i, it in enumerate(items) if it.corpus == c]
            res[c or "unnamed"] = classification_metrics([gold[i] for i in idx], [preds[i] for i in idx], len(labels))
        out[mode] = res
    return out


def cue_report(items: Sequence[Item], preds_by_mode: Dict[str, List[int]], labels: Sequence[str],
               folder: str) -> Dict[str, Any]:
    """Accuracy per synthetic cue type (both / text / audio / neutral), from the corpus's cues.csv."""
    import csv

    path = os.path.join(folder, "cues.csv")
    if not os.path.exists(path):
        return {}
    with open(path, newline="") as f:
        cues = {(r["split"], r["file_name"]): r["cue"] for r in csv.DictReader(f)}
    lid = {l: i for i, l in enumerate(labels)}
    out: Dict[str, Any] = {}
    for mode, preds in preds_by_mode.items():
        acc: Dict[str, List[int]] = {}
        for it, p in zip(items, preds):
            cue = cues.get((it.split, os.path.basename(it.path)))
            if cue is not None:
                acc.setdefault(cue, []).append(int(p == lid[it.label]))
        out[mode] = {c: {"acc": float(np.mean(v)), "n": len(v)} for c, v in sorted(acc.items())}
    return out


def evaluate_bundle(model_dir: str, corpora: Optional[Sequence[str]] = None, synthetic: Optional[str] = None,
                    data: Optional[str] = None, split: str = "test", seed: int = 0,
                    tess_test_speaker: str = "tess_YAF", test_corpus: Optional[str] = None,
                    label_map: str = "merge-calm", log=print) -> Dict[str, Any]:
    """Per-corpus metrics (WA, UA, macro/weighted F1, confusion) of a bundle's PyTorch weights, with and
    without the transcript; synthetic corpora also per cue type."""
    from .export import load_bundle

    model, tok, meta = load_bundle(model_dir)
    labels = meta["labels"]
    items: List[Item] = []
    if corpora:
        root = require_root()
        lmap = LABEL_MAP_4 if label_map == "merge-calm" else LABEL_MAP_4_DROP_CALM
        items += [it for it in build_items(root, corpora, lmap, seed=seed, tess_test_speaker=tess_test_speaker,
                                           test_corpus=test_corpus, log=log) if it.split == split]
    synth: List[Item] = []
    if synthetic:
        synth = [it for it in load_synthetic(synthetic) if it.split == split]
        items += synth
    if data:
        corpus = load_corpus(data, seed=seed)
        extra = corpus.split(split)
        load_audio_cache(extra)
        for it in extra:
            it.corpus = os.path.basename(os.path.normpath(data))
        items += extra
    for it in items:
        if it.label not in labels:
            log(f"not used: {it.path}: label {it.label!r} is not among the model's labels {labels}")
    if data:
        for pr in corpus.problems:
            log(f"not used: {pr}")
    items = [it for it in items if it.label in labels]
    if not items:
        raise ValueError(f"no {split} items with the model's labels {labels}")
    if model.config.speaker_normalised_statistics:
        # each speaker normalised by their own utterances in this split, as the studio does in a project
        from .speakers import assign_speaker_statistics

        counts = assign_speaker_statistics(model, items, int(model.config.max_seconds * 16000))
        log(f"speaker statistics: {counts['speakers']} speakers, {counts['fallback_items']} items without")
    rep = report(model, tok, items, labels)
    out: Dict[str, Any] = {"model": meta.get("name"), "version": meta.get("version"), "split": split,
                           "labels": labels, "report": rep}
    if synth:
        modes = {m: predict_items(model, tok, synth, labels, use_text=(m == "with_text")) for m in rep}
        out["synthetic_cues"] = cue_report(synth, modes, labels, synthetic or "")
    for mode, r in rep.items():
        for c, m in r.items():
            log(f"{mode:12s} {c:15s} {short(m)}  confusion {m['confusion']}")
    for mode, cues in out.get("synthetic_cues", {}).items():
        log(f"{mode:12s} synthetic cues: " + ", ".join(f"{c} {v['acc']:.3f} (n={v['n']})" for c, v in cues.items()))
    return out


def load_synthetic(folder: str) -> List[Item]:
    corpus = load_corpus(folder)
    load_audio_cache(corpus.items)
    for it in corpus.items:
        it.corpus = "synthetic"
    return corpus.items


def train_corpora(out: Optional[str], corpora: Sequence[str] = CORPORA, root: Optional[str] = None,
                  synthetic: Optional[str] = None, label_map: str = "merge-calm", test_corpus: Optional[str] = None,
                  tess_test_speaker: str = "tess_YAF", seed: int = 0, log=print, bundle_version: Optional[str] = None,
                  train_seed: Optional[int] = None, **train_kw: Any) -> Dict[str, Any]:
    """``seed`` fixes the speaker split; ``train_seed`` (default: ``seed``) only the training's randomness
    (initialisation, order, crops, augmentation), so runs that differ in it share their test speakers."""
    from .train import train

    root = root or default_root()
    if root is None:
        raise SystemExit("no corpora folder: set WAVFUSION_CORPORA or put them in ../shared/corpora")
    lmap = LABEL_MAP_4 if label_map == "merge-calm" else LABEL_MAP_4_DROP_CALM
    items = build_items(root, corpora, lmap, seed=seed, tess_test_speaker=tess_test_speaker,
                        test_corpus=test_corpus, log=log)
    if synthetic:
        items += load_synthetic(synthetic)
    corpus = Corpus(items, list(LABELS_4), root, "shared-corpora",
                    f"speaker-independent per corpus (seed {seed}); label map {label_map}"
                    + (f"; leave-one-corpus-out: test = {test_corpus}" if test_corpus else ""))
    data_info: Dict[str, Any] = {}
    for c in sorted({it.corpus for it in items}):
        data_info[c] = {s: {"items": sum(1 for it in items if it.corpus == c and it.split == s),
                            "speakers": sorted({it.speaker for it in items if it.corpus == c and it.split == s})}
                        for s in ("train", "validation", "test")}
    log(json.dumps({c: {s: v["items"] for s, v in d.items()} for c, d in data_info.items()}))
    res = train(corpus, None, seed=seed if train_seed is None else train_seed, log=log, **train_kw)
    model, tok = res["model"], res["tokenizer"]
    test_items = [it for it in items if it.split == "test"]
    rep = report(model, tok, test_items, LABELS_4) if test_items else {}
    for mode, r in rep.items():
        for c, m in r.items():
            log(f"test {mode:12s} {c:15s} {short(m)}")
    info = res["training_info"]
    info["data"] = {"corpora": data_info, "label_map": {k: v for k, v in lmap.items()},
                    "split": corpus.split_origin}
    info["metrics"]["test_report"] = rep
    res["report"] = rep
    if out:
        from .export import write_bundle

        os.makedirs(out, exist_ok=True)
        meta = write_bundle(model, tok, out, train_kw.get("name") or os.path.basename(os.path.normpath(out)), info,
                            disclaimer=DISCLAIMER)
        meta["licence"] = LICENCE
        if bundle_version:
            meta["version"] = bundle_version
        with open(os.path.join(out, "model.json"), "w", encoding="utf-8") as f:
            json.dump(meta, f, indent=2)
        with open(os.path.join(out, "history.json"), "w") as f:
            json.dump(res["history"], f, indent=1)
        res["model_json"] = meta
        log(f"bundle written to {out}")
    return res


def baseline_corpora(corpora: Sequence[str] = CORPORA, root: Optional[str] = None, label_map: str = "merge-calm",
                     test_corpus: Optional[str] = None, seed: int = 0, log=print,
                     speaker_normalise: bool = False) -> Dict[str, Any]:
    from .baseline import train_baseline

    root = root or default_root()
    if root is None:
        raise SystemExit("no corpora folder")
    lmap = LABEL_MAP_4 if label_map == "merge-calm" else LABEL_MAP_4_DROP_CALM
    items = build_items(root, corpora, lmap, seed=seed, test_corpus=test_corpus, log=log)
    res = train_baseline(items, LABELS_4, seed=seed, log=log, speaker_normalise=speaker_normalise)
    log(f"baseline test {short(res['test'])}")
    for c, m in res["test_by_corpus"].items():
        log(f"baseline test {c:15s} {short(m)}")
    return res


def mean_std(values: Sequence[float]) -> str:
    return f"{np.mean(values):.3f} ± {np.std(values):.3f}"
