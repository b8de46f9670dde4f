import pytest
import torch

from conftest import tiny_cfg
from wavfusion.modules import WavFusionModel


def _batch(B=3, S=24000, T=9, vocab=300, seed=0):
    g = torch.Generator().manual_seed(seed)
    audio = torch.randn(B, S, generator=g) * 0.2
    lengths = torch.tensor([S, S * 2 // 3, 700][:B])
    ids = torch.randint(4, vocab, (B, T), generator=g)
    mask = torch.ones(B, T, dtype=torch.long)
    text_len = [T, 5, 2][:B]
    for b, n in enumerate(text_len):
        ids[b, 0] = 0
        ids[b, n - 1] = 2
        ids[b, n:] = 1
        mask[b, n:] = 0
        audio[b, lengths[b]:] = 0.0
    return audio, lengths, ids, mask, text_len


@pytest.mark.parametrize("fusion", ["gca", "concat", "audio", "text"])
def test_shapes(fusion):
    cfg = tiny_cfg(fusion=fusion)
    m = WavFusionModel(cfg).eval()
    audio, lengths, ids, mask, _ = _batch()
    with torch.no_grad():
        out = m(audio, lengths, ids, mask)
    assert out.logits.shape == (3, 4)
    dim = 2 * cfg.audio.hidden_size if fusion == "concat" else cfg.audio.hidden_size
    assert out.embedding.shape == (3, dim)
    assert out.text_gate.shape == (3,)
    assert torch.isfinite(out.logits).all()


def _padding_check(cfg, seed=0):
    torch.manual_seed(seed)
    m = WavFusionModel(cfg).eval()
    audio, lengths, ids, mask, text_len = _batch(seed=seed)
    # padded region of the batch holds garbage: must not matter
    audio_g = audio.clone()
    for b in range(3):
        audio_g[b, lengths[b]:] = 5.0
    with torch.no_grad():
        batched = m(audio_g, lengths, ids, mask)
        for b in range(3):
            alone = m(audio[b:b + 1, :lengths[b]], lengths[b:b + 1], ids[b:b + 1, :text_len[b]],
                      mask[b:b + 1, :text_len[b]])
            for k in ("logits", "embedding", "text_gate"):
                assert (getattr(alone, k)[0] - getattr(batched, k)[b]).abs().max().item() <= 1e-4, (k, b)


def test_padding_invariance_tiny():
    _padding_check(tiny_cfg())


def test_padding_invariance_group_norm_and_stable_layer_norm():
    # wav2vec2-base style (GroupNorm in conv 0, masked) and large-lv60 style (stable layer norm)
    _padding_check(tiny_cfg(**{"audio.feat_extract_norm": "group", "audio.conv_bias": False}), seed=1)
    _padding_check(tiny_cfg(**{"audio.do_stable_layer_norm": True}), seed=2)


def test_padding_invariance_concat():
    _padding_check(tiny_cfg(fusion="concat"), seed=3)


def test_gate_in_unit_interval_and_split_points():
    for s in (0, 2, 4):
        cfg = tiny_cfg(num_shallow_layers=s)
        m = WavFusionModel(cfg).eval()
        audio, lengths, ids, mask, _ = _batch()
        with torch.no_grad():
            h = m(audio, lengths, ids, mask)
        assert ((h.text_gate >= 0) & (h.text_gate <= 1)).all()
    # per-frame, per-channel gates too
    x = torch.randn(2, 7, cfg.audio.hidden_size)
    feats = torch.randn(2, 4, cfg.audio.hidden_size)
    bias = torch.zeros(2, 1, 1, 4)
    y, gates = m.gca(x, {"text": (feats, bias)})
    assert y.shape == x.shape
    assert gates["text"].shape == x.shape
    assert gates["text"].min() >= 0 and gates["text"].max() <= 1


def test_second_auxiliary_modality_plugs_in():
    from wavfusion.modules import GatedCrossModalAttention

    g = GatedCrossModalAttention(32, 4, ["text", "visual"], dropout=0.0, attention_dropout=0.0).eval()
    x = torch.randn(2, 5, 32)
    aux = {"text": (torch.randn(2, 3, 32), torch.zeros(2, 1, 1, 3)),
           "visual": (torch.randn(2, 6, 32), torch.zeros(2, 1, 1, 6))}
    y, gates = g(x, aux)
    assert y.shape == x.shape and set(gates) == {"text", "visual"}
    # a missing modality (present = 0) contributes nothing
    y2, gates2 = g(x, aux, present={"visual": torch.tensor([0.0, 1.0])})
    assert gates2["visual"][0].abs().max() == 0


def test_short_audio_and_empty_text():
    m = WavFusionModel(tiny_cfg()).eval()
    audio = torch.randn(1, 100)
    with torch.no_grad():
        out = m(audio, torch.tensor([100]), torch.tensor([[0, 2]]), torch.tensor([[1, 1]]))
    assert torch.isfinite(out.logits).all()


def test_config_validation():
    with pytest.raises(ValueError):
        tiny_cfg(num_shallow_layers=9)
    with pytest.raises(ValueError):
        tiny_cfg(fusion="sum")


def test_padding_invariance_log_mel_front_end():
    _padding_check(tiny_cfg(**{"audio.feature_encoder": "log-mel"}), seed=4)


def test_log_mel_front_end_matches_torchaudio():
    """The in-graph STFT-as-convolution + mel filters equal torchaudio's MelSpectrogram (an independent
    implementation) on real-shaped input, and frame lengths follow the documented arithmetic."""
    import torchaudio

    from wavfusion.modules import LogMelFeatureEncoder

    cfg = tiny_cfg(**{"audio.feature_encoder": "log-mel"})
    enc = LogMelFeatureEncoder(cfg.audio)
    g = torch.Generator().manual_seed(0)
    t = torch.arange(16000) / 16000.0
    audio = (torch.sin(2 * torch.pi * 220 * t) * 0.3 + torch.randn(16000, generator=g) * 0.05).unsqueeze(0)
    ours = enc.log_mel(audio)[0]
    ref = torchaudio.transforms.MelSpectrogram(sample_rate=16000, n_fft=400, win_length=400, hop_length=160,
                                               n_mels=cfg.audio.num_mel_bins, center=False, power=2.0,
                                               mel_scale="htk", norm=None)(audio)[0]
    assert ours.shape == ref.shape == (cfg.audio.num_mel_bins, (16000 - 400) // 160 + 1)
    assert (ours - torch.log(ref + 1e-6)).abs().max().item() < 1e-3
    lengths = torch.tensor([16000, 1360, 1359, 400])
    frames = enc.out_lengths(lengths)
    # 16000 samples: 98 STFT frames -> 48 after the stride-2 conv -> 46 after the k=3 context conv
    assert frames.tolist() == [46, 1, 1, 1]
    assert enc.receptive_field == 1360 and enc.hop_samples == 320


def test_unknown_feature_encoder_is_refused():
    with pytest.raises(ValueError, match="feature_encoder"):
        tiny_cfg(**{"audio.feature_encoder": "mfcc"})


def test_statistics_pooling_is_padding_invariant():
    cfg = tiny_cfg(pooling="mean-std", **{"audio.feature_encoder": "log-mel"})
    torch.manual_seed(5)
    m = WavFusionModel(cfg)
    # move the projection off its [I 0] start so the deviation half is exercised
    with torch.no_grad():
        m.statistics_pooling.proj.weight.add_(torch.randn_like(m.statistics_pooling.proj.weight) * 0.1)
    _padding_check_model(m, seed=5)


def _padding_check_model(m, seed):
    m.eval()
    audio, lengths, ids, mask, text_len = _batch(seed=seed)
    audio_g = audio.clone()
    for b in range(3):
        audio_g[b, lengths[b]:] = 5.0
    with torch.no_grad():
        batched = m(audio_g, lengths, ids, mask)
        for b in range(3):
            alone = m(audio[b:b + 1, :lengths[b]], lengths[b:b + 1], ids[b:b + 1, :text_len[b]],
                      mask[b:b + 1, :text_len[b]])
            assert (alone.logits[0] - batched.logits[b]).abs().max().item() <= 1e-4, b


def test_statistics_pooling_starts_as_the_mean_and_uses_the_deviation():
    from wavfusion.modules import StatisticsPooling, masked_mean

    torch.manual_seed(0)
    x = torch.randn(2, 7, 16)
    mask = torch.tensor([[1.0] * 7, [1.0] * 4 + [0.0] * 3])
    pool = StatisticsPooling(16)
    assert torch.allclose(pool(x, mask), masked_mean(x, mask), atol=1e-6)
    # same mean, different spread: only the deviation half can tell them apart
    a = torch.zeros(1, 4, 16)
    b = torch.tensor([1.0, -1.0, 1.0, -1.0]).view(1, 4, 1).expand(1, 4, 16)
    with torch.no_grad():
        pool.proj.weight[:, 16:] = torch.eye(16)
    ones = torch.ones(1, 4)
    assert (pool(b, ones) - pool(a, ones)).abs().min().item() > 0.9


def test_unknown_pooling_is_refused():
    with pytest.raises(ValueError, match="pooling"):
        tiny_cfg(pooling="max")


def test_continuing_a_mean_pooled_bundle_with_statistics_pooling_starts_where_it_was(tmp_path):
    import json

    from wavfusion import train as train_module
    from wavfusion.finetune import bundle_model, read_init_bundle

    cfg = tiny_cfg(**{"audio.feature_encoder": "log-mel"})
    torch.manual_seed(6)
    torch.save(WavFusionModel(cfg).state_dict(), tmp_path / "model.pt")
    (tmp_path / "tokenizer.json").write_text("{}")
    (tmp_path / "model.json").write_text(json.dumps({"name": "t", "labels": cfg.labels, "config": cfg.to_dict()}))
    init = read_init_bundle(str(tmp_path))
    log = []
    with bundle_model(init, log.append):
        same = train_module.build_model("tiny", cfg.labels, 300, {"pooling": None}).eval()
        switched = train_module.build_model("tiny", cfg.labels, 300, {"pooling": "mean-std"}).eval()
    assert same.config.pooling == "mean" and not hasattr(same, "statistics_pooling")
    assert switched.config.pooling == "mean-std" and hasattr(switched, "statistics_pooling")
    assert any("pooling: mean -> mean-std" in line for line in log)
    audio, lengths, ids, mask, _ = _batch(seed=6)
    with torch.no_grad():
        a = same(audio, lengths, ids, mask).logits
        b = switched(audio, lengths, ids, mask).logits
    assert torch.allclose(a, b, atol=1e-5)


def _log_mel_statistics_model(seed):
    """A model with the utterance-statistics path moved off its zero start and non-trivial
    BatchNorm running statistics, so the path changes the logits."""
    torch.manual_seed(seed)
    m = WavFusionModel(tiny_cfg(log_mel_statistics=True, **{"audio.feature_encoder": "log-mel"}))
    path = m.log_mel_statistics
    assert path.norm.running_mean is not None and path.norm.running_var is not None
    with torch.no_grad():
        path.out.weight.normal_(std=0.3)
        path.norm.running_mean.normal_(std=2.0)
        path.norm.running_var.uniform_(0.5, 3.0)
    return m


def test_log_mel_statistics_is_padding_invariant_and_changes_the_logits():
    m = _log_mel_statistics_model(7)
    _padding_check_model(m, seed=7)
    audio, lengths, ids, mask, _ = _batch(seed=7)
    with torch.no_grad():
        with_path = m.eval()(audio, lengths, ids, mask).logits
        m.log_mel_statistics.out.weight.zero_()
        without = m(audio, lengths, ids, mask).logits
    assert (with_path - without).abs().max().item() > 1e-2


def test_log_mel_statistics_reads_band_means_and_deviations():
    from wavfusion.modules import LogMelStatistics

    path = LogMelStatistics(num_mel_bins=2, hidden=4, dropout=0.0).eval()
    with torch.no_grad():
        path.proj.weight.copy_(torch.eye(8)[:4] * 0 + torch.eye(4, 8))  # read the first four statistics
        path.proj.bias.zero_()
        path.out.weight.copy_(torch.eye(4))
    # bands: [0, 2, 0, 2] and constant 3 over four frames, the last frame masked out (value 100)
    log_mel = torch.tensor([[[0.0, 2.0, 0.0, 2.0, 100.0], [3.0, 3.0, 3.0, 3.0, 100.0]]])
    mask = torch.tensor([[1.0, 1.0, 1.0, 1.0, 0.0]])
    got = path(log_mel, mask)[0]
    gelu = torch.nn.functional.gelu
    expected = gelu(torch.tensor([1.0, 3.0, 1.0, 0.0]))  # means (1, 3), deviations (1, ~0)
    assert torch.allclose(got, expected, atol=1e-2), got


def test_log_mel_statistics_trains_on_a_batch_of_one():
    m = _log_mel_statistics_model(8).train()
    audio, lengths, ids, mask, _ = _batch(seed=8)
    out = m(audio[:1], lengths[:1], ids[:1], mask[:1])
    out.logits.sum().backward()
    assert m.log_mel_statistics.out.weight.grad is not None


def test_log_mel_statistics_needs_the_log_mel_front_end():
    with pytest.raises(ValueError, match="log_mel_statistics needs the log-mel feature encoder"):
        tiny_cfg(log_mel_statistics=True, **{"audio.feature_encoder": "conv"})


def test_mel_augmentation_only_in_training_and_shared_with_the_statistics_path():
    from wavfusion.modules import LogMelFeatureEncoder

    cfg = tiny_cfg(log_mel_statistics=True, **{"audio.feature_encoder": "log-mel", "audio.mel_warp": 0.1,
                                               "audio.mask_mel_bands": 2})
    torch.manual_seed(11)
    m = WavFusionModel(cfg)
    front_end = m.audio_encoder.feature_extractor
    assert isinstance(front_end, LogMelFeatureEncoder)
    x = torch.randn(2, 80, 30)
    assert front_end.eval().augment(x) is x
    front_end.train()
    warped = front_end.augment(x)
    assert warped.shape == x.shape and not torch.allclose(warped, x)
    # a band mask fills whole bands with the frame's mean band: some bands of one clip are constant over
    # time only where masked; the warp alone (no masks) keeps band 0 (it reads position 0 * factor)
    cfg.audio.mask_mel_bands = 0
    assert torch.allclose(front_end.augment(x)[:, 0], x[:, 0])
    # the padding invariance and the exported graph are the eval-mode model's: unchanged
    _padding_check_model(m, seed=11)


def test_encoder_dropout_leaves_rows_to_the_statistics_path_in_training_only():
    cfg = tiny_cfg(log_mel_statistics=True, encoder_dropout=0.999999, classifier_dropout=0.0,
                   **{"audio.feature_encoder": "log-mel"})
    torch.manual_seed(12)
    m = WavFusionModel(cfg)
    with torch.no_grad():
        m.log_mel_statistics.out.weight.normal_(std=0.3)
    audio, lengths, ids, mask, _ = _batch(seed=12)
    m.train()
    with torch.no_grad():
        out = m(audio, lengths, ids, mask)
        from wavfusion.modules import LogMelFeatureEncoder, lengths_to_mask

        front_end = m.audio_encoder.feature_extractor
        assert isinstance(front_end, LogMelFeatureEncoder)
        samples = torch.nn.functional.pad(m.normalise_audio(audio, lengths), (0, m.audio_encoder.receptive_field))
        log_mel = front_end.log_mel(samples)
        alone = m.log_mel_statistics(log_mel, lengths_to_mask(log_mel[:, 0], front_end.stft_frames(lengths)))
    assert torch.allclose(out.embedding, alone, atol=1e-5)
    # eval mode (and so the exported graph): the encoder embedding is always there
    m.eval()
    with torch.no_grad():
        with_encoder = m(audio, lengths, ids, mask).embedding
        m.config.encoder_dropout = 0.0
        reference = m(audio, lengths, ids, mask).embedding
    assert torch.equal(with_encoder, reference)
    with pytest.raises(ValueError, match="encoder_dropout needs log_mel_statistics"):
        tiny_cfg(encoder_dropout=0.5, **{"audio.feature_encoder": "log-mel"})


def test_mel_augmentation_needs_the_log_mel_front_end_and_a_sane_range():
    with pytest.raises(ValueError, match="augment the log-mel front end"):
        tiny_cfg(**{"audio.feature_encoder": "conv", "audio.mel_warp": 0.1})
    with pytest.raises(ValueError, match="mel augmentation out of range"):
        tiny_cfg(**{"audio.feature_encoder": "log-mel", "audio.mel_warp": 0.7})


def test_continuing_a_bundle_with_log_mel_statistics_starts_where_it_was(tmp_path):
    import json

    from wavfusion import train as train_module
    from wavfusion.finetune import bundle_model, read_init_bundle

    cfg = tiny_cfg(**{"audio.feature_encoder": "log-mel"})
    torch.manual_seed(9)
    torch.save(WavFusionModel(cfg).state_dict(), tmp_path / "model.pt")
    (tmp_path / "tokenizer.json").write_text("{}")
    (tmp_path / "model.json").write_text(json.dumps({"name": "t", "labels": cfg.labels, "config": cfg.to_dict()}))
    init = read_init_bundle(str(tmp_path))
    log = []
    with bundle_model(init, log.append):
        same = train_module.build_model("tiny", cfg.labels, 300, {"log_mel_statistics": None}).eval()
        switched = train_module.build_model("tiny", cfg.labels, 300, {"log_mel_statistics": True,
                                                                       "audio.mel_warp": 0.1}).eval()
    assert switched.config.audio.mel_warp == 0.1  # augmentation settings may change on a continued run
    assert not same.config.log_mel_statistics and not hasattr(same, "log_mel_statistics")
    assert switched.config.log_mel_statistics and hasattr(switched, "log_mel_statistics")
    assert any("log_mel_statistics: False -> True" in line for line in log)
    audio, lengths, ids, mask, _ = _batch(seed=9)
    with torch.no_grad():
        a = same(audio, lengths, ids, mask).logits
        b = switched(audio, lengths, ids, mask).logits
    assert torch.allclose(a, b, atol=1e-5)


@pytest.mark.parametrize("fusion", ["gca", "concat", "audio", "text"])
def test_output_fields_per_variant(fusion):
    from wavfusion.modules import WavFusionOutput

    cfg = tiny_cfg(fusion=fusion)
    m = WavFusionModel(cfg)
    audio, lengths, ids, mask, _ = _batch(seed=2)
    with torch.no_grad():
        out = m.eval()(audio, lengths, ids, mask)
        assert isinstance(out, WavFusionOutput)
        assert (out.audio_feat is None) == (fusion == "text")
        assert (out.text_feat is None) == (fusion == "audio")
        assert out.mar_audio_feat is None and out.mar_text_feat is None  # eval: no L_mar encoder
        trained = m.train()(audio, lengths, ids, mask)
    assert (trained.mar_audio_feat is None) == (fusion == "text")
    assert (trained.mar_text_feat is None) == (fusion == "audio")
    assert len(m.mar_features(trained)) == (2 if fusion in ("gca", "concat") else 1)
    # the dict view (DistributedDataParallel finds the output tensors through it) holds the set fields
    assert list(trained.keys()) == [k for k in ("logits", "embedding", "text_gate", "audio_feat", "text_feat",
                                                "mar_audio_feat", "mar_text_feat") if getattr(trained, k) is not None]


@pytest.mark.parametrize("norm,first,rest", [("group", "Wav2Vec2GroupNormConvLayer", "Wav2Vec2NoLayerNormConvLayer"),
                                             ("layer", "Wav2Vec2LayerNormConvLayer", "Wav2Vec2LayerNormConvLayer")])
def test_conv_layer_class_per_feat_extract_norm(norm, first, rest):
    m = WavFusionModel(tiny_cfg(**{"audio.feat_extract_norm": norm}))
    from typing import cast

    from wavfusion.modules import FeatureEncoder

    layers = cast(FeatureEncoder, m.audio_encoder.feature_extractor).layers
    assert type(layers[0]).__name__ == first
    assert {type(layer).__name__ for layer in layers[1:]} == {rest}
    with pytest.raises(ValueError, match="feat_extract_norm"):
        WavFusionModel(tiny_cfg(**{"audio.feat_extract_norm": "none"}))


@pytest.mark.parametrize("stable", [False, True])
def test_transformer_forward_is_the_pieces_the_model_runs(stable):
    from wavfusion.modules import attention_bias

    encoder = WavFusionModel(tiny_cfg(**{"audio.do_stable_layer_norm": stable})).audio_encoder.eval()
    audio, lengths, _, _, _ = _batch(seed=3)
    with torch.no_grad():
        whole, frame_mask = encoder(audio, lengths)
        hidden, mask = encoder.embed(audio, lengths)
        bias = attention_bias(mask)
        split = 2
        hidden = encoder.run_layers(encoder.run_layers(hidden, bias, 0, split), bias, split,
                                     encoder.config.num_hidden_layers)
        pieces = encoder.finalize(hidden)
    assert torch.equal(frame_mask, mask)
    assert torch.allclose(whole, pieces, atol=1e-6)
