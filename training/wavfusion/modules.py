"""WavFusion modules in plain PyTorch (runs on torch 1.13 and 2.x, exports to ONNX).

Parameter names of :class:`Wav2Vec2Encoder` follow Hugging Face's ``Wav2Vec2Model``
state_dict and those of :class:`RobertaEncoderModel` follow ``RobertaModel`` (without the
pooler), so real checkpoints load by key mapping (see :mod:`wavfusion.checkpoint`).

Padding rules (so that an utterance in a zero-padded batch gives the same result as alone):

* per-utterance normalisation and every pooling use only valid samples / frames / tokens;
* frame lengths follow the conv arithmetic ``L -> floor((L - k) / s) + 1``; a valid conv
  output frame only ever reads valid input frames;
* wav2vec2-base's first conv layer uses GroupNorm(512, 512), i.e. per-channel statistics
  over time; we compute those statistics over valid frames only (HF computes them over the
  whole padded tensor, which is why HF advises not to batch-pad base models);
* padded frames are zeroed before the convolutional positional embedding;
* self-attention, cross-modal attention and text attention mask padded keys.

No Python integer derived from a tensor shape is used in ``forward``, so the traced ONNX
graph keeps dynamic batch / samples / tokens axes.
"""
from __future__ import annotations

import math
from collections import OrderedDict
from dataclasses import dataclass, fields
from typing import Dict, List, Optional, Tuple, cast

import torch
import torch.nn as nn
import torch.nn.functional as F

from .config import AudioConfig, TextConfig, WavFusionConfig

NEG_INF = -1e9


# --------------------------------------------------------------------------- helpers

def positions_like(sequence: torch.Tensor) -> torch.Tensor:
    """0..T-1 for the second axis of ``sequence`` ([B, T, ...]) as int64, traced dynamically."""
    row = sequence[0]
    while row.dim() > 1:
        row = row[:, 0]
    return torch.cumsum(torch.ones_like(row, dtype=torch.long), 0) - 1


def lengths_to_mask(sequence: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
    """``sequence`` [B, T, ...], ``lengths`` [B] -> float mask [B, T]: 1 for t < lengths[b]."""
    positions = positions_like(sequence)
    return (positions.unsqueeze(0) < lengths.unsqueeze(1)).to(torch.float32)


def masked_mean(hidden_states: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """``hidden_states`` [B, T, D], ``mask`` [B, T] float -> [B, D] mean over valid steps."""
    count = mask.sum(1, keepdim=True).clamp(min=1.0)
    return (hidden_states * mask.unsqueeze(-1)).sum(1) / count


def masked_std(hidden_states: torch.Tensor, mask: torch.Tensor, mean: torch.Tensor) -> torch.Tensor:
    """``hidden_states`` [B, T, D], ``mask`` [B, T] float, ``mean`` [B, D] (masked_mean) -> [B, D]
    standard deviation over valid frames (population; 0 for a single frame, plus a small floor so the
    gradient stays finite)."""
    count = mask.sum(1, keepdim=True).clamp(min=1.0)
    var = (((hidden_states - mean.unsqueeze(1)) ** 2) * mask.unsqueeze(-1)).sum(1) / count
    return torch.sqrt(var + 1e-5)


class StatisticsPooling(nn.Module):
    """Mean and standard deviation over valid frames -> Linear(2H, H).

    The projection starts as [I 0] (the mean half passes through, the deviation half is zero), so a
    model continued from a mean-pooled bundle (``train-corpora --init-from B --pooling mean-std``)
    begins exactly where that bundle was and learns what the deviation adds."""

    def __init__(self, hidden: int):
        super().__init__()
        self.proj = nn.Linear(2 * hidden, hidden)
        with torch.no_grad():
            self.proj.weight.zero_()
            self.proj.weight[:, :hidden].copy_(torch.eye(hidden))
            self.proj.bias.zero_()

    def forward(self, hidden_states: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """``hidden_states`` [B, T, H], ``mask`` [B, T] float -> [B, H]."""
        mean = masked_mean(hidden_states, mask)
        return self.proj(torch.cat([mean, masked_std(hidden_states, mask, mean)], dim=-1))


class LogMelStatistics(nn.Module):
    """Utterance statistics of the log-mel front end, as a path beside the encoder.

    log-mel [B, M, T] and its frame mask [B, T] -> mean and standard deviation over valid frames of the
    M bands and of their first differences ([B, 4M]) -> BatchNorm1d -> Linear(4M, H) -> GELU -> dropout
    -> Linear(H, H) -> [B, H], added to the pooled embedding. The last Linear starts at zero, so a model
    continued from a bundle without this path (``train-corpora --init-from B --log-mel-statistics``)
    begins exactly where that bundle was. These are the statistics the log-mel + MLP floor reads
    (without its percentiles, which have no masked ONNX form); the encoder adds what they miss."""

    fallback: torch.Tensor  # [2, 4M] the training set's statistics (buffer, with speaker_normalised)

    def __init__(self, num_mel_bins: int, hidden: int, dropout: float, speaker_normalised: bool = False,
                 speaker_statistics_dropout: float = 0.0):
        super().__init__()
        self.dim = 4 * num_mel_bins
        self.speaker_normalised = speaker_normalised
        self.speaker_statistics_dropout = speaker_statistics_dropout
        if speaker_normalised:
            # what a row without its speaker's statistics (a NaN row) is normalised by: mean and standard
            # deviation of the training utterances' statistics [2, 4M], set by the trainer
            self.register_buffer("fallback", torch.stack([torch.zeros(self.dim), torch.ones(self.dim)]))
        self.norm = nn.BatchNorm1d(4 * num_mel_bins)
        self.proj = nn.Linear(4 * num_mel_bins, hidden)
        self.dropout = nn.Dropout(dropout)
        self.out = nn.Linear(hidden, hidden)
        with torch.no_grad():
            self.out.weight.zero_()
            self.out.bias.zero_()

    @staticmethod
    def statistics(log_mel: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """log-mel [B, M, T], frame mask [B, T] -> the utterance statistics [B, 4M] (band means, band
        deviations, delta means, delta deviations)."""
        frames = log_mel.transpose(1, 2)  # [B, T, M]
        deltas = frames[:, 1:] - frames[:, :-1]
        delta_mask = mask[:, 1:] * mask[:, :-1]
        stats = []
        for x, m in ((frames, mask), (deltas, delta_mask)):
            mean = masked_mean(x, m)
            stats += [mean, masked_std(x, m, mean)]
        return torch.cat(stats, dim=-1)

    def speaker_normalise(self, stats: torch.Tensor, speaker_statistics: Optional[torch.Tensor]) -> torch.Tensor:
        """``stats`` [B, 4M] z-normalised by ``speaker_statistics`` [B, 2, 4M] (mean and standard deviation
        of the statistics over the speaker's utterances); a row that is NaN, or no tensor at all, uses the
        training set's (``fallback``). In training a row falls back with probability
        ``speaker_statistics_dropout``, so the model also knows utterances whose speaker is unknown."""
        fallback = self.fallback.unsqueeze(0).expand(stats.shape[0], 2, self.dim)
        if speaker_statistics is None:
            speaker_statistics = fallback
        else:
            missing = torch.isnan(speaker_statistics)
            if self.training and self.speaker_statistics_dropout > 0:
                drop = torch.rand(stats.shape[0], 1, 1, device=stats.device) < self.speaker_statistics_dropout
                missing = missing | drop
            speaker_statistics = torch.where(missing, fallback, speaker_statistics)
        return (stats - speaker_statistics[:, 0]) / speaker_statistics[:, 1].clamp(min=1e-2)

    def normalised_statistics(self, log_mel: torch.Tensor, mask: torch.Tensor,
                              speaker_statistics: Optional[torch.Tensor] = None) -> torch.Tensor:
        """log-mel [B, M, T], frame mask [B, T] -> the statistics [B, 4M], z-normalised by the speaker when the
        path is speaker-normalised (what :meth:`project` and a :class:`StatisticsExpert` read)."""
        stats = self.statistics(log_mel, mask)
        if self.speaker_normalised:
            stats = self.speaker_normalise(stats, speaker_statistics)
        return stats

    def forward(self, log_mel: torch.Tensor, mask: torch.Tensor,
                speaker_statistics: Optional[torch.Tensor] = None) -> torch.Tensor:
        return self.project(self.normalised_statistics(log_mel, mask, speaker_statistics))

    def project(self, stats: torch.Tensor) -> torch.Tensor:
        """normalised statistics [B, 4M] -> the path's contribution to the pooled embedding [B, H]."""
        if self.training and stats.shape[0] == 1:
            # a batch of one has no batch statistics: normalise with the running ones
            normed = F.batch_norm(stats, self.norm.running_mean, self.norm.running_var, self.norm.weight,
                                  self.norm.bias, False, 0.0, self.norm.eps)
        else:
            normed = self.norm(stats)
        hidden = F.gelu(self.proj(normed))
        return self.out(self.dropout(hidden))


class StatisticsExpert(nn.Module):
    """A second classifier on the speaker-normalised utterance statistics, whose logits are added to the
    network's (a product of experts: softmax(a + b) ∝ softmax(a) · softmax(b)), the sum divided by a
    ``temperature`` fitted on validation data.

    normalised statistics [B, 4M] (:meth:`LogMelStatistics.normalised_statistics`) -> each of K members:
    dropout 0.1 -> Linear(4M, H) -> GELU -> dropout 0.3 -> Linear(H, classes) -> the members' mean logits
    [B, classes]. A member is the log-mel + MLP floor's classifier (``baseline.py``) on the statistics the
    bundle already computes; K members fitted from different seeds are averaged because one small MLP
    early-stopped on a few validation speakers varies by several points of UA from seed to seed. Fitted
    after the network on whole-clip statistics (``python -m wavfusion fit-statistics-expert``;
    training/README "Statistics expert"). The members' last Linear starts at zero, so adding the expert to a
    model changes nothing until it is fitted. An option, off by default (``WavFusionConfig.statistics_expert``)."""

    temperature: torch.Tensor  # scalar: the summed logits are divided by it (fitted on validation; 1 at start)

    def __init__(self, dim: int, hidden: int, num_labels: int, members: int = 1):
        super().__init__()
        self.members = nn.ModuleList([StatisticsExpertMember(dim, hidden, num_labels) for _ in range(members)])
        # two experts multiplied count shared evidence twice: their product is over-confident, so the sum
        # is divided by a temperature fitted on validation data (changes no argmax)
        self.register_buffer("temperature", torch.tensor(1.0))

    def forward(self, stats: torch.Tensor) -> torch.Tensor:
        return torch.stack([member(stats) for member in self.members]).mean(0)


class StatisticsExpertMember(nn.Module):
    """One member of a :class:`StatisticsExpert`: [B, 4M] -> [B, classes]; ``out`` starts at zero."""

    def __init__(self, dim: int, hidden: int, num_labels: int):
        super().__init__()
        self.input_dropout = nn.Dropout(0.1)
        self.hidden = nn.Linear(dim, hidden)
        self.dropout = nn.Dropout(0.3)
        self.out = nn.Linear(hidden, num_labels)
        with torch.no_grad():
            self.out.weight.zero_()
            self.out.bias.zero_()

    def forward(self, stats: torch.Tensor) -> torch.Tensor:
        return self.out(self.dropout(F.gelu(self.hidden(self.input_dropout(stats)))))


def attention_bias(mask: torch.Tensor) -> torch.Tensor:
    """key mask [B, S] (1 valid) -> additive bias [B, 1, 1, S]."""
    return ((1.0 - mask.to(torch.float32)) * NEG_INF).unsqueeze(1).unsqueeze(1)


def multi_head_attention(query: torch.Tensor, key: torch.Tensor, value: torch.Tensor, bias: torch.Tensor,
                         num_heads: int, head_dim: int, dropout: float, training: bool) -> torch.Tensor:
    """``query`` [B, T, D] (already scaled), ``key``/``value`` [B, S, D], ``bias`` [B, 1, 1, S] -> [B, T, D].

    Written out explicitly (no scaled_dot_product_attention) so it runs on torch 1.13
    and exports with the TorchScript ONNX exporter."""
    batch = query.shape[0]
    query = query.reshape(batch, -1, num_heads, head_dim).transpose(1, 2)
    key = key.reshape(batch, -1, num_heads, head_dim).transpose(1, 2)
    value = value.reshape(batch, -1, num_heads, head_dim).transpose(1, 2)
    scores = torch.matmul(query, key.transpose(-1, -2)) + bias
    probs = torch.softmax(scores, dim=-1)
    probs = F.dropout(probs, p=dropout, training=training)
    context = torch.matmul(probs, value).transpose(1, 2)
    return context.reshape(batch, -1, num_heads * head_dim)


# --------------------------------------------------------------------------- wav2vec 2.0

class MaskedGroupNorm(nn.GroupNorm):
    """GroupNorm(C, C) (per-channel over time) whose statistics use valid frames only.

    Keeps nn.GroupNorm's parameter names (weight, bias) for checkpoint compatibility."""

    def forward_masked(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        m = mask.unsqueeze(1)  # [B, 1, T]
        n = m.sum(-1, keepdim=True).clamp(min=1.0)
        mean = (x * m).sum(-1, keepdim=True) / n
        var = (((x - mean) * m) ** 2).sum(-1, keepdim=True) / n
        y = (x - mean) / torch.sqrt(var + self.eps)
        return y * self.weight.view(1, -1, 1) + self.bias.view(1, -1, 1)


class Wav2Vec2NoLayerNormConvLayer(nn.Module):
    """Conv1d + GELU (HF ``Wav2Vec2NoLayerNormConvLayer``): wav2vec2-base's layers 1..6.

    ``forward`` takes and returns the valid frame count per row so that the next layer (and the
    masked GroupNorm of layer 0) knows which frames are padding."""

    def __init__(self, cfg: AudioConfig, layer_id: int = 0):
        super().__init__()
        self.in_conv_dim = 1 if layer_id == 0 else cfg.conv_dim[layer_id - 1]
        self.out_conv_dim = cfg.conv_dim[layer_id]
        self.kernel = cfg.conv_kernel[layer_id]
        self.stride = cfg.conv_stride[layer_id]
        self.conv = nn.Conv1d(self.in_conv_dim, self.out_conv_dim, self.kernel, stride=self.stride,
                              bias=cfg.conv_bias)

    def out_lengths(self, lengths: torch.Tensor) -> torch.Tensor:
        return torch.div(lengths - self.kernel, self.stride, rounding_mode="floor") + 1

    def forward(self, hidden_states: torch.Tensor, lengths: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        """[B, C_in, L] and valid lengths [B] -> [B, C_out, L'] and valid lengths [B]."""
        hidden_states = self.conv(hidden_states)
        lengths = self.out_lengths(lengths).clamp(min=1)
        return F.gelu(hidden_states), lengths


class Wav2Vec2LayerNormConvLayer(Wav2Vec2NoLayerNormConvLayer):
    """Conv1d + LayerNorm over channels + GELU (HF ``Wav2Vec2LayerNormConvLayer``, ``feat_extract_norm="layer"``)."""

    def __init__(self, cfg: AudioConfig, layer_id: int = 0):
        super().__init__(cfg, layer_id)
        self.layer_norm = nn.LayerNorm(self.out_conv_dim, eps=cfg.layer_norm_eps, elementwise_affine=True)

    def forward(self, hidden_states: torch.Tensor, lengths: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        hidden_states = self.conv(hidden_states)
        lengths = self.out_lengths(lengths).clamp(min=1)
        hidden_states = self.layer_norm(hidden_states.transpose(1, 2)).transpose(1, 2)
        return F.gelu(hidden_states), lengths


class Wav2Vec2GroupNormConvLayer(Wav2Vec2NoLayerNormConvLayer):
    """Conv1d + GroupNorm(C, C) + GELU (HF ``Wav2Vec2GroupNormConvLayer``, layer 0 of wav2vec2-base);
    the GroupNorm statistics use valid frames only (:class:`MaskedGroupNorm`)."""

    def __init__(self, cfg: AudioConfig, layer_id: int = 0):
        super().__init__(cfg, layer_id)
        self.layer_norm = MaskedGroupNorm(self.out_conv_dim, self.out_conv_dim, eps=1e-5, affine=True)

    def forward(self, hidden_states: torch.Tensor, lengths: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        hidden_states = self.conv(hidden_states)
        lengths = self.out_lengths(lengths).clamp(min=1)
        frame_mask = lengths_to_mask(hidden_states.transpose(1, 2), lengths)
        hidden_states = self.layer_norm.forward_masked(hidden_states, frame_mask)
        return F.gelu(hidden_states), lengths


def conv_layers_for(cfg: AudioConfig) -> List[Wav2Vec2NoLayerNormConvLayer]:
    """The conv stack for ``feat_extract_norm`` as in HF's ``Wav2Vec2FeatureEncoder``: "group" puts a
    GroupNorm on layer 0 only, "layer" a LayerNorm on every layer."""
    count = len(cfg.conv_dim)
    if cfg.feat_extract_norm == "group":
        return ([Wav2Vec2GroupNormConvLayer(cfg, layer_id=0)]
                + [Wav2Vec2NoLayerNormConvLayer(cfg, layer_id=i) for i in range(1, count)])
    if cfg.feat_extract_norm == "layer":
        return [Wav2Vec2LayerNormConvLayer(cfg, layer_id=i) for i in range(count)]
    raise ValueError(f"feat_extract_norm is {cfg.feat_extract_norm!r}, expected 'group' or 'layer'")


class FeatureEncoder(nn.Module):
    """wav2vec 2.0's convolutional feature encoder: raw samples [B, S] -> [B, conv_dim[-1], T] at 50 Hz."""

    def __init__(self, cfg: AudioConfig):
        super().__init__()
        self.conv_layers = nn.ModuleList(conv_layers_for(cfg))

    @property
    def layers(self) -> List[Wav2Vec2NoLayerNormConvLayer]:
        """``conv_layers`` with their type (a ModuleList yields plain ``nn.Module``)."""
        return [cast(Wav2Vec2NoLayerNormConvLayer, layer) for layer in self.conv_layers]

    @property
    def hop_samples(self) -> int:
        return int(math.prod(layer.stride for layer in self.layers))

    @property
    def receptive_field(self) -> int:
        r = 1
        for layer in reversed(self.layers):
            r = (r - 1) * layer.stride + layer.kernel
        return r

    @property
    def min_samples(self) -> int:
        """The first output frame's receptive field (400 samples = 25 ms for wav2vec2's strides)."""
        return self.receptive_field

    def out_lengths(self, lengths: torch.Tensor) -> torch.Tensor:
        for layer in self.layers:
            lengths = layer.out_lengths(lengths).clamp(min=1)
        return lengths

    def forward(self, audio: torch.Tensor, lengths: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        """audio [B, S], sample lengths [B] -> features [B, conv_dim[-1], T], frame lengths [B]."""
        hidden_states = audio.unsqueeze(1)
        for layer in self.conv_layers:
            hidden_states, lengths = layer(hidden_states, lengths)
        return hidden_states, lengths


def mel_filterbank(num_bins: int, num_freqs: int, sample_rate: int = 16000) -> torch.Tensor:
    """HTK-scale triangular mel filters [num_bins, num_freqs] from 0 Hz to Nyquist (unnormalised)."""
    def hz_to_mel(f: torch.Tensor) -> torch.Tensor:
        return 2595.0 * torch.log10(1.0 + f / 700.0)

    freqs = torch.linspace(0, sample_rate / 2, num_freqs, dtype=torch.float64)
    mel_points = torch.linspace(0.0, float(hz_to_mel(torch.tensor(sample_rate / 2.0))), num_bins + 2,
                                dtype=torch.float64)
    hz_points = 700.0 * (10 ** (mel_points / 2595.0) - 1.0)
    lower, centre, upper = hz_points[:-2, None], hz_points[1:-1, None], hz_points[2:, None]
    up = (freqs[None] - lower) / (centre - lower)
    down = (upper - freqs[None]) / (upper - centre)
    return torch.clamp(torch.minimum(up, down), min=0.0).to(torch.float32)


class LogMelFeatureEncoder(nn.Module):
    """Log-mel filterbank front end: raw samples [B, S] -> [B, conv_dim[-1], T] at 50 Hz.

    The short-time Fourier transform is a fixed Conv1d (Hann window of 400 samples = 25 ms, hop
    160 = 10 ms, 201 frequency bins), so the graph exports to plain ONNX Conv/MatMul/Log and the
    studio's front end stays "raw 16 kHz samples". Power spectrum -> ``num_mel_bins`` HTK mel filters
    -> log(x + 1e-6) -> Conv1d(k=3, s=2) + LayerNorm + GELU -> Conv1d(k=3, s=1) + LayerNorm + GELU.
    Frame lengths follow the same ``L -> floor((L - k) / s) + 1`` rule as the conv feature encoder, so
    a valid output frame only reads valid samples (padding invariance holds)."""

    WINDOW = 400
    HOP = 160
    dft: torch.Tensor  # [2F, 1, WINDOW] DFT basis (buffer)
    mel: torch.Tensor  # [num_mel_bins, F] mel filters (buffer)

    def __init__(self, cfg: AudioConfig):
        super().__init__()
        self.config = cfg
        n_freqs = self.WINDOW // 2 + 1
        t = torch.arange(self.WINDOW, dtype=torch.float64)
        window = 0.5 - 0.5 * torch.cos(2 * math.pi * t / self.WINDOW)  # periodic Hann
        k = torch.arange(n_freqs, dtype=torch.float64)[:, None]
        angle = 2 * math.pi * k * t[None] / self.WINDOW
        basis = torch.cat([torch.cos(angle), -torch.sin(angle)], 0) * window[None]
        self.register_buffer("dft", basis.to(torch.float32).unsqueeze(1), persistent=False)  # [2F, 1, W]
        self.register_buffer("mel", mel_filterbank(cfg.num_mel_bins, n_freqs), persistent=False)  # [M, F]
        self.n_freqs = n_freqs
        width = cfg.conv_dim[-1]
        self.subsample = nn.Conv1d(cfg.num_mel_bins, width, 3, stride=2)
        self.subsample_norm = nn.LayerNorm(width, eps=cfg.layer_norm_eps)
        self.context = nn.Conv1d(width, width, 3, stride=1)
        self.context_norm = nn.LayerNorm(width, eps=cfg.layer_norm_eps)

    @property
    def hop_samples(self) -> int:
        return self.HOP * 2

    @property
    def receptive_field(self) -> int:
        return self.WINDOW + self.HOP * (2 * 2 + 2)

    @property
    def min_samples(self) -> int:
        """One STFT window of real audio; the model zero-pads the rest of the receptive field."""
        return self.WINDOW

    @staticmethod
    def _conv_len(lengths: torch.Tensor, kernel: int, stride: int) -> torch.Tensor:
        return (torch.div(lengths - kernel, stride, rounding_mode="floor") + 1).clamp(min=1)

    def stft_frames(self, lengths: torch.Tensor) -> torch.Tensor:
        """[B] valid samples -> [B] STFT frames that read only valid samples."""
        return self._conv_len(lengths, self.WINDOW, self.HOP)

    def out_lengths(self, lengths: torch.Tensor) -> torch.Tensor:
        frames = self.stft_frames(lengths)
        return self._conv_len(self._conv_len(frames, 3, 2), 3, 1)

    def log_mel(self, audio: torch.Tensor) -> torch.Tensor:
        """[B, S] -> [B, num_mel_bins, frames]."""
        spec = F.conv1d(audio.unsqueeze(1), self.dft, stride=self.HOP)  # [B, 2F, T]
        power = spec[:, :self.n_freqs] ** 2 + spec[:, self.n_freqs:] ** 2
        return torch.log(torch.matmul(self.mel, power) + 1e-6)

    def augment(self, log_mel: torch.Tensor) -> torch.Tensor:
        """Training-time mel augmentation (``mel_warp``, ``mask_mel_bands``); identity in eval mode.
        [B, M, T] -> [B, M, T]."""
        cfg = self.config
        if not self.training:
            return log_mel
        b, m, _ = log_mel.shape
        if cfg.mel_warp > 0:
            # band i of the warped clip reads band i * factor of the original (linear interpolation)
            factor = 1 + (torch.rand(b, 1, device=log_mel.device) * 2 - 1) * cfg.mel_warp
            pos = (torch.arange(m, device=log_mel.device, dtype=log_mel.dtype).unsqueeze(0) * factor).clamp(0, m - 1)
            low = pos.floor().long()
            high = (low + 1).clamp(max=m - 1)
            frac = (pos - low.to(pos.dtype)).unsqueeze(-1)
            gather = lambda index: torch.gather(log_mel, 1, index.unsqueeze(-1).expand_as(log_mel))  # noqa: E731
            log_mel = gather(low) * (1 - frac) + gather(high) * frac
        if cfg.mask_mel_bands > 0 and cfg.mask_mel_width > 0:
            fill = log_mel.mean(dim=1, keepdim=True)  # [B, 1, T]: each frame's mean band
            bands = torch.arange(m, device=log_mel.device).view(1, m)
            keep = torch.ones(b, m, device=log_mel.device, dtype=log_mel.dtype)
            for _ in range(cfg.mask_mel_bands):
                width = torch.randint(0, cfg.mask_mel_width + 1, (b, 1), device=log_mel.device)
                start = (torch.rand(b, 1, device=log_mel.device) * (m - width + 1).to(log_mel.dtype)).long()
                keep = keep * ~((bands >= start) & (bands < start + width))
            keep = keep.unsqueeze(-1)
            log_mel = log_mel * keep + fill * (1 - keep)
        return log_mel

    def forward(self, audio: torch.Tensor, lengths: torch.Tensor,
                log_mel: Optional[torch.Tensor] = None) -> Tuple[torch.Tensor, torch.Tensor]:
        """``log_mel``: this audio's (augmented) :meth:`log_mel`, when the caller already has it."""
        x = self.augment(self.log_mel(audio)) if log_mel is None else log_mel
        x = self.subsample_norm(self.subsample(x).transpose(1, 2)).transpose(1, 2)
        x = F.gelu(x)
        x = self.context_norm(self.context(x).transpose(1, 2)).transpose(1, 2)
        return F.gelu(x), self.out_lengths(lengths)


class FeatureProjection(nn.Module):
    def __init__(self, cfg: AudioConfig):
        super().__init__()
        self.layer_norm = nn.LayerNorm(cfg.conv_dim[-1], eps=cfg.layer_norm_eps)
        self.projection = nn.Linear(cfg.conv_dim[-1], cfg.hidden_size)
        self.dropout = nn.Dropout(cfg.feat_proj_dropout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.dropout(self.projection(self.layer_norm(x)))


class WeightNormConv1d(nn.Module):
    """Conv1d with weight norm over dim=2, stored as HF's ``weight_g`` / ``weight_v``.

    Implemented directly (not via torch.nn.utils.weight_norm / parametrizations) so that
    the parameter names and the exported graph are identical on torch 1.13 and 2.x."""

    def __init__(self, channels: int, kernel: int, groups: int):
        super().__init__()
        self.padding = kernel // 2
        self.groups = groups
        self.weight_g = nn.Parameter(torch.ones(1, 1, kernel))
        self.weight_v = nn.Parameter(torch.empty(channels, channels // groups, kernel))
        self.bias = nn.Parameter(torch.zeros(channels))
        nn.init.normal_(self.weight_v, mean=0.0, std=2.0 * math.sqrt(1.0 / (kernel * channels // groups)))
        with torch.no_grad():
            self.weight_g.copy_(self.weight_v.pow(2).sum(dim=(0, 1), keepdim=True).sqrt())

    def weight(self) -> torch.Tensor:
        norm = self.weight_v.pow(2).sum(dim=(0, 1), keepdim=True).sqrt()
        return self.weight_v * (self.weight_g / norm)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.conv1d(x, self.weight(), self.bias, padding=self.padding, groups=self.groups)


class PositionalConvEmbedding(nn.Module):
    def __init__(self, cfg: AudioConfig):
        super().__init__()
        self.conv = WeightNormConv1d(cfg.hidden_size, cfg.num_conv_pos_embeddings,
                                     cfg.num_conv_pos_embedding_groups)
        self.remove = 1 if cfg.num_conv_pos_embeddings % 2 == 0 else 0

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.conv(x.transpose(1, 2))
        if self.remove:
            h = h[:, :, :-self.remove]
        return F.gelu(h).transpose(1, 2)


class Wav2Vec2Attention(nn.Module):
    def __init__(self, dim: int, num_heads: int, dropout: float):
        super().__init__()
        self.num_heads = num_heads
        self.head_dim = dim // num_heads
        self.scaling = self.head_dim ** -0.5
        self.dropout = dropout
        self.k_proj = nn.Linear(dim, dim)
        self.v_proj = nn.Linear(dim, dim)
        self.q_proj = nn.Linear(dim, dim)
        self.out_proj = nn.Linear(dim, dim)

    def forward(self, x: torch.Tensor, bias: torch.Tensor, kv: Optional[torch.Tensor] = None) -> torch.Tensor:
        kv = x if kv is None else kv
        q = self.q_proj(x) * self.scaling
        out = multi_head_attention(q, self.k_proj(kv), self.v_proj(kv), bias, self.num_heads,
                                   self.head_dim, self.dropout, self.training)
        return self.out_proj(out)


class Wav2Vec2FeedForward(nn.Module):
    def __init__(self, cfg: AudioConfig):
        super().__init__()
        self.intermediate_dropout = nn.Dropout(cfg.activation_dropout)
        self.intermediate_dense = nn.Linear(cfg.hidden_size, cfg.intermediate_size)
        self.output_dense = nn.Linear(cfg.intermediate_size, cfg.hidden_size)
        self.output_dropout = nn.Dropout(cfg.hidden_dropout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.intermediate_dropout(F.gelu(self.intermediate_dense(x)))
        return self.output_dropout(self.output_dense(x))


class Wav2Vec2EncoderLayer(nn.Module):
    def __init__(self, cfg: AudioConfig):
        super().__init__()
        self.stable = cfg.do_stable_layer_norm
        self.attention = Wav2Vec2Attention(cfg.hidden_size, cfg.num_attention_heads, cfg.attention_dropout)
        self.dropout = nn.Dropout(cfg.hidden_dropout)
        self.layer_norm = nn.LayerNorm(cfg.hidden_size, eps=cfg.layer_norm_eps)
        self.feed_forward = Wav2Vec2FeedForward(cfg)
        self.final_layer_norm = nn.LayerNorm(cfg.hidden_size, eps=cfg.layer_norm_eps)

    def forward(self, x: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
        if self.stable:
            x = x + self.dropout(self.attention(self.layer_norm(x), bias))
            return x + self.feed_forward(self.final_layer_norm(x))
        x = self.layer_norm(x + self.dropout(self.attention(x, bias)))
        return self.final_layer_norm(x + self.feed_forward(x))


class Wav2Vec2Transformer(nn.Module):
    """HF's ``encoder`` submodule (``Wav2Vec2Encoder`` / ``Wav2Vec2EncoderStableLayerNorm``):
    pos_conv_embed, layer_norm, layers.

    ``forward`` runs the whole stack as HF does. :class:`WavFusionModel` runs it in three pieces,
    ``embed_positions`` -> ``run_layers`` (shallow) -> fusion -> ``run_layers`` (deep) -> ``final_norm``,
    which compose to exactly ``forward``."""

    def __init__(self, cfg: AudioConfig):
        super().__init__()
        self.stable = cfg.do_stable_layer_norm
        self.pos_conv_embed = PositionalConvEmbedding(cfg)
        self.layer_norm = nn.LayerNorm(cfg.hidden_size, eps=cfg.layer_norm_eps)
        self.dropout = nn.Dropout(cfg.hidden_dropout)
        self.layers = nn.ModuleList([Wav2Vec2EncoderLayer(cfg) for _ in range(cfg.num_hidden_layers)])

    def embed_positions(self, hidden_states: torch.Tensor, frame_mask: torch.Tensor) -> torch.Tensor:
        """[B, T, H] projected features, frame mask [B, T] -> [B, T, H] input of layer 0 (padded frames
        zeroed before the positional convolution; post-LN models normalise here)."""
        hidden_states = hidden_states * frame_mask.unsqueeze(-1)
        hidden_states = hidden_states + self.pos_conv_embed(hidden_states)
        if not self.stable:
            hidden_states = self.layer_norm(hidden_states)
        return self.dropout(hidden_states)

    def run_layers(self, hidden_states: torch.Tensor, bias: torch.Tensor, start: int, end: int) -> torch.Tensor:
        """Transformer layers [start, end) with the key bias [B, 1, 1, T] of :func:`attention_bias`."""
        for layer in list(self.layers)[start:end]:
            hidden_states = layer(hidden_states, bias)
        return hidden_states

    def final_norm(self, hidden_states: torch.Tensor) -> torch.Tensor:
        """Pre-LN (stable layer norm) models normalise after the last layer; post-LN models already did."""
        return self.layer_norm(hidden_states) if self.stable else hidden_states

    def forward(self, hidden_states: torch.Tensor, frame_mask: torch.Tensor) -> torch.Tensor:
        """[B, T, H] projected features, frame mask [B, T] -> last hidden state [B, T, H]."""
        hidden_states = self.embed_positions(hidden_states, frame_mask)
        hidden_states = self.run_layers(hidden_states, attention_bias(frame_mask), 0, len(self.layers))
        return self.final_norm(hidden_states)


class Wav2Vec2Encoder(nn.Module):
    """Audio encoder with Wav2Vec2Model's parameter names, run in pieces so that a fusion
    block can sit between the shallow and the deep transformer layers."""

    def __init__(self, cfg: AudioConfig):
        super().__init__()
        self.config = cfg
        self.masked_spec_embed = nn.Parameter(torch.empty(cfg.hidden_size).uniform_())
        self.feature_extractor = LogMelFeatureEncoder(cfg) if cfg.feature_encoder == "log-mel" else FeatureEncoder(cfg)
        self.feature_projection = FeatureProjection(cfg)
        self.encoder = Wav2Vec2Transformer(cfg)

    @property
    def receptive_field(self) -> int:
        return self.feature_extractor.receptive_field

    @property
    def hop_samples(self) -> int:
        return self.feature_extractor.hop_samples

    @property
    def min_samples(self) -> int:
        return self.feature_extractor.min_samples

    def frame_lengths(self, lengths: torch.Tensor) -> torch.Tensor:
        return self.feature_extractor.out_lengths(lengths)

    def _time_mask(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        cfg = self.config
        if not self.training or cfg.mask_time_prob <= 0:
            return x
        b, t, _ = x.shape
        starts = (torch.rand(b, t, device=x.device) < cfg.mask_time_prob).float()
        span = F.max_pool1d(F.pad(starts.unsqueeze(1), (cfg.mask_time_length - 1, 0)),
                            cfg.mask_time_length, stride=1).squeeze(1)
        span = span * mask
        return x * (1 - span.unsqueeze(-1)) + self.masked_spec_embed.view(1, 1, -1) * span.unsqueeze(-1)

    def project(self, audio: torch.Tensor, lengths: torch.Tensor,
                log_mel: Optional[torch.Tensor] = None) -> Tuple[torch.Tensor, torch.Tensor]:
        """normalised audio [B, S], sample lengths [B] -> (projected features [B, T, H] with
        training-time masking applied, frame mask [B, T] float). ``log_mel``: the log-mel front end's
        input when the caller computed it (the utterance-statistics path reads the same one)."""
        if log_mel is not None:
            assert isinstance(self.feature_extractor, LogMelFeatureEncoder)
            features, frame_lengths = self.feature_extractor(audio, lengths, log_mel)
        else:
            features, frame_lengths = self.feature_extractor(audio, lengths)
        hidden_states = self.feature_projection(features.transpose(1, 2))
        frame_mask = lengths_to_mask(hidden_states, frame_lengths)
        return self._time_mask(hidden_states, frame_mask), frame_mask

    def embed(self, audio: torch.Tensor, lengths: torch.Tensor,
              log_mel: Optional[torch.Tensor] = None) -> Tuple[torch.Tensor, torch.Tensor]:
        """normalised audio [B, S], sample lengths [B] -> (hidden states [B, T, H] ready for layer 0,
        frame mask [B, T])."""
        hidden_states, frame_mask = self.project(audio, lengths, log_mel)
        return self.encoder.embed_positions(hidden_states, frame_mask), frame_mask

    def run_layers(self, hidden_states: torch.Tensor, bias: torch.Tensor, start: int, end: int) -> torch.Tensor:
        return self.encoder.run_layers(hidden_states, bias, start, end)

    def finalize(self, hidden_states: torch.Tensor) -> torch.Tensor:
        return self.encoder.final_norm(hidden_states)

    def forward(self, audio: torch.Tensor, lengths: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        """normalised audio [B, S], sample lengths [B] -> (last hidden state [B, T, H], frame mask [B, T]),
        the whole stack in one go (``Wav2Vec2Model.forward``)."""
        hidden_states, frame_mask = self.project(audio, lengths)
        return self.encoder(hidden_states, frame_mask), frame_mask


# --------------------------------------------------------------------------- RoBERTa

class RobertaEmbeddings(nn.Module):
    def __init__(self, cfg: TextConfig):
        super().__init__()
        self.padding_idx = cfg.pad_token_id
        self.word_embeddings = nn.Embedding(cfg.vocab_size, cfg.hidden_size, padding_idx=cfg.pad_token_id)
        self.position_embeddings = nn.Embedding(cfg.max_position_embeddings, cfg.hidden_size,
                                                padding_idx=cfg.pad_token_id)
        self.token_type_embeddings = nn.Embedding(cfg.type_vocab_size, cfg.hidden_size)
        self.LayerNorm = nn.LayerNorm(cfg.hidden_size, eps=cfg.layer_norm_eps)
        self.dropout = nn.Dropout(cfg.hidden_dropout_prob)

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        m = attention_mask.to(torch.long)
        position_ids = torch.cumsum(m, dim=1) * m + self.padding_idx
        x = (self.word_embeddings(input_ids) + self.position_embeddings(position_ids)
             + self.token_type_embeddings(torch.zeros_like(input_ids)))
        return self.dropout(self.LayerNorm(x))


class RobertaSelfAttention(nn.Module):
    def __init__(self, cfg: TextConfig):
        super().__init__()
        self.num_heads = cfg.num_attention_heads
        self.head_dim = cfg.hidden_size // cfg.num_attention_heads
        self.scaling = self.head_dim ** -0.5
        self.dropout = cfg.attention_probs_dropout_prob
        self.query = nn.Linear(cfg.hidden_size, cfg.hidden_size)
        self.key = nn.Linear(cfg.hidden_size, cfg.hidden_size)
        self.value = nn.Linear(cfg.hidden_size, cfg.hidden_size)

    def forward(self, x: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
        return multi_head_attention(self.query(x) * self.scaling, self.key(x), self.value(x), bias,
                                    self.num_heads, self.head_dim, self.dropout, self.training)


class RobertaDenseNorm(nn.Module):
    """RobertaSelfOutput / RobertaOutput: dense, dropout, LayerNorm(x + residual)."""

    def __init__(self, din: int, cfg: TextConfig):
        super().__init__()
        self.dense = nn.Linear(din, cfg.hidden_size)
        self.LayerNorm = nn.LayerNorm(cfg.hidden_size, eps=cfg.layer_norm_eps)
        self.dropout = nn.Dropout(cfg.hidden_dropout_prob)

    def forward(self, x: torch.Tensor, residual: torch.Tensor) -> torch.Tensor:
        return self.LayerNorm(self.dropout(self.dense(x)) + residual)


class RobertaAttention(nn.Module):
    def __init__(self, cfg: TextConfig):
        super().__init__()
        self.self = RobertaSelfAttention(cfg)
        self.output = RobertaDenseNorm(cfg.hidden_size, cfg)

    def forward(self, x: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
        return self.output(self.self(x, bias), x)


class RobertaIntermediate(nn.Module):
    def __init__(self, cfg: TextConfig):
        super().__init__()
        self.dense = nn.Linear(cfg.hidden_size, cfg.intermediate_size)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.gelu(self.dense(x))


class RobertaLayer(nn.Module):
    def __init__(self, cfg: TextConfig):
        super().__init__()
        self.attention = RobertaAttention(cfg)
        self.intermediate = RobertaIntermediate(cfg)
        self.output = RobertaDenseNorm(cfg.intermediate_size, cfg)

    def forward(self, hidden_states: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
        attended = self.attention(hidden_states, bias)
        return self.output(self.intermediate(attended), attended)


class RobertaEncoderStack(nn.Module):
    def __init__(self, cfg: TextConfig):
        super().__init__()
        self.layer = nn.ModuleList([RobertaLayer(cfg) for _ in range(cfg.num_hidden_layers)])


class RobertaEncoderModel(nn.Module):
    """RobertaModel without the pooler (pooler keys are ignored when loading)."""

    def __init__(self, cfg: TextConfig):
        super().__init__()
        self.config = cfg
        self.embeddings = RobertaEmbeddings(cfg)
        self.encoder = RobertaEncoderStack(cfg)
        self.apply(self._init)

    @staticmethod
    def _init(m: nn.Module) -> None:
        if isinstance(m, nn.Linear):
            nn.init.normal_(m.weight, std=0.02)
            nn.init.zeros_(m.bias)
        elif isinstance(m, nn.Embedding):
            nn.init.normal_(m.weight, std=0.02)

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        """token ids [B, N], attention mask [B, N] (1 valid) -> last hidden state [B, N, text hidden]."""
        hidden_states = self.embeddings(input_ids, attention_mask)
        bias = attention_bias(attention_mask)
        for layer in self.encoder.layer:
            hidden_states = layer(hidden_states, bias)
        return hidden_states


# --------------------------------------------------------------------------- fusion

class GatedCrossModalAttention(nn.Module):
    """Audio frames (queries) attend to each auxiliary modality's tokens (keys/values).

    For K auxiliary modalities with attended features A_k (each [B, T, H]):
        G = sigmoid(W [X ; A_1 ; ... ; A_K] + b)   -> K gates, each [B, T, H] in (0, 1)
        Y = LayerNorm(X + sum_k G_k * A_k)
    With text only this is the issue's "gate between the attended text and the audio
    stream"; a gate of 0 passes the audio stream through unchanged (audio-only input).
    A second modality (visual) only adds an entry to ``attn`` and widens ``gate``.
    """

    def __init__(self, dim: int, num_heads: int, modalities: List[str], dropout: float = 0.1,
                 attention_dropout: float = 0.1):
        super().__init__()
        self.modalities = list(modalities)
        self.dim = dim
        self.attn = nn.ModuleDict({m: Wav2Vec2Attention(dim, num_heads, attention_dropout)
                                   for m in self.modalities})
        self.gate = nn.Linear(dim * (1 + len(self.modalities)), dim * len(self.modalities))
        self.dropout = nn.Dropout(dropout)
        self.layer_norm = nn.LayerNorm(dim, eps=1e-5)

    def forward(self, audio_states: torch.Tensor, aux: Dict[str, Tuple[torch.Tensor, torch.Tensor]],
                present: Optional[Dict[str, torch.Tensor]] = None
                ) -> Tuple[torch.Tensor, Dict[str, torch.Tensor]]:
        """``audio_states`` [B, T, H] (queries); ``aux[modality]`` = (tokens [B, N, H], key bias [B, 1, 1, N]);
        ``present[modality]`` [B] (0 zeroes that modality's gate for a row) ->
        (fused states [B, T, H], gate per modality [B, T, H])."""
        attended = []
        for modality in self.modalities:
            tokens, bias = aux[modality]
            attended.append(self.attn[modality](audio_states, bias, kv=tokens))
        all_gates = torch.sigmoid(self.gate(torch.cat([audio_states] + attended, dim=-1)))
        gates: Dict[str, torch.Tensor] = {}
        fused = audio_states
        for index, modality in enumerate(self.modalities):
            gate = all_gates[..., index * self.dim:(index + 1) * self.dim]
            if present is not None and modality in present:
                gate = gate * present[modality].to(gate.dtype).view(-1, 1, 1)
            gates[modality] = gate
            fused = fused + gate * self.dropout(attended[index])
        return self.layer_norm(fused), gates


@dataclass
class WavFusionOutput(OrderedDict):
    """What :meth:`WavFusionModel.forward` returns (B = batch, H = audio hidden size, L = labels).

    The first three fields are always set and are the bundle's ONNX outputs; the others are
    ``None`` where the variant has no such modality, and the ``mar_*`` features exist in training
    mode only.

    Like Hugging Face's ``ModelOutput`` it is a dataclass over an ``OrderedDict`` of its non-``None``
    fields: DistributedDataParallel (``find_unused_parameters=True``) finds the output tensors of a
    dict, list or tuple only (torch 1.13), so a plain dataclass would hide them. Read the fields as
    attributes."""

    logits: torch.Tensor
    """[B, L] classifier scores (before softmax)."""
    embedding: torch.Tensor
    """[B, H] pooled utterance embedding the classifier reads ([B, 2H] for ``fusion="concat"``)."""
    text_gate: torch.Tensor
    """[B] mean GCA text gate over valid frames and channels, in [0, 1]; 0 without GCA."""
    audio_feat: Optional[torch.Tensor] = None
    """[B, H] masked mean of the audio frames before fusion (after the shallow layers; after all
    layers for "concat"/"audio"); ``None`` for ``fusion="text"``."""
    text_feat: Optional[torch.Tensor] = None
    """[B, H] masked mean of the projected text tokens; ``None`` for ``fusion="audio"``."""
    mar_audio_feat: Optional[torch.Tensor] = None
    """[B, mar_dim] ``audio_feat`` through the shared L_mar encoder (training mode only)."""
    mar_text_feat: Optional[torch.Tensor] = None
    """[B, mar_dim] ``text_feat`` through the shared L_mar encoder (training mode only)."""

    def __post_init__(self) -> None:
        for field in fields(self):
            value = getattr(self, field.name)
            if value is not None:
                self[field.name] = value


class WavFusionModel(nn.Module):
    """wav2vec2 shallow layers -> GCA with auxiliary modalities -> deep layers -> pooling -> classifier.

    ``fusion`` selects the ablation variant: "gca" (the model), "concat" (all audio layers,
    pooled audio ⊕ pooled text, the paper's 12/0 concat baseline), "audio" (audio only) and
    "text" (text only)."""

    def __init__(self, cfg: WavFusionConfig):
        super().__init__()
        cfg.validate()
        self.config = cfg
        hidden = cfg.audio.hidden_size
        self.uses_audio = cfg.fusion != "text"
        self.uses_text = cfg.fusion != "audio"
        self.audio_encoder = Wav2Vec2Encoder(cfg.audio)
        self.text_encoder = RobertaEncoderModel(cfg.text)
        self.text_proj = nn.Linear(cfg.text.hidden_size, hidden)
        self.text_proj_norm = nn.LayerNorm(hidden, eps=1e-5)
        if cfg.fusion == "gca":
            self.gca = GatedCrossModalAttention(hidden, cfg.gca_num_heads, cfg.aux_modalities,
                                                dropout=cfg.audio.hidden_dropout,
                                                attention_dropout=cfg.audio.attention_dropout)
        if cfg.pooling == "mean-std" and self.uses_audio:
            self.statistics_pooling = StatisticsPooling(hidden)
        if cfg.log_mel_statistics:
            self.log_mel_statistics = LogMelStatistics(cfg.audio.num_mel_bins, hidden, cfg.classifier_dropout,
                                                       cfg.speaker_normalised_statistics,
                                                       cfg.speaker_statistics_dropout)
        if cfg.statistics_expert:
            self.statistics_expert = StatisticsExpert(4 * cfg.audio.num_mel_bins, cfg.statistics_expert_hidden,
                                                      cfg.num_labels, cfg.statistics_expert_members)
        self.mar_encoder = nn.Linear(hidden, cfg.mar_dim)  # shared across modalities (L_mar)
        self.classifier_dropout = nn.Dropout(cfg.classifier_dropout)
        self.classifier = nn.Linear(2 * hidden if cfg.fusion == "concat" else hidden, cfg.num_labels)
        self._drop_unused()

    def _drop_unused(self) -> None:
        if not self.uses_text:
            del self.text_encoder, self.text_proj, self.text_proj_norm
        if not self.uses_audio:
            del self.audio_encoder

    # inputs are raw float audio at 16 kHz; the graph normalises itself
    def normalise_audio(self, audio: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        """[B, S] raw samples, valid lengths [B] -> zero mean, unit variance over valid samples, 0 after."""
        mask = lengths_to_mask(audio, lengths)
        count = mask.sum(1, keepdim=True).clamp(min=1.0)
        mean = (audio * mask).sum(1, keepdim=True) / count
        var = (((audio - mean) * mask) ** 2).sum(1, keepdim=True) / count
        return (audio - mean) / torch.sqrt(var + 1e-7) * mask

    def encode_text(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        """token ids [B, N], mask [B, N] -> text tokens projected to the audio width [B, N, H]."""
        text_states = self.text_encoder(input_ids, attention_mask)
        return self.text_proj_norm(self.text_proj(text_states))

    def utterance_statistics(self, audio: torch.Tensor, audio_lengths: torch.Tensor) -> torch.Tensor:
        """[B, S] raw 16 kHz samples, valid lengths [B] -> the statistics path's raw input [B, 4M] (no
        augmentation): what a speaker's mean and deviation are taken over (``statistics.onnx``)."""
        front_end = self.audio_encoder.feature_extractor
        assert isinstance(front_end, LogMelFeatureEncoder)  # config.validate
        lengths = audio_lengths.to(torch.long)
        samples = F.pad(self.normalise_audio(audio, lengths), (0, self.audio_encoder.receptive_field))
        log_mel = front_end.log_mel(samples)
        return LogMelStatistics.statistics(log_mel, lengths_to_mask(log_mel[:, 0], front_end.stft_frames(lengths)))

    def forward(self, audio: torch.Tensor, audio_lengths: torch.Tensor, input_ids: torch.Tensor,
                attention_mask: torch.Tensor, text_present: Optional[torch.Tensor] = None,
                speaker_statistics: Optional[torch.Tensor] = None) -> WavFusionOutput:
        """``audio`` [B, S] raw 16 kHz samples (zero-padded), ``audio_lengths`` [B] valid samples,
        ``input_ids`` [B, N] and ``attention_mask`` [B, N] (1 valid token), ``text_present`` [B]
        (optional, training: 0 for a row whose transcript was dropped zeroes its text gate),
        ``speaker_statistics`` [B, 2, 4M] (optional, with ``speaker_normalised_statistics``: mean and
        standard deviation of :meth:`utterance_statistics` over each row's speaker; NaN rows or None:
        the training set's)."""
        cfg = self.config
        text_mask = attention_mask.to(torch.float32)
        text_tokens: Optional[torch.Tensor] = None
        text_feat: Optional[torch.Tensor] = None
        audio_feat: Optional[torch.Tensor] = None
        text_gate: Optional[torch.Tensor] = None
        expert_logits: Optional[torch.Tensor] = None
        if self.uses_text:
            text_tokens = self.encode_text(input_ids, attention_mask)
            text_feat = masked_mean(text_tokens, text_mask)
        if self.uses_audio:
            lengths = audio_lengths.to(torch.long)
            samples = self.normalise_audio(audio, lengths)
            # zero-pad by one receptive field so clips shorter than 25 ms still give a frame;
            # padded samples are never read by valid frames.
            samples = F.pad(samples, (0, self.audio_encoder.receptive_field))
            log_mel: Optional[torch.Tensor] = None
            front_end = self.audio_encoder.feature_extractor
            if cfg.log_mel_statistics:
                # one (augmented) log-mel for the encoder and the statistics path
                assert isinstance(front_end, LogMelFeatureEncoder)  # config.validate
                log_mel = front_end.augment(front_end.log_mel(samples))
            hidden_states, frame_mask = self.audio_encoder.embed(samples, lengths, log_mel)
            frame_bias = attention_bias(frame_mask)
            num_layers = cfg.audio.num_hidden_layers
            split = cfg.num_shallow_layers if cfg.fusion == "gca" else num_layers
            hidden_states = self.audio_encoder.run_layers(hidden_states, frame_bias, 0, split)
            audio_feat = masked_mean(hidden_states, frame_mask)
            if cfg.fusion == "gca":
                assert text_tokens is not None  # "gca" uses text (config.validate)
                present = {"text": text_present} if text_present is not None else None
                hidden_states, gates = self.gca(hidden_states, {"text": (text_tokens, attention_bias(text_mask))},
                                                present)
                hidden_states = self.audio_encoder.run_layers(hidden_states, frame_bias, split, num_layers)
                frame_gate = gates["text"].mean(-1)
                text_gate = (frame_gate * frame_mask).sum(1) / frame_mask.sum(1).clamp(min=1.0)
            hidden_states = self.audio_encoder.finalize(hidden_states)
            if cfg.pooling == "mean-std":
                embedding = self.statistics_pooling(hidden_states, frame_mask)
            else:
                embedding = masked_mean(hidden_states, frame_mask)
            if log_mel is not None:
                assert isinstance(front_end, LogMelFeatureEncoder)
                # frames past stft_frames read padding: masked out
                stft_mask = lengths_to_mask(log_mel[:, 0], front_end.stft_frames(lengths))
                if self.training and cfg.encoder_dropout > 0:
                    keep = (torch.rand(embedding.shape[0], 1, device=embedding.device) >= cfg.encoder_dropout)
                    embedding = embedding * keep.to(embedding.dtype)
                path = cast(LogMelStatistics, self.log_mel_statistics)
                stats = path.normalised_statistics(log_mel, stft_mask, speaker_statistics)
                embedding = embedding + path.project(stats)
                if cfg.statistics_expert:
                    expert_logits = self.statistics_expert(stats)
            if cfg.fusion == "concat":
                assert text_feat is not None  # "concat" uses text
                embedding = torch.cat([embedding, text_feat], dim=-1)
        else:
            assert text_feat is not None  # without audio the model is text-only
            embedding = text_feat
        if text_gate is None:
            text_gate = torch.zeros_like(embedding[:, 0])
        logits = self.classifier(self.classifier_dropout(embedding))
        if expert_logits is not None:
            logits = (logits + expert_logits) / cast(StatisticsExpert, self.statistics_expert).temperature
        mar_audio_feat = mar_text_feat = None
        if self.training:
            # L_mar's shared encoder runs inside forward (DistributedDataParallel sees each parameter
            # used once per step); in eval mode (and so in the exported graph) it is not computed
            mar_audio_feat = self.mar_encoder(audio_feat) if audio_feat is not None else None
            mar_text_feat = self.mar_encoder(text_feat) if text_feat is not None else None
        return WavFusionOutput(logits=logits, embedding=embedding, text_gate=text_gate,
                               audio_feat=audio_feat, text_feat=text_feat,
                               mar_audio_feat=mar_audio_feat, mar_text_feat=mar_text_feat)

    def mar_features(self, output: WavFusionOutput) -> List[torch.Tensor]:
        """Per-modality features through the shared L_mar encoder (audio first, then text), each [B, mar_dim]."""
        features = []
        for feat, mar_feat in ((output.audio_feat, output.mar_audio_feat), (output.text_feat, output.mar_text_feat)):
            if mar_feat is not None:
                features.append(mar_feat)
            elif feat is not None:
                features.append(self.mar_encoder(feat))
        return features


class OnnxWrapper(nn.Module):
    """Fixed input/output signature of the bundle contract."""

    def __init__(self, model: WavFusionModel):
        super().__init__()
        self.model = model

    def forward(self, audio: torch.Tensor, audio_lengths: torch.Tensor, input_ids: torch.Tensor,
                attention_mask: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        output = self.model(audio, audio_lengths, input_ids, attention_mask)
        return output.logits, output.embedding, output.text_gate


class SpeakerNormalisedOnnxWrapper(nn.Module):
    """The bundle contract plus ``speaker_statistics`` [B, 2, 4M] (NaN rows: the training set's), for a
    model with ``speaker_normalised_statistics``."""

    def __init__(self, model: WavFusionModel):
        super().__init__()
        self.model = model

    def forward(self, audio: torch.Tensor, audio_lengths: torch.Tensor, input_ids: torch.Tensor,
                attention_mask: torch.Tensor, speaker_statistics: torch.Tensor
                ) -> Tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        output = self.model(audio, audio_lengths, input_ids, attention_mask, speaker_statistics=speaker_statistics)
        return output.logits, output.embedding, output.text_gate


class UtteranceStatisticsOnnxWrapper(nn.Module):
    """``statistics.onnx``: audio [B, S], audio_lengths [B] -> statistics [B, 4M], what the studio averages
    over a speaker's utterances to make their ``speaker_statistics``."""

    def __init__(self, model: WavFusionModel):
        super().__init__()
        self.model = model

    def forward(self, audio: torch.Tensor, audio_lengths: torch.Tensor) -> torch.Tensor:
        return self.model.utterance_statistics(audio, audio_lengths)
