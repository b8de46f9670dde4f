"""Dynamic int8 quantisation of a bundle's model.onnx, with an accuracy guard.

``python -m wavfusion quantize --model <bundle> [--data DIR]`` writes ``model.int8.onnx`` beside
``model.onnx`` and lists both in model.json under ``variants``.

The rewrite uses only the ``onnx`` package (onnxruntime's Python tools are not installable here):

* every MatMul whose second input is a constant 2-D float weight (transformer Q/K/V/out, feed-forward,
  feature/text projections, GCA) and the classifier Gemm become onnxruntime's contrib operator
  ``com.microsoft.DynamicQuantizeMatMul``: int8 symmetric weights with one scale per output column,
  activations quantised to uint8 per tensor at run time (onnxruntime-node's CPU provider runs it);
* the feature encoder (convolutions, or the log-mel front end) stays float by default;
  ``include_conv`` quantises its convolutions too (ConvInteger + DynamicQuantizeLinear), to measure;
* attention's activation x activation MatMuls stay float.

Accuracy guard: both graphs run through onnxruntime-node (the studio's runtime) over the same
items; int8 must agree with float32 on >= 99 % of labels and keep macro-F1 within 0.01 (against the
true labels when the data has them, else against float32's labels), or nothing is written.
"""
from __future__ import annotations

import base64
import glob
import hashlib
import json
import os
import shutil
import subprocess
import tempfile
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np
import onnx
import onnx.checker
from onnx import helper, numpy_helper

# onnx 1.12 (Debian's python3-onnx here) builds the protobuf message classes of onnx_ml_pb2 at import time
# and ships no onnx_ml_pb2.pyi, so Pyright cannot see them; onnx >= 1.13 ships the stubs (onnx/onnx#4404)
from onnx import ModelProto, NodeProto, TensorProto  # pyright: ignore[reportAttributeAccessIssue]

MS_DOMAIN = "com.microsoft"
BUDGET = {"min_label_agreement": 0.99, "max_macro_f1_delta": 0.01}
HERE = os.path.dirname(os.path.abspath(__file__))


# ---------------------------------------------------------------------------------------------
# graph rewrite


def _quant_symmetric(w: np.ndarray, bits: int, axis: int) -> Tuple[np.ndarray, np.ndarray]:
    """int8 values and float scales, symmetric, one scale per slice along ``axis`` reduced."""
    qmax = 2 ** (bits - 1) - 1
    amax = np.abs(w).max(axis=axis)
    scale = np.where(amax > 0, amax / qmax, 1.0).astype(np.float32)
    q = np.clip(np.round(w / np.expand_dims(scale, axis)), -qmax, qmax).astype(np.int8)
    return q, scale


def quantize_graph(model: ModelProto, weight_bits: int = 8, per_channel: bool = True,
                   include_conv: bool = False) -> Dict[str, int]:
    """Rewrites ``model`` in place; returns counts of the nodes replaced."""
    g = model.graph
    inits = {i.name: i for i in g.initializer}
    counts = {"MatMul": 0, "Gemm": 0, "Conv": 0}
    new_nodes: List[NodeProto] = []
    new_inits: List[TensorProto] = []

    def weight(name: str) -> Optional[np.ndarray]:
        t = inits.get(name)
        if t is None or t.data_type != TensorProto.FLOAT:
            return None
        return numpy_helper.to_array(t)

    def dqmm(node, a: str, w_kn: np.ndarray, bias: Optional[str]) -> NodeProto:
        axis = 0  # scales per column n of W[k, n]
        if per_channel:
            q, scale = _quant_symmetric(w_kn, weight_bits, axis)
        else:
            q, s = _quant_symmetric(w_kn.reshape(-1, 1), weight_bits, 0)
            q, scale = q.reshape(w_kn.shape), s.reshape(())
        base = node.name or node.output[0]
        qn, sn = f"{base}/W_int8", f"{base}/W_scale"
        new_inits.append(numpy_helper.from_array(q, qn))
        new_inits.append(numpy_helper.from_array(scale, sn))
        inputs = [a, qn, sn, "", bias] if bias else [a, qn, sn]
        return helper.make_node("DynamicQuantizeMatMul", inputs, list(node.output), name=f"{base}_int8",
                                domain=MS_DOMAIN)

    for node in g.node:
        if node.op_type == "MatMul" and len(node.input) == 2:
            w = weight(node.input[1])
            if w is not None and w.ndim == 2:
                new_nodes.append(dqmm(node, node.input[0], w, None))
                counts["MatMul"] += 1
                continue
        if node.op_type == "Gemm":
            attrs = {a.name: helper.get_attribute_value(a) for a in node.attribute}
            w = weight(node.input[1])
            c = weight(node.input[2]) if len(node.input) > 2 and node.input[2] else None
            if (w is not None and w.ndim == 2 and not attrs.get("transA", 0) and attrs.get("alpha", 1.0) == 1.0
                    and attrs.get("beta", 1.0) == 1.0 and (c is None or c.ndim == 1)):
                w_kn = w.T if attrs.get("transB", 0) else w
                new_nodes.append(dqmm(node, node.input[0], np.ascontiguousarray(w_kn), node.input[2] if c is not None else None))
                counts["Gemm"] += 1
                continue
        if include_conv and node.op_type == "Conv":
            w = weight(node.input[1])
            if w is not None:
                new_nodes.extend(_conv_integer(node, w, weight(node.input[2]) if len(node.input) > 2 else None,
                                               new_inits, weight_bits))
                counts["Conv"] += 1
                continue
        new_nodes.append(node)

    del g.node[:]
    g.node.extend(new_nodes)
    g.initializer.extend(new_inits)
    used = {i for n in g.node for i in n.input} | {o.name for o in g.output}
    keep = [i for i in g.initializer if i.name in used]
    del g.initializer[:]
    g.initializer.extend(keep)
    if not any(o.domain == MS_DOMAIN for o in model.opset_import):
        model.opset_import.append(helper.make_opsetid(MS_DOMAIN, 1))
    return counts


def _conv_integer(node, w: np.ndarray, b: Optional[np.ndarray], new_inits, bits: int) -> List[NodeProto]:
    """Conv → DynamicQuantizeLinear(x) + ConvInteger(uint8 x, uint8 w) → float × scales (+ bias)."""
    base = node.name or node.output[0]
    levels = 2 ** bits - 1
    lo, hi = min(float(w.min()), 0.0), max(float(w.max()), 0.0)
    w_scale = (hi - lo) / levels if hi > lo else 1.0
    w_zp = int(np.clip(round(-lo / w_scale), 0, levels))
    wq = np.clip(np.round(w / w_scale) + w_zp, 0, levels).astype(np.uint8)
    names = {k: f"{base}/{k}" for k in ("Wq", "Wzp", "Wscale", "xq", "xs", "xzp", "acc", "accf", "s", "y", "B")}
    new_inits += [numpy_helper.from_array(wq, names["Wq"]),
                  numpy_helper.from_array(np.array(w_zp, np.uint8), names["Wzp"]),
                  numpy_helper.from_array(np.array(w_scale, np.float32), names["Wscale"])]
    nodes = [
        helper.make_node("DynamicQuantizeLinear", [node.input[0]], [names["xq"], names["xs"], names["xzp"]],
                         name=f"{base}_dql"),
        helper.make_node("ConvInteger", [names["xq"], names["Wq"], names["xzp"], names["Wzp"]], [names["acc"]],
                         name=f"{base}_convint", **{a.name: helper.get_attribute_value(a) for a in node.attribute}),
        helper.make_node("Cast", [names["acc"]], [names["accf"]], to=TensorProto.FLOAT, name=f"{base}_cast"),
        helper.make_node("Mul", [names["xs"], names["Wscale"]], [names["s"]], name=f"{base}_scale"),
    ]
    if b is not None:
        new_inits.append(numpy_helper.from_array(b.reshape(1, -1, *([1] * (w.ndim - 2))).astype(np.float32),
                                                 names["B"]))
        nodes += [helper.make_node("Mul", [names["accf"], names["s"]], [names["y"]], name=f"{base}_mul"),
                  helper.make_node("Add", [names["y"], names["B"]], list(node.output), name=f"{base}_bias")]
    else:
        nodes.append(helper.make_node("Mul", [names["accf"], names["s"]], list(node.output), name=f"{base}_mul"))
    return nodes


# ---------------------------------------------------------------------------------------------
# guard data


def guard_items(bundle: str, data: Optional[str], max_items: int = 400, log=print) -> Tuple[List[Dict], str]:
    """Items {audio (16 kHz float32), ids, label or None} and a description of where they came from."""
    from .audio import load_audio
    from .tokenizer import ByteLevelBPETokenizer

    with open(os.path.join(bundle, "model.json"), encoding="utf-8") as f:
        meta = json.load(f)
    tok = ByteLevelBPETokenizer.load(os.path.join(bundle, meta["tokenizer"]), max_length=meta.get("max_text_tokens"))
    labels = meta["labels"]
    rows: List[Tuple[str, str, Optional[str]]] = []  # path, text, label
    tmp = None
    if data is None:
        from .corpus import generate_corpus

        tmp = tempfile.mkdtemp(prefix="wavfusion-guard-")
        log("no --data: synthesising 120 espeak-ng validation clips")
        generate_corpus(tmp, n_train=0, n_val=120, n_test=0, seed=1234, jobs=2, log=lambda *a: None)
        data = tmp
    try:
        if os.path.isfile(os.path.join(data, "parity.json")):
            with open(os.path.join(data, "parity.json"), encoding="utf-8") as f:
                cases = json.load(f)["cases"]
            rows = [(os.path.join(data, c["wav"]), c["text"], None) for c in cases]
            source = f"parity fixtures {data} ({len(rows)} clips, no labels: float32's labels are the reference)"
        elif glob.glob(os.path.join(data, "*", "metadata.csv")):
            from .data import read_export_dir

            corpus = read_export_dir(data)
            split = "validation" if any(it.split == "validation" for it in corpus.items) else None
            items = [it for it in corpus.items if split is None or it.split == split]
            rows = [(it.path, it.text, it.label if it.label in labels else None) for it in items]
            source = (f"{'synthesised espeak-ng clips' if tmp else data} "
                      f"({split or 'all'} split, {len(rows[:max_items])} labelled clips)")
        else:
            wavs = sorted(glob.glob(os.path.join(data, "**", "*.wav"), recursive=True))
            if not wavs:
                raise ValueError(f"{data}: no WAV files, metadata.csv or parity.json")
            for w in wavs:
                txt = os.path.splitext(w)[0] + ".txt"
                text = open(txt, encoding="utf-8").read().strip() if os.path.exists(txt) else ""
                rows.append((w, text, None))
            source = f"{data} ({len(rows[:max_items])} WAV files, no labels: float32's labels are the reference)"
        rows = rows[:max_items]
        out = []
        for path, text, label in rows:
            audio = load_audio(path).astype(np.float32)
            if len(audio) < meta.get("min_samples", 400):
                continue
            audio = audio[: int(meta["max_seconds"] * meta["sample_rate"])]
            out.append({"audio": audio, "ids": tok.encode(text or "", max_length=meta.get("max_text_tokens")),
                        "label": labels.index(label) if label else None})
        return out, source
    finally:
        if tmp:
            shutil.rmtree(tmp, ignore_errors=True)


def run_onnx(models: Sequence[str], items: Sequence[Dict], threads: int = 2) -> Dict[str, Dict]:
    """Logits of each model over the items, through onnxruntime-node."""
    with tempfile.NamedTemporaryFile("w", suffix=".jsonl", delete=False) as f:
        for it in items:
            f.write(json.dumps({"audio": base64.b64encode(np.ascontiguousarray(it["audio"], "<f4").tobytes()).decode(),
                                "ids": [int(i) for i in it["ids"]]}) + "\n")
        path = f.name
    try:
        proc = subprocess.run(["node", os.path.join(HERE, "ort_batch.mjs"), path, str(threads), *models],
                              capture_output=True, text=True)
    finally:
        os.unlink(path)
    if proc.returncode != 0:
        raise RuntimeError(f"onnxruntime-node failed: {proc.stderr.strip()[-2000:]}")
    return json.loads(proc.stdout)


def _softmax(x: np.ndarray) -> np.ndarray:
    e = np.exp(x - x.max(-1, keepdims=True))
    return e / e.sum(-1, keepdims=True)


def compare(fp32_logits: np.ndarray, int8_logits: np.ndarray, truth: Sequence[Optional[int]], n_classes: int) -> Dict:
    from .metrics import classification_metrics

    p32, p8 = _softmax(fp32_logits), _softmax(int8_logits)
    a32, a8 = p32.argmax(-1), p8.argmax(-1)
    labelled = [i for i, t in enumerate(truth) if t is not None]
    if labelled and len(labelled) == len(truth):
        t = [label for label in truth if label is not None]  # all of them: every item is labelled
        f32 = classification_metrics(t, a32[labelled], n_classes)["macro_F1"]
        f8 = classification_metrics(t, a8[labelled], n_classes)["macro_F1"]
        reference = "true labels"
    else:
        f32 = 1.0
        f8 = classification_metrics(a32, a8, n_classes)["macro_F1"]
        reference = "float32 labels"
    return {
        "items": int(len(a32)),
        "label_agreement": round(float((a32 == a8).mean()), 6),
        "macro_f1_reference": reference,
        "macro_f1_fp32": round(float(f32), 6),
        "macro_f1_int8": round(float(f8), 6),
        "macro_f1_delta": round(float(abs(f32 - f8)), 6),
        "max_probability_diff": round(float(np.abs(p32 - p8).max()), 6),
        "mean_probability_diff": round(float(np.abs(p32 - p8).mean()), 6),
    }


def within_budget(g: Dict, budget: Dict = BUDGET) -> Tuple[bool, List[str]]:
    why = []
    if g["label_agreement"] < budget["min_label_agreement"]:
        why.append(f"label agreement {g['label_agreement']:.4f} < {budget['min_label_agreement']}")
    if g["macro_f1_delta"] > budget["max_macro_f1_delta"]:
        why.append(f"macro-F1 differs by {g['macro_f1_delta']:.4f} > {budget['max_macro_f1_delta']}")
    return not why, why


def sha256(path: str) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(4 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


# ---------------------------------------------------------------------------------------------
# the command


def quantize_bundle(bundle: str, data: Optional[str] = None, weight_bits: int = 8, per_channel: bool = True,
                    include_conv: bool = False, max_items: int = 400, threads: int = 2, out_name: str = "model.int8.onnx",
                    log=print) -> Dict:
    """Quantises, checks the guard, and on success writes ``out_name`` and model.json's ``variants``.

    Raises ValueError (nothing written) when the int8 graph is over the accuracy budget."""
    meta_path = os.path.join(bundle, "model.json")
    with open(meta_path, encoding="utf-8") as f:
        text = f.read()
    meta = json.loads(text)
    indent = 2 if text.startswith('{\n  "') else 1  # keep the file's own layout
    fp32_name = meta.get("model", "model.onnx")
    fp32_path = os.path.join(bundle, fp32_name)
    model = onnx.load(fp32_path)
    counts = quantize_graph(model, weight_bits=weight_bits, per_channel=per_channel, include_conv=include_conv)
    if not any(counts.values()):
        raise ValueError(f"{fp32_path}: no MatMul/Gemm with constant weights to quantise")
    onnx.checker.check_model(model)
    tmp_dir = tempfile.mkdtemp(prefix="wavfusion-int8-")
    try:
        tmp_path = os.path.join(tmp_dir, out_name)
        onnx.save(model, tmp_path)
        items, source = guard_items(bundle, data, max_items=max_items, log=log)
        if not items:
            raise ValueError("accuracy guard: no usable clips in the data")
        log(f"accuracy guard on {source}: running float32 and int8 through onnxruntime-node")
        res = run_onnx([fp32_path, tmp_path], items, threads=threads)
        guard = compare(np.array([r["logits"] for r in res[fp32_path]["rows"]]),
                        np.array([r["logits"] for r in res[tmp_path]["rows"]]),
                        [it["label"] for it in items], len(meta["labels"]))
        guard["data"] = source
        guard["budget"] = dict(BUDGET)
        ok, why = within_budget(guard)
        speed = {k: round(res[p]["audio_seconds"] / max(res[p]["seconds"], 1e-9), 1)
                 for k, p in (("fp32", fp32_path), ("int8", tmp_path))}
        log(f"  agreement {guard['label_agreement']:.4f}, macro-F1 {guard['macro_f1_fp32']:.4f} -> "
            f"{guard['macro_f1_int8']:.4f} ({guard['macro_f1_reference']}), max prob diff "
            f"{guard['max_probability_diff']:.4f}; x real time (batch 1, {threads} threads): {speed}")
        if not ok:
            raise ValueError(f"accuracy guard failed, {out_name} not written: {'; '.join(why)}")
        out_path = os.path.join(bundle, out_name)
        shutil.move(tmp_path, out_path)
    finally:
        shutil.rmtree(tmp_dir, ignore_errors=True)
    variants = {
        "fp32": {"file": fp32_name, "sha256": sha256(fp32_path), "precision": "fp32"},
        "int8": {
            "file": out_name, "sha256": sha256(out_path), "precision": "int8",
            "scheme": (f"dynamic: int{weight_bits} symmetric weights "
                       f"({'per output channel' if per_channel else 'per tensor'}), uint8 activations per tensor "
                       "quantised at run time (com.microsoft.DynamicQuantizeMatMul)"),
            "quantised_nodes": counts,
            "float_nodes": "feature encoder convolutions" if not include_conv else "none of the feature encoder",
            "devices": ["cpu"],
            "guard": guard,
        },
    }
    meta["variants"] = variants
    with open(meta_path + ".tmp", "w", encoding="utf-8") as f:
        json.dump(meta, f, indent=indent, ensure_ascii=False)
    os.replace(meta_path + ".tmp", meta_path)
    log(f"wrote {out_path} ({os.path.getsize(out_path) / 1e6:.1f} MB vs {os.path.getsize(fp32_path) / 1e6:.1f} MB) "
        f"and model.json variants")
    return variants
