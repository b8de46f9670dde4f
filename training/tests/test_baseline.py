"""The log-mel + MLP floor's per-speaker normalisation (baseline --speaker-normalise)."""
import numpy as np

from wavfusion.baseline import normalise_per_speaker


def test_each_speaker_is_normalised_by_its_own_clips():
    rng = np.random.default_rng(0)
    # two speakers with different offsets and scales per feature, one with a single clip
    a = rng.normal(5.0, 3.0, size=(6, 4))
    b = rng.normal(-2.0, 0.5, size=(5, 4))
    feats = np.concatenate([a, b, [[9.0, 9.0, 9.0, 9.0]]])
    speakers = ["a"] * 6 + ["b"] * 5 + ["c"]
    out = normalise_per_speaker(feats, speakers)
    for s, rows in (("a", slice(0, 6)), ("b", slice(6, 11))):
        assert np.allclose(out[rows].mean(0), 0.0, atol=1e-9), s
        assert np.allclose(out[rows].std(0), 1.0, atol=1e-4), s
    assert np.allclose(out[11], 0.0)  # a single clip: its own mean, no spread
    # the input is not changed and the order of rows is kept
    assert np.allclose(out[0], (a[0] - a.mean(0)) / (a.std(0) + 1e-6))
    assert feats[11, 0] == 9.0
