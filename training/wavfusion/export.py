"""ONNX export and the model bundle (model.onnx, model.json, tokenizer.json, model.pt)."""
from __future__ import annotations

import datetime
import inspect
import json
import os
import warnings
from typing import Any, Dict, Optional, Tuple

import torch

from . import __version__
from .config import WavFusionConfig
from .modules import (OnnxWrapper, SpeakerNormalisedOnnxWrapper, UtteranceStatisticsOnnxWrapper,
                      WavFusionModel)
from .tokenizer import EMPTY_TEXT_IDS, PAD_ID, ByteLevelBPETokenizer

OPSET = 17
INPUT_NAMES = ["audio", "audio_lengths", "input_ids", "attention_mask"]
OUTPUT_NAMES = ["logits", "embedding", "text_gate"]
DYNAMIC_AXES = {
    "audio": {0: "batch", 1: "samples"},
    "audio_lengths": {0: "batch"},
    "input_ids": {0: "batch", 1: "tokens"},
    "attention_mask": {0: "batch", 1: "tokens"},
    "logits": {0: "batch"},
    "embedding": {0: "batch"},
    "text_gate": {0: "batch"},
}

DISCLAIMER = ("Trained on synthetic (espeak-ng) speech with scripted prosody and lexical cues. "
              "It is a demonstration of the pipeline, not an emotion recogniser for real people.")


def example_inputs(batch: int = 2, samples: int = 16000, tokens: int = 7, vocab: int = 100
                   ) -> Tuple[torch.Tensor, ...]:
    g = torch.Generator().manual_seed(0)
    audio = torch.randn(batch, samples, generator=g) * 0.1
    lengths = torch.full((batch,), samples, dtype=torch.long)
    lengths[-1] = max(samples // 2, 1)
    ids = torch.randint(4, max(vocab, 5), (batch, tokens), generator=g)
    ids[:, 0] = 0
    ids[:, -1] = 2
    mask = torch.ones(batch, tokens, dtype=torch.long)
    if batch > 1 and tokens > 3:
        ids[-1, 2] = 2
        ids[-1, 3:] = PAD_ID
        mask[-1, 3:] = 0
    return audio, lengths, ids, mask


SPEAKER_STATISTICS = "speaker_statistics"
STATISTICS_MODEL = "statistics.onnx"


def speaker_normalised(model: WavFusionModel) -> bool:
    return bool(model.config.log_mel_statistics and model.config.speaker_normalised_statistics)


def _export(wrapper: torch.nn.Module, args: Tuple[torch.Tensor, ...], path: str, inputs, outputs, axes,
            opset: int, check: bool) -> str:
    extra = {}
    if "dynamo" in inspect.signature(torch.onnx.export).parameters:
        extra["dynamo"] = False  # newer torch defaults to the dynamo exporter; we use TorchScript tracing
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(wrapper, args, path, input_names=inputs, output_names=outputs,
                          dynamic_axes=axes, opset_version=opset, do_constant_folding=True, **extra)
    if check:
        import onnx.checker

        onnx.checker.check_model(onnx.load(path), full_check=True)
    return path


def export_onnx(model: WavFusionModel, path: str, opset: int = OPSET, check: bool = True) -> str:
    """model.onnx; a speaker-normalised model takes a fifth input, ``speaker_statistics`` [B, 2, 4M]."""
    model = model.eval()
    args = example_inputs(vocab=model.config.text.vocab_size)
    if not speaker_normalised(model):
        return _export(OnnxWrapper(model).eval(), args, path, INPUT_NAMES, OUTPUT_NAMES, DYNAMIC_AXES, opset, check)
    dim = model.log_mel_statistics.dim
    spk = torch.stack([torch.zeros(args[0].shape[0], dim), torch.ones(args[0].shape[0], dim)], dim=1)
    spk[-1] = float("nan")  # a row without its speaker's statistics
    return _export(SpeakerNormalisedOnnxWrapper(model).eval(), args + (spk,), path,
                   INPUT_NAMES + [SPEAKER_STATISTICS], OUTPUT_NAMES,
                   {**DYNAMIC_AXES, SPEAKER_STATISTICS: {0: "batch"}}, opset, check)


def export_statistics_onnx(model: WavFusionModel, path: str, opset: int = OPSET, check: bool = True) -> str:
    """statistics.onnx: audio, audio_lengths -> statistics [B, 4M] (see UtteranceStatisticsOnnxWrapper)."""
    model = model.eval()
    audio, lengths = example_inputs()[:2]
    return _export(UtteranceStatisticsOnnxWrapper(model).eval(), (audio, lengths), path, INPUT_NAMES[:2],
                   ["statistics"], {"audio": DYNAMIC_AXES["audio"], "audio_lengths": DYNAMIC_AXES["audio_lengths"],
                                    "statistics": {0: "batch"}}, opset, check)


def model_json(model: WavFusionModel, name: str, training: Dict[str, Any], version: str = "0.1.0",
               disclaimer: Optional[str] = DISCLAIMER) -> Dict[str, Any]:
    cfg = model.config
    rf = model.audio_encoder.min_samples if model.uses_audio else 400
    d: Dict[str, Any] = {
        "name": name,
        "version": version,
        "format": "wavfusion-bundle/1",
        "architecture": "wavfusion",
        "labels": list(cfg.labels),
        "sample_rate": 16000,
        "max_seconds": cfg.max_seconds,
        "min_samples": rf,
        "frame_rate_hz": 16000 / (model.audio_encoder.hop_samples if model.uses_audio else _prod(cfg.audio.conv_stride)),
        "tokenizer": "tokenizer.json",
        "max_text_tokens": cfg.text.max_text_tokens,
        "empty_text_ids": list(EMPTY_TEXT_IDS),
        "pad_token_id": PAD_ID,
        "model": "model.onnx",
        "pytorch_weights": "model.pt",
        "opset": OPSET,
        "inputs": {
            "audio": {"dtype": "float32", "shape": ["batch", "samples"],
                      "description": "raw mono 16 kHz float audio in [-1, 1], zero-padded; the graph normalises "
                                     "each utterance (zero mean, unit variance over its first audio_lengths samples)"},
            "audio_lengths": {"dtype": "int64", "shape": ["batch"], "description": "valid samples per row"},
            "input_ids": {"dtype": "int64", "shape": ["batch", "tokens"],
                          "description": "tokenizer.json ids with <s> ... </s>, padded with pad_token_id; "
                                         "no transcript = empty_text_ids; at most max_text_tokens"},
            "attention_mask": {"dtype": "int64", "shape": ["batch", "tokens"], "description": "1 for real tokens"},
        },
        "outputs": {
            "logits": {"dtype": "float32", "shape": ["batch", "classes"], "description": "softmax gives probabilities in labels order"},
            "embedding": {"dtype": "float32", "shape": ["batch", "dim"], "description": "fused utterance vector"},
            "text_gate": {"dtype": "float32", "shape": ["batch"], "description": "mean GCA gate over valid frames (0 = audio only)"},
        },
        "front_end": {"channels": "average to mono",
                      "resampler": "polyphase Kaiser-windowed sinc (passband 0.9, stopband 1.0 of the lower Nyquist "
                                   "frequency, 100 dB): training/wavfusion/audio.py resample, the studio's "
                                   "src/main/audio/polyphase-resampler.ts"},
        "config": cfg.to_dict(),
        "training": training,
        "exported_with": {"wavfusion": __version__, "torch": torch.__version__},
        "created": datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0).isoformat(),
    }
    if speaker_normalised(model):
        dim = model.log_mel_statistics.dim
        from .speakers import MIN_UTTERANCES

        d["inputs"][SPEAKER_STATISTICS] = {
            "dtype": "float32", "shape": ["batch", 2, dim],
            "description": "per row: mean and population standard deviation, over the utterances of the row's "
                           "speaker, of statistics.onnx's output; a row of NaN (no speaker, or fewer than "
                           "min_utterances) uses the training set's"}
        d["speaker_normalisation"] = {"input": SPEAKER_STATISTICS, "statistics_model": STATISTICS_MODEL,
                                      "dimension": dim, "min_utterances": MIN_UTTERANCES}
    if disclaimer:
        d["disclaimer"] = disclaimer
    return d


def _prod(xs) -> int:
    p = 1
    for x in xs:
        p *= x
    return p


def write_bundle(model: WavFusionModel, tokenizer: ByteLevelBPETokenizer, out_dir: str, name: str,
                 training: Dict[str, Any], save_weights: bool = True, disclaimer: Optional[str] = DISCLAIMER
                 ) -> Dict[str, Any]:
    os.makedirs(out_dir, exist_ok=True)
    export_onnx(model, os.path.join(out_dir, "model.onnx"))
    if speaker_normalised(model):
        export_statistics_onnx(model, os.path.join(out_dir, STATISTICS_MODEL))
    tokenizer.save(os.path.join(out_dir, "tokenizer.json"))
    meta = model_json(model, name, training, disclaimer=disclaimer)
    if save_weights:
        torch.save({k: v.detach().cpu() for k, v in model.state_dict().items()}, os.path.join(out_dir, "model.pt"))
    else:
        meta.pop("pytorch_weights")
    with open(os.path.join(out_dir, "model.json"), "w", encoding="utf-8") as f:
        json.dump(meta, f, indent=2)
    return meta


def load_bundle(folder: str) -> Tuple[WavFusionModel, ByteLevelBPETokenizer, Dict[str, Any]]:
    """PyTorch reference model from a bundle written by :func:`write_bundle`."""
    from .checkpoint import torch_load

    if not os.path.isfile(os.path.join(folder, "model.json")):
        raise ValueError(f"{folder} is not a model bundle: it has no model.json")
    with open(os.path.join(folder, "model.json"), encoding="utf-8") as f:
        meta = json.load(f)
    cfg = WavFusionConfig.from_dict(meta["config"])
    model = WavFusionModel(cfg)
    model.load_state_dict(torch_load(os.path.join(folder, meta.get("pytorch_weights", "model.pt"))))
    tok = ByteLevelBPETokenizer.load(os.path.join(folder, meta["tokenizer"]), max_length=meta.get("max_text_tokens"))
    return model.eval(), tok, meta


def derive_bundle(source_dir: str, out_dir: str, state: Dict[str, torch.Tensor], meta: Dict[str, Any],
                  name: Optional[str], note_key: str, note: Dict[str, Any]) -> Dict[str, Any]:
    """A new bundle in ``out_dir`` from ``source_dir`` (its tokenizer and statistics graph kept) with new
    weights ``state``: ``model.json`` gains ``training[note_key] = note``, loses the variants made from
    the old weights (int8), and ``model.onnx`` is exported again from the new weights."""
    import shutil

    if os.path.exists(out_dir):
        raise ValueError(f"{out_dir} exists; choose a new folder")
    shutil.copytree(source_dir, out_dir, ignore=shutil.ignore_patterns("model.int8.onnx", "*.log"))
    torch.save(state, os.path.join(out_dir, meta.get("pytorch_weights") or "model.pt"))
    meta = dict(meta)
    meta["name"] = name or meta.get("name")
    meta["training"] = dict(meta.get("training") or {})
    meta["training"][note_key] = note
    meta.pop("variants", None)
    with open(os.path.join(out_dir, "model.json"), "w", encoding="utf-8") as fh:
        json.dump(meta, fh, indent=1)
    model, _tok, meta = load_bundle(out_dir)
    export_onnx(model, os.path.join(out_dir, meta.get("model", "model.onnx")))
    return meta

