"""Training recipe: CE + lambda * L_mar, modality (text) dropout, speaker-independent validation."""
from __future__ import annotations

import copy
import csv
import json
import math
import os
import random
import sys
import time
from dataclasses import dataclass
from typing import Any, Dict, List, Optional, Sequence, Union, cast

import numpy as np
import torch
import torch.nn.functional as F
from torch.nn.utils.clip_grad import clip_grad_norm_

from .checkpoint import load_roberta, load_wav2vec2
from .config import get_config
from .distributed import gather_rows, init_from_env, local_rows, shutdown
from .data import Batcher, Corpus, RowProblem, load_audio_checked, load_corpus
from .losses import margin_loss
from .metrics import classification_metrics
from .modules import LogMelStatistics, WavFusionModel
from .tokenizer import ByteLevelBPETokenizer, train_bpe


def _silent(*_a: Any, **_k: Any) -> None:
    pass


def resolve_device(name: str, dctx) -> torch.device:
    """"auto": this process's GPU (LOCAL_RANK under torchrun) when CUDA is available, else the CPU."""
    if name == "cpu" or (name == "auto" and not torch.cuda.is_available()):
        return torch.device("cpu")
    if not torch.cuda.is_available():
        raise ValueError(f"--device {name}: CUDA is not available here")
    return torch.device("cuda", int(os.environ.get("LOCAL_RANK", "0")) if dctx.enabled else 0)


def set_seed(seed: int, threads: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    torch.set_num_threads(threads)


def _fmt_time(s: float) -> str:
    s = int(max(0, s))
    return f"{s // 60}m{s % 60:02d}s" if s >= 60 else f"{s}s"


@torch.no_grad()
def evaluate(model: WavFusionModel, batcher: Batcher) -> Dict[str, Any]:
    model.eval()
    preds: List[int] = []
    gold: List[int] = []
    gates: List[float] = []
    dev = next(model.parameters()).device
    for batch in batcher:
        spk = batch.speaker_statistics.to(dev) if batch.speaker_statistics is not None else None
        out = model(batch.audio.to(dev), batch.lengths.to(dev), batch.input_ids.to(dev),
                    batch.attention_mask.to(dev), speaker_statistics=spk)
        preds += out.logits.argmax(-1).tolist()
        gold += batch.labels.tolist()
        gates += out.text_gate.tolist()
    m = classification_metrics(gold, preds, model.config.num_labels)
    m["mean_text_gate"] = float(np.mean(gates)) if gates else 0.0
    return {"metrics": m, "preds": preds, "gold": gold}


def _eval_items_in_order(batcher: Batcher) -> List[int]:
    idx = list(range(len(batcher.items)))
    idx.sort(key=lambda j: len(batcher.items[j].loaded_audio()))
    return idx


def cue_breakdown(corpus: Corpus, split: str, batcher: Batcher, preds: List[int], gold: List[int]) -> Optional[Dict]:
    """Accuracy per cue type when the corpus has a cues.csv (synthetic corpus)."""
    root = corpus.source if os.path.isdir(corpus.source) else os.path.dirname(corpus.source)
    path = os.path.join(root, "cues.csv")
    if not os.path.exists(path):
        return None
    with open(path, newline="") as f:
        cues = {(r["split"], r["file_name"]): r["cue"] for r in csv.DictReader(f)}
    order = _eval_items_in_order(batcher)
    acc: Dict[str, List[int]] = {}
    for k, j in enumerate(order):
        it = batcher.items[j]
        cue = cues.get((split, os.path.basename(it.path)))
        if cue is not None:
            acc.setdefault(cue, []).append(int(preds[k] == gold[k]))
    return {c: {"acc": float(np.mean(v)), "n": len(v)} for c, v in sorted(acc.items())}


@dataclass
class _Best:
    """The best epoch so far by the selection score, with its weights and validation metrics."""
    score: float = -1.0
    epoch: int = 0
    state: Optional[Dict[str, torch.Tensor]] = None
    validation: Optional[Dict[str, Any]] = None


def build_model(config: str, labels: List[str], vocab_size: int, overrides: Dict[str, Any]) -> WavFusionModel:
    kw = dict(overrides)
    kw["labels"] = list(labels)
    if config in ("tiny", "small"):
        kw["vocab_size"] = vocab_size
    cfg = get_config(config, **kw)
    if cfg.text.vocab_size < vocab_size:
        raise ValueError(f"tokenizer has {vocab_size} ids but the text encoder only {cfg.text.vocab_size}")
    return WavFusionModel(cfg)


def train(data: Union[str, Corpus], out_dir: Optional[str], config: str = "tiny", epochs: int = 12, batch_size: int = 16,
          lr: float = 1e-3, encoder_lr: Optional[float] = None, seed: int = 0, threads: int = 2,
          fusion: Optional[str] = None, lambda_mar: Optional[float] = None, text_dropout: Optional[float] = None,
          num_shallow_layers: Optional[int] = None, audio_checkpoint: Optional[str] = None,
          text_checkpoint: Optional[str] = None, tokenizer: Optional[str] = None, vocab_size: int = 1000,
          max_seconds: Optional[float] = None, train_crop_seconds: Optional[float] = None,
          max_train_items: Optional[int] = None, max_val_items: Optional[int] = None, name: Optional[str] = None,
          noise: bool = True, log=print, quiet_progress: bool = False, save_each_best: bool = False,
          balanced: bool = False, speed_perturb: float = 0.0, config_overrides: Optional[Dict[str, Any]] = None,
          weight_decay: float = 0.01, warmup: float = 0.08, labels: Optional[List[str]] = None,
          device: str = "auto", select_corpora: Optional[Sequence[str]] = None,
          soft_labels: bool = False, train_statistics_expert: bool = False) -> Dict[str, Any]:
    """``data``: a studio export folder, a manifest, or an already built :class:`Corpus` (items may carry
    their audio). ``balanced``: each epoch draws its items with probability inversely proportional to
    the size of their (corpus, label) group. ``speed_perturb``: random resampling factor in
    [1 - x, 1 + x] per training clip (tempo and pitch change together, as Kaldi's speed perturbation).
    ``select_corpora``: the best epoch is the one with the best UA on the validation items of these
    corpora only (e.g. the corpora whose validation speakers are all held out from training); default:
    all validation items. ``soft_labels``: rows with the annotators' vote distribution (a studio export's
    ``soft_label`` column) are trained with cross-entropy against it instead of their one label."""
    t0 = time.time()
    dctx = init_from_env()
    if not dctx.is_main:
        log = _silent
    set_seed(seed, threads)
    corpus = data if isinstance(data, Corpus) else load_corpus(data, seed=seed)
    if labels:
        # a fixed label set (e.g. the bundle's): rows with any other label are reported, not trained on
        keep = [it for it in corpus.items if it.label in labels]
        corpus.problems += [RowProblem(it.split or "item", it.path, f"label {it.label!r} is not in the label set "
                                       f"{list(labels)}") for it in corpus.items if it.label not in labels]
        corpus.items, corpus.labels = keep, list(labels)
    train_items = corpus.split("train")
    val_items = corpus.split("validation")
    test_items = corpus.split("test")
    if max_train_items is not None and len(train_items) > max_train_items:
        rng = random.Random(seed)
        train_items = rng.sample(train_items, max_train_items)
    if max_val_items is not None and len(val_items) > max_val_items:
        val_items = random.Random(seed + 1).sample(val_items, max_val_items)
    if not train_items or not val_items:
        raise ValueError(f"{data}: need train and validation items (got {len(train_items)} / {len(val_items)})")
    log(f"data: {corpus.source} ({corpus.kind}, split: {corpus.split_origin})")
    log(f"  labels: {corpus.labels}")
    log(f"  train {len(train_items)} items / {len({i.speaker for i in train_items})} speakers, "
        f"validation {len(val_items)} / {len({i.speaker for i in val_items})}, test {len(test_items)}")

    if tokenizer:
        tok = ByteLevelBPETokenizer.load(tokenizer)
    else:
        tok = train_bpe([it.text for it in train_items], vocab_size=vocab_size)
    overrides: Dict[str, Any] = {"fusion": fusion, "lambda_mar": lambda_mar, "text_dropout": text_dropout,
                                 "num_shallow_layers": num_shallow_layers, "max_seconds": max_seconds}
    overrides.update(config_overrides or {})
    model = build_model(config, corpus.labels, tok.vocab_size, overrides)
    cfg = model.config
    tok.max_length = cfg.text.max_text_tokens
    if audio_checkpoint and model.uses_audio:
        load_wav2vec2(model.audio_encoder, audio_checkpoint)
        log(f"  loaded audio encoder from {audio_checkpoint}")
    if text_checkpoint and model.uses_text:
        load_roberta(model.text_encoder, text_checkpoint)
        log(f"  loaded text encoder from {text_checkpoint}")
    n_params = sum(p.numel() for p in model.parameters())
    log(f"model: {cfg.name}, fusion={cfg.fusion}, {cfg.num_shallow_layers} shallow + {cfg.num_deep_layers} deep "
        f"layers, lambda_mar={cfg.lambda_mar}, text_dropout={cfg.text_dropout}, {n_params / 1e6:.2f}M parameters")

    max_samples = int(cfg.max_seconds * 16000)
    t_load = time.time()
    min_samples = model.audio_encoder.min_samples if model.uses_audio else 1
    problems = list(corpus.problems)
    train_items, p1 = load_audio_checked(train_items, min_samples)
    val_items, p2 = load_audio_checked(val_items, min_samples)
    test_items, p3 = load_audio_checked(test_items, min_samples)
    problems += p1 + p2 + p3
    log(f"  audio loaded in {time.time() - t_load:.1f}s")
    if problems:
        log(f"  {len(problems)} rows not used:")
        for pr in problems[:50]:
            log(f"    {pr}")
        if len(problems) > 50:
            log(f"    ... and {len(problems) - 50} more")
    if not train_items or not val_items:
        raise ValueError(f"{corpus.source}: after removing {len(problems)} unusable rows no train and validation "
                         f"items are left (train {len(train_items)}, validation {len(val_items)})")

    speaker_info: Optional[Dict[str, Any]] = None
    if cfg.speaker_normalised_statistics:
        from .speakers import MIN_UTTERANCES, assign_speaker_statistics, training_fallback, utterance_statistics

        t_stats = time.time()
        train_stats = utterance_statistics(model, train_items, max_samples)  # once: fallback and train speakers
        cast(LogMelStatistics, model.log_mel_statistics).fallback.copy_(training_fallback(train_stats))
        speaker_info = {"min_utterances": MIN_UTTERANCES}
        for split_name, split_items in (("train", train_items), ("validation", val_items), ("test", test_items)):
            speaker_info[split_name] = assign_speaker_statistics(
                model, split_items, max_samples, stats=train_stats if split_name == "train" else None)
        log(f"  speaker statistics ({time.time() - t_stats:.1f}s): "
            + "; ".join(f"{k} {v['speakers']} speakers, {v['fallback_items']} items without"
                        for k, v in speaker_info.items() if isinstance(v, dict)))

    use_text = model.uses_text
    crop = int(train_crop_seconds * 16000) if train_crop_seconds else max_samples
    train_b = Batcher(train_items, cfg.labels, tok, batch_size, cfg.text.max_text_tokens, train=True, seed=seed,
                      text_dropout=cfg.text_dropout if cfg.fusion == "gca" or cfg.fusion == "concat" else 0.0,
                      max_samples=min(crop, max_samples), noise=noise, use_text=use_text, balanced=balanced,
                      speed_perturb=speed_perturb, soft_labels=soft_labels)
    if soft_labels:
        n_soft = sum(1 for it in train_items if it.soft)
        log(f"  soft labels: {n_soft} of {len(train_items)} training rows have a vote distribution")
    val_b = Batcher(val_items, cfg.labels, tok, batch_size, cfg.text.max_text_tokens, train=False,
                    max_samples=max_samples, use_text=use_text)
    selection = "best validation UA"
    select_b = None
    if select_corpora:
        select_items = [it for it in val_items if it.corpus in set(select_corpora)]
        if not select_items:
            raise ValueError(f"--select-corpora {' '.join(select_corpora)}: no validation items from these corpora "
                             f"(validation has: {', '.join(sorted({it.corpus or '?' for it in val_items}))})")
        select_b = Batcher(select_items, cfg.labels, tok, batch_size, cfg.text.max_text_tokens, train=False,
                           max_samples=max_samples, use_text=use_text)
        selection = f"best validation UA on {', '.join(select_corpora)} ({len(select_items)} items)"
        log(f"  selection: {selection}")
    test_b = Batcher(test_items, cfg.labels, tok, batch_size, cfg.text.max_text_tokens, train=False,
                     max_samples=max_samples, use_text=use_text) if test_items else None

    pretrained = set()
    if audio_checkpoint and model.uses_audio:
        pretrained |= {id(p) for p in model.audio_encoder.parameters()}
    if text_checkpoint and model.uses_text:
        pretrained |= {id(p) for p in model.text_encoder.parameters()}
    # A statistics expert is fitted after the network on whole-clip statistics (fit-statistics-expert);
    # training sees crops' statistics, so it stays as fitted unless asked (``train_statistics_expert``).
    expert = getattr(model, "statistics_expert", None)
    if expert is not None and not train_statistics_expert:
        for p in expert.parameters():
            p.requires_grad_(False)
        log("  statistics expert: frozen (as fitted; --train-statistics-expert trains it too)")
    trainable = [p for p in model.parameters() if p.requires_grad]
    enc_lr = encoder_lr if encoder_lr is not None else lr
    groups = [{"params": [p for p in trainable if id(p) not in pretrained], "lr": lr}]
    if pretrained:
        groups.append({"params": [p for p in trainable if id(p) in pretrained], "lr": enc_lr})
    opt = torch.optim.AdamW(groups, weight_decay=weight_decay)
    steps = epochs * len(train_b)
    warm = max(1, int(warmup * steps))
    base_lrs = [g["lr"] for g in opt.param_groups]

    def set_lr(step: int) -> None:
        f = step / warm if step < warm else 0.5 * (1 + math.cos(math.pi * (step - warm) / max(1, steps - warm)))
        for g, b in zip(opt.param_groups, base_lrs):
            g["lr"] = b * f

    dev = resolve_device(device, dctx)
    model.to(dev)
    log(f"  device: {dev}" + (f", {dctx.world} processes (DistributedDataParallel)" if dctx.enabled else ""))
    train_model = model
    if dctx.enabled:
        from torch.nn.parallel import DistributedDataParallel

        train_model = DistributedDataParallel(model, device_ids=[dev.index] if dev.type == "cuda" else None,
                                              find_unused_parameters=True)
    history = []
    best = _Best()
    step = 0
    for epoch in range(1, epochs + 1):
        model.train()
        te = time.time()
        tot = {"loss": 0.0, "ce": 0.0, "mar": 0.0}
        nb = 0
        report_every = max(1, len(train_b) // 4)
        for audio, lengths, ids, mask, batch_labels, present, targets, speaker_statistics in train_b:
            set_lr(step)
            n_global = int(batch_labels.shape[0])
            keep = n_global
            if dctx.enabled:
                rows = local_rows(n_global, dctx)
                keep = rows.stop - rows.start
                if keep == 0:  # a last batch smaller than the world: run one row with zero weight
                    rows = slice(0, 1)
                audio, lengths, ids, mask, local_labels, targets = (audio[rows], lengths[rows], ids[rows], mask[rows],
                                                                    batch_labels[rows], targets[rows])
                if speaker_statistics is not None:
                    speaker_statistics = speaker_statistics[rows]
            else:
                local_labels = batch_labels
            audio, lengths, ids, mask = audio.to(dev), lengths.to(dev), ids.to(dev), mask.to(dev)
            local_labels, batch_labels, present = local_labels.to(dev), batch_labels.to(dev), present.to(dev)
            # the model sees dropped transcripts exactly as at inference: input_ids = [<s>, </s>]
            spk = speaker_statistics.to(dev) if speaker_statistics is not None else None
            out = train_model(audio, lengths, ids, mask, speaker_statistics=spk)
            # sum over this rank's rows / global batch * world: after DDP's averaging, the global mean
            weight = torch.full((len(local_labels),), 1.0 if keep else 0.0, device=dev)
            if soft_labels:  # cross-entropy against the vote distribution (one-hot where there is none)
                row_ce = -(targets.to(dev) * F.log_softmax(out.logits, dim=-1)).sum(-1)
            else:
                row_ce = F.cross_entropy(out.logits, local_labels, reduction="none")
            ce = (row_ce * weight).sum() \
                * (dctx.world / max(1, n_global))
            feats = [gather_rows(f[:keep], n_global, dctx) for f in model.mar_features(out)]
            if cfg.lambda_mar > 0 and len(feats) > 1:
                mar = margin_loss(feats, batch_labels, [None, present], margin=cfg.mar_margin)
            else:
                mar = torch.zeros((), device=dev)
            loss = ce + cfg.lambda_mar * mar
            opt.zero_grad()
            loss.backward()
            clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
            step += 1
            nb += 1
            tot["loss"] += float(loss)
            tot["ce"] += float(ce)
            tot["mar"] += float(mar)
            if not quiet_progress and (nb % report_every == 0 or nb == len(train_b)):
                el = time.time() - te
                eta = el / nb * (len(train_b) - nb) + el * (epochs - epoch) * len(train_b) / nb
                log(f"  epoch {epoch}/{epochs} [{nb}/{len(train_b)}] loss {tot['loss'] / nb:.4f} "
                    f"(ce {tot['ce'] / nb:.4f}, mar {tot['mar'] / nb:.4f}) {nb / el:.2f} batch/s, eta {_fmt_time(eta)}")
        if not dctx.is_main:
            continue  # rank 0 evaluates; the others go on to the next epoch's first all-reduce
        ev = evaluate(model, val_b)
        vm = ev["metrics"]
        rec = {"epoch": epoch, "loss": tot["loss"] / nb, "ce": tot["ce"] / nb, "mar": tot["mar"] / nb,
               "validation": vm, "seconds": time.time() - te}
        score = vm["UA"]
        if select_b is not None:
            sm = evaluate(model, select_b)["metrics"]
            rec["selection"] = sm
            score = sm["UA"]
        history.append(rec)
        log(f"epoch {epoch}/{epochs} loss {rec['loss']:.4f} ce {rec['ce']:.4f} mar {rec['mar']:.4f} | validation "
            f"WA {vm['WA']:.4f} UA {vm['UA']:.4f} macro-F1 {vm['macro_F1']:.4f} weighted-F1 {vm['weighted_F1']:.4f} "
            f"gate {vm['mean_text_gate']:.3f} ({rec['seconds']:.0f}s)"
            + (f" | selection UA {score:.4f}" if select_b is not None else ""))
        sys.stdout.flush()
        if score > best.score:
            best = _Best(score, epoch, copy.deepcopy(model.state_dict()), vm)
            if out_dir and save_each_best:
                # keep a loadable bundle of the best epoch so far (long CPU runs can be stopped any time)
                from .export import write_bundle

                info = {"data": corpus.summary(), "recipe": {"config": config, "epochs_planned": epochs,
                        "epochs_completed": epoch, "best_epoch": epoch, "seed": seed, "lr": lr,
                        "batch_size": batch_size, "max_train_items": max_train_items,
                        "max_val_items": max_val_items, "train_crop_seconds": train_crop_seconds,
                        "selection": selection},
                        "metrics": {"validation": vm}}
                write_bundle(copy.deepcopy(model).cpu().eval(), tok, out_dir, name or os.path.basename(os.path.normpath(out_dir)), info)
                with open(os.path.join(out_dir, "history.json"), "w") as f:
                    json.dump(history, f, indent=1)
                log(f"  saved best-so-far bundle (epoch {epoch}) to {out_dir}")
    if not dctx.is_main:
        shutdown(dctx)
        return {"rank": dctx.rank, "history": history}
    if best.state is None:
        raise ValueError(f"no epoch was trained (epochs={epochs})")
    model.load_state_dict(best.state)
    model.cpu().eval()  # evaluation, export and the returned model on the CPU
    result: Dict[str, Any] = {"best_epoch": best.epoch, "validation": best.validation, "history": history}
    ev = evaluate(model, val_b)
    result["validation_cues"] = cue_breakdown(corpus, "validation", val_b, ev["preds"], ev["gold"])
    if test_b is not None:
        ev = evaluate(model, test_b)
        result["test"] = ev["metrics"]
        result["test_cues"] = cue_breakdown(corpus, "test", test_b, ev["preds"], ev["gold"])
        tm = ev["metrics"]
        log(f"test (best epoch {best.epoch}): WA {tm['WA']:.4f} UA {tm['UA']:.4f} macro-F1 {tm['macro_F1']:.4f} "
            f"weighted-F1 {tm['weighted_F1']:.4f}")
        # audio-only (no transcript) evaluation of the same model, as the studio runs it without text
        if use_text and model.uses_audio:
            nb = Batcher(test_items, cfg.labels, tok, batch_size, cfg.text.max_text_tokens, train=False,
                         max_samples=max_samples, use_text=False)
            result["test_without_text"] = evaluate(model, nb)["metrics"]
    result["seconds"] = time.time() - t0
    result["model"] = model
    result["tokenizer"] = tok
    result["corpus"] = corpus
    training_info = {
        "data": corpus.summary(),
        "recipe": {"config": config, "epochs": epochs, "batch_size": batch_size, "lr": lr, "encoder_lr": enc_lr,
                   "seed": seed, "threads": threads, "processes": dctx.world, "optimizer": "AdamW wd 0.01, warmup 8% + cosine",
                   "loss": f"CE{' against the vote distribution (soft labels)' if soft_labels else ''} + "
                           f"{cfg.lambda_mar} * L_mar (margin {cfg.mar_margin})",
                   "text_dropout": cfg.text_dropout, "noise_augmentation": noise,
                   "balanced_sampling": balanced, "speed_perturb": speed_perturb,
                   "train_crop_seconds": train_crop_seconds, "max_train_items": max_train_items,
                   "max_val_items": max_val_items,
                   "selection": selection, "best_epoch": best.epoch, "speaker_statistics": speaker_info,
                   "audio_checkpoint": audio_checkpoint, "text_checkpoint": text_checkpoint,
                   **({"statistics_expert": "trained" if train_statistics_expert else "frozen"}
                      if expert is not None else {}),
                   "seconds": round(result["seconds"], 1)},
        "rows_not_used": {"count": len(problems), "first": [str(p) for p in problems[:50]]},
        "metrics": {k: result[k] for k in ("validation", "test", "test_without_text", "validation_cues", "test_cues")
                    if result.get(k) is not None},
    }
    result["training_info"] = training_info
    if out_dir:
        from .export import write_bundle

        bundle_name = name or os.path.basename(os.path.normpath(out_dir))
        meta = write_bundle(model, tok, out_dir, bundle_name, training_info)
        with open(os.path.join(out_dir, "history.json"), "w") as f:
            json.dump(history, f, indent=1)
        log(f"bundle written to {out_dir} ({', '.join(sorted(os.listdir(out_dir)))})")
        result["model_json"] = meta
    shutdown(dctx)
    return result
