"""Ablation on the synthetic corpus: audio-only, text-only, concatenation, GCA, GCA + L_mar."""
from __future__ import annotations

import json
import os
import time
from typing import Dict, List, Optional, Sequence, TypedDict

import numpy as np


class Variant(TypedDict):
    """The arguments of :func:`wavfusion.train.train` that make an ablation variant."""
    fusion: str
    lambda_mar: float


VARIANTS: Dict[str, Variant] = {
    "audio-only": Variant(fusion="audio", lambda_mar=0.0),
    "text-only": Variant(fusion="text", lambda_mar=0.0),
    "concat": Variant(fusion="concat", lambda_mar=0.0),
    "GCA": Variant(fusion="gca", lambda_mar=0.0),
    "GCA + L_mar": Variant(fusion="gca", lambda_mar=1.0),
}


def run_ablation(out: str, data: Optional[str] = None, seeds: Sequence[int] = (0,), epochs: int = 5,
                 max_train_items: Optional[int] = 480, threads: int = 2, variants: Optional[List[str]] = None,
                 max_seconds: float = 3.0, log=print) -> Dict:
    from .corpus import generate_corpus
    from .train import train

    os.makedirs(out, exist_ok=True)
    if data is None:
        data = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), ".cache", "ablation-corpus")
        if not os.path.exists(os.path.join(data, "provenance.json")):
            log(f"generating the synthetic corpus at {data}")
            generate_corpus(data, n_train=1200, n_val=200, n_test=400, seed=1, log=log)
    names = variants or list(VARIANTS)
    results: Dict[str, Dict] = {}
    path = os.path.join(out, "results.json")
    if os.path.exists(path):
        with open(path) as f:
            results = json.load(f)
    for name in names:
        for seed in seeds:
            key = f"{name}|{seed}"
            if key in results:
                continue
            t0 = time.time()
            log(f"=== {name}, seed {seed}")
            r = train(data, None, config="tiny", epochs=epochs, batch_size=16, lr=1e-3, seed=seed, threads=threads,
                      max_train_items=max_train_items, train_crop_seconds=max_seconds, log=log, quiet_progress=True,
                      **VARIANTS[name])
            results[key] = {"variant": name, "seed": seed, "test": r.get("test"), "validation": r["validation"],
                            "test_cues": r.get("test_cues"), "test_without_text": r.get("test_without_text"),
                            "best_epoch": r["best_epoch"], "seconds": round(time.time() - t0, 1)}
            with open(path, "w") as f:
                json.dump(results, f, indent=1)
    table = format_table(results, names, seeds)
    with open(os.path.join(out, "table.md"), "w") as f:
        f.write(table)
    log(table)
    return results


def format_table(results: Dict[str, Dict], names: List[str], seeds: Sequence[int]) -> str:
    lines = ["| variant | WA | UA | macro-F1 | acc. text+audio items | acc. text-only items | acc. audio-only items "
             "| acc. neutral items | seeds |",
             "|---|---|---|---|---|---|---|---|---|"]
    for name in names:
        rs = [results.get(f"{name}|{s}") for s in seeds]
        rs = [r for r in rs if r and r.get("test")]
        if not rs:
            continue

        def ms(vals):
            vals = [100 * v for v in vals]
            return f"{np.mean(vals):.1f}" + (f" ± {np.std(vals):.1f}" if len(vals) > 1 else "")

        def cue(c, rs=rs):
            if not all(r.get("test_cues") and c in r["test_cues"] for r in rs):
                return "-"
            return ms([r["test_cues"][c]["acc"] for r in rs])
        lines.append(f"| {name} | {ms([r['test']['WA'] for r in rs])} | {ms([r['test']['UA'] for r in rs])} | "
                     f"{ms([r['test']['macro_F1'] for r in rs])} | {cue('both')} | {cue('text')} | {cue('audio')} | "
                     f"{cue('neutral')} | {', '.join(str(r['seed']) for r in rs)} |")
    return "\n".join(lines) + "\n"
