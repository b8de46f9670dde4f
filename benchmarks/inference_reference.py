"""PyTorch side of `npm run bench:inference`: the training package's WavFusionModel, eager, on CPU.

    /usr/bin/python3 benchmarks/inference_reference.py <job.json> <out.json>

Job kinds (``job["mode"]``):

* ``predict``: loads a bundle with ``wavfusion.export.load_bundle`` (model.pt + tokenizer.json) and
  predicts every item of a manifest with the engine's policy (src/main/inference/engine.ts):
  requests in chunks of at most 256 items / 600 audio seconds; per item: read the WAV
  (``wavfusion.audio.load_audio``: 16 kHz mono float), tokenise the transcript (empty → [<s>, </s>]),
  cut windows of max_seconds with 25 % overlap; pieces sorted by length (longest first) and batched
  while (batch size + 1) × longest ≤ batch_seconds; zero-padded batches through the model under
  ``torch.inference_mode()``; windows pooled by length. The timed region is exactly that (after a
  1 s warm-up like the engine's load-time self-check). Reports wall time, audio seconds, peak RSS
  (getrusage), pooled logits (for a parity check against the engine) and the multiply-accumulates
  of the run counted analytically (see ``macs``).
* ``matmul``: float32 ``torch.matmul`` GFLOP/s for the given shapes (the BLAS torch is linked to).
* ``profile``: ``torch.profiler`` operator totals (self CPU time, summed over threads) for the timed
  region of one ``predict``.

Threads: ``torch.set_num_threads(job["threads"])``; the orchestrator also sets OMP_NUM_THREADS and
OPENBLAS_NUM_THREADS in the environment, and may point LD_LIBRARY_PATH at an OpenBLAS build of
libblas.so.3 (Debian's torch calls whatever libblas.so.3 the loader finds).
"""
from __future__ import annotations

import contextlib
import json
import os
import resource
import sys
import time
from typing import Dict, List, Sequence, Tuple

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "training"))

CHUNK_AUDIO_SECONDS = 600
CHUNK_ITEMS = 256


def max_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # KiB on Linux


def rss_mib() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / (1024.0 * 1024.0)


def blas_library() -> str:
    with open("/proc/self/maps") as f:
        paths = {line.split()[-1] for line in f if ".so" in line}
    hits = sorted(p for p in paths if "libblas" in os.path.basename(p) or "openblas" in os.path.basename(p))
    return hits[0] if hits else "unknown"


# --------------------------------------------------------------------------- MAC count

def macs(cfg: Dict, batch: int, samples: int, tokens: int) -> Dict[str, float]:
    """Multiply-accumulates of one forward pass of the exported graph for a [batch, samples] audio
    tensor and [batch, tokens] ids, counted from the config the way modules.py computes: every
    conv / linear / attention matmul, on the full (padded) tensors the graph runs on. Elementwise
    work (normalisation, GELU, softmax, LayerNorm, GroupNorm, masking) is not counted."""
    a, t = cfg["audio"], cfg["text"]
    H, I, La = a["hidden_size"], a["intermediate_size"], a["num_hidden_layers"]
    out: Dict[str, float] = {}
    # the graph pads one receptive field of zeros before the convs
    rf = 1
    for k, s in zip(reversed(a["conv_kernel"]), reversed(a["conv_stride"])):
        rf = (rf - 1) * s + k
    length = samples + rf
    cin = 1
    conv = 0.0
    for cout, k, s in zip(a["conv_dim"], a["conv_kernel"], a["conv_stride"]):
        length = (length - k) // s + 1
        conv += length * cout * cin * k
        cin = cout
    T = length
    out["conv_feature_encoder"] = conv
    out["feature_projection"] = T * a["conv_dim"][-1] * H
    K, G = a["num_conv_pos_embeddings"], a["num_conv_pos_embedding_groups"]
    out["positional_conv"] = (T + 2 * (K // 2) - K + 1) * H * (H // G) * K  # padding K // 2 (an even K's extra frame is cropped)
    out["audio_layers_linear"] = La * (4 * T * H * H + 2 * T * H * I)
    out["audio_layers_attention"] = La * (2 * T * T * H)
    Ht, It, Lt = t["hidden_size"], t["intermediate_size"], t["num_hidden_layers"]
    L = tokens
    out["text_encoder"] = Lt * (4 * L * Ht * Ht + 2 * L * L * Ht + 2 * L * Ht * It) + L * Ht * H
    if cfg.get("fusion", "gca") == "gca":
        m = len(cfg.get("aux_modalities", ["text"]))
        out["gca"] = m * (2 * T * H * H + 2 * L * H * H + 2 * T * L * H) + T * (1 + m) * H * m * H
    out["classifier"] = H * len(cfg["labels"])
    return {k: v * batch for k, v in out.items()}


def add(acc: Dict[str, float], d: Dict[str, float]) -> None:
    for k, v in d.items():
        acc[k] = acc.get(k, 0.0) + v


# --------------------------------------------------------------------------- predict

def windows_for(samples: int, max_samples: int, overlap: float = 0.25) -> List[Tuple[int, int]]:
    if samples <= max_samples:
        return [(0, samples)]
    hop = max(1, int(max_samples * (1 - overlap)))
    out = []
    offset = 0
    while True:
        if offset + max_samples >= samples:
            out.append((samples - max_samples, max_samples))
            return out
        out.append((offset, max_samples))
        offset += hop


def predict(job: Dict, around=None) -> Dict:
    """``around``: a context manager entered for the timed region only (the profiler)."""
    import numpy as np
    import torch

    from wavfusion.audio import load_audio
    from wavfusion.export import load_bundle
    from wavfusion.tokenizer import EMPTY_TEXT_IDS

    threads = int(job["threads"])
    torch.set_num_threads(threads)
    t0 = time.perf_counter()
    model, tok, meta = load_bundle(job["bundle"])
    load_s = time.perf_counter() - t0
    cfg = meta["config"]
    sr = meta["sample_rate"]
    max_samples = int(round(meta["max_seconds"] * sr))
    min_samples = meta.get("min_samples", 400)
    max_tokens = meta["max_text_tokens"]
    pad = meta.get("pad_token_id", 1)
    batch_seconds = float(job["batch_seconds"])
    with open(job["manifest"], encoding="utf-8") as f:
        items = json.load(f)

    def run_pieces(pieces: Sequence[Tuple[np.ndarray, List[int]]]) -> np.ndarray:
        b = len(pieces)
        t = max(len(p[0]) for p in pieces)
        l = max(len(p[1]) for p in pieces)
        audio = torch.zeros(b, t)
        lengths = torch.zeros(b, dtype=torch.long)
        ids = torch.full((b, l), pad, dtype=torch.long)
        mask = torch.zeros(b, l, dtype=torch.long)
        for i, (x, tokens) in enumerate(pieces):
            audio[i, :len(x)] = torch.from_numpy(x)
            lengths[i] = len(x)
            ids[i, :len(tokens)] = torch.tensor(tokens, dtype=torch.long)
            mask[i, :len(tokens)] = 1
        with torch.inference_mode():
            out = model(audio, lengths, ids, mask)
        return out["logits"].numpy()

    run_pieces([(np.zeros(sr, dtype=np.float32), list(EMPTY_TEXT_IDS))])  # like the engine's self-check
    rss_loaded = rss_mib()

    executed: Dict[str, float] = {}
    useful: Dict[str, float] = {}
    logits_out: List = []
    audio_seconds = 0.0
    batches = 0
    ctx = around if around is not None else contextlib.nullcontext()
    ctx.__enter__()
    c0 = time.process_time()
    t0 = time.perf_counter()
    index = 0
    while index < len(items):
        chunk = []
        seconds = 0.0
        while index < len(items) and len(chunk) < CHUNK_ITEMS and seconds < CHUNK_AUDIO_SECONDS:
            it = items[index]
            index += 1
            x = load_audio(it["path"], it.get("start"), it.get("end"))
            if len(x) < min_samples:
                chunk.append(None)
                continue
            text = (it.get("text") or "").strip()
            tokens = tok.encode(text, max_length=max_tokens) if text else list(EMPTY_TEXT_IDS)
            chunk.append((x, tokens))
            seconds += len(x) / sr
        pieces = []
        for item, c in enumerate(chunk):
            if c is None:
                continue
            x, tokens = c
            for off, n in windows_for(len(x), max_samples):
                pieces.append((item, x[off:off + n], tokens))
                add(useful, macs(cfg, 1, n, len(tokens)))
        order = sorted(range(len(pieces)), key=lambda i: -len(pieces[i][1]))
        outputs: Dict[int, np.ndarray] = {}
        batch: List[int] = []

        def flush() -> None:
            nonlocal batch, batches
            if not batch:
                return
            res = run_pieces([(pieces[i][1], pieces[i][2]) for i in batch])
            add(executed, macs(cfg, len(batch), max(len(pieces[i][1]) for i in batch),
                               max(len(pieces[i][2]) for i in batch)))
            for j, i in enumerate(batch):
                outputs[i] = res[j]
            batches += 1
            batch = []

        for i in order:
            longest = len(pieces[batch[0]][1]) if batch else len(pieces[i][1])
            if batch and (len(batch) + 1) * longest / sr > batch_seconds:
                flush()
            batch.append(i)
        flush()
        per_item: Dict[int, List[Tuple[np.ndarray, int]]] = {}
        for i, (item, x, _) in enumerate(pieces):
            per_item.setdefault(item, []).append((outputs[i], len(x)))
        for item, c in enumerate(chunk):
            if c is None:
                logits_out.append(None)
                continue
            parts = per_item[item]
            total = sum(n for _, n in parts)
            pooled = sum(o * (n / total) for o, n in parts)
            logits_out.append([float(v) for v in pooled])
            audio_seconds += len(c[0]) / sr
    run_s = time.perf_counter() - t0
    cpu_s = time.process_time() - c0
    ctx.__exit__(None, None, None)
    return {
        "side": "reference",
        "torch": torch.__version__,
        "blas": blas_library(),
        "threads": threads,
        "torch_threads": torch.get_num_threads(),
        "load_s": load_s,
        "run_s": run_s,
        "cpu_s": cpu_s,
        "audio_seconds": audio_seconds,
        "items": len(items),
        "batches": batches,
        "rss_after_load_mib": rss_loaded,
        "max_rss_mib": max_rss_mib(),
        "macs_executed": executed,
        "macs_useful": useful,
        "logits": logits_out,
    }


# --------------------------------------------------------------------------- matmul / profile

def matmul(job: Dict) -> Dict:
    import torch

    torch.set_num_threads(int(job["threads"]))
    results = []
    for m, k, n in job["shapes"]:
        a = torch.randn(m, k)
        b = torch.randn(k, n)
        torch.matmul(a, b)
        times = []
        deadline = time.perf_counter() + float(job.get("seconds", 2.0))
        while time.perf_counter() < deadline or len(times) < 3:
            t0 = time.perf_counter()
            torch.matmul(a, b)
            times.append(time.perf_counter() - t0)
        best = min(times)
        results.append({"shape": [m, k, n], "best_s": best, "gflops": 2.0 * m * k * n / best / 1e9,
                        "median_gflops": 2.0 * m * k * n / sorted(times)[len(times) // 2] / 1e9})
    return {"side": "torch", "blas": blas_library(), "threads": int(job["threads"]), "results": results}


def profile(job: Dict) -> Dict:
    import torch
    from torch.profiler import ProfilerActivity, profile as tprofile

    prof = tprofile(activities=[ProfilerActivity.CPU])
    res = predict(job, around=prof)
    rows = []
    for e in prof.key_averages():
        rows.append({"op": e.key, "ms": e.self_cpu_time_total / 1000.0, "calls": e.count})
    rows.sort(key=lambda r: -r["ms"])
    res.pop("logits", None)
    res["ops"] = rows[:25]
    return res


def main() -> int:
    job_path, out_path = sys.argv[1], sys.argv[2]
    with open(job_path, encoding="utf-8") as f:
        job = json.load(f)
    mode = job["mode"]
    if mode == "predict":
        res = predict(job)
    elif mode == "matmul":
        res = matmul(job)
    elif mode == "profile":
        res = profile(job)
    else:
        raise SystemExit(f"unknown mode {mode!r}")
    with open(out_path, "w", encoding="utf-8") as f:
        json.dump(res, f)
    return 0


if __name__ == "__main__":
    sys.exit(main())
