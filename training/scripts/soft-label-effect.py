"""Effect of soft labels (train --soft-labels) where annotators disagree: the synthetic corpus's
training rows relabelled by simulated annotators who each give the true label with probability
ACCURACY (else one of the other labels at random). The hard run trains on the majority label (ties
broken at random), the soft run on the vote distribution; validation and test keep the true labels.
Same seed, data and budget; prints test UA with and without transcripts for both.

Usage (from training/): python3 scripts/soft-label-effect.py [--corpus .cache/synthetic-1200]
  [--annotators 3] [--accuracy 0.6] [--epochs 4] [--out .cache/soft-label-effect]
"""
import argparse
import csv
import json
import os
import random
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

from wavfusion.train import train  # noqa: E402

LABELS = ["neutral", "happy", "angry", "sad"]


def relabel(src: str, dst: str, annotators: int, accuracy: float, seed: int) -> dict:
    rng = random.Random(seed)
    os.makedirs(dst, exist_ok=True)
    with open(os.path.join(dst, "label_map.json"), "w") as f:
        json.dump({"labels": LABELS}, f)
    stats = {"rows": 0, "majority_wrong": 0, "unanimous": 0}
    for split in ("train", "validation", "test"):
        os.makedirs(os.path.join(dst, split), exist_ok=True)
        with open(os.path.join(src, split, "metadata.csv"), newline="") as f:
            rows = list(csv.DictReader(f))
        for row in rows:
            link = os.path.join(dst, split, row["file_name"])
            if not os.path.exists(link):
                os.symlink(os.path.abspath(os.path.join(src, split, row["file_name"])), link)
            if split != "train":
                continue
            truth = row["label"]
            votes = [truth if rng.random() < accuracy else rng.choice([l for l in LABELS if l != truth])
                     for _ in range(annotators)]
            counts = [votes.count(l) for l in LABELS]
            top = [l for l, c in zip(LABELS, counts) if c == max(counts)]
            row["label"] = rng.choice(top)
            row["soft_label"] = json.dumps([c / annotators for c in counts])
            stats["rows"] += 1
            stats["majority_wrong"] += row["label"] != truth
            stats["unanimous"] += max(counts) == annotators
        fields = list(rows[0].keys()) + (["soft_label"] if "soft_label" not in rows[0] else [])
        with open(os.path.join(dst, split, "metadata.csv"), "w", newline="") as f:
            w = csv.DictWriter(f, fieldnames=fields)
            w.writeheader()
            w.writerows(rows)
    return stats


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--corpus", default=".cache/synthetic-1200")
    ap.add_argument("--annotators", type=int, default=3)
    ap.add_argument("--accuracy", type=float, default=0.6)
    ap.add_argument("--epochs", type=int, default=4)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", default=".cache/soft-label-effect")
    args = ap.parse_args()
    data = os.path.join(args.out, "export")
    stats = relabel(args.corpus, data, args.annotators, args.accuracy, args.seed)
    print(f"{stats['rows']} training rows, {args.annotators} simulated annotators at accuracy {args.accuracy}: "
          f"majority label wrong on {stats['majority_wrong']}, unanimous on {stats['unanimous']}", flush=True)
    results = {"setup": vars(args), "relabelling": stats}
    for mode in ("hard", "soft"):
        res = train(data, None, config="tiny", epochs=args.epochs, seed=args.seed, soft_labels=mode == "soft",
                    config_overrides={"audio.feature_encoder": "log-mel"}, quiet_progress=True,
                    log=lambda *a: None)
        m = res["training_info"]["metrics"]
        results[mode] = {"with_text": m["test"], "without_text": m["test_without_text"]}
        print(f"{mode}: test UA with transcripts {m['test']['UA']:.3f}, without {m['test_without_text']['UA']:.3f} "
              f"(best epoch {res['best_epoch']})", flush=True)
    with open(os.path.join(args.out, "results.json"), "w") as f:
        json.dump(results, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
