import json

from wavfusion.tokenizer import EMPTY_TEXT_IDS, ByteLevelBPETokenizer, pretokenize, train_bpe

TEXTS = ["I am so happy about the new car!", "The meeting is on Monday.", "I miss my brother so much.",
         "How dare you touch the garden!", "Put the book on the second shelf."] * 5


def test_train_encode_roundtrip_and_specials(tmp_path):
    tok = train_bpe(TEXTS, vocab_size=320)
    assert tok.vocab["<s>"] == 0 and tok.vocab["<pad>"] == 1 and tok.vocab["</s>"] == 2 and tok.vocab["<unk>"] == 3
    ids = tok.encode("I am so happy about the garden.")
    assert ids[0] == 0 and ids[-1] == 2 and len(ids) < 20
    assert tok.decode(ids) == "I am so happy about the garden."
    assert tok.encode("") == EMPTY_TEXT_IDS == [0, 2]
    # unseen characters still encode through the byte alphabet
    assert tok.decode(tok.encode("Zürich 42 €")) == "Zürich 42 €"
    assert len(tok.encode("word " * 100, max_length=16)) == 16


def test_hf_json_format_and_reload(tmp_path):
    tok = train_bpe(TEXTS, vocab_size=300)
    path = str(tmp_path / "tokenizer.json")
    tok.save(path)
    d = json.load(open(path))
    assert d["model"]["type"] == "BPE"
    assert d["pre_tokenizer"] == {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True, "use_regex": True}
    assert d["post_processor"]["type"] == "RobertaProcessing"
    assert d["post_processor"]["cls"] == ["<s>", 0] and d["post_processor"]["sep"] == ["</s>", 2]
    assert all(isinstance(m, str) and len(m.split(" ")) == 2 for m in d["model"]["merges"])
    ids = sorted(d["model"]["vocab"].values())
    assert ids == list(range(len(ids)))
    back = ByteLevelBPETokenizer.load(path)
    for t in TEXTS[:5] + ["New words, unseen: xylophone!"]:
        assert back.encode(t) == tok.encode(t)
    # newer tokenizers write merges as pairs: also accepted
    d["model"]["merges"] = [m.split(" ") for m in d["model"]["merges"]]
    assert ByteLevelBPETokenizer.from_hf_json(d).encode(TEXTS[0]) == tok.encode(TEXTS[0])


def test_pretokenize_matches_gpt2_style():
    assert pretokenize("Hello world's end!!") == ["Hello", "Ġworld", "'s", "Ġend", "!!"]
    assert pretokenize("a  b") == ["a", "Ġ", "Ġb"]


def test_same_ids_as_huggingface_tokenizers_js(tmp_path):
    """The studio tokenises with the npm package @huggingface/tokenizers: same ids."""
    import os
    import shutil
    import subprocess

    import pytest

    repo = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    if shutil.which("node") is None:
        pytest.fail("node is required")
    if not os.path.isdir(os.path.join(repo, "node_modules", "@huggingface", "tokenizers")):
        pytest.fail(f"@huggingface/tokenizers is missing: run `npm install` in {repo}")
    tok = train_bpe(TEXTS, vocab_size=330)
    tok.save(str(tmp_path / "tokenizer.json"))
    texts = TEXTS[:5] + ["", "Zürich — the bus leaves at 9:15, doesn't it?", "a  b   c\n d", "Hello world's end!!"]
    (tmp_path / "texts.json").write_text(json.dumps(texts))
    here = os.path.dirname(os.path.abspath(__file__))
    r = subprocess.run(["node", os.path.join(here, "tok_run.mjs"), str(tmp_path / "tokenizer.json"),
                        str(tmp_path / "texts.json")], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout) == [tok.encode(t) for t in texts]
