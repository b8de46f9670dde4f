"""Bad manifests: each unusable row gets a clear per-row report; training goes on with the rest, or stops with
one message (exit 2), never with a traceback."""
import csv
import os
import subprocess
import sys

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _cli(args):
    env = dict(os.environ, PYTHONPATH=ROOT, OMP_NUM_THREADS="1")
    return subprocess.run([sys.executable, "-m", "wavfusion"] + args, cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=600)


def _good_rows(corpus):
    rows = []
    for split in ("train", "validation"):
        with open(os.path.join(corpus, split, "metadata.csv"), newline="") as f:
            for r in csv.DictReader(f):
                rows.append({"path": os.path.join(corpus, split, r["file_name"]), "text": r["text"],
                             "label": r["label"], "speaker": r["speaker"]})
    return rows


def _write(path, rows):
    with open(path, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=["path", "text", "label", "speaker"])
        w.writeheader()
        w.writerows(rows)


def test_bad_rows_are_reported_and_training_goes_on(espeak_corpus, tmp_path):
    from wavfusion.audio import write_wav16

    short = str(tmp_path / "short.wav")
    write_wav16(short, np.zeros(100, dtype=np.float32))  # 6 ms: shorter than one frame
    garbage = str(tmp_path / "garbage.wav")
    with open(garbage, "wb") as f:
        f.write(b"RIFF\x10\x00\x00\x00WAVEnot really audio at all" * 3)
    rows = _good_rows(espeak_corpus) + [
        {"path": str(tmp_path / "missing.wav"), "text": "x", "label": "happy", "speaker": "s1"},
        {"path": short, "text": "x", "label": "sad", "speaker": "s1"},
        {"path": garbage, "text": "x", "label": "angry", "speaker": "s1"},
        {"path": short, "text": "x", "label": "bored", "speaker": "s1"},
        {"path": short, "text": "x", "label": "", "speaker": "s1"},
        {"path": "", "text": "x", "label": "sad", "speaker": "s1"},
    ]
    manifest = str(tmp_path / "manifest.csv")
    _write(manifest, rows)
    out = _cli(["train", "--data", manifest, "--out", str(tmp_path / "bundle"), "--epochs", "1", "--threads", "1",
                "--vocab-size", "300", "--labels", "neutral,happy,angry,sad"])
    text = out.stdout + out.stderr
    assert out.returncode == 0, text[-3000:]
    assert "Traceback" not in text
    assert "rows not used" in text
    assert "missing.wav" in text and "file not found" in text
    assert "shorter than one frame (100 samples" in text
    assert "garbage.wav" in text and "unreadable audio" in text
    assert "label 'bored' is not in the label set" in text
    assert "no label" in text and "no path" in text
    assert os.path.exists(tmp_path / "bundle" / "model.onnx")


def test_nothing_usable_stops_with_one_message(tmp_path):
    manifest = str(tmp_path / "manifest.csv")
    _write(manifest, [{"path": str(tmp_path / f"missing{i}.wav"), "text": "", "label": "sad", "speaker": "a"}
                      for i in range(3)])
    out = _cli(["train", "--data", manifest, "--out", str(tmp_path / "bundle"), "--epochs", "1"])
    assert out.returncode == 2
    assert "Traceback" not in out.stderr
    assert out.stderr.startswith("error: ") and "no usable rows (3 of 3 could not be used" in out.stderr
    assert not os.path.exists(tmp_path / "bundle")
