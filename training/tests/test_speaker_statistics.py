"""Speaker-normalised statistics (``speaker_normalised_statistics``): the model input, its fallback, the
per-speaker statistics the trainer computes, the exported graphs and a continued run."""
import json
import os
from typing import cast

import numpy as np
import torch

from conftest import tiny_cfg
from test_export import run_onnxruntime_node
from wavfusion.data import Batcher, Item
from wavfusion.export import SPEAKER_STATISTICS, STATISTICS_MODEL, write_bundle
from wavfusion.modules import LogMelStatistics, WavFusionModel
from wavfusion.speakers import MIN_UTTERANCES, assign_speaker_statistics, training_fallback, utterance_statistics
from wavfusion.tokenizer import train_bpe


def _path(m: WavFusionModel) -> LogMelStatistics:
    return cast(LogMelStatistics, m.log_mel_statistics)


def _model(seed: int, dropout: float = 0.0) -> WavFusionModel:
    torch.manual_seed(seed)
    m = WavFusionModel(tiny_cfg(log_mel_statistics=True, speaker_normalised_statistics=True,
                                speaker_statistics_dropout=dropout, **{"audio.feature_encoder": "log-mel"}))
    path = _path(m)
    with torch.no_grad():
        path.out.weight.normal_(std=0.3)
        path.fallback[0].normal_(std=1.0)
        path.fallback[1].uniform_(0.5, 2.0)
    return m.eval()


def _inputs(seed: int, batch: int = 3, samples: int = 12000):
    g = torch.Generator().manual_seed(seed)
    audio = torch.randn(batch, samples, generator=g) * 0.3
    lengths = torch.tensor([samples, samples // 2, samples // 3][:batch])
    for b in range(batch):
        audio[b, lengths[b]:] = 0.0
    ids = torch.tensor([[0, 2]] * batch)
    mask = torch.ones(batch, 2, dtype=torch.long)
    return audio, lengths, ids, mask


def _speaker(m: WavFusionModel, batch: int, seed: int) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    dim = _path(m).dim
    return torch.stack([torch.randn(batch, dim, generator=g), torch.rand(batch, dim, generator=g) + 0.5], dim=1)


def test_a_nan_row_or_no_input_uses_the_training_fallback_and_a_speaker_changes_the_logits():
    m = _model(1)
    audio, lengths, ids, mask = _inputs(1)
    spk = _speaker(m, 3, 1)
    with torch.no_grad():
        none = m(audio, lengths, ids, mask).logits
        fallback = m(audio, lengths, ids, mask,
                     speaker_statistics=_path(m).fallback.expand(3, 2, -1).clone()).logits
        nan = spk.clone()
        nan[1] = float("nan")
        mixed = m(audio, lengths, ids, mask, speaker_statistics=nan).logits
        given = m(audio, lengths, ids, mask, speaker_statistics=spk).logits
    assert torch.allclose(none, fallback, atol=1e-6)
    assert torch.allclose(mixed[1], fallback[1], atol=1e-6)  # the NaN row: the training set's statistics
    assert torch.allclose(mixed[0], given[0], atol=1e-6) and torch.allclose(mixed[2], given[2], atol=1e-6)
    assert (given - none).abs().max().item() > 1e-2


def test_normalisation_is_the_z_score_by_the_speaker():
    m = _model(2)
    audio, lengths, _ids, _mask = _inputs(2)
    path = m.log_mel_statistics
    with torch.no_grad():
        raw = m.utterance_statistics(audio, lengths)
        spk = torch.stack([raw.mean(0, keepdim=True).expand(3, -1), raw.std(0, keepdim=True).expand(3, -1) + 1.0], 1)
        got = path.speaker_normalise(raw, spk)
    assert torch.allclose(got, (raw - spk[:, 0]) / spk[:, 1], atol=1e-6)


def test_speaker_statistics_dropout_only_in_training():
    m = _model(3, dropout=1.0)
    audio, lengths, ids, mask = _inputs(3)
    spk = _speaker(m, 3, 3)
    with torch.no_grad():
        fallback = m(audio, lengths, ids, mask).logits
        evaluated = m(audio, lengths, ids, mask, speaker_statistics=spk).logits
        m.train()
        _path(m).norm.eval()  # keep BatchNorm's running statistics (the rest: dropout off below)
        torch.manual_seed(0)
        for mod in m.modules():
            if isinstance(mod, torch.nn.Dropout):
                mod.p = 0.0
        stats = m.utterance_statistics(audio, lengths)
        dropped = _path(m).speaker_normalise(stats, spk)
        expected = _path(m).speaker_normalise(stats, None)
    assert torch.allclose(dropped, expected)  # probability 1: every row falls back in training
    assert (evaluated - fallback).abs().max().item() > 1e-2  # and never in eval


def _items(speakers, per_speaker, seed=0):
    rng = np.random.RandomState(seed)
    out = []
    for s, n in zip(speakers, per_speaker):
        gain = 0.05 + 0.3 * rng.rand()
        for k in range(n):
            out.append(Item(path=f"{s}-{k}.wav", text="", label="neutral", speaker=s, corpus="c",
                            audio=(rng.randn(8000 + 800 * k) * gain).astype(np.float32)))
    return out


def test_each_speaker_gets_the_mean_and_deviation_of_its_own_utterances():
    m = _model(4)
    items = _items(["a", "b", "c"], [MIN_UTTERANCES + 1, MIN_UTTERANCES, MIN_UTTERANCES - 1])
    items.append(Item(path="x.wav", text="", label="neutral", speaker="file:x.wav", corpus="c",
                      audio=np.zeros(9000, dtype=np.float32)))
    counts = assign_speaker_statistics(m, items, max_samples=160000)
    assert counts == {"speakers": 2, "items": 2 * MIN_UTTERANCES + 1, "fallback_items": MIN_UTTERANCES}
    with torch.no_grad():
        raw = [m.utterance_statistics(torch.from_numpy(it.loaded_audio())[None], torch.tensor([len(it.loaded_audio())]))[0]
               for it in items]
    a = torch.stack(raw[:MIN_UTTERANCES + 1]).numpy()
    got = items[0].speaker_statistics
    assert got is not None and got.shape == (2, _path(m).dim)
    np.testing.assert_allclose(got[0], a.mean(0), rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(got[1], a.std(0), rtol=1e-4, atol=1e-4)
    assert all(it.speaker_statistics is None for it in items[2 * MIN_UTTERANCES + 1:])  # too few, or no speaker
    fb = training_fallback(utterance_statistics(m, items, max_samples=160000))
    np.testing.assert_allclose(fb[0].numpy(), torch.stack(raw).numpy().mean(0), rtol=1e-4, atol=1e-4)
    # the batcher carries them, NaN where there are none
    tok = train_bpe(["x"], vocab_size=300)
    batch = next(iter(Batcher(items, ["neutral", "happy", "angry", "sad"], tok, 64, 16, train=False)))
    assert batch.speaker_statistics is not None
    nan_rows = torch.isnan(batch.speaker_statistics).all(-1).all(-1)
    assert int(nan_rows.sum()) == MIN_UTTERANCES


def test_bundle_exports_both_graphs_and_they_match_onnxruntime_node(tmp_path):
    m = _model(5)
    tok = train_bpe(["hello"], vocab_size=300)
    meta = write_bundle(m, tok, str(tmp_path), "spk", {})
    assert meta["speaker_normalisation"] == {"input": SPEAKER_STATISTICS, "statistics_model": STATISTICS_MODEL,
                                             "dimension": _path(m).dim, "min_utterances": MIN_UTTERANCES}
    assert meta["inputs"][SPEAKER_STATISTICS]["shape"] == ["batch", 2, _path(m).dim]
    audio, lengths, ids, mask = _inputs(5, batch=3, samples=17000)
    spk = _speaker(m, 3, 5)
    spk[2] = float("nan")
    with torch.no_grad():
        ref = m(audio, lengths, ids, mask, speaker_statistics=spk).logits.numpy()
        ref_stats = m.utterance_statistics(audio, lengths).numpy()
    got = run_onnxruntime_node(os.path.join(tmp_path, "model.onnx"), (audio, lengths, ids, mask, spk), tmp_path)
    assert np.abs(got["logits"] - ref).max() / max(np.abs(ref).max(), 1e-6) <= 1e-4
    stats = run_onnxruntime_node(os.path.join(tmp_path, STATISTICS_MODEL), (audio, lengths), tmp_path)["statistics"]
    assert np.abs(stats - ref_stats).max() / np.abs(ref_stats).max() <= 1e-4


def test_continuing_a_bundle_with_speaker_normalisation_switches_it_on(tmp_path):
    from wavfusion import train as train_module
    from wavfusion.finetune import bundle_model, read_init_bundle

    cfg = tiny_cfg(log_mel_statistics=True, **{"audio.feature_encoder": "log-mel"})
    torch.manual_seed(6)
    torch.save(WavFusionModel(cfg).state_dict(), tmp_path / "model.pt")
    (tmp_path / "tokenizer.json").write_text("{}")
    (tmp_path / "model.json").write_text(json.dumps({"name": "t", "labels": cfg.labels, "config": cfg.to_dict()}))
    log = []
    with bundle_model(read_init_bundle(str(tmp_path)), log.append):
        switched = train_module.build_model("tiny", cfg.labels, 300, {"speaker_normalised_statistics": True,
                                                                       "speaker_statistics_dropout": 0.1})
    assert switched.config.speaker_normalised_statistics and switched.config.speaker_statistics_dropout == 0.1
    assert any("speaker_normalised_statistics: False -> True" in line for line in log)
