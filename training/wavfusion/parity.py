"""Parity fixtures for the studio runtime (onnxruntime-node + its own front end and tokenizer).

Writes, under ``out``: a few small WAV files, and ``parity.json`` with, for each case, the
transcript, the reference tokenisation, the front-end result length, and the PyTorch
reference's logits / probabilities / text_gate / embedding.

Front end used for the reference (the documented one): 16-bit PCM / 32768, channels
averaged to mono, resampled to 16 kHz with the studio's polyphase windowed-sinc resampler
(wavfusion/audio.py ``resample``) when the file is not 16 kHz.

Cases with ``"tolerance": "exact"`` are 16 kHz mono files: any runtime reads the same
samples, so the only difference is float arithmetic (rel. error of logits <= 1e-4,
probabilities abs <= 1e-4). The 44.1 kHz stereo case also goes through the runtime's own
resampler: the studio's and this package's compute the same table and agree to ~1e-6 per sample
(tests/integration/resampler-parity.test.ts), so its tolerance is only a little looser
(probabilities and text gate abs <= 1e-3, the same top label); its resampled 16 kHz signal is
also stored as an exact case so the rest of the pipeline is checked tightly.
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import tempfile
from typing import Dict, List, Optional

import numpy as np
import torch

from .audio import load_audio, read_wav, write_wav16
from .corpus import synth
from .export import load_bundle
from .speakers import mean_and_deviation
from .tokenizer import EMPTY_TEXT_IDS

CASES = [
    # id, voice, emotion-ish prosody (espeak settings), transcript
    ("happy_text_audio", "en-us+f3", dict(s=195, p=75, a=120, r=190, g=0), "I am so happy about the concert, thank you!"),
    ("angry_audio_only", "en-gb-x-rp+m3", dict(s=215, p=62, a=170, r=140, g=0), "Put the letter on the second shelf."),
    ("sad_no_transcript", "en-us+m7", dict(s=120, p=25, a=65, r=45, g=4), ""),
    ("neutral_unicode", "en+f2", dict(s=165, p=45, a=100, r=100, g=0), "Zürich — the bus leaves at 9:15, doesn't it?"),
]

# logits 2e-4: the studio runs the cases as one padded batch; a speaker-normalised model divides its
# utterance statistics by a speaker's deviation, which enlarges float32 rounding differences between a
# padded batch and a single item (measured 1.4e-4 on wavfusion-demo 0.3.0's smallest logits; 0.2.0, without
# that path, stayed under 1e-4). Probabilities, text gate and embedding keep 1e-4.
TOLERANCES = {
    "exact": {"logits_max_rel_err": 2e-4, "probabilities_max_abs_err": 1e-4, "text_gate_max_abs_err": 1e-4,
              "embedding_max_rel_err": 1e-4},
    "resampler": {"probabilities_max_abs_err": 1e-3, "text_gate_max_abs_err": 1e-3, "same_argmax": True},
    # the speaker case: the studio measures the speaker itself (statistics.onnx per utterance, then their
    # mean and deviation in float32, summed in another order than NumPy's); a statistics expert reads those
    # normalised statistics without a BatchNorm between, so the rounding reaches its logits larger (0.4.0:
    # logits 3.1e-4, probabilities 7.9e-5 measured)
    "speaker": {"logits_max_rel_err": 1e-3, "probabilities_max_abs_err": 5e-4},
}


# a speaker-normalised bundle: the exact cases are one speaker's utterances (enough of them: 5)
PARITY_SPEAKER = "parity-voice"


def _ref(model, audio: np.ndarray, ids: List[int], speaker_statistics: Optional[np.ndarray] = None) -> Dict:
    a = torch.from_numpy(audio.astype(np.float32)).unsqueeze(0)
    spk = torch.from_numpy(speaker_statistics).unsqueeze(0) if speaker_statistics is not None else None
    with torch.no_grad():
        out = model(a, torch.tensor([a.shape[1]]), torch.tensor([ids]), torch.ones(1, len(ids), dtype=torch.long),
                    speaker_statistics=spk)
    logits = out.logits[0]
    return {"logits": logits.tolist(), "probabilities": torch.softmax(logits, -1).tolist(),
            "text_gate": float(out.text_gate[0]), "embedding": out.embedding[0].tolist()}


def write_parity_fixtures(model_dir: str, out: str, corpus: Optional[str] = None, log=print) -> Dict:
    model, tok, meta = load_bundle(model_dir)
    os.makedirs(out, exist_ok=True)
    cases = []
    tmp = tempfile.mkdtemp()
    try:
        for cid, voice, pr, text in CASES:
            path = os.path.join(out, f"{cid}.wav")
            synth(text or "I will check the garden this morning.", voice, pr, path)
            cases.append((cid, path, text, "exact"))
        # 44.1 kHz stereo file made with sox from a demo clip (channels at different gains)
        src = os.path.join(out, "angry_audio_only.wav")
        stereo = os.path.join(out, "angry_44k1_stereo.wav")
        subprocess.run(["sox", src, "-r", "44100", "-b", "16", stereo, "remix", "1v1.0", "1v0.6"], check=True)
        cases.append(("angry_44k1_stereo", stereo, CASES[1][3], "resampler"))
        # its resampled mono 16 kHz signal, stored as 16-bit PCM: exact case
        res = load_audio(stereo)
        res_path = os.path.join(out, "angry_44k1_stereo_resampled16k.wav")
        write_wav16(res_path, res)
        cases.append(("angry_44k1_stereo_resampled16k", res_path, CASES[1][3], "exact"))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    records = []
    batch_audio, batch_ids = [], []
    for cid, path, text, tol in cases:
        x, sr = read_wav(path)
        audio = load_audio(path)
        ids = tok.encode(text, max_length=meta["max_text_tokens"])
        assert text or ids == EMPTY_TEXT_IDS
        rec = {"id": cid, "wav": os.path.basename(path), "sample_rate": sr, "channels": int(x.shape[0]),
               "samples_in_file": int(x.shape[1]), "text": text, "input_ids": ids,
               "audio_samples_16k": int(len(audio)), "tolerance": tol}
        rec.update(_ref(model, audio, ids))
        if tol == "exact":
            rec["audio_16k_first_samples"] = [float(v) for v in audio[:8]]
            batch_audio.append(audio)
            batch_ids.append(ids)
        records.append(rec)
        log(f"  {cid}: {meta['labels'][int(np.argmax(rec['probabilities']))]} "
            f"p={max(rec['probabilities']):.3f} gate={rec['text_gate']:.3f}")

    # the exact cases as one zero-padded batch: each row must equal its single-item result
    n = max(len(a) for a in batch_audio)
    t = max(len(i) for i in batch_ids)
    A = np.zeros((len(batch_audio), n), np.float32)
    I = np.ones((len(batch_ids), t), np.int64)
    M = np.zeros((len(batch_ids), t), np.int64)
    for k, (a, i) in enumerate(zip(batch_audio, batch_ids)):
        A[k, :len(a)] = a
        I[k, :len(i)] = i
        M[k, :len(i)] = 1
    with torch.no_grad():
        bo = model(torch.from_numpy(A), torch.tensor([len(a) for a in batch_audio]), torch.from_numpy(I),
                   torch.from_numpy(M))
    batch = {"case_ids": [r["id"] for r in records if r["tolerance"] == "exact"],
             "logits": bo.logits.tolist(), "text_gate": bo.text_gate.tolist()}

    speaker: Optional[Dict] = None
    if meta.get("speaker_normalisation"):
        # the exact cases as one speaker: statistics of each (its first max_seconds, as the studio reads
        # it), their mean and population deviation, and each case's outputs normalised by them
        max_samples = int(meta["max_seconds"] * 16000)
        exact = [r for r in records if r["tolerance"] == "exact"]
        with torch.no_grad():
            rows = [model.utterance_statistics(torch.from_numpy(a[:max_samples]).unsqueeze(0),
                                               torch.tensor([min(len(a), max_samples)]))[0].numpy()
                    for a in batch_audio]
        pair = mean_and_deviation(np.stack(rows))
        for r, a, i in zip(exact, batch_audio, batch_ids):
            ref = _ref(model, a, i, pair)
            r["speaker"] = {"logits": ref["logits"], "probabilities": ref["probabilities"],
                            "text_gate": ref["text_gate"]}
        speaker = {"name": PARITY_SPEAKER, "case_ids": [r["id"] for r in exact],
                   "statistics": [float(v) for v in pair.flatten()]}
        log(f"  speaker-normalised: {len(exact)} cases as one speaker")

    with open(os.path.join(model_dir, meta.get("model", "model.onnx")), "rb") as f:
        sha = hashlib.sha256(f.read()).hexdigest()
    doc = {
        "description": "WavFusion runtime parity fixtures: PyTorch reference outputs for the bundle below.",
        "generated_by": "cd training && python -m wavfusion parity-fixtures --model <bundle> --out <dir>",
        "model": {"name": meta["name"], "version": meta["version"], "labels": meta["labels"],
                  "model_onnx_sha256": sha},
        "front_end": {"pcm": "int16 / 32768", "downmix": "mean of channels",
                      "resampler": "polyphase Kaiser-windowed sinc: passband 0.9, stopband 1.0 of the lower "
                                   "Nyquist frequency, 100 dB, per-phase unit DC gain, no delay, ceil(N*up/down) "
                                   "samples (training/wavfusion/audio.py resample = src/main/audio/polyphase-resampler.ts)",
                      "normalisation": "inside the ONNX graph (feed raw samples)",
                      "empty_text_ids": EMPTY_TEXT_IDS},
        "tolerances": TOLERANCES,
        "cases": records,
        "batched_exact_cases": batch,
    }
    if speaker is not None:
        doc["speaker_case"] = speaker
    with open(os.path.join(out, "parity.json"), "w", encoding="utf-8") as f:
        json.dump(doc, f, indent=1, ensure_ascii=False)
    total = sum(os.path.getsize(os.path.join(out, f)) for f in os.listdir(out))
    log(f"wrote {len(records)} cases to {out} ({total / 1e6:.2f} MB)")
    return doc
