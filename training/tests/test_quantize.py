"""Dynamic int8 quantisation (wavfusion.quantize): graph rewrite, accuracy guard, model.json variants."""
import hashlib
import json
import os
import shutil

import onnx
import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DEMO = os.path.join(ROOT, "resources", "models", "wavfusion-demo")
PARITY = os.path.join(ROOT, "tests", "fixtures", "parity")


@pytest.fixture()
def bundle(tmp_path):
    if not os.path.isfile(os.path.join(DEMO, "model.onnx")):
        pytest.skip("no demo bundle")
    out = tmp_path / "bundle"
    shutil.copytree(DEMO, out, ignore=shutil.ignore_patterns("model.int8.onnx"))
    return str(out)


def _ops(path):
    return [(n.domain, n.op_type) for n in onnx.load(path).graph.node]


def test_int8_graph_uses_contrib_ops_and_keeps_feature_encoder_float(bundle):
    from wavfusion.quantize import quantize_bundle

    variants = quantize_bundle(bundle, data=PARITY, log=lambda *a: None)
    path = os.path.join(bundle, "model.int8.onnx")
    ops = _ops(path)
    dq = [o for o in ops if o == ("com.microsoft", "DynamicQuantizeMatMul")]
    assert len(dq) == sum(variants["int8"]["quantised_nodes"].values()) > 0
    # every weight MatMul/Gemm was replaced: only attention's activation x activation MatMuls stay float
    fp32 = onnx.load(os.path.join(bundle, "model.onnx"))
    inits = {i.name for i in fp32.graph.initializer}
    weight_mm = [n for n in fp32.graph.node if n.op_type in ("MatMul", "Gemm") and n.input[1] in inits]
    assert len(dq) == len(weight_mm)
    # feature encoder stays float
    assert ops.count(("", "Conv")) == [n.op_type for n in fp32.graph.node].count("Conv")
    assert ("", "ConvInteger") not in ops
    # per-channel scales: one per output column
    m = onnx.load(path)
    scales = {i.name: list(i.dims) for i in m.graph.initializer if i.name.endswith("/W_scale")}
    assert scales and all(len(d) == 1 and d[0] > 1 for d in scales.values())


def test_model_json_lists_variants_with_guard_numbers(bundle):
    from wavfusion.quantize import quantize_bundle

    quantize_bundle(bundle, data=PARITY, log=lambda *a: None)
    with open(os.path.join(bundle, "model.json"), encoding="utf-8") as f:
        meta = json.load(f)
    v = meta["variants"]
    assert v["fp32"]["file"] == "model.onnx" and v["int8"]["file"] == "model.int8.onnx"
    for key in ("fp32", "int8"):
        with open(os.path.join(bundle, v[key]["file"]), "rb") as f:
            assert v[key]["sha256"] == hashlib.sha256(f.read()).hexdigest()
    g = v["int8"]["guard"]
    assert g["items"] == 6
    assert g["label_agreement"] >= 0.99 and g["macro_f1_delta"] <= 0.01
    assert 0 <= g["max_probability_diff"] < 0.05
    assert g["budget"] == {"min_label_agreement": 0.99, "max_macro_f1_delta": 0.01}
    assert meta["labels"] and meta["model"] == "model.onnx"  # rest of model.json kept


def test_guard_refuses_a_broken_variant(bundle, monkeypatch):
    import numpy as np

    import wavfusion.quantize as q

    real = q._quant_symmetric

    def broken(w, bits, axis):  # weights all zero: the int8 graph ignores its input
        qw, scale = real(w, bits, axis)
        return np.zeros_like(qw), scale

    monkeypatch.setattr(q, "_quant_symmetric", broken)
    before = open(os.path.join(bundle, "model.json"), encoding="utf-8").read()
    with pytest.raises(ValueError, match="accuracy guard failed.*label agreement"):
        q.quantize_bundle(bundle, data=PARITY, log=lambda *a: None)
    assert not os.path.exists(os.path.join(bundle, "model.int8.onnx"))
    assert open(os.path.join(bundle, "model.json"), encoding="utf-8").read() == before


def test_cli_refusal_is_one_message_exit_2(bundle, monkeypatch, capsys):
    import numpy as np

    import wavfusion.quantize as q
    from wavfusion.__main__ import run

    monkeypatch.setattr(q, "_quant_symmetric", lambda w, bits, axis: (np.zeros(w.shape, np.int8),
                                                                      np.ones(w.shape[1 - axis], np.float32)))
    assert run(["quantize", "--model", bundle, "--data", PARITY]) == 2
    assert "error: accuracy guard failed" in capsys.readouterr().err


def test_include_conv_quantises_the_feature_encoder(bundle):
    from wavfusion.quantize import quantize_bundle

    v = quantize_bundle(bundle, data=PARITY, include_conv=True, log=lambda *a: None)
    ops = _ops(os.path.join(bundle, "model.int8.onnx"))
    assert v["int8"]["quantised_nodes"]["Conv"] == ops.count(("", "ConvInteger")) > 0
