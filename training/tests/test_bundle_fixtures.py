"""The committed demo bundle and the committed runtime parity fixtures agree:
model.onnx run by onnxruntime-node on the fixture audio reproduces the PyTorch reference."""
import json
import os

import numpy as np
import torch

from test_export import run_onnxruntime_node
from wavfusion.audio import load_audio

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BUNDLE = os.path.join(REPO, "resources", "models", "wavfusion-demo")
FIXTURES = os.path.join(REPO, "tests", "fixtures", "parity")


def test_demo_bundle_files_and_metadata():
    for f in ("model.onnx", "model.json", "tokenizer.json"):
        assert os.path.exists(os.path.join(BUNDLE, f)), f"{f} missing from {BUNDLE}"
    meta = json.load(open(os.path.join(BUNDLE, "model.json")))
    assert meta["labels"] == ["neutral", "happy", "angry", "sad"]
    assert meta["empty_text_ids"] == [0, 2] and meta["sample_rate"] == 16000
    assert "test" in meta["training"]["metrics"]
    assert "synthetic" in meta["disclaimer"]
    size = sum(os.path.getsize(os.path.join(BUNDLE, f)) for f in os.listdir(BUNDLE))
    assert size <= 25e6


def test_committed_fixtures_match_demo_onnx(tmp_path):
    doc = json.load(open(os.path.join(FIXTURES, "parity.json")))
    meta = json.load(open(os.path.join(BUNDLE, "model.json")))
    assert doc["model"]["labels"] == meta["labels"]
    cases = [c for c in doc["cases"] if c["tolerance"] == "exact"]
    assert any(c["text"] == "" and c["input_ids"] == [0, 2] for c in cases)
    normalisation = meta.get("speaker_normalisation")
    # a speaker-normalised bundle: the plain cases have no speaker (a NaN row); the speaker case gives the
    # exact cases' shared statistics
    assert (normalisation is None) == ("speaker_case" not in doc)
    for c in cases:
        audio = load_audio(os.path.join(FIXTURES, c["wav"]))
        assert len(audio) == c["audio_samples_16k"]
        ids = torch.tensor([c["input_ids"]])
        inputs = (torch.from_numpy(audio).unsqueeze(0), torch.tensor([len(audio)]), ids, torch.ones_like(ids))
        runs = [(inputs, c)]
        if normalisation:
            dim = normalisation["dimension"]
            runs = [(inputs + (torch.full((1, 2, dim), float("nan")),), c)]
            if c["id"] in doc["speaker_case"]["case_ids"]:
                pair = torch.tensor(doc["speaker_case"]["statistics"], dtype=torch.float32).reshape(1, 2, dim)
                runs.append((inputs + (pair,), c["speaker"]))
        for arrays, ref_case in runs:
            got = run_onnxruntime_node(os.path.join(BUNDLE, "model.onnx"), arrays, tmp_path)
            ref = np.array(ref_case["logits"])
            assert np.abs(got["logits"][0] - ref).max() / np.abs(ref).max() <= 1e-4, c["id"]
            assert abs(got["text_gate"][0] - ref_case["text_gate"]) <= 1e-4


def test_fixture_tokenisation_matches_bundle_tokenizer():
    from wavfusion.tokenizer import ByteLevelBPETokenizer

    doc = json.load(open(os.path.join(FIXTURES, "parity.json")))
    meta = json.load(open(os.path.join(BUNDLE, "model.json")))
    tok = ByteLevelBPETokenizer.load(os.path.join(BUNDLE, meta["tokenizer"]), max_length=meta["max_text_tokens"])
    for c in doc["cases"]:
        assert tok.encode(c["text"]) == c["input_ids"]


def test_parity_fixture_writer(tmp_path):
    from wavfusion.config import get_config
    from wavfusion.export import write_bundle
    from wavfusion.modules import WavFusionModel
    from wavfusion.parity import write_parity_fixtures
    from wavfusion.tokenizer import train_bpe

    tok = train_bpe(["I am so happy about the concert", "the bus leaves at nine"] * 3, vocab_size=300)
    torch.manual_seed(0)
    model = WavFusionModel(get_config("tiny", vocab_size=tok.vocab_size)).eval()
    write_bundle(model, tok, str(tmp_path / "b"), "random", {"data": None, "metrics": {}})
    doc = write_parity_fixtures(str(tmp_path / "b"), str(tmp_path / "f"), log=lambda *a: None)
    exact = [c for c in doc["cases"] if c["tolerance"] == "exact"]
    stereo = [c for c in doc["cases"] if c["tolerance"] == "resampler"]
    assert stereo and stereo[0]["sample_rate"] == 44100 and stereo[0]["channels"] == 2
    batched = np.array(doc["batched_exact_cases"]["logits"])
    assert np.abs(batched - np.array([c["logits"] for c in exact])).max() <= 1e-4
    for c in doc["cases"]:
        assert abs(sum(c["probabilities"]) - 1) < 1e-5 and 0 <= c["text_gate"] <= 1


def test_parity_fixture_writer_speaker_case(tmp_path):
    from wavfusion.config import get_config
    from wavfusion.export import write_bundle
    from wavfusion.modules import WavFusionModel
    from wavfusion.parity import PARITY_SPEAKER, write_parity_fixtures
    from wavfusion.speakers import MIN_UTTERANCES
    from wavfusion.tokenizer import train_bpe

    tok = train_bpe(["I am so happy about the concert", "the bus leaves at nine"] * 3, vocab_size=300)
    torch.manual_seed(1)
    model = WavFusionModel(get_config("tiny", vocab_size=tok.vocab_size, log_mel_statistics=True,
                                      speaker_normalised_statistics=True, **{"audio.feature_encoder": "log-mel"}))
    with torch.no_grad():
        model.log_mel_statistics.out.weight.normal_(std=0.3)
    write_bundle(model.eval(), tok, str(tmp_path / "b"), "random", {"data": None, "metrics": {}})
    doc = write_parity_fixtures(str(tmp_path / "b"), str(tmp_path / "f"), log=lambda *a: None)
    speaker = doc["speaker_case"]
    assert speaker["name"] == PARITY_SPEAKER and len(speaker["case_ids"]) >= MIN_UTTERANCES
    assert len(speaker["statistics"]) == 2 * model.log_mel_statistics.dim
    for c in doc["cases"]:
        if c["id"] in speaker["case_ids"]:
            assert np.abs(np.array(c["speaker"]["logits"]) - np.array(c["logits"])).max() > 1e-3
