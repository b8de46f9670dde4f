"""Model bundles for `npm run bench:inference` (random weights; written under benchmarks/.work).

    /usr/bin/python3 benchmarks/inference_bundles.py --out benchmarks/.work/bundles \
        --transcripts benchmarks/.work/inputs/transcripts.txt [--models tiny,base] [--demo DIR]

* ``tiny``: the demo bundle when ``--demo`` names a folder holding model.onnx + model.pt +
  model.json (it is used in place, nothing is copied); otherwise ``wavfusion.config.tiny_config``
  with random weights (seed 0).
* ``base``: ``wavfusion.config.base_config`` (wav2vec2-base + roberta-base shapes, 9 + 3 split,
  vocab 50265), random weights (seed 0). model.onnx and model.pt are ~0.9 GB each: never commit them.
* ``base-sq`` (what-if, INFER_WHATIFS=1): ``base`` with the same weights, exported with ``d * d`` in
  place of ``** 2`` (see ``square_instead_of_pow``); model.onnx only.

The tokenizer of the random bundles is a byte-level BPE (vocab 1000) trained on ``--transcripts``
(400 sentences from the benchmark's sentence generator) with ``wavfusion.tokenizer.train_bpe``; its ids are valid for both text encoders (the
base model keeps roberta-base's 50265-row embedding). Bundles are written with
``wavfusion.export.write_bundle`` (ONNX opset 17 via the TorchScript exporter, weights as model.pt).
Python's ``onnx`` package is optional: without it the ONNX checker step is skipped.

Also writes one-node MatMul graphs (benchmarks/.work/bundles/matmul/) for onnxruntime's matmul peak.

Prints one JSON object: {"matmul": {"2048x2048": path, ...}, "tiny": {"dir": ..., "source": ...}, "base": {...}}.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "training"))

STAMP = "bench-stamp.json"


def _log(msg: str) -> None:
    print(f"[bundles] {msg}", file=sys.stderr, flush=True)


def _complete(folder: str, stamp: dict, files=("model.onnx", "model.pt", "model.json", "tokenizer.json")) -> bool:
    try:
        with open(os.path.join(folder, STAMP), encoding="utf-8") as f:
            old = json.load(f)
    except (OSError, ValueError):
        return False
    return old == stamp and all(os.path.exists(os.path.join(folder, n)) for n in files)


def square_instead_of_pow() -> None:
    """What-if for `base-sq`: the same model with ``d * d`` where modules.py writes ``(...) ** 2`` in the
    masked GroupNorm of the first conv layer and in the per-utterance audio normalisation (the
    TorchScript exporter writes ``** 2`` as an ONNX Pow node, which onnxruntime runs as a generic
    pow over the [batch, 512, samples / 5] tensor). Mathematically identical; monkeypatched here only."""
    import torch

    from wavfusion import modules as M

    def forward_masked(self, x, mask):
        m = mask.unsqueeze(1)
        n = m.sum(-1, keepdim=True).clamp(min=1.0)
        mean = (x * m).sum(-1, keepdim=True) / n
        d = (x - mean) * m
        var = (d * d).sum(-1, keepdim=True) / n
        y = (x - mean) / torch.sqrt(var + self.eps)
        return y * self.weight.view(1, -1, 1) + self.bias.view(1, -1, 1)

    def normalise_audio(self, audio, lengths):
        mask = M.lengths_to_mask(audio, lengths)
        n = mask.sum(1, keepdim=True).clamp(min=1.0)
        mean = (audio * mask).sum(1, keepdim=True) / n
        d = (audio - mean) * mask
        var = (d * d).sum(1, keepdim=True) / n
        return (audio - mean) / torch.sqrt(var + 1e-7) * mask

    M.MaskedGroupNorm.forward_masked = forward_masked
    M.WavFusionModel.normalise_audio = normalise_audio


# bundle name -> (config, patch applied before building, keep model.pt)
VARIANTS = {"tiny": ("tiny", None, True), "base": ("base", None, True), "base-sq": ("base", square_instead_of_pow, False)}


def build(name: str, out_dir: str, transcripts: list, seed: int = 0) -> None:
    import torch

    from wavfusion import export as E
    from wavfusion.config import get_config
    from wavfusion.modules import WavFusionModel
    from wavfusion.tokenizer import train_bpe

    try:
        import onnx  # noqa: F401
        check = True
    except ImportError:
        check = False
    if not check:  # write_bundle checks with the onnx package when it is installed
        original = E.export_onnx
        E.export_onnx = lambda model, path, **kw: original(model, path, check=False, **kw)  # type: ignore
    config, patch, save_weights = VARIANTS[name]
    if patch:
        patch()
    t0 = time.time()
    tok = train_bpe(transcripts, vocab_size=1000)
    overrides = {"vocab_size": tok.vocab_size} if config == "tiny" else {}
    cfg = get_config(config, **overrides)
    torch.manual_seed(seed)
    model = WavFusionModel(cfg).eval()
    params = sum(p.numel() for p in model.parameters())
    _log(f"{name}: {params / 1e6:.1f} M parameters, exporting to {out_dir} ...")
    E.write_bundle(model, tok, out_dir, f"bench-{name}-random",
                   {"data": None, "recipe": "random weights (benchmark only)", "metrics": {}},
                   save_weights=save_weights, disclaimer="Random weights: for timing only.")
    _log(f"{name}: written in {time.time() - t0:.0f} s")


def matmul_graphs(out_dir: str, shapes: list) -> dict:
    """One-node ONNX graphs Y = A @ B (A [M, K] input with dynamic M, B [K, N] an initializer), exported
    with torch.onnx (the onnx package is not needed), for onnxruntime's matrix-multiply peak."""
    import torch

    class MatMul(torch.nn.Module):
        def __init__(self, k: int, n: int):
            super().__init__()
            self.b = torch.nn.Parameter(torch.randn(k, n))

        def forward(self, a):
            return torch.matmul(a, self.b)

    os.makedirs(out_dir, exist_ok=True)
    paths = {}
    for k, n in shapes:
        path = os.path.join(out_dir, f"matmul-{k}x{n}.onnx")
        if not os.path.exists(path):
            torch.onnx.export(MatMul(k, n), (torch.randn(4, k),), path, input_names=["a"], output_names=["y"],
                              dynamic_axes={"a": {0: "m"}, "y": {0: "m"}}, opset_version=17)
        paths[f"{k}x{n}"] = os.path.abspath(path)
    return paths


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True)
    ap.add_argument("--transcripts", required=True)
    ap.add_argument("--models", default="tiny,base")
    ap.add_argument("--demo", default="")
    args = ap.parse_args()
    with open(args.transcripts, encoding="utf-8") as f:
        transcripts = [line.strip() for line in f if line.strip()]
    import torch

    result = {"matmul": matmul_graphs(os.path.join(args.out, "matmul"), [(2048, 2048), (768, 3072)])}
    for name in [m for m in args.models.split(",") if m]:
        demo = args.demo
        if name == "tiny" and demo and all(os.path.exists(os.path.join(demo, n))
                                           for n in ("model.onnx", "model.pt", "model.json")):
            result[name] = {"dir": os.path.abspath(demo), "source": "demo bundle (trained weights)"}
            continue
        folder = os.path.join(args.out, name)
        stamp = {"config": name, "seed": 0, "torch": torch.__version__, "transcripts": len(transcripts),
                 "version": 2}
        files = ("model.onnx", "model.json", "tokenizer.json") + (("model.pt",) if VARIANTS[name][2] else ())
        if not _complete(folder, stamp, files):
            build(name, folder, transcripts)
            with open(os.path.join(folder, STAMP), "w", encoding="utf-8") as f:
                json.dump(stamp, f)
        else:
            _log(f"{name}: reusing {folder}")
        result[name] = {"dir": os.path.abspath(folder), "source": "random weights (seed 0)"}
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
