"""Class-prior calibration: the offsets found undo a known bias of the logits, and change nothing when
there is none to undo."""
import numpy as np

from wavfusion.calibrate import fit_offsets, unweighted_accuracy


def _logits(n_per_class=200, n=4, seed=0, bias=None):
    rng = np.random.default_rng(seed)
    gold = np.repeat(np.arange(n), n_per_class)
    z = rng.normal(0, 1, (len(gold), n))
    z[np.arange(len(gold)), gold] += 1.5
    if bias is not None:
        z += np.asarray(bias)
    return z, gold


def test_unweighted_accuracy_is_the_mean_recall():
    gold = np.array([0, 0, 0, 1, 2, 2])
    pred = np.array([0, 0, 1, 1, 0, 2])
    assert abs(unweighted_accuracy(gold, pred, 3) - np.mean([2 / 3, 1.0, 0.5])) < 1e-12
    # a class with no items does not count
    assert unweighted_accuracy(np.array([0, 0]), np.array([0, 1]), 3) == 0.5


def test_offsets_undo_a_class_bias_and_raise_ua():
    z, gold = _logits(bias=[0.0, -1.5, 0.0, 1.0])
    offset = fit_offsets([(z, gold)], 4)
    assert offset[0] == 0.0
    # the differences between the biased classes are undone (class 0 is the reference; UA is flat
    # around it, so only the others' differences are pinned down)
    assert abs((offset[1] - offset[2]) - 1.5) < 0.4 and abs((offset[2] - offset[3]) - 1.0) < 0.4
    assert unweighted_accuracy(gold, (z + offset).argmax(1), 4) > unweighted_accuracy(gold, z.argmax(1), 4) + 0.05


def test_no_bias_no_change_to_speak_of():
    z, gold = _logits(seed=3)
    offset = fit_offsets([(z, gold)], 4)
    assert np.abs(offset).max() <= 0.3
