"""Markdown tables of the real-speech runs: python3 scripts/real-speech-table.py [results dir] [main.json]."""
import json
import os
import sys

root = sys.argv[1] if len(sys.argv) > 1 else ".cache/ablation-real"
main = sys.argv[2] if len(sys.argv) > 2 else None
CORPORA = ["ravdess-speech", "tess", "nemo-pl", "synthetic"]


def cell(m):
    return f"{m['WA']:.3f} / {m['UA']:.3f} / {m['macro_F1']:.3f}" if m else "–"


def rows_of(name, res):
    out = []
    if "test_by_corpus" in res:  # baseline
        r = {c: res["test_by_corpus"].get(c) for c in CORPORA}
        out.append((name, "audio (log-mel stats)", r))
        return out
    rep = res["metrics"].get("test_report", {})
    for mode in ("without_text", "with_text"):
        if mode in rep:
            out.append((name, mode.replace("_", " "), {c: rep[mode].get(c) for c in CORPORA}))
    alone = res["metrics"].get("test_statistics_expert_alone")
    if alone:
        out.append((name, "audio (statistics expert alone)", {c: alone.get(c) for c in CORPORA}))
    return out


runs = []
if main and os.path.exists(main):
    with open(main) as f:
        runs.append(("demo recipe (8 epochs, all clips)", json.load(f)))
for fn in sorted(os.listdir(root)):
    if fn.endswith(".json"):
        with open(os.path.join(root, fn)) as f:
            runs.append((fn[:-5], json.load(f)))
print("| run | input | " + " | ".join(f"{c} WA / UA / F1" for c in CORPORA) + " |")
print("|---|---|" + "---|" * len(CORPORA))
for name, res in runs:
    for n, mode, r in rows_of(name, res):
        print(f"| {n} | {mode} | " + " | ".join(cell(r[c]) for c in CORPORA) + " |")
