"""torchrun + DistributedDataParallel (gloo, 2 CPU processes) gives the single-process result."""
import os
import subprocess
import sys

import torch

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# deterministic model: no dropout, no time masks, no text dropout (those are drawn per rank)
COMMON = ["--config", "tiny", "--epochs", "2", "--batch-size", "5", "--seed", "3", "--threads", "1",
          "--vocab-size", "300", "--no-noise", "--text-dropout", "0",
          "--set", "audio.hidden_dropout=0", "--set", "audio.attention_dropout=0",
          "--set", "audio.mask_time_prob=0", "--set", "text.hidden_dropout_prob=0",
          "--set", "text.attention_probs_dropout_prob=0", "--set", "classifier_dropout=0"]


def _run(args, env_extra=None):
    env = dict(os.environ, PYTHONPATH=ROOT, OMP_NUM_THREADS="1")
    env.update(env_extra or {})
    out = subprocess.run([sys.executable] + args, cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
    return out


def test_split_sizes_cover_the_batch():
    from wavfusion.distributed import DistContext, local_rows, split_sizes

    assert split_sizes(5, 2) == [3, 2]
    assert split_sizes(1, 2) == [1, 0]
    rows = [local_rows(7, DistContext(world=3, rank=r)) for r in range(3)]
    assert [(s.start, s.stop) for s in rows] == [(0, 3), (3, 5), (5, 7)]


def test_two_gloo_processes_match_one_process(espeak_corpus, tmp_path):
    single, ddp = str(tmp_path / "single"), str(tmp_path / "ddp")
    _run(["-m", "wavfusion", "train", "--data", espeak_corpus, "--out", single] + COMMON)
    out = _run(["-m", "torch.distributed.run", "--nproc_per_node", "2", "--master_port", "29533",
                # torch 1.13 on Python 3.11 cannot parse the default "0" of these (fixed in torch 2.x)
                "--redirects", "1", "--tee", "1",
                "-m", "wavfusion", "train", "--data", espeak_corpus, "--out", ddp] + COMMON)
    assert "bundle written" in out.stdout
    a = torch.load(os.path.join(single, "model.pt"))
    b = torch.load(os.path.join(ddp, "model.pt"))
    assert a.keys() == b.keys()
    worst = max(float((a[k].float() - b[k].float()).abs().max()) for k in a)
    # 16 training items, batches of 5 (the last one uneven: 3 + 2 rows), 2 epochs, L_mar across ranks
    assert worst < 2e-4, f"DDP weights differ from the single process by {worst}"

