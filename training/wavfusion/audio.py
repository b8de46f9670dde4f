"""Audio front end: read WAV, downmix to mono, resample to 16 kHz.

Documented front end (the studio reproduces it): channels are averaged to mono, then,
if the rate is not 16 kHz, resampled with ``torchaudio.functional.resample`` (windowed
sinc, Hann window, lowpass_filter_width=6, rolloff=0.99; torchaudio's defaults). The
model graph itself does the per-utterance normalisation, so audio is fed as raw float
samples in [-1, 1].
"""
from __future__ import annotations

import wave
from typing import Optional, Tuple

import numpy as np

SAMPLE_RATE = 16000


def read_wav(path: str) -> Tuple[np.ndarray, int]:
    """-> (float32 [channels, samples] in [-1, 1], sample_rate). PCM 8/16/24/32-bit via the
    stdlib ``wave`` module; other encodings (float WAV, ...) via torchaudio."""
    try:
        with wave.open(path, "rb") as w:
            n_ch, width, sr, n = w.getnchannels(), w.getsampwidth(), w.getframerate(), w.getnframes()
            raw = w.readframes(n)
    except (wave.Error, EOFError):
        import torchaudio

        # torchaudio 0.13 (torch 1.13's) sets torchaudio.load at import time from the chosen backend
        # (set_audio_backend), so its package has no static `load` for Pyright; 2.x defines it
        x, sr = torchaudio.load(path)  # pyright: ignore[reportAttributeAccessIssue]
        return x.numpy().astype(np.float32), int(sr)
    if width == 1:
        data = (np.frombuffer(raw, dtype=np.uint8).astype(np.float32) - 128.0) / 128.0
    elif width == 2:
        data = np.frombuffer(raw, dtype="<i2").astype(np.float32) / 32768.0
    elif width == 3:
        b = np.frombuffer(raw, dtype=np.uint8).reshape(-1, 3).astype(np.int32)
        v = b[:, 0] | (b[:, 1] << 8) | (b[:, 2] << 16)
        v = np.where(v >= 1 << 23, v - (1 << 24), v)
        data = v.astype(np.float32) / float(1 << 23)
    elif width == 4:
        data = np.frombuffer(raw, dtype="<i4").astype(np.float32) / float(1 << 31)
    else:
        raise ValueError(f"{path}: unsupported sample width {width}")
    return data.reshape(-1, n_ch).T.copy(), sr


def resample(x: np.ndarray, sr: int, target: int = SAMPLE_RATE) -> np.ndarray:
    if sr == target:
        return x.astype(np.float32)
    import torch
    import torchaudio.functional as AF

    y = AF.resample(torch.from_numpy(np.ascontiguousarray(x, dtype=np.float32)), sr, target)
    return y.numpy().astype(np.float32)


def load_audio(path: str, start: Optional[float] = None, end: Optional[float] = None,
               target: int = SAMPLE_RATE) -> np.ndarray:
    """mono float32 at ``target`` Hz; optional [start, end) segment in seconds."""
    x, sr = read_wav(path)
    mono = x.mean(0) if x.shape[0] > 1 else x[0]
    if start is not None or end is not None:
        a = int(np.floor((start or 0.0) * sr))
        b = len(mono) if end is None else min(len(mono), int(np.ceil(end * sr)))
        mono = mono[a:b]
    return resample(mono, sr, target)


def write_wav16(path: str, x: np.ndarray, sr: int = SAMPLE_RATE) -> None:
    pcm = np.clip(np.round(np.asarray(x, dtype=np.float64) * 32767.0), -32768, 32767).astype("<i2")
    with wave.open(path, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(sr)
        w.writeframes(pcm.tobytes())
