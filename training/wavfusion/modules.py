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
from typing import Dict, List, Optional, Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F

from .config import AudioConfig, TextConfig, WavFusionConfig

NEG_INF = -1e9


# --------------------------------------------------------------------------- helpers

def positions_like(x: torch.Tensor) -> torch.Tensor:
    """0..T-1 for the second axis of ``x`` ([B, T, ...]) as int64, traced dynamically."""
    row = x[0]
    while row.dim() > 1:
        row = row[:, 0]
    return torch.cumsum(torch.ones_like(row, dtype=torch.long), 0) - 1


def lengths_to_mask(x: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
    """float mask [B, T]: 1 for t < lengths[b]."""
    pos = positions_like(x)
    return (pos.unsqueeze(0) < lengths.unsqueeze(1)).to(torch.float32)


def masked_mean(x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """x [B, T, D], mask [B, T] float -> [B, D]."""
    n = mask.sum(1, keepdim=True).clamp(min=1.0)
    return (x * mask.unsqueeze(-1)).sum(1) / n


def masked_std(x: torch.Tensor, mask: torch.Tensor, mean: torch.Tensor) -> torch.Tensor:
    """x [B, T, D], mask [B, T] float, mean [B, D] (masked_mean) -> [B, D] standard deviation over
    valid frames (population; 0 for a single frame, plus a small floor so the gradient stays finite)."""
    n = mask.sum(1, keepdim=True).clamp(min=1.0)
    var = (((x - mean.unsqueeze(1)) ** 2) * mask.unsqueeze(-1)).sum(1) / n
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

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        mean = masked_mean(x, mask)
        return self.proj(torch.cat([mean, masked_std(x, mask, mean)], dim=-1))


def attention_bias(mask: torch.Tensor) -> torch.Tensor:
    """key mask [B, S] (1 valid) -> additive bias [B, 1, 1, S]."""
    return ((1.0 - mask.to(torch.float32)) * NEG_INF).unsqueeze(1).unsqueeze(1)


def multi_head_attention(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, bias: torch.Tensor,
                         num_heads: int, head_dim: int, dropout: float, training: bool) -> torch.Tensor:
    """q [B, T, D] (already scaled), k/v [B, S, D], bias [B, 1, 1, S] -> [B, T, D].

    Written out explicitly (no scaled_dot_product_attention) so it runs on torch 1.13
    and exports with the TorchScript ONNX exporter."""
    b = q.shape[0]
    q = q.reshape(b, -1, num_heads, head_dim).transpose(1, 2)
    k = k.reshape(b, -1, num_heads, head_dim).transpose(1, 2)
    v = v.reshape(b, -1, num_heads, head_dim).transpose(1, 2)
    scores = torch.matmul(q, k.transpose(-1, -2)) + bias
    probs = torch.softmax(scores, dim=-1)
    probs = F.dropout(probs, p=dropout, training=training)
    out = torch.matmul(probs, v).transpose(1, 2)
    return out.reshape(b, -1, num_heads * head_dim)


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


class ConvLayer(nn.Module):
    def __init__(self, cfg: AudioConfig, i: int):
        super().__init__()
        cin = 1 if i == 0 else cfg.conv_dim[i - 1]
        cout = cfg.conv_dim[i]
        self.kernel = cfg.conv_kernel[i]
        self.stride = cfg.conv_stride[i]
        self.conv = nn.Conv1d(cin, cout, self.kernel, stride=self.stride, bias=cfg.conv_bias)
        self.norm_kind = None
        if cfg.feat_extract_norm == "group" and i == 0:
            self.layer_norm = MaskedGroupNorm(cout, cout, eps=1e-5, affine=True)
            self.norm_kind = "group"
        elif cfg.feat_extract_norm == "layer":
            self.layer_norm = nn.LayerNorm(cout, eps=cfg.layer_norm_eps, elementwise_affine=True)
            self.norm_kind = "layer"

    def out_lengths(self, lengths: torch.Tensor) -> torch.Tensor:
        return torch.div(lengths - self.kernel, self.stride, rounding_mode="floor") + 1

    def forward(self, x: torch.Tensor, lengths: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        x = self.conv(x)
        lengths = self.out_lengths(lengths).clamp(min=1)
        if self.norm_kind == "group":
            x = self.layer_norm.forward_masked(x, lengths_to_mask(x.transpose(1, 2), lengths))
        elif self.norm_kind == "layer":
            x = self.layer_norm(x.transpose(1, 2)).transpose(1, 2)
        return F.gelu(x), lengths


class FeatureEncoder(nn.Module):
    """wav2vec 2.0's convolutional feature encoder: raw samples [B, S] -> [B, conv_dim[-1], T] at 50 Hz."""

    def __init__(self, cfg: AudioConfig):
        super().__init__()
        self.conv_layers = nn.ModuleList([ConvLayer(cfg, i) for i in range(len(cfg.conv_dim))])

    @property
    def hop_samples(self) -> int:
        return int(math.prod(layer.stride for layer in self.conv_layers))

    @property
    def receptive_field(self) -> int:
        r = 1
        for layer in reversed(self.conv_layers):
            r = (r - 1) * layer.stride + layer.kernel
        return r

    @property
    def min_samples(self) -> int:
        """The first output frame's receptive field (400 samples = 25 ms for wav2vec2's strides)."""
        return self.receptive_field

    def out_lengths(self, lengths: torch.Tensor) -> torch.Tensor:
        for layer in self.conv_layers:
            lengths = layer.out_lengths(lengths).clamp(min=1)
        return lengths

    def forward(self, audio: torch.Tensor, lengths: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        x = audio.unsqueeze(1)
        for layer in self.conv_layers:
            x, lengths = layer(x, lengths)
        return x, lengths


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

    def __init__(self, cfg: AudioConfig):
        super().__init__()
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

    def out_lengths(self, lengths: torch.Tensor) -> torch.Tensor:
        frames = self._conv_len(lengths, self.WINDOW, self.HOP)
        return self._conv_len(self._conv_len(frames, 3, 2), 3, 1)

    def log_mel(self, audio: torch.Tensor) -> torch.Tensor:
        """[B, S] -> [B, num_mel_bins, frames]."""
        spec = F.conv1d(audio.unsqueeze(1), self.dft, stride=self.HOP)  # [B, 2F, T]
        power = spec[:, :self.n_freqs] ** 2 + spec[:, self.n_freqs:] ** 2
        return torch.log(torch.matmul(self.mel, power) + 1e-6)

    def forward(self, audio: torch.Tensor, lengths: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        x = self.log_mel(audio)
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
    """HF's ``encoder`` submodule: pos_conv_embed, layer_norm, layers."""

    def __init__(self, cfg: AudioConfig):
        super().__init__()
        self.stable = cfg.do_stable_layer_norm
        self.pos_conv_embed = PositionalConvEmbedding(cfg)
        self.layer_norm = nn.LayerNorm(cfg.hidden_size, eps=cfg.layer_norm_eps)
        self.dropout = nn.Dropout(cfg.hidden_dropout)
        self.layers = nn.ModuleList([Wav2Vec2EncoderLayer(cfg) for _ in range(cfg.num_hidden_layers)])


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

    def embed(self, audio: torch.Tensor, lengths: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        """normalised audio [B, S] -> (hidden [B, T, H] ready for layer 0, frame mask [B, T])."""
        feats, flen = self.feature_extractor(audio, lengths)
        x = self.feature_projection(feats.transpose(1, 2))
        mask = lengths_to_mask(x, flen)
        x = self._time_mask(x, mask)
        x = x * mask.unsqueeze(-1)
        x = x + self.encoder.pos_conv_embed(x)
        if not self.encoder.stable:
            x = self.encoder.layer_norm(x)
        x = self.encoder.dropout(x)
        return x, mask

    def run_layers(self, x: torch.Tensor, bias: torch.Tensor, start: int, end: int) -> torch.Tensor:
        for layer in self.encoder.layers[start:end]:
            x = layer(x, bias)
        return x

    def finalize(self, x: torch.Tensor) -> torch.Tensor:
        return self.encoder.layer_norm(x) if self.encoder.stable else x


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

    def forward(self, x: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
        a = self.attention(x, bias)
        return self.output(self.intermediate(a), a)


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
        x = self.embeddings(input_ids, attention_mask)
        bias = attention_bias(attention_mask)
        for layer in self.encoder.layer:
            x = layer(x, bias)
        return x


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

    def forward(self, x: torch.Tensor, aux: Dict[str, Tuple[torch.Tensor, torch.Tensor]],
                present: Optional[Dict[str, torch.Tensor]] = None
                ) -> Tuple[torch.Tensor, Dict[str, torch.Tensor]]:
        attended = []
        for m in self.modalities:
            feats, bias = aux[m]
            attended.append(self.attn[m](x, bias, kv=feats))
        g = torch.sigmoid(self.gate(torch.cat([x] + attended, dim=-1)))
        gates: Dict[str, torch.Tensor] = {}
        y = x
        for i, m in enumerate(self.modalities):
            gi = g[..., i * self.dim:(i + 1) * self.dim]
            if present is not None and m in present:
                gi = gi * present[m].to(gi.dtype).view(-1, 1, 1)
            gates[m] = gi
            y = y + gi * self.dropout(attended[i])
        return self.layer_norm(y), gates


class WavFusionModel(nn.Module):
    """wav2vec2 shallow layers -> GCA with auxiliary modalities -> deep layers -> pooling -> classifier.

    ``fusion`` selects the ablation variant: "gca" (the model), "concat" (all audio layers,
    pooled audio ⊕ pooled text, the paper's 12/0 concat baseline), "audio" (audio only) and
    "text" (text only)."""

    def __init__(self, cfg: WavFusionConfig):
        super().__init__()
        cfg.validate()
        self.config = cfg
        H = cfg.audio.hidden_size
        self.uses_audio = cfg.fusion != "text"
        self.uses_text = cfg.fusion != "audio"
        self.audio_encoder = Wav2Vec2Encoder(cfg.audio)
        self.text_encoder = RobertaEncoderModel(cfg.text)
        self.text_proj = nn.Linear(cfg.text.hidden_size, H)
        self.text_proj_norm = nn.LayerNorm(H, eps=1e-5)
        if cfg.fusion == "gca":
            self.gca = GatedCrossModalAttention(H, cfg.gca_num_heads, cfg.aux_modalities,
                                                dropout=cfg.audio.hidden_dropout,
                                                attention_dropout=cfg.audio.attention_dropout)
        if cfg.pooling == "mean-std" and self.uses_audio:
            self.statistics_pooling = StatisticsPooling(H)
        self.mar_encoder = nn.Linear(H, cfg.mar_dim)  # shared across modalities (L_mar)
        self.classifier_dropout = nn.Dropout(cfg.classifier_dropout)
        self.classifier = nn.Linear(2 * H if cfg.fusion == "concat" else H, cfg.num_labels)
        self._drop_unused()

    def _drop_unused(self) -> None:
        if not self.uses_text:
            del self.text_encoder, self.text_proj, self.text_proj_norm
        if not self.uses_audio:
            del self.audio_encoder

    # inputs are raw float audio at 16 kHz; the graph normalises itself
    def normalise_audio(self, audio: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        mask = lengths_to_mask(audio, lengths)
        n = mask.sum(1, keepdim=True).clamp(min=1.0)
        mean = (audio * mask).sum(1, keepdim=True) / n
        var = (((audio - mean) * mask) ** 2).sum(1, keepdim=True) / n
        return (audio - mean) / torch.sqrt(var + 1e-7) * mask

    def encode_text(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        t = self.text_encoder(input_ids, attention_mask)
        return self.text_proj_norm(self.text_proj(t))

    def forward(self, audio: torch.Tensor, audio_lengths: torch.Tensor, input_ids: torch.Tensor,
                attention_mask: torch.Tensor, text_present: Optional[torch.Tensor] = None
                ) -> Dict[str, torch.Tensor]:
        cfg = self.config
        out: Dict[str, torch.Tensor] = {}
        tmask = attention_mask.to(torch.float32)
        feats_for_mar: List[torch.Tensor] = []
        if self.uses_text:
            t = self.encode_text(input_ids, attention_mask)
            text_feat = masked_mean(t, tmask)
            out["text_feat"] = text_feat
        if self.uses_audio:
            lengths = audio_lengths.to(torch.long)
            x = self.normalise_audio(audio, lengths)
            # zero-pad by one receptive field so clips shorter than 25 ms still give a frame;
            # padded samples are never read by valid frames.
            x = F.pad(x, (0, self.audio_encoder.receptive_field))
            h, fmask = self.audio_encoder.embed(x, lengths)
            abias = attention_bias(fmask)
            S = cfg.num_shallow_layers if cfg.fusion == "gca" else cfg.audio.num_hidden_layers
            h = self.audio_encoder.run_layers(h, abias, 0, S)
            out["audio_feat"] = masked_mean(h, fmask)
            if cfg.fusion == "gca":
                tbias = attention_bias(tmask)
                present = {"text": text_present} if text_present is not None else None
                h, gates = self.gca(h, {"text": (t, tbias)}, present)
                h = self.audio_encoder.run_layers(h, abias, S, cfg.audio.num_hidden_layers)
                g = gates["text"].mean(-1)
                out["text_gate"] = (g * fmask).sum(1) / fmask.sum(1).clamp(min=1.0)
            h = self.audio_encoder.finalize(h)
            emb = self.statistics_pooling(h, fmask) if cfg.pooling == "mean-std" else masked_mean(h, fmask)
            if cfg.fusion == "concat":
                emb = torch.cat([emb, text_feat], dim=-1)
        else:
            emb = text_feat
        if "text_gate" not in out:
            out["text_gate"] = torch.zeros_like(emb[:, 0])
        out["embedding"] = emb
        out["logits"] = self.classifier(self.classifier_dropout(emb))
        if self.training:
            # L_mar's shared encoder runs inside forward (DistributedDataParallel sees each parameter
            # used once per step); in eval mode (and so in the exported graph) it is not computed
            for k in ("audio_feat", "text_feat"):
                if k in out:
                    out["mar_" + k] = self.mar_encoder(out[k])
        return out

    def mar_features(self, out: Dict[str, torch.Tensor]) -> List[torch.Tensor]:
        """Per-modality features through the shared L_mar encoder (audio first, then text)."""
        return [out["mar_" + k] if "mar_" + k in out else self.mar_encoder(out[k])
                for k in ("audio_feat", "text_feat") if k in out]


class OnnxWrapper(nn.Module):
    """Fixed input/output signature of the bundle contract."""

    def __init__(self, model: WavFusionModel):
        super().__init__()
        self.model = model

    def forward(self, audio, audio_lengths, input_ids, attention_mask):
        out = self.model(audio, audio_lengths, input_ids, attention_mask)
        return out["logits"], out["embedding"], out["text_gate"]
