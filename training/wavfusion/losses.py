"""Multimodal homogeneous feature discrepancy learning: the margin loss L_mar."""
from __future__ import annotations

from typing import Optional, Sequence

import torch
import torch.nn.functional as F


def margin_loss(feats: Sequence[torch.Tensor], labels: torch.Tensor,
                present: Optional[Sequence[Optional[torch.Tensor]]] = None,
                margin: float = 0.3) -> torch.Tensor:
    """Triplet-style cosine margin loss over modality-level utterance features.

    feats: one [B, D] tensor per modality (already passed through the shared linear
    encoder); labels: [B]; present: optional bool [B] per modality (a sample whose
    transcript was dropped has no text feature).

    For every anchor a = z^m_i, positive p = z^{m'}_j (other modality m' != m, same label,
    j may equal i) and negative n = z^m_k (same modality, different label):
        l = max(0, margin + cos(a, n) - cos(a, p))
    L_mar is the mean of l over all such triplets (0 if there are none). It is exactly 0
    iff every cross-modal same-emotion pair is closer, by at least the margin, than every
    within-modality different-emotion pair, and positive otherwise.
    """
    num_modalities = len(feats)
    device = feats[0].device if num_modalities else labels.device
    if num_modalities < 2:
        return torch.zeros((), device=device)
    unit = [F.normalize(feat, dim=-1) for feat in feats]
    batch = labels.shape[0]
    rows_present = []
    for m in range(num_modalities):
        given = None if present is None else present[m]
        rows_present.append(torch.ones(batch, dtype=torch.bool, device=device) if given is None
                            else given.to(torch.bool))
    same = labels.view(-1, 1) == labels.view(1, -1)
    total = torch.zeros((), device=device)
    count = torch.zeros((), device=device)
    for anchor in range(num_modalities):
        sim_neg = unit[anchor] @ unit[anchor].t()                      # [i, k]
        neg_ok = (~same) & rows_present[anchor].view(-1, 1) & rows_present[anchor].view(1, -1)
        for other in range(num_modalities):
            if other == anchor:
                continue
            sim_pos = unit[anchor] @ unit[other].t()                   # [i, j]
            pos_ok = same & rows_present[anchor].view(-1, 1) & rows_present[other].view(1, -1)
            viol = F.relu(margin + sim_neg.unsqueeze(1) - sim_pos.unsqueeze(2))  # [i, j, k]
            valid = (pos_ok.unsqueeze(2) & neg_ok.unsqueeze(1)).to(viol.dtype)
            total = total + (viol * valid).sum()
            count = count + valid.sum()
    return total / count.clamp(min=1.0)
