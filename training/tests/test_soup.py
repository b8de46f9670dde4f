"""The model soup: the mean of the weights of bundles from one lineage, written as a loadable bundle whose
model.onnx is that mean's export; bundles that cannot be averaged are refused by name."""
import json
import os
import shutil

import numpy as np
import pytest
import torch

from wavfusion.checkpoint import torch_load
from wavfusion.export import load_bundle
from wavfusion.soup import soup_bundles

from test_export import run_onnxruntime_node

DEMO = os.path.join(os.path.dirname(__file__), "..", "..", "resources", "models", "wavfusion-demo")


def _copy_with_noise(dst, seed):
    shutil.copytree(DEMO, dst)
    state = torch_load(os.path.join(dst, "model.pt"))
    g = torch.Generator().manual_seed(seed)
    for k, t in state.items():
        if t.is_floating_point():
            state[k] = t + 0.01 * torch.randn(t.shape, generator=g)
    torch.save(state, os.path.join(dst, "model.pt"))
    return str(dst)


def test_the_soup_is_the_mean_of_the_weights_and_its_onnx_is_that_model(tmp_path):
    a = _copy_with_noise(tmp_path / "a", 1)
    b = _copy_with_noise(tmp_path / "b", 2)
    out = str(tmp_path / "soup")
    soup_bundles([a, b], out, "soup-test", log=lambda *_: None)
    sa, sb, so = (torch_load(os.path.join(f, "model.pt")) for f in (a, b, out))
    for k, t in so.items():
        if t.is_floating_point():
            assert torch.allclose(t, (sa[k] + sb[k]) / 2, atol=1e-7), k
        else:
            assert torch.equal(t, sa[k]), k
    meta = json.load(open(os.path.join(out, "model.json")))
    assert meta["name"] == "soup-test" and len(meta["training"]["soup"]["of"]) == 2

    # its model.onnx is the averaged model: onnxruntime-node gives PyTorch's logits
    model, _tok, _meta = load_bundle(out)
    g = torch.Generator().manual_seed(0)
    audio = torch.randn(1, 16000, generator=g) * 0.1
    lengths = torch.tensor([16000])
    ids = torch.tensor([[0, 40, 41, 42, 2]])
    mask = torch.ones(1, 5, dtype=torch.long)
    stats = torch.full((1, 2, 320), float("nan"))
    with torch.no_grad():
        ref = model(audio, lengths, ids, mask, speaker_statistics=stats).logits.numpy()
    got = run_onnxruntime_node(os.path.join(out, "model.onnx"), (audio, lengths, ids, mask, stats), tmp_path)
    assert np.abs(got["logits"] - ref).max() / max(np.abs(ref).max(), 1e-6) <= 2e-4


def test_bundles_that_cannot_be_averaged_are_refused(tmp_path):
    a = _copy_with_noise(tmp_path / "a", 1)
    b = _copy_with_noise(tmp_path / "b", 2)
    meta = json.load(open(os.path.join(b, "model.json")))
    meta["labels"] = list(reversed(meta["labels"]))
    json.dump(meta, open(os.path.join(b, "model.json"), "w"))
    with pytest.raises(ValueError, match="labels"):
        soup_bundles([a, b], str(tmp_path / "x"), "x", log=lambda *_: None)
    with pytest.raises(ValueError, match="at least two"):
        soup_bundles([a], str(tmp_path / "y"), "y", log=lambda *_: None)
    os.makedirs(tmp_path / "exists")
    with pytest.raises(ValueError, match="exists"):
        soup_bundles([a, a], str(tmp_path / "exists"), "z", log=lambda *_: None)
