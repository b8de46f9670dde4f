import os
import shutil
import sys

import pytest
import torch

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

torch.set_num_threads(2)


def tiny_cfg(**kw):
    from wavfusion.config import get_config

    kw.setdefault("vocab_size", 300)
    return get_config("tiny", **kw)


@pytest.fixture(scope="session")
def espeak_corpus(tmp_path_factory):
    """A handful of real espeak-ng clips in the studio's export layout."""
    if shutil.which("espeak-ng") is None or shutil.which("sox") is None:
        pytest.fail("espeak-ng and sox are required (apt-get install espeak-ng sox)")
    from wavfusion.corpus import generate_corpus

    out = str(tmp_path_factory.mktemp("corpus"))
    generate_corpus(out, n_train=16, n_val=8, n_test=8, seed=7, jobs=2, log=lambda *a: None)
    return out
