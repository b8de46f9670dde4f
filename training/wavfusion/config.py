"""Configuration objects.

Field names of :class:`AudioConfig` and :class:`TextConfig` follow Hugging Face's
``Wav2Vec2Config`` / ``RobertaConfig`` so that a ``config.json`` from a real
checkpoint can be read with :meth:`AudioConfig.from_hf` / :meth:`TextConfig.from_hf`.
"""
from __future__ import annotations

import copy
import dataclasses
from dataclasses import dataclass, field
from typing import Any, Dict, List, Tuple

LABELS_4 = ["neutral", "happy", "angry", "sad"]


@dataclass
class AudioConfig:
    hidden_size: int = 768
    num_hidden_layers: int = 12
    num_attention_heads: int = 12
    intermediate_size: int = 3072
    conv_dim: Tuple[int, ...] = (512, 512, 512, 512, 512, 512, 512)
    conv_kernel: Tuple[int, ...] = (10, 3, 3, 3, 3, 2, 2)
    conv_stride: Tuple[int, ...] = (5, 2, 2, 2, 2, 2, 2)
    conv_bias: bool = False
    feat_extract_norm: str = "group"  # "group" (wav2vec2-base) or "layer" (large-lv60)
    num_conv_pos_embeddings: int = 128
    num_conv_pos_embedding_groups: int = 16
    do_stable_layer_norm: bool = False
    layer_norm_eps: float = 1e-5
    hidden_dropout: float = 0.1
    attention_dropout: float = 0.1
    activation_dropout: float = 0.0
    feat_proj_dropout: float = 0.0
    mask_time_prob: float = 0.0
    mask_time_length: int = 10
    # "conv": wav2vec 2.0's convolutional feature encoder over raw samples (the paper's model);
    # "log-mel": an in-graph log-mel filterbank (25 ms / 10 ms, num_mel_bins) with a convolutional
    # subsampler to 50 frames/s, as in w2v-BERT 2.0 and Conformer encoders (an option, see training/README)
    feature_encoder: str = "conv"
    num_mel_bins: int = 80
    # training-time augmentation of the log-mel front end (no effect in eval mode or in the exported
    # graph): a random frequency warp of the mel axis by a factor in [1 - mel_warp, 1 + mel_warp] per
    # clip (vocal tract length perturbation, Jaitly & Hinton 2013: another voice, same prosody), and
    # mask_mel_bands SpecAugment frequency masks of up to mask_mel_width bands each
    mel_warp: float = 0.0
    mask_mel_bands: int = 0
    mask_mel_width: int = 8

    @classmethod
    def from_hf(cls, d: Dict[str, Any]) -> "AudioConfig":
        names = {f.name for f in dataclasses.fields(cls)}
        kw: Dict[str, Any] = {k: (tuple(v) if isinstance(v, list) else v) for k, v in d.items() if k in names}
        return cls(**kw)


@dataclass
class TextConfig:
    vocab_size: int = 50265
    hidden_size: int = 768
    num_hidden_layers: int = 12
    num_attention_heads: int = 12
    intermediate_size: int = 3072
    max_position_embeddings: int = 514
    type_vocab_size: int = 1
    pad_token_id: int = 1
    layer_norm_eps: float = 1e-5
    hidden_dropout_prob: float = 0.1
    attention_probs_dropout_prob: float = 0.1

    @classmethod
    def from_hf(cls, d: Dict[str, Any]) -> "TextConfig":
        names = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in d.items() if k in names})

    @property
    def max_text_tokens(self) -> int:
        # RoBERTa positions start at pad_token_id + 1
        return self.max_position_embeddings - self.pad_token_id - 1


@dataclass
class WavFusionConfig:
    name: str = "base"
    audio: AudioConfig = field(default_factory=AudioConfig)
    text: TextConfig = field(default_factory=TextConfig)
    # index of the first deep layer: layers [0, num_shallow_layers) are shallow,
    # the GCA block sits after them, layers [num_shallow_layers, N) are deep.
    num_shallow_layers: int = 9
    # "gca" | "concat" | "audio" | "text"
    fusion: str = "gca"
    aux_modalities: List[str] = field(default_factory=lambda: ["text"])
    gca_num_heads: int = 8
    labels: List[str] = field(default_factory=lambda: list(LABELS_4))
    classifier_dropout: float = 0.1
    # utterance pooling of the deep layers' frames: "mean" (the paper's) or "mean-std" (statistics
    # pooling as in x-vectors: mean and standard deviation over valid frames, projected back to
    # hidden_size so the embedding keeps its width; an option, see training/README)
    pooling: str = "mean"
    # an utterance-statistics path beside the encoder (needs the log-mel front end): mean and standard
    # deviation over valid frames of the log-mel bands and of their frame-to-frame differences ->
    # BatchNorm -> Linear -> GELU -> Linear (zero at start), added to the pooled embedding before the
    # classifier. An option, off by default: see training/README "Utterance statistics".
    log_mel_statistics: bool = False
    # training-time probability that a row's pooled encoder embedding is left out, so that the
    # utterance-statistics path must classify that row on its own (modality dropout between the two
    # paths; needs log_mel_statistics; no effect in eval mode or in the exported graph)
    encoder_dropout: float = 0.0
    # the statistics path normalised by the speaker: each utterance's statistics are z-normalised by the
    # mean and deviation of the statistics over its speaker's utterances (a model input the studio computes
    # per speaker column; without one, the training set's). Needs log_mel_statistics. See training/README
    # "Speaker-normalised statistics".
    speaker_normalised_statistics: bool = False
    # training-time probability that a row is normalised by the training set's statistics instead of its
    # speaker's (so the model also serves utterances without a speaker); no effect in eval or export
    speaker_statistics_dropout: float = 0.0
    # a second classifier on the speaker-normalised statistics whose logits are added to the network's (a
    # product of experts), fitted after the network (`python -m wavfusion fit-statistics-expert`). Needs
    # speaker_normalised_statistics. See training/README "Statistics expert".
    statistics_expert: bool = False
    statistics_expert_hidden: int = 256
    statistics_expert_members: int = 5
    # homogeneous feature discrepancy learning
    mar_dim: int = 256
    mar_margin: float = 0.3
    lambda_mar: float = 1.0
    # training-time probability that a sample's transcript is replaced by the
    # empty-text encoding [<s>, </s>]
    text_dropout: float = 0.3
    max_seconds: float = 20.0

    @property
    def num_labels(self) -> int:
        return len(self.labels)

    @property
    def num_deep_layers(self) -> int:
        return self.audio.num_hidden_layers - self.num_shallow_layers

    def to_dict(self) -> Dict[str, Any]:
        d = dataclasses.asdict(self)
        d["audio"]["conv_dim"] = list(self.audio.conv_dim)
        d["audio"]["conv_kernel"] = list(self.audio.conv_kernel)
        d["audio"]["conv_stride"] = list(self.audio.conv_stride)
        return d

    @classmethod
    def from_dict(cls, d: Dict[str, Any]) -> "WavFusionConfig":
        d = copy.deepcopy(d)
        audio = AudioConfig.from_hf(d.pop("audio", {}))
        text = TextConfig.from_hf(d.pop("text", {}))
        names = {f.name for f in dataclasses.fields(cls)}
        return cls(audio=audio, text=text, **{k: v for k, v in d.items() if k in names})

    def validate(self) -> None:
        a = self.audio
        if not 0 <= self.num_shallow_layers <= a.num_hidden_layers:
            raise ValueError(
                f"num_shallow_layers={self.num_shallow_layers} must be in [0, {a.num_hidden_layers}]")
        if a.feature_encoder not in ("conv", "log-mel"):
            raise ValueError(f"unknown feature_encoder {a.feature_encoder!r} (expected 'conv' or 'log-mel')")
        if self.fusion not in ("gca", "concat", "audio", "text"):
            raise ValueError(f"unknown fusion {self.fusion!r}")
        if self.pooling not in ("mean", "mean-std"):
            raise ValueError(f"unknown pooling {self.pooling!r} (expected 'mean' or 'mean-std')")
        if not 0.0 <= a.mel_warp < 0.5 or a.mask_mel_bands < 0 or a.mask_mel_width < 0:
            raise ValueError(f"mel augmentation out of range: mel_warp={a.mel_warp} (expected 0 <= x < 0.5), "
                             f"mask_mel_bands={a.mask_mel_bands}, mask_mel_width={a.mask_mel_width} (expected >= 0)")
        if (a.mel_warp > 0 or a.mask_mel_bands > 0) and a.feature_encoder != "log-mel":
            raise ValueError("mel_warp and mask_mel_bands augment the log-mel front end "
                             f"(feature_encoder={a.feature_encoder!r})")
        if not 0.0 <= self.encoder_dropout < 1.0:
            raise ValueError(f"encoder_dropout={self.encoder_dropout} must be in [0, 1)")
        if self.encoder_dropout > 0 and not self.log_mel_statistics:
            raise ValueError("encoder_dropout needs log_mel_statistics (the path that classifies a row without "
                             "the encoder)")
        if self.speaker_normalised_statistics and not self.log_mel_statistics:
            raise ValueError("speaker_normalised_statistics needs log_mel_statistics (it normalises that path)")
        if self.statistics_expert and not self.speaker_normalised_statistics:
            raise ValueError("statistics_expert needs speaker_normalised_statistics (it reads those statistics)")
        if self.statistics_expert_hidden < 1 or self.statistics_expert_members < 1:
            raise ValueError(f"statistics_expert_hidden={self.statistics_expert_hidden} and "
                             f"statistics_expert_members={self.statistics_expert_members} must be at least 1")
        if not 0.0 <= self.speaker_statistics_dropout <= 1.0:
            raise ValueError(f"speaker_statistics_dropout={self.speaker_statistics_dropout} must be in [0, 1]")
        if self.log_mel_statistics and (a.feature_encoder != "log-mel" or self.fusion == "text"):
            raise ValueError("log_mel_statistics needs the log-mel feature encoder and an audio branch "
                             f"(feature_encoder={a.feature_encoder!r}, fusion={self.fusion!r})")
        if not (len(a.conv_dim) == len(a.conv_kernel) == len(a.conv_stride)):
            raise ValueError("conv_dim, conv_kernel and conv_stride must have equal length")
        if a.hidden_size % a.num_attention_heads or a.hidden_size % self.gca_num_heads:
            raise ValueError("audio hidden_size must be divisible by the attention heads")
        if self.text.hidden_size % self.text.num_attention_heads:
            raise ValueError("text hidden_size must be divisible by its attention heads")
        for m in self.aux_modalities:
            if m not in ("text", "visual"):
                raise ValueError(f"unknown auxiliary modality {m!r}")


def base_config(**overrides: Any) -> WavFusionConfig:
    """wav2vec2-base + roberta-base shapes, 9 shallow + 3 deep layers (paper's best split)."""
    cfg = WavFusionConfig(name="base", audio=AudioConfig(), text=TextConfig(), num_shallow_layers=9,
                          gca_num_heads=8, mar_dim=256)
    return _apply(cfg, overrides)


def tiny_config(vocab_size: int = 1024, **overrides: Any) -> WavFusionConfig:
    """Small CPU-trainable model for tests and the demo bundle (about 1M parameters).

    Same conv strides as wav2vec2 (20 ms frames, 400-sample receptive field), but narrow;
    4 transformer layers split 3 shallow / 1 deep (the 9/3 ratio of the paper)."""
    audio = AudioConfig(
        hidden_size=96, num_hidden_layers=4, num_attention_heads=4, intermediate_size=192,
        conv_dim=(32, 32, 48, 64, 96, 96, 96), conv_kernel=(10, 3, 3, 3, 3, 2, 2),
        conv_stride=(5, 2, 2, 2, 2, 2, 2), conv_bias=True, feat_extract_norm="layer",
        num_conv_pos_embeddings=32, num_conv_pos_embedding_groups=4, do_stable_layer_norm=False,
        hidden_dropout=0.1, attention_dropout=0.1, activation_dropout=0.0, feat_proj_dropout=0.0,
        mask_time_prob=0.05, mask_time_length=5)
    text = TextConfig(vocab_size=vocab_size, hidden_size=96, num_hidden_layers=2, num_attention_heads=4,
                      intermediate_size=192, max_position_embeddings=66, type_vocab_size=1, pad_token_id=1,
                      hidden_dropout_prob=0.1, attention_probs_dropout_prob=0.1)
    cfg = WavFusionConfig(name="tiny", audio=audio, text=text, num_shallow_layers=3, gca_num_heads=4,
                          mar_dim=64, max_seconds=10.0)
    return _apply(cfg, overrides)


def small_config(vocab_size: int = 1024, **overrides: Any) -> WavFusionConfig:
    """Between tiny and base (about 3M parameters): twice tiny's width in the conv feature encoder and
    the transformer, 6 audio layers split 4 shallow / 2 deep. The real-speech demo bundle's size."""
    cfg = tiny_config(vocab_size=vocab_size)
    cfg.name = "small"
    a = cfg.audio
    a.conv_dim = (64, 64, 96, 128, 160, 192, 192)
    a.hidden_size, a.num_hidden_layers, a.intermediate_size = 192, 6, 384
    a.num_conv_pos_embedding_groups = 8
    cfg.num_shallow_layers = 4
    cfg.mar_dim = 96
    return _apply(cfg, overrides)


def _apply(cfg: WavFusionConfig, overrides: Dict[str, Any]) -> WavFusionConfig:
    for k, v in overrides.items():
        if v is None:
            continue
        if k.startswith("audio."):
            setattr(cfg.audio, k[6:], v)
        elif k.startswith("text."):
            setattr(cfg.text, k[5:], v)
        else:
            setattr(cfg, k, v)
    cfg.validate()
    return cfg


def get_config(name: str, **overrides: Any) -> WavFusionConfig:
    if name == "tiny":
        return tiny_config(**overrides)
    if name == "small":
        return small_config(**overrides)
    if name == "base":
        return base_config(**overrides)
    raise ValueError(f"unknown config {name!r} (expected 'tiny', 'small' or 'base')")
