"""ONNX export, onnx.checker, and parity of the exported graph run by onnxruntime-node on
shapes different from those used at export."""
import json
import os
import shutil
import subprocess

import numpy as np
import onnx
import onnx.checker
import pytest
import torch
# onnx 1.12 (Debian's python3-onnx here) builds the protobuf message classes of onnx_ml_pb2 at import time
# and ships no onnx_ml_pb2.pyi, so Pyright cannot see them; onnx >= 1.13 ships the stubs (onnx/onnx#4404)
from onnx import TensorProto  # pyright: ignore[reportAttributeAccessIssue]

from conftest import tiny_cfg
from wavfusion.export import DYNAMIC_AXES, INPUT_NAMES, OUTPUT_NAMES, example_inputs, export_onnx
from wavfusion.modules import WavFusionModel

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
ORT_RUN = os.path.join(os.path.dirname(os.path.abspath(__file__)), "ort_run.mjs")


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    torch.manual_seed(0)
    model = WavFusionModel(tiny_cfg()).eval()
    path = str(tmp_path_factory.mktemp("onnx") / "model.onnx")
    export_onnx(model, path)
    return model, path


def test_export_checker_and_dynamic_axes(exported):
    _, path = exported
    m = onnx.load(path)
    onnx.checker.check_model(m, full_check=True)
    ins = {i.name: i for i in m.graph.input}
    outs = {o.name: o for o in m.graph.output}
    assert list(ins) == INPUT_NAMES and list(outs) == OUTPUT_NAMES
    elem = {i: ins[i].type.tensor_type.elem_type for i in ins}
    assert elem["audio"] == TensorProto.FLOAT and elem["audio_lengths"] == TensorProto.INT64
    assert elem["input_ids"] == TensorProto.INT64 and elem["attention_mask"] == TensorProto.INT64
    for name, axes in DYNAMIC_AXES.items():
        vi = ins.get(name) or outs[name]
        dims = vi.type.tensor_type.shape.dim
        for ax, label in axes.items():
            assert dims[ax].dim_param == label, (name, ax)
    assert m.opset_import[0].version >= 14


def _spec(arrays):
    """Inputs by the bundle contract's names, in order (a fifth array: ``speaker_statistics``; NaN is
    written as null, which ort_run.mjs reads back as NaN)."""
    names = ["audio", "audio_lengths", "input_ids", "attention_mask", "speaker_statistics"]
    return {n: {"dtype": "float32" if a.dtype == torch.float32 else "int64", "dims": list(a.shape),
                "data": [None if v != v else v for v in a.flatten().tolist()]} for n, a in zip(names, arrays)}


def run_onnxruntime_node(model_path, arrays, tmp_path):
    node = shutil.which("node")
    if node is None:
        pytest.fail("node is required for the ONNX parity check (onnxruntime-node)")
    if not os.path.isdir(os.path.join(REPO, "node_modules", "onnxruntime-node")):
        pytest.fail(f"onnxruntime-node is missing: run `npm install` in {REPO} (CI always has it)")
    inp = str(tmp_path / "inputs.json")
    with open(inp, "w") as f:
        json.dump(_spec(arrays), f)
    r = subprocess.run([node, ORT_RUN, model_path, inp], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    return {k: np.array(v["data"], dtype=np.float64).reshape(v["dims"]) for k, v in out.items()}


def test_onnxruntime_node_parity_on_new_shapes(exported, tmp_path):
    model, path = exported
    ex = example_inputs()
    # export used batch 2 / 16000 samples / 7 tokens: use other shapes here
    B, S, T = 3, 23457, 11
    g = torch.Generator().manual_seed(1)
    audio = torch.randn(B, S, generator=g) * 0.3
    lengths = torch.tensor([S, 9001, 250])
    ids = torch.randint(4, 300, (B, T), generator=g)
    mask = torch.ones(B, T, dtype=torch.long)
    ids[:, 0] = 0
    ids[0, -1] = 2
    ids[1, 5] = 2
    ids[1, 6:] = 1
    mask[1, 6:] = 0
    ids[2, :2] = torch.tensor([0, 2])  # no transcript
    ids[2, 2:] = 1
    mask[2, 2:] = 0
    assert (B, S, T) != tuple(ex[0].shape) + (ex[2].shape[1],)
    with torch.no_grad():
        ref = model(audio, lengths, ids, mask)
    got = run_onnxruntime_node(path, (audio, lengths, ids, mask), tmp_path)
    for k in OUTPUT_NAMES:
        r = getattr(ref, k).numpy().astype(np.float64)
        assert got[k].shape == r.shape, k
        rel = np.abs(got[k] - r).max() / max(np.abs(r).max(), 1e-6)
        assert rel <= 1e-4, (k, rel)
    # batch of one, another length
    with torch.no_grad():
        ref1 = model(audio[:1, :5000], torch.tensor([5000]), ids[:1, :4], mask[:1, :4])
    got1 = run_onnxruntime_node(path, (audio[:1, :5000].contiguous(), torch.tensor([5000]), ids[:1, :4].contiguous(),
                                       mask[:1, :4].contiguous()), tmp_path)
    r = ref1.logits.numpy()
    assert np.abs(got1["logits"] - r).max() / max(np.abs(r).max(), 1e-6) <= 1e-4


def test_log_mel_statistics_path_exports_and_matches_onnxruntime_node(tmp_path):
    """The utterance-statistics option (BatchNorm in eval mode, masked statistics) in the exported graph."""
    torch.manual_seed(3)
    model = WavFusionModel(tiny_cfg(log_mel_statistics=True, **{"audio.feature_encoder": "log-mel"}))
    assert model.log_mel_statistics.norm.running_mean is not None
    with torch.no_grad():
        model.log_mel_statistics.out.weight.normal_(std=0.3)
        model.log_mel_statistics.norm.running_mean.normal_(std=2.0)
    model.eval()
    path = str(tmp_path / "model.onnx")
    export_onnx(model, path)
    g = torch.Generator().manual_seed(4)
    audio = torch.randn(2, 20000, generator=g) * 0.3
    lengths = torch.tensor([20000, 6000])
    audio[1, 6000:] = 0.0
    ids = torch.tensor([[0, 2], [0, 2]])
    mask = torch.ones(2, 2, dtype=torch.long)
    with torch.no_grad():
        ref = model(audio, lengths, ids, mask).logits.numpy()
    got = run_onnxruntime_node(path, (audio, lengths, ids, mask), tmp_path)["logits"]
    assert np.abs(got - ref).max() / max(np.abs(ref).max(), 1e-6) <= 1e-4
