"""A uniform "model soup" (Wortsman et al. 2022): the element-wise mean of the weights of several bundles
fine-tuned from one initialisation (same architecture, labels and tokenizer), written as a new bundle.

Runs that start from the same weights and differ only in their training randomness tend to land in one
basin, where the average of the weights is a model of its own, often better than each; runs from
different initialisations do not average (their units are permuted), so the bundles must share an
ancestor: ``soup`` checks architecture, labels and tokenizer, and the caller is responsible for the
lineage. Choose a soup on validation data (``evaluate --split validation``), never on test.

Integer buffers (BatchNorm's ``num_batches_tracked``) are taken from the first bundle; running means and
variances are averaged like the weights.
"""
from __future__ import annotations

import json
import os
from typing import Any, Dict, List, Sequence


def soup_bundles(folders: Sequence[str], out_dir: str, name: str, log=print) -> Dict[str, Any]:
    import torch

    from .checkpoint import torch_load
    from .export import derive_bundle

    if len(folders) < 2:
        raise ValueError("soup needs at least two bundles")
    metas: List[Dict[str, Any]] = []
    for f in folders:
        with open(os.path.join(f, "model.json"), encoding="utf-8") as fh:
            metas.append(json.load(fh))
    first = metas[0]
    for f, m in zip(folders[1:], metas[1:]):
        if m.get("config") != first.get("config"):
            raise ValueError(f"{f}: its architecture (model.json config) differs from {folders[0]}'s")
        if m.get("labels") != first.get("labels"):
            raise ValueError(f"{f}: its labels {m.get('labels')} differ from {first.get('labels')}")
        with open(os.path.join(f, m.get("tokenizer") or "tokenizer.json"), "rb") as a, \
                open(os.path.join(folders[0], first.get("tokenizer") or "tokenizer.json"), "rb") as b:
            if a.read() != b.read():
                raise ValueError(f"{f}: its tokenizer differs from {folders[0]}'s")
    states = [torch_load(os.path.join(f, m.get("pytorch_weights") or "model.pt")) for f, m in zip(folders, metas)]
    keys = list(states[0].keys())
    for f, s in zip(folders[1:], states[1:]):
        if list(s.keys()) != keys or any(s[k].shape != states[0][k].shape for k in keys):
            raise ValueError(f"{f}: model.pt does not have {folders[0]}'s tensors")
    averaged = {}
    for k in keys:
        t = states[0][k]
        averaged[k] = (torch.stack([s[k].float() for s in states]).mean(0).to(t.dtype)
                       if t.is_floating_point() else t.clone())

    meta = derive_bundle(folders[0], out_dir, averaged, first, name, "soup",
                         {"of": [os.path.abspath(f) for f in folders],
                          "method": "uniform mean of the weights (model soup)"})
    log(f"soup of {len(folders)} bundles written to {out_dir}")
    return meta
