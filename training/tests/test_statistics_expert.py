"""The statistics expert (``statistics_expert``): its logits are added to the network's, it changes nothing
until fitted, fitting learns from the speaker-normalised statistics with the network frozen, the bundle it
makes exports and matches onnxruntime-node, and what it cannot fit on is refused by name."""
import json
import os
from typing import cast

import numpy as np
import pytest
import torch

from conftest import tiny_cfg
from test_export import run_onnxruntime_node
from test_speaker_statistics import _inputs
from wavfusion.config import WavFusionConfig
from wavfusion.data import Item
from wavfusion.export import load_bundle, write_bundle
from wavfusion.modules import (LogMelFeatureEncoder, LogMelStatistics, StatisticsExpert, StatisticsExpertMember,
                               WavFusionModel, lengths_to_mask)
from wavfusion.statistics_expert import expected_calibration_error, expert_inputs, fit_expert, fit_temperature
from wavfusion.tokenizer import train_bpe

LABELS = ["neutral", "happy", "angry", "sad"]


def _model(seed: int, expert: bool) -> WavFusionModel:
    torch.manual_seed(seed)
    m = WavFusionModel(tiny_cfg(log_mel_statistics=True, speaker_normalised_statistics=True,
                                statistics_expert=expert, statistics_expert_hidden=32,
                                statistics_expert_members=3, **{"audio.feature_encoder": "log-mel"}))
    with torch.no_grad():
        cast(LogMelStatistics, m.log_mel_statistics).out.weight.normal_(std=0.3)
    return m.eval()


def _tone_items(seed: int = 0):
    """Four classes told apart by pitch (a tone at 150/300/600/1200 Hz in noise), six speakers whose
    voices differ in level and noise: 4 training, 1 validation, 1 test speaker, 12 clips per class each."""
    rng = np.random.RandomState(seed)
    t = np.arange(12000) / 16000.0
    items = []
    for s in range(6):
        split = "train" if s < 4 else "validation" if s == 4 else "test"
        gain, noise = 0.05 + 0.4 * rng.rand(), 0.02 + 0.1 * rng.rand()
        for c, label in enumerate(LABELS):
            for k in range(12):
                f = 150 * 2 ** c * (1 + 0.05 * rng.randn())
                audio = gain * np.sin(2 * np.pi * f * t + rng.rand() * 6) + noise * rng.randn(len(t))
                items.append(Item(path=f"s{s}-{label}-{k}.wav", text="", label=label, speaker=f"s{s}", corpus="tones",
                                  audio=audio.astype(np.float32), split=split))
    return items


def test_an_unfitted_expert_changes_nothing_and_a_fitted_one_adds_its_logits():
    plain, with_expert = _model(1, False), _model(1, True)
    with_expert.load_state_dict(plain.state_dict(), strict=False)  # the same network, expert at its zero start
    audio, lengths, ids, mask = _inputs(1)
    with torch.no_grad():
        assert torch.equal(plain(audio, lengths, ids, mask).logits, with_expert(audio, lengths, ids, mask).logits)
        expert = cast(StatisticsExpert, with_expert.statistics_expert)
        for member in expert.members:
            cast(StatisticsExpertMember, member).out.weight.normal_(std=0.5)
            cast(StatisticsExpertMember, member).out.bias.normal_(std=0.5)
        got = with_expert(audio, lengths, ids, mask).logits
        front_end = cast(LogMelFeatureEncoder, with_expert.audio_encoder.feature_extractor)
        samples = torch.nn.functional.pad(with_expert.normalise_audio(audio, lengths),
                                          (0, with_expert.audio_encoder.receptive_field))
        log_mel = front_end.log_mel(samples)
        stats = cast(LogMelStatistics, with_expert.log_mel_statistics).normalised_statistics(
            log_mel, lengths_to_mask(log_mel[:, 0], front_end.stft_frames(lengths)))
        members = torch.stack([member(stats) for member in expert.members]).mean(0)
    expected = plain(audio, lengths, ids, mask).logits + members
    assert (got - expected).abs().max().item() < 1e-5
    assert (got - plain(audio, lengths, ids, mask).logits).abs().max().item() > 1e-2


def test_the_expert_needs_speaker_normalised_statistics():
    with pytest.raises(ValueError, match="statistics_expert needs speaker_normalised_statistics"):
        tiny_cfg(log_mel_statistics=True, statistics_expert=True, **{"audio.feature_encoder": "log-mel"}).validate()
    plain = WavFusionModel(tiny_cfg(log_mel_statistics=True, **{"audio.feature_encoder": "log-mel"}))
    with pytest.raises(ValueError, match="needs a bundle with speaker-normalised statistics"):
        fit_expert(plain, _tone_items()[:10], LABELS, epochs=1, log=lambda *a: None)


def test_fitting_refuses_without_training_or_validation_items():
    m = _model(2, False)
    items = [it for it in _tone_items() if it.split == "train"]
    with pytest.raises(ValueError, match="found 192 training, 0 validation"):
        fit_expert(m, items, LABELS, epochs=1, log=lambda *a: None)


def test_fitting_learns_the_classes_from_the_statistics_and_leaves_the_network_alone():
    m = _model(3, True)
    network = {k: v.clone() for k, v in m.state_dict().items() if not k.startswith("statistics_expert.")}
    items = _tone_items()
    audio, lengths, ids, mask = _inputs(3)
    info = fit_expert(m, [it for it in items if it.split != "test"], LABELS, epochs=30, seed=5, log=lambda *a: None)
    assert all(torch.equal(v, m.state_dict()[k]) for k, v in network.items())
    assert info["validation_UA"] >= 0.9 and [x["seed"] for x in info["members"]] == [5, 6, 7]
    # the held-out speaker, normalised by their own clips: the expert alone hears the pitch classes
    test = [it for it in items if it.split == "test"]
    by_speaker, _ = expert_inputs(m, test)
    with torch.no_grad():
        pred = cast(StatisticsExpert, m.statistics_expert)(torch.from_numpy(by_speaker)).argmax(1).numpy()
    gold = np.array([LABELS.index(it.label) for it in test])
    assert np.mean(pred == gold) >= 0.9


def test_a_bundle_with_the_expert_reloads_exports_and_matches_onnxruntime_node(tmp_path):
    m = _model(4, True)
    fit_expert(m, [it for it in _tone_items() if it.split != "test"], LABELS, epochs=3, log=lambda *a: None)
    cast(StatisticsExpert, m.statistics_expert).temperature.fill_(2.5)
    tok = train_bpe(["hello"], vocab_size=300)
    write_bundle(m, tok, str(tmp_path), "expert", {})
    with open(tmp_path / "model.json", encoding="utf-8") as fh:
        cfg = WavFusionConfig.from_dict(json.load(fh)["config"])
    assert cfg.statistics_expert and cfg.statistics_expert_members == 3
    again, _tok, _meta = load_bundle(str(tmp_path))
    audio, lengths, ids, mask = _inputs(4, samples=17000)
    spk = torch.stack([torch.randn(3, 320), torch.rand(3, 320) + 0.5], dim=1)
    spk[1] = float("nan")
    with torch.no_grad():
        ref = m(audio, lengths, ids, mask, speaker_statistics=spk).logits.numpy()
        assert np.array_equal(again(audio, lengths, ids, mask, speaker_statistics=spk).logits.numpy(), ref)
    got = run_onnxruntime_node(os.path.join(tmp_path, "model.onnx"), (audio, lengths, ids, mask, spk), tmp_path)
    assert np.abs(got["logits"] - ref).max() / max(np.abs(ref).max(), 1e-6) <= 1e-4


def test_the_temperature_divides_the_summed_logits_and_is_fitted_to_calibrate():
    m = _model(6, True)
    audio, lengths, ids, mask = _inputs(6)
    expert = cast(StatisticsExpert, m.statistics_expert)
    with torch.no_grad():
        for member in expert.members:
            cast(StatisticsExpertMember, member).out.bias.normal_(std=0.5)
        at_one = m(audio, lengths, ids, mask).logits
        expert.temperature.fill_(2.0)
        assert torch.allclose(m(audio, lengths, ids, mask).logits, at_one / 2.0, atol=1e-6)
    # logits that are 3x too sharp for how often they are right: the fitted temperature undoes it
    rng = np.random.default_rng(0)
    gold = rng.integers(0, 4, 4000)
    calibrated = rng.normal(0, 1, (4000, 4))
    calibrated[np.arange(4000), gold] += 1.0
    # draw the labels from the calibrated probabilities, so that softmax(calibrated) is calibrated
    p = np.exp(calibrated) / np.exp(calibrated).sum(1, keepdims=True)
    gold = np.array([rng.choice(4, p=row) for row in p])
    t = fit_temperature(3.0 * calibrated, gold)
    assert 2.6 <= t <= 3.4
    assert expected_calibration_error(3.0 * calibrated / t, gold) < expected_calibration_error(3.0 * calibrated, gold) / 2


def test_training_keeps_the_expert_as_fitted_unless_asked(espeak_corpus, tmp_path):
    from wavfusion.checkpoint import torch_load
    from wavfusion.train import train

    overrides = {"log_mel_statistics": True, "speaker_normalised_statistics": True, "statistics_expert": True,
                 "statistics_expert_hidden": 16, "statistics_expert_members": 2, "audio.feature_encoder": "log-mel"}
    for trained in (False, True):
        out = tmp_path / f"trained-{trained}"
        # (batches of 4: the first step's rate is 0, the start of the warm-up, and one epoch is what is kept)
        train(espeak_corpus, str(out), config="tiny", epochs=1, batch_size=4, vocab_size=300,
              config_overrides=dict(overrides),
              train_statistics_expert=trained, log=lambda *a: None)
        state = torch_load(str(out / "model.pt"))
        outs = [v for k, v in state.items() if k.startswith("statistics_expert.") and k.endswith(".out.weight")]
        assert len(outs) == 2
        # frozen, the members' output layers are still at their zero start; trained, they moved
        assert all(bool((w == 0).all()) for w in outs) is (not trained)
        with open(out / "model.json", encoding="utf-8") as fh:
            recipe = json.load(fh)["training"]["recipe"]
        assert recipe["statistics_expert"] == ("trained" if trained else "frozen")


def test_a_team_fits_the_expert_on_its_own_export(espeak_corpus, tmp_path):
    """`fit-statistics-expert --data EXPORT`: the expert is fitted on the export's own split, without the
    shared corpora, and the new bundle records it and its held-out metrics."""
    from wavfusion.statistics_expert import fit_statistics_expert_bundle

    m = _model(7, False)
    src = tmp_path / "bundle"
    write_bundle(m, train_bpe(["hello there"], vocab_size=300), str(src), "team", {})
    log = []
    meta = fit_statistics_expert_bundle(str(src), str(tmp_path / "fitted"), [], data=espeak_corpus, epochs=3,
                                        log=log.append)
    assert meta["config"]["statistics_expert"] is True
    record = meta["training"]["statistics_expert"]
    own = os.path.basename(os.path.normpath(espeak_corpus))
    assert record["data"] == espeak_corpus and record["corpora"] == [] and record["selection_corpora"] == [own]
    assert "--corpora" not in record["command"] and f"--data {espeak_corpus}" in record["command"]
    assert own in meta["training"]["metrics"]["test_report"]["without_text"]
    assert (tmp_path / "fitted" / "model.onnx").exists()
    # the source bundle is as it was
    with open(src / "model.json", encoding="utf-8") as fh:
        assert not json.load(fh)["config"].get("statistics_expert")
