"""Byte-level BPE (GPT-2 / RoBERTa style): a small trainer that writes a Hugging Face
``tokenizer.json`` and a matching encoder that also reads real roberta-base files.

Special tokens follow RoBERTa: <s>=0, <pad>=1, </s>=2, <unk>=3 (and <mask> last).
Encoding a text gives ``[<s>] + bpe(text) + [</s>]``; the empty transcript gives
``[0, 2]`` (this is also how "no text" is fed to the model).
"""
from __future__ import annotations

import json
import re
from collections import Counter
from typing import Any, Dict, Iterable, List, Optional, Sequence, Tuple

try:  # the GPT-2 pattern needs \p{L} / \p{N}; python3-regex is optional
    import regex as _re  # type: ignore

    _PAT = _re.compile(r"""'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+""")
except ImportError:  # stdlib approximation: identical on ASCII / Latin text
    _PAT = re.compile(r"""'s|'t|'re|'ve|'m|'ll|'d| ?[^\W\d_]+| ?\d+| ?(?:[^\s\w]|_)+|\s+(?!\S)|\s+""")

SPECIALS = ["<s>", "<pad>", "</s>", "<unk>"]
BOS_ID, PAD_ID, EOS_ID, UNK_ID = 0, 1, 2, 3
EMPTY_TEXT_IDS = [BOS_ID, EOS_ID]


def bytes_to_unicode() -> Dict[int, str]:
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return dict(zip(bs, [chr(c) for c in cs]))


_B2U = bytes_to_unicode()


def pretokenize(text: str) -> List[str]:
    """GPT-2 regex split, then map bytes to printable unicode (ByteLevel, add_prefix_space=False)."""
    return ["".join(_B2U[b] for b in piece.encode("utf-8")) for piece in _PAT.findall(text)]


def _merge_word(word: Tuple[str, ...], pair: Tuple[str, str]) -> Tuple[str, ...]:
    a, b = pair
    out: List[str] = []
    i = 0
    while i < len(word):
        if i < len(word) - 1 and word[i] == a and word[i + 1] == b:
            out.append(a + b)
            i += 2
        else:
            out.append(word[i])
            i += 1
    return tuple(out)


def _merge_pair(m: Any) -> Tuple[str, str]:
    """A tokenizer.json merges entry: "a b" (older tokenizers) or ["a", "b"] (newer ones)."""
    pair = tuple(m.split(" ", 1)) if isinstance(m, str) else tuple(m)
    if len(pair) != 2:
        raise ValueError(f"tokenizer merges entry {m!r} is not a pair")
    return pair[0], pair[1]


def train_bpe(texts: Iterable[str], vocab_size: int = 1024, min_frequency: int = 2) -> "ByteLevelBPETokenizer":
    words = Counter()
    for t in texts:
        words.update(pretokenize(t))
    split = {tuple(w): c for w, c in words.items()}
    vocab: Dict[str, int] = {s: i for i, s in enumerate(SPECIALS)}
    for b in range(256):
        vocab[_B2U[b]] = len(vocab)
    merges: List[Tuple[str, str]] = []
    n_target = vocab_size - 1  # keep one id for <mask>
    while len(vocab) < n_target:
        pairs: Counter = Counter()
        for w, c in split.items():
            for i in range(len(w) - 1):
                pairs[(w[i], w[i + 1])] += c
        if not pairs:
            break
        best, freq = max(pairs.items(), key=lambda kv: (kv[1], kv[0]))
        if freq < min_frequency:
            break
        merges.append(best)
        vocab[best[0] + best[1]] = len(vocab)
        split = {(_merge_word(w, best) if best[0] in w else w): c for w, c in split.items()}
    vocab["<mask>"] = len(vocab)
    return ByteLevelBPETokenizer(vocab, merges)


class ByteLevelBPETokenizer:
    def __init__(self, vocab: Dict[str, int], merges: Sequence[Tuple[str, str]], max_length: Optional[int] = None):
        self.vocab = dict(vocab)
        self.merges: List[Tuple[str, str]] = [(a, b) for a, b in merges]
        self.ranks = {m: i for i, m in enumerate(self.merges)}
        self.max_length = max_length
        self._cache: Dict[str, List[int]] = {}
        for s, i in zip(SPECIALS, (BOS_ID, PAD_ID, EOS_ID, UNK_ID)):
            if self.vocab.get(s) != i:
                raise ValueError(f"tokenizer must map {s} to {i} (RoBERTa layout), got {self.vocab.get(s)}")

    @property
    def vocab_size(self) -> int:
        return max(self.vocab.values()) + 1

    def _bpe(self, word: str) -> List[int]:
        if word in self._cache:
            return self._cache[word]
        parts = tuple(word)
        while len(parts) > 1:
            cands = [(r, i) for i in range(len(parts) - 1)
                     if (r := self.ranks.get((parts[i], parts[i + 1]))) is not None]
            if not cands:
                break
            rank = min(cands)[0]
            parts = _merge_word(parts, self.merges[rank])
        ids = [self.vocab.get(p, UNK_ID) for p in parts]
        self._cache[word] = ids
        return ids

    def encode(self, text: str, max_length: Optional[int] = None) -> List[int]:
        max_length = max_length or self.max_length
        ids: List[int] = []
        for w in pretokenize(text or ""):
            ids.extend(self._bpe(w))
        if max_length is not None:
            ids = ids[: max(0, max_length - 2)]
        return [BOS_ID] + ids + [EOS_ID]

    def decode(self, ids: Sequence[int]) -> str:
        inv = {i: s for s, i in self.vocab.items()}
        u2b = {u: b for b, u in _B2U.items()}
        toks = [inv.get(i, "") for i in ids if i not in (BOS_ID, PAD_ID, EOS_ID)]
        data = bytes(u2b[ch] for t in toks if t not in SPECIALS for ch in t if ch in u2b)
        return data.decode("utf-8", errors="replace")

    # ------------------------------------------------------------------ HF format
    def to_hf_json(self) -> Dict:
        added = []
        for s, i in zip(SPECIALS, (BOS_ID, PAD_ID, EOS_ID, UNK_ID)):
            added.append({"id": i, "content": s, "single_word": False, "lstrip": False, "rstrip": False,
                          "normalized": True, "special": True})
        if "<mask>" in self.vocab:
            added.append({"id": self.vocab["<mask>"], "content": "<mask>", "single_word": False, "lstrip": True,
                          "rstrip": False, "normalized": False, "special": True})
        return {
            "version": "1.0",
            "truncation": None,
            "padding": None,
            "added_tokens": added,
            "normalizer": None,
            "pre_tokenizer": {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True, "use_regex": True},
            "post_processor": {"type": "RobertaProcessing", "sep": ["</s>", EOS_ID], "cls": ["<s>", BOS_ID],
                               "trim_offsets": True, "add_prefix_space": False},
            "decoder": {"type": "ByteLevel", "add_prefix_space": True, "trim_offsets": True, "use_regex": True},
            "model": {"type": "BPE", "dropout": None, "unk_token": None, "continuing_subword_prefix": "",
                      "end_of_word_suffix": "", "fuse_unk": False, "byte_fallback": False,
                      "vocab": dict(sorted(self.vocab.items(), key=lambda kv: kv[1])),
                      "merges": [f"{a} {b}" for a, b in self.merges]},
        }

    def save(self, path: str) -> None:
        with open(path, "w", encoding="utf-8") as f:
            json.dump(self.to_hf_json(), f, ensure_ascii=False)

    @classmethod
    def from_hf_json(cls, d: Dict, max_length: Optional[int] = None) -> "ByteLevelBPETokenizer":
        model = d["model"]
        if model.get("type") != "BPE":
            raise ValueError("only BPE tokenizer.json files are supported")
        pre = d.get("pre_tokenizer") or {}
        if pre.get("type") != "ByteLevel" or pre.get("add_prefix_space", False):
            raise ValueError("expected a ByteLevel pre_tokenizer with add_prefix_space=false (RoBERTa style)")
        vocab = dict(model["vocab"])
        for t in d.get("added_tokens", []):
            vocab.setdefault(t["content"], t["id"])
        return cls(vocab, [_merge_pair(m) for m in model["merges"]], max_length=max_length)

    @classmethod
    def load(cls, path: str, max_length: Optional[int] = None) -> "ByteLevelBPETokenizer":
        with open(path, encoding="utf-8") as f:
            return cls.from_hf_json(json.load(f), max_length=max_length)


def pad_batch(seqs: Sequence[Sequence[int]]) -> Tuple[List[List[int]], List[List[int]]]:
    n = max(len(s) for s in seqs)
    ids = [list(s) + [PAD_ID] * (n - len(s)) for s in seqs]
    mask = [[1] * len(s) + [0] * (n - len(s)) for s in seqs]
    return ids, mask
