"""Fitting the statistics expert (:class:`~wavfusion.modules.StatisticsExpert`) of a speaker-normalised bundle.

The network is frozen. Each item's whole-clip statistics (the bundle's own log-mel statistics, as
``statistics.onnx`` computes them) are z-normalised by its speaker's utterances of the same split, as the
network's statistics path reads them in evaluation, and the expert (the log-mel + MLP floor's classifier)
is trained on them: AdamW 1e-3, weight decay 1e-2, batches of 64 drawn with (corpus, label)-balanced
sampling, early stopping on validation UA (the mean over the selection corpora of each one's UA). With
probability ``fallback_dropout`` a training row is normalised by the training set's statistics instead,
as the network reads an utterance without a known speaker, so the expert serves those too.

The bundle's logits become the network's plus the expert's (product of experts, weight 1: not tuned),
divided by a temperature fitted on the validation items (the product of two experts is over-confident;
the temperature changes no prediction, only the confidence the studio shows and sorts by).
Minutes of CPU: the statistics are computed once, and only a 2-layer MLP is trained.
"""
from __future__ import annotations

import copy
import json
import os
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple, cast

import numpy as np
import torch
import torch.nn.functional as F

from .calibrate import unweighted_accuracy
from .data import Item
from .modules import LogMelStatistics, StatisticsExpert, StatisticsExpertMember, WavFusionModel

SYNTHETIC = "synthetic"


def expert_inputs(model: WavFusionModel, items: Sequence[Item]) -> Tuple[np.ndarray, np.ndarray]:
    """[N, 4M] statistics of each item normalised by its speaker's utterances of its split (the training
    set's where the speaker has too few), and [N, 4M] the same normalised by the training set's: the two
    ways the network reads an utterance. Sets each item's ``speaker_statistics``."""
    from .speakers import assign_speaker_statistics, utterance_statistics

    path = cast(LogMelStatistics, model.log_mel_statistics)
    max_samples = int(model.config.max_seconds * 16000)
    raw = utterance_statistics(model, items, max_samples)
    for split in sorted({it.split for it in items}):
        rows = [i for i, it in enumerate(items) if it.split == split]
        assign_speaker_statistics(model, [items[i] for i in rows], max_samples, stats=raw[rows])
    nan = np.full((2, path.dim), np.nan, dtype=np.float32)
    speaker = torch.from_numpy(np.stack([it.speaker_statistics if it.speaker_statistics is not None else nan
                                         for it in items])) if items else torch.zeros(0, 2, path.dim)
    was_training = path.training
    path.eval()
    with torch.no_grad():
        stats = torch.from_numpy(raw)
        by_speaker = path.speaker_normalise(stats, speaker).numpy()
        by_training_set = path.speaker_normalise(stats, None).numpy()
    path.train(was_training)
    return by_speaker, by_training_set


def _fit_member(x: torch.Tensor, x_fallback: torch.Tensor, y: torch.Tensor, corpus: np.ndarray,
                train: List[int], val: List[int], hidden: int, n: int, epochs: int, fallback_dropout: float,
                seed: int) -> Tuple[StatisticsExpertMember, float, int]:
    """One member, early-stopped on validation: (member, its validation UA, its best epoch)."""
    torch.manual_seed(seed)
    member = StatisticsExpertMember(x.shape[1], hidden, n)
    member.out.reset_parameters()  # trained from here: not the zero start
    opt = torch.optim.AdamW(member.parameters(), lr=1e-3, weight_decay=1e-2)
    count: Dict[Tuple[str, int], int] = {}
    for i in train:
        count[(corpus[i], int(y[i]))] = count.get((corpus[i], int(y[i])), 0) + 1
    weight = torch.tensor([1.0 / count[(corpus[i], int(y[i]))] for i in train], dtype=torch.float64)
    train_t = torch.tensor(train)
    g = torch.Generator().manual_seed(seed)
    best: Tuple[float, Optional[Dict[str, torch.Tensor]], int] = (-1.0, None, 0)
    for epoch in range(1, epochs + 1):
        member.train()
        order = train_t[torch.multinomial(weight, len(train), replacement=True, generator=g)]
        for start in range(0, len(order), 64):
            b = order[start:start + 64]
            xb = x[b]
            if fallback_dropout > 0:
                xb = torch.where(torch.rand(len(b), 1, generator=g) < fallback_dropout, x_fallback[b], xb)
            loss = F.cross_entropy(member(xb), y[b])
            opt.zero_grad()
            loss.backward()
            opt.step()
        member.eval()
        with torch.no_grad():
            s = _validation_ua(member(x[val]).argmax(1).numpy(), y[val].numpy(), corpus[val], n)
        if s > best[0]:
            best = (s, copy.deepcopy(member.state_dict()), epoch)
    assert best[1] is not None
    member.load_state_dict(best[1])
    return member.eval(), best[0], best[2]


def _validation_ua(pred: np.ndarray, gold: np.ndarray, corpus: np.ndarray, n: int) -> float:
    """The mean over corpora of each corpus's UA."""
    return float(np.mean([unweighted_accuracy(gold[corpus == c], pred[corpus == c], n) for c in sorted(set(corpus))]))


def fit_expert(model: WavFusionModel, items: Sequence[Item], labels: Sequence[str], epochs: int = 150,
               fallback_dropout: float = 0.2, seed: int = 0, select_corpora: Optional[Sequence[str]] = None,
               log: Callable[..., Any] = print) -> Dict[str, Any]:
    """Adds a fitted :class:`StatisticsExpert` (``config.statistics_expert_members`` members, seeds
    ``seed``, ``seed + 1``, …) to ``model``, replacing one it had, from the ``train`` items, each member
    early-stopped on the ``validation`` items of ``select_corpora`` (default: every corpus in validation).
    Returns what model.json records about it."""
    cfg = model.config
    if not cfg.speaker_normalised_statistics:
        raise ValueError("the statistics expert needs a bundle with speaker-normalised statistics "
                         "(train-corpora --log-mel-statistics --speaker-normalise)")
    if not 0.0 <= fallback_dropout <= 1.0:
        raise ValueError(f"fallback_dropout={fallback_dropout} must be in [0, 1]")
    if epochs < 1:
        raise ValueError(f"epochs={epochs} must be at least 1")
    lid = {l: i for i, l in enumerate(labels)}
    items = [it for it in items if it.label in lid]
    train = [i for i, it in enumerate(items) if it.split == "train"]
    val = [i for i, it in enumerate(items) if it.split == "validation"
           and (select_corpora is None or (it.corpus or SYNTHETIC) in select_corpora)]
    if not train or not val:
        raise ValueError(f"the statistics expert needs training and validation items with the model's labels "
                         f"{list(labels)} (found {len(train)} training, {len(val)} validation)")
    by_speaker, by_training_set = expert_inputs(model, items)
    x = torch.from_numpy(by_speaker)
    x_fallback = torch.from_numpy(by_training_set)
    y = torch.tensor([lid[it.label] for it in items])
    corpus = np.array([it.corpus or SYNTHETIC for it in items])
    n = len(labels)
    expert = StatisticsExpert(x.shape[1], cfg.statistics_expert_hidden, n, cfg.statistics_expert_members)
    members = []
    for k in range(cfg.statistics_expert_members):
        member, score, epoch = _fit_member(x, x_fallback, y, corpus, train, val, cfg.statistics_expert_hidden, n,
                                           epochs, fallback_dropout, seed + k)
        expert.members[k].load_state_dict(member.state_dict())
        members.append({"seed": seed + k, "validation_UA": round(score, 4), "best_epoch": epoch})
        log(f"statistics expert member {k + 1}/{cfg.statistics_expert_members}: validation UA {score:.4f} "
            f"at epoch {epoch} of {epochs}")
    expert.eval()
    with torch.no_grad():
        score = _validation_ua(expert(x[val]).argmax(1).numpy(), y[val].numpy(), corpus[val], n)
    cfg.statistics_expert = True
    model.statistics_expert = expert
    val_corpora = sorted(set(corpus[val]))
    log(f"statistics expert ({len(members)} members): validation UA {score:.4f} (mean over "
        f"{', '.join(val_corpora)})")
    return {"method": "MLPs on the speaker-normalised log-mel statistics, mean of their logits added to the "
                      "network's (product of experts, weight 1); network frozen",
            "hidden": cfg.statistics_expert_hidden, "members": members, "epochs": epochs,
            "validation_UA": round(score, 4), "selection_corpora": val_corpora,
            "fallback_dropout": fallback_dropout, "training_items": len(train), "validation_items": len(val)}


def expected_calibration_error(logits: np.ndarray, gold: np.ndarray, bins: int = 15) -> float:
    """Expected calibration error of the top class (equal-width confidence bins), what a reliability
    diagram shows."""
    p = _softmax(logits)
    conf, pred = p.max(1), p.argmax(1)
    edges = np.linspace(0.0, 1.0, bins + 1)
    err = 0.0
    for lo, hi in zip(edges[:-1], edges[1:]):
        rows = (conf > lo) & (conf <= hi)
        if rows.any():
            err += rows.mean() * abs(float(np.mean(pred[rows] == gold[rows])) - float(conf[rows].mean()))
    return float(err)


def _softmax(z: np.ndarray) -> np.ndarray:
    e = np.exp(z - z.max(1, keepdims=True))
    return e / e.sum(1, keepdims=True)


def _nll(logits: np.ndarray, gold: np.ndarray) -> float:
    z = logits - logits.max(1, keepdims=True)
    return float(np.mean(np.log(np.exp(z).sum(1)) - z[np.arange(len(gold)), gold]))


def fit_temperature(logits: np.ndarray, gold: np.ndarray) -> float:
    """The temperature T (0.25 to 10, steps of 0.01 in log space) that minimises the validation negative
    log-likelihood of softmax(logits / T) (temperature scaling, Guo et al. 2017)."""
    grid = np.exp(np.arange(np.log(0.25), np.log(10.0) + 1e-9, 0.01))
    return float(min(grid, key=lambda t: _nll(logits / t, gold)))


def fit_statistics_expert_bundle(model_dir: str, out_dir: str, corpora: Sequence[str],
                                 synthetic: Optional[str] = None, seed: int = 0, train_seed: int = 0,
                                 epochs: int = 150, fallback_dropout: float = 0.2, name: Optional[str] = None,
                                 test_corpus: Optional[str] = None, json_out: Optional[str] = None,
                                 data: Optional[str] = None, log: Callable[..., Any] = print) -> Dict[str, Any]:
    """``python -m wavfusion fit-statistics-expert``: a new bundle in ``out_dir`` = the bundle in
    ``model_dir`` with a fitted statistics expert; its model.json gains ``training.statistics_expert`` and
    the held-out metrics of the new bundle (the old ones kept as ``previous_bundle_test_report``), and
    ``training.metrics.test_statistics_expert_alone`` (the expert's own, audio only: its ablation row).
    ``test_corpus``: leave-one-corpus-out, as ``train-corpora --test-corpus`` split it. ``data``: a studio
    export folder or a manifest (its own train/validation/test split, as ``train`` reads it): a team fits
    the expert on its own speakers."""
    from .corpora import LABEL_MAP_4, build_items, require_root
    from .export import derive_bundle, load_bundle
    from .metrics import classification_metrics
    from .data import load_audio_cache, load_corpus
    from .recipe import load_synthetic, predict_items, report

    if os.path.exists(out_dir):
        raise ValueError(f"{out_dir} exists; choose a new folder")
    model, tok, meta = load_bundle(model_dir)
    labels = meta["labels"]
    items: List[Item] = []
    if corpora:
        root = require_root()
        items += build_items(root, corpora, LABEL_MAP_4, seed=seed, test_corpus=test_corpus, log=log)
    if synthetic:
        items += load_synthetic(synthetic)
    selection = [c for c in corpora if c != test_corpus]
    if data:
        corpus = load_corpus(data, seed=seed)
        for problem in corpus.problems:
            log(f"not used: {problem}")
        load_audio_cache(corpus.items)
        own = os.path.basename(os.path.normpath(data))
        for it in corpus.items:
            it.corpus = own
        items += corpus.items
        selection.append(own)
    for it in items:
        if it.label not in labels:
            log(f"not used: {it.path}: label {it.label!r} is not among the model's labels {labels}")
    items = [it for it in items if it.label in labels]
    info = fit_expert(model, [it for it in items if it.split in ("train", "validation")], labels, epochs=epochs,
                      fallback_dropout=fallback_dropout, seed=train_seed, select_corpora=selection or None, log=log)
    info["calibration"] = _fit_expert_temperature(model, tok, [it for it in items if it.split == "validation"],
                                                   labels, log)
    info.update({"corpora": list(corpora), "synthetic": bool(synthetic), "data": data, "split_seed": seed,
                 "train_seed": train_seed, "test_corpus": test_corpus,
                 "fitted_on": {"name": meta.get("name"), "version": meta.get("version")},
                 "command": f"python -m wavfusion fit-statistics-expert --model {model_dir} --out {out_dir} "
                            + (f"--corpora {' '.join(corpora)}" if corpora else "")
                            + (f" --synthetic {synthetic}" if synthetic else "") + (f" --data {data}" if data else "")
                            + (f" --test-corpus {test_corpus}" if test_corpus else "")
                            + f" --epochs {epochs} --fallback-dropout {fallback_dropout}"})
    meta = dict(meta)
    meta["config"] = model.config.to_dict()
    derive_bundle(model_dir, out_dir, {k: v.detach().cpu() for k, v in model.state_dict().items()}, meta, name,
                  "statistics_expert", info)

    # the new bundle's held-out metrics, as the trainer reports them (each split's speakers normalised by
    # their own utterances of that split)
    model, tok, meta = load_bundle(out_dir)
    lid = {l: i for i, l in enumerate(labels)}
    held_out: Dict[str, List[Item]] = {s: [it for it in items if it.split == s] for s in ("validation", "test")}
    from .speakers import assign_speaker_statistics

    max_samples = int(model.config.max_seconds * 16000)
    metrics = dict(meta["training"].get("metrics") or {})
    previous = metrics.get("test_report")
    for split, split_items in held_out.items():
        if not split_items:
            continue
        assign_speaker_statistics(model, split_items, max_samples)
        gold = [lid[it.label] for it in split_items]
        if split == "validation":
            metrics["validation"] = classification_metrics(
                gold, predict_items(model, tok, split_items, labels, use_text=True), len(labels))
            continue
        rep = report(model, tok, split_items, labels)
        metrics["test_report"] = rep
        if "with_text" in rep:
            metrics["test"] = rep["with_text"]["all"]
        metrics["test_without_text"] = rep["without_text"]["all"]
        alone = _expert_alone(model, split_items, gold, len(labels))
        metrics["test_statistics_expert_alone"] = alone
        for mode, r in list(rep.items()) + [("expert alone", alone)]:
            log(f"test {mode:12s} " + ", ".join(f"{c} UA {m['UA']:.3f}" for c, m in r.items()))
    if previous is not None:
        metrics["previous_bundle_test_report"] = {"version": meta.get("version"), **previous}
    meta["training"]["metrics"] = metrics
    with open(os.path.join(out_dir, "model.json"), "w", encoding="utf-8") as fh:
        json.dump(meta, fh, indent=1)
    if json_out:
        with open(json_out, "w", encoding="utf-8") as fh:
            json.dump({"metrics": metrics, "statistics_expert": meta["training"]["statistics_expert"]}, fh, indent=1)
    log(f"bundle with the statistics expert written to {out_dir}")
    return meta


def _fit_expert_temperature(model: WavFusionModel, tok, items: Sequence[Item], labels: Sequence[str],
                            log: Callable[..., Any]) -> Dict[str, Any]:
    """Sets the expert's temperature from the validation items (their speaker statistics already assigned):
    with the transcript over all of them and without it over the real corpora, pooled."""
    from .calibrate import predict_logits

    expert = cast(StatisticsExpert, model.statistics_expert)
    expert.temperature.fill_(1.0)
    lid = {l: i for i, l in enumerate(labels)}
    real = [it for it in items if (it.corpus or SYNTHETIC) != SYNTHETIC]
    parts = [(predict_logits(model, tok, items, labels, use_text=True), items)] if model.uses_text else []
    if real:
        parts.append((predict_logits(model, tok, real, labels, use_text=False), real))
    logits = np.concatenate([z for z, _ in parts])
    gold = np.array([lid[it.label] for _, part in parts for it in part])
    t = fit_temperature(logits, gold)
    expert.temperature.fill_(t)
    out = {"method": "temperature scaling of the summed logits, fitted on validation (negative log-likelihood)",
           "temperature": round(t, 4), "validation_items": len(gold),
           "validation_NLL": [round(_nll(logits, gold), 4), round(_nll(logits / t, gold), 4)],
           "validation_ECE": [round(expected_calibration_error(logits, gold), 4),
                              round(expected_calibration_error(logits / t, gold), 4)]}
    log(f"temperature {t:.3f}: validation NLL {out['validation_NLL'][0]} -> {out['validation_NLL'][1]}, "
        f"ECE {out['validation_ECE'][0]} -> {out['validation_ECE'][1]}")
    return out


def _expert_alone(model: WavFusionModel, items: Sequence[Item], gold: Sequence[int], n: int) -> Dict[str, Any]:
    """The expert's own metrics (its argmax, without the network), overall and per corpus."""
    from .metrics import classification_metrics

    by_speaker, _ = expert_inputs(model, items)
    with torch.no_grad():
        pred = cast(StatisticsExpert, model.statistics_expert)(torch.from_numpy(by_speaker)).argmax(1).tolist()
    out = {"all": classification_metrics(list(gold), pred, n)}
    for c in sorted({it.corpus or SYNTHETIC for it in items}):
        idx = [i for i, it in enumerate(items) if (it.corpus or SYNTHETIC) == c]
        out[c] = classification_metrics([gold[i] for i in idx], [pred[i] for i in idx], n)
    return out
