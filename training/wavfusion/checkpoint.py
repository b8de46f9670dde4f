"""Loading Hugging Face wav2vec2 / RoBERTa checkpoints by key mapping.

Accepted files: ``*.safetensors`` (read here, no safetensors package needed),
``pytorch_model.bin`` / ``*.pt`` (torch.load), or a folder holding one of them.
Accepted key layouts:
  * Wav2Vec2Model keys (``feature_extractor...``) or with the ``wav2vec2.`` prefix of
    Wav2Vec2ForPreTraining / ForCTC / ForSequenceClassification (their heads -- quantizer,
    project_hid, project_q, lm_head, projector, classifier -- are ignored);
  * positional conv weight norm as ``weight_g``/``weight_v`` (older transformers) or
    ``parametrizations.weight.original0/1`` (newer), or an un-normalised ``weight``;
  * RobertaModel keys or with the ``roberta.`` prefix of RobertaForMaskedLM etc.
    (``lm_head``, ``pooler``, ``classifier`` and the ``position_ids`` buffers are ignored).
Anything else is an error that lists the missing and unexpected keys.
"""
from __future__ import annotations

import json
import os
import struct
from typing import Dict, List, Tuple

import torch
import torch.nn as nn

_ST_DTYPES = {"F32": torch.float32, "F16": torch.float16, "BF16": torch.bfloat16, "F64": torch.float64,
              "I64": torch.int64, "I32": torch.int32, "I16": torch.int16, "I8": torch.int8, "U8": torch.uint8,
              "BOOL": torch.bool}


class CheckpointMismatchError(ValueError):
    def __init__(self, what: str, missing: List[str], unexpected: List[str], shapes: List[str]):
        self.missing, self.unexpected, self.shapes = missing, unexpected, shapes

        def fmt(xs: List[str]) -> str:
            head = ", ".join(xs[:40])
            return head + (f", ... ({len(xs)} in all)" if len(xs) > 40 else "")

        parts = [f"checkpoint does not match the {what}:"]
        if missing:
            parts.append(f"  missing keys ({len(missing)}): {fmt(missing)}")
        if unexpected:
            parts.append(f"  unexpected keys ({len(unexpected)}): {fmt(unexpected)}")
        if shapes:
            parts.append(f"  shape mismatches ({len(shapes)}): {fmt(shapes)}")
        super().__init__("\n".join(parts))


def read_safetensors(path: str) -> Dict[str, torch.Tensor]:
    with open(path, "rb") as f:
        (n,) = struct.unpack("<Q", f.read(8))
        header = json.loads(f.read(n))
        data = f.read()
    out = {}
    for name, meta in header.items():
        if name == "__metadata__":
            continue
        a, b = meta["data_offsets"]
        dtype = _ST_DTYPES[meta["dtype"]]
        buf = bytearray(data[a:b])
        t = torch.frombuffer(buf, dtype=dtype) if b > a else torch.empty(0, dtype=dtype)
        out[name] = t.reshape(meta["shape"]).clone()
    return out


def write_safetensors(path: str, sd: Dict[str, torch.Tensor]) -> None:
    inv = {v: k for k, v in _ST_DTYPES.items()}
    header, blobs, off = {}, [], 0
    for k, t in sd.items():
        t = t.detach().contiguous().cpu()
        b = t.view(torch.uint8).numpy().tobytes() if t.dtype == torch.bfloat16 else t.numpy().tobytes()
        header[k] = {"dtype": inv[t.dtype], "shape": list(t.shape), "data_offsets": [off, off + len(b)]}
        blobs.append(b)
        off += len(b)
    h = json.dumps(header).encode()
    h += b" " * ((8 - len(h) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for b in blobs:
            f.write(b)


def torch_load(path: str):
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except TypeError:  # torch < 1.13 has no weights_only
        return torch.load(path, map_location="cpu")


def load_state_dict_file(path: str) -> Dict[str, torch.Tensor]:
    if os.path.isdir(path):
        for name in ("model.safetensors", "pytorch_model.bin", "model.pt"):
            p = os.path.join(path, name)
            if os.path.exists(p):
                return load_state_dict_file(p)
        raise FileNotFoundError(f"{path}: no model.safetensors or pytorch_model.bin inside")
    if path.endswith(".safetensors"):
        return read_safetensors(path)
    sd = torch_load(path)
    if isinstance(sd, dict) and "state_dict" in sd and isinstance(sd["state_dict"], dict):
        sd = sd["state_dict"]
    return sd


W2V_IGNORED_PREFIXES = ("quantizer.", "project_hid.", "project_q.", "lm_head.", "projector.", "classifier.",
                        "dropout_features", "adapter.")
ROBERTA_IGNORED_PREFIXES = ("lm_head.", "pooler.", "classifier.")
ROBERTA_IGNORED_KEYS = ("embeddings.position_ids", "embeddings.token_type_ids")


def map_wav2vec2_keys(sd: Dict[str, torch.Tensor]) -> Tuple[Dict[str, torch.Tensor], List[str]]:
    out: Dict[str, torch.Tensor] = {}
    ignored: List[str] = []
    pos = "encoder.pos_conv_embed.conv."
    for k, v in sd.items():
        key = k[len("wav2vec2."):] if k.startswith("wav2vec2.") else k
        if key.startswith(W2V_IGNORED_PREFIXES):
            ignored.append(k)
            continue
        if key == pos + "parametrizations.weight.original0":
            key = pos + "weight_g"
        elif key == pos + "parametrizations.weight.original1":
            key = pos + "weight_v"
        elif key == pos + "weight":  # weight norm already folded: w = g * v/|v| with g = |w|
            out[pos + "weight_v"] = v
            out[pos + "weight_g"] = v.pow(2).sum(dim=(0, 1), keepdim=True).sqrt()
            continue
        out[key] = v
    return out, ignored


def map_roberta_keys(sd: Dict[str, torch.Tensor]) -> Tuple[Dict[str, torch.Tensor], List[str]]:
    out: Dict[str, torch.Tensor] = {}
    ignored: List[str] = []
    for k, v in sd.items():
        key = k
        for p in ("roberta.", "bert."):
            if key.startswith(p):
                key = key[len(p):]
        if key.startswith(ROBERTA_IGNORED_PREFIXES) or key in ROBERTA_IGNORED_KEYS:
            ignored.append(k)
            continue
        key = key.replace("LayerNorm.gamma", "LayerNorm.weight").replace("LayerNorm.beta", "LayerNorm.bias")
        out[key] = v
    return out, ignored


def load_mapped(module: nn.Module, mapped: Dict[str, torch.Tensor], what: str) -> None:
    expected = module.state_dict()
    missing = sorted(k for k in expected if k not in mapped)
    unexpected = sorted(k for k in mapped if k not in expected)
    shapes = sorted(f"{k}: checkpoint {tuple(mapped[k].shape)} vs model {tuple(expected[k].shape)}"
                    for k in expected if k in mapped and tuple(mapped[k].shape) != tuple(expected[k].shape))
    if missing or unexpected or shapes:
        raise CheckpointMismatchError(what, missing, unexpected, shapes)
    module.load_state_dict({k: v.to(expected[k].dtype) for k, v in mapped.items()}, strict=True)


def load_wav2vec2(module: nn.Module, source) -> List[str]:
    """Load a Wav2Vec2Model-style checkpoint (path or state dict) into a Wav2Vec2Encoder."""
    sd = load_state_dict_file(source) if isinstance(source, str) else source
    mapped, ignored = map_wav2vec2_keys(sd)
    load_mapped(module, mapped, "wav2vec2 audio encoder (Wav2Vec2Model keys)")
    return ignored


def load_roberta(module: nn.Module, source) -> List[str]:
    """Load a RobertaModel-style checkpoint (path or state dict) into a RobertaEncoderModel."""
    sd = load_state_dict_file(source) if isinstance(source, str) else source
    mapped, ignored = map_roberta_keys(sd)
    load_mapped(module, mapped, "RoBERTa text encoder (RobertaModel keys)")
    return ignored
