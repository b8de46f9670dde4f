"""Key mapping against synthetic state dicts carrying Hugging Face's real key names and shapes.

The expected names/shapes below are written out independently from HF's
modeling_wav2vec2.py / modeling_roberta.py (wav2vec2-base, roberta-base)."""

import pytest
import torch

from wavfusion.checkpoint import (CheckpointMismatchError, load_roberta, load_state_dict_file, load_wav2vec2,
                                  write_safetensors)
from wavfusion.config import get_config
from wavfusion.modules import RobertaEncoderModel, Wav2Vec2Encoder


def hf_wav2vec2_base_keys(layers=12, new_weight_norm=False):
    k: dict = {"masked_spec_embed": (768,)}
    kernels = [10, 3, 3, 3, 3, 2, 2]
    for i, kk in enumerate(kernels):
        k[f"feature_extractor.conv_layers.{i}.conv.weight"] = (512, 1 if i == 0 else 512, kk)
    k["feature_extractor.conv_layers.0.layer_norm.weight"] = (512,)
    k["feature_extractor.conv_layers.0.layer_norm.bias"] = (512,)
    k["feature_projection.layer_norm.weight"] = (512,)
    k["feature_projection.layer_norm.bias"] = (512,)
    k["feature_projection.projection.weight"] = (768, 512)
    k["feature_projection.projection.bias"] = (768,)
    p = "encoder.pos_conv_embed.conv."
    if new_weight_norm:
        k[p + "parametrizations.weight.original0"] = (1, 1, 128)
        k[p + "parametrizations.weight.original1"] = (768, 48, 128)
    else:
        k[p + "weight_g"] = (1, 1, 128)
        k[p + "weight_v"] = (768, 48, 128)
    k[p + "bias"] = (768,)
    k["encoder.layer_norm.weight"] = (768,)
    k["encoder.layer_norm.bias"] = (768,)
    for i in range(layers):
        q = f"encoder.layers.{i}."
        for n in ("k_proj", "v_proj", "q_proj", "out_proj"):
            k[q + f"attention.{n}.weight"] = (768, 768)
            k[q + f"attention.{n}.bias"] = (768,)
        for n in ("layer_norm", "final_layer_norm"):
            k[q + f"{n}.weight"] = (768,)
            k[q + f"{n}.bias"] = (768,)
        k[q + "feed_forward.intermediate_dense.weight"] = (3072, 768)
        k[q + "feed_forward.intermediate_dense.bias"] = (3072,)
        k[q + "feed_forward.output_dense.weight"] = (768, 3072)
        k[q + "feed_forward.output_dense.bias"] = (768,)
    return k


def hf_roberta_base_keys(layers=12, vocab=50265):
    k: dict = {"embeddings.word_embeddings.weight": (vocab, 768), "embeddings.position_embeddings.weight": (514, 768),
         "embeddings.token_type_embeddings.weight": (1, 768), "embeddings.LayerNorm.weight": (768,),
         "embeddings.LayerNorm.bias": (768,)}
    for i in range(layers):
        q = f"encoder.layer.{i}."
        for n in ("query", "key", "value"):
            k[q + f"attention.self.{n}.weight"] = (768, 768)
            k[q + f"attention.self.{n}.bias"] = (768,)
        k[q + "attention.output.dense.weight"] = (768, 768)
        k[q + "attention.output.dense.bias"] = (768,)
        k[q + "attention.output.LayerNorm.weight"] = (768,)
        k[q + "attention.output.LayerNorm.bias"] = (768,)
        k[q + "intermediate.dense.weight"] = (3072, 768)
        k[q + "intermediate.dense.bias"] = (3072,)
        k[q + "output.dense.weight"] = (768, 3072)
        k[q + "output.dense.bias"] = (768,)
        k[q + "output.LayerNorm.weight"] = (768,)
        k[q + "output.LayerNorm.bias"] = (768,)
    return k


def synth(spec, prefix=""):
    g = torch.Generator().manual_seed(0)
    return {prefix + k: torch.randn(*s, generator=g) * 0.02 if len(s) < 2 or s[0] * s[1] < 4_000_000
            else torch.zeros(*s) for k, s in spec.items()}


@pytest.fixture(scope="module")
def base_cfg():
    return get_config("base")


def test_base_model_has_exact_hf_names_and_shapes(base_cfg):
    a = Wav2Vec2Encoder(base_cfg.audio)
    assert {k: tuple(v.shape) for k, v in a.state_dict().items()} == hf_wav2vec2_base_keys()
    del a
    t = RobertaEncoderModel(base_cfg.text)
    assert {k: tuple(v.shape) for k, v in t.state_dict().items()} == hf_roberta_base_keys()


def _small_base(cfg, layers=2):
    cfg.audio.num_hidden_layers = layers
    cfg.text.num_hidden_layers = layers
    return cfg


def test_load_wav2vec2_pretraining_checkpoint_both_weight_norm_namings(tmp_path):
    cfg = _small_base(get_config("base"))
    for new in (False, True):
        sd = synth(hf_wav2vec2_base_keys(2, new_weight_norm=new), prefix="wav2vec2.")
        # heads of Wav2Vec2ForPreTraining are ignored
        sd["quantizer.codevectors"] = torch.zeros(1, 640, 384)
        sd["project_hid.weight"] = torch.zeros(256, 768)
        sd["project_q.weight"] = torch.zeros(256, 256)
        path = str(tmp_path / f"w2v{int(new)}.safetensors")
        write_safetensors(path, sd)
        enc = Wav2Vec2Encoder(cfg.audio)
        ignored = load_wav2vec2(enc, path)
        assert set(ignored) == {"quantizer.codevectors", "project_hid.weight", "project_q.weight"}
        got = enc.state_dict()
        key = "encoder.layers.1.attention.q_proj.weight"
        assert torch.equal(got[key], sd["wav2vec2." + key])
        src = "parametrizations.weight.original1" if new else "weight_v"
        assert torch.equal(got["encoder.pos_conv_embed.conv.weight_v"], sd["wav2vec2.encoder.pos_conv_embed.conv." + src])


def test_load_roberta_mlm_checkpoint_bin(tmp_path):
    cfg = _small_base(get_config("base"))
    sd = synth(hf_roberta_base_keys(2), prefix="roberta.")
    sd["roberta.embeddings.position_ids"] = torch.arange(514).unsqueeze(0)
    sd["lm_head.dense.weight"] = torch.zeros(768, 768)
    sd["lm_head.bias"] = torch.zeros(50265)
    path = str(tmp_path / "pytorch_model.bin")
    torch.save(sd, path)
    enc = RobertaEncoderModel(cfg.text)
    load_roberta(enc, str(tmp_path))  # folder holding pytorch_model.bin
    k = "encoder.layer.1.attention.self.value.weight"
    assert torch.equal(enc.state_dict()[k], sd["roberta." + k])


def test_wrong_checkpoint_lists_missing_and_unexpected_keys():
    cfg = _small_base(get_config("base"))
    enc = Wav2Vec2Encoder(cfg.audio)
    sd = synth(hf_roberta_base_keys(1, vocab=100))  # a RoBERTa checkpoint given as audio encoder
    with pytest.raises(CheckpointMismatchError) as e:
        load_wav2vec2(enc, sd)
    msg = str(e.value)
    assert "missing keys" in msg and "unexpected keys" in msg
    assert "feature_projection.projection.weight" in e.value.missing
    assert "embeddings.word_embeddings.weight" in e.value.unexpected
    assert f"missing keys ({len(e.value.missing)})" in msg and "embeddings.LayerNorm.bias" in msg
    # right names, wrong shapes (a large model's layer into a base-size encoder)
    sd = synth(hf_wav2vec2_base_keys(2))
    sd["encoder.layers.0.feed_forward.intermediate_dense.weight"] = torch.zeros(4096, 768)
    with pytest.raises(CheckpointMismatchError, match="shape mismatches"):
        load_wav2vec2(Wav2Vec2Encoder(cfg.audio), sd)


def test_safetensors_roundtrip(tmp_path):
    sd = {"a": torch.randn(3, 4), "b": torch.arange(5), "c": torch.randn(2).to(torch.float16)}
    write_safetensors(str(tmp_path / "x.safetensors"), sd)
    back = load_state_dict_file(str(tmp_path / "x.safetensors"))
    assert all(torch.equal(back[k], sd[k]) for k in sd)
