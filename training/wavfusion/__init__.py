"""WavFusion reference model (PyTorch): wav2vec2-style audio encoder, RoBERTa-style
text encoder, gated cross-modal attention (GCA) and homogeneous feature discrepancy
(margin) loss, with training, ONNX bundle export and a synthetic demo corpus."""

__version__ = "0.1.0"

from .config import WavFusionConfig, AudioConfig, TextConfig, get_config  # noqa: F401
