"""Audio front end: read WAV, downmix to mono, resample to 16 kHz.

Documented front end (the studio's is the same): channels are averaged to mono, then, if the
rate is not 16 kHz, resampled by the studio's polyphase windowed-sinc design
(src/main/audio/polyphase-resampler.ts): one Kaiser-windowed sinc prototype (passband to 0.9 of
the lower Nyquist frequency, stopband from 1.0 of it, 100 dB), split into ``up`` phases of ``taps``
coefficients normalised to unit DC gain, output sample n at input time n·down/up, ceil(N·up/down)
samples. Here the table is applied with ``torch.nn.functional.conv1d`` (one output channel per
phase, stride ``down``), the way torchaudio applies its own kernels; the studio runs it in
WebAssembly SIMD. tests/integration/resampler-parity.test.ts checks both give the same samples.
The model graph itself does the per-utterance normalisation, so audio is fed as raw float
samples in [-1, 1].
"""
from __future__ import annotations

import functools
import math
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


PASSBAND = 0.9
STOPBAND = 1.0
ATTENUATION_DB = 100.0


def _bessel_i0(x: float) -> float:
    """The series the studio sums (so both tables round alike)."""
    total = 1.0
    term = 1.0
    q = x * x / 4.0
    for k in range(1, 64):
        term *= q / (k * k)
        total += term
        if term < total * 1e-17:
            break
    return total


def polyphase_table(from_rate: int, to_rate: int) -> Tuple[int, int, int, np.ndarray]:
    """-> (up, down, taps, float32 [up, taps]): row p is the prototype at offset p/up input samples,
    tap j at input time j - taps/2 + 1 - p/up relative to the output instant."""
    if from_rate <= 0 or to_rate <= 0 or int(from_rate) != from_rate or int(to_rate) != to_rate:
        raise ValueError(f"cannot resample {from_rate} Hz to {to_rate} Hz")
    g = math.gcd(int(from_rate), int(to_rate))
    up, down = to_rate // g, from_rate // g
    nyquist = min(from_rate, to_rate) / 2
    transition = 2 * math.pi * (STOPBAND - PASSBAND) * nyquist / from_rate
    taps = math.ceil((ATTENUATION_DB - 7.95) / (2.285 * transition)) + 1
    taps += taps % 2
    cutoff = (PASSBAND + STOPBAND) * nyquist / 2 / from_rate
    beta = 0.1102 * (ATTENUATION_DB - 8.7)
    half = taps // 2
    i0beta = _bessel_i0(beta)
    coeffs = np.zeros((up, taps), dtype=np.float32)
    for p in range(up):
        t = np.arange(taps, dtype=np.float64) - half + 1 - p / up
        x = 2 * cutoff * t
        with np.errstate(invalid="ignore", divide="ignore"):
            sinc = np.where(t == 0, 1.0, np.sin(np.pi * x) / (np.pi * x))
        r = t / half
        w = np.array([0.0 if abs(v) >= 1 else _bessel_i0(beta * math.sqrt(1 - v * v)) / i0beta for v in r])
        row = 2 * cutoff * sinc * w
        coeffs[p] = (row / row.sum()).astype(np.float32)
    return up, down, taps, coeffs


@functools.lru_cache(maxsize=8)
def _conv_kernel(from_rate: int, to_rate: int) -> Tuple[int, int, int, np.ndarray]:
    """-> (up, down, half, float32 [up, 1, length]): the polyphase table laid out for conv1d, built
    once per rate pair (the table alone is ~10^5 Bessel series in Python).

    Output m·up + j reads inputs m·down + (j·down)//up - half + 1 + t (t < taps) with phase
    (j·down) % up: one conv1d output channel per j, stride down, the signal padded with half - 1
    zeros in front (and enough behind)."""
    up, down, taps, coeffs = polyphase_table(from_rate, to_rate)
    offsets = [(j * down) // up for j in range(up)]
    kernel = np.zeros((up, 1, offsets[-1] + taps), dtype=np.float32)
    for j, o in enumerate(offsets):
        kernel[j, 0, o:o + taps] = coeffs[(j * down) % up]
    return up, down, taps // 2, kernel


def resample(x: np.ndarray, sr: int, target: int = SAMPLE_RATE) -> np.ndarray:
    """The studio's resampler (see the module docstring): float32 [ceil(N·target/sr)]."""
    if sr == target:
        return x.astype(np.float32)
    import torch

    up, down, half, kernel = _conv_kernel(sr, target)
    length = kernel.shape[-1]
    n_out = math.ceil(len(x) * up / down)
    frames = math.ceil(n_out / up)
    padded = np.zeros((frames - 1) * down + length, dtype=np.float32)
    body = np.ascontiguousarray(x, dtype=np.float32)[: max(0, len(padded) - (half - 1))]
    padded[half - 1: half - 1 + len(body)] = body
    with torch.no_grad():
        y = torch.nn.functional.conv1d(torch.from_numpy(padded)[None, None], torch.from_numpy(kernel), stride=down)
    return y[0].transpose(0, 1).reshape(-1)[:n_out].numpy().astype(np.float32)


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
