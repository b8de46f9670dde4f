"""Synthetic speech-emotion corpus with espeak-ng, written in the studio's export layout.

Four IEMOCAP-style classes: neutral, happy, angry, sad.

Prosody (after the emotion-prosody literature: Scherer 2003, Murray & Arnott 1993,
Banse & Scherer 1996): relative to neutral, anger is faster, louder, with raised pitch and
a moderately wider range; happiness is brisk with high pitch and the widest range; sadness
is slow, low-pitched, quiet, with a narrow range and longer pauses. Every parameter is
jittered per item, and the voice (espeak-ng language x variant) shifts the baseline.
The loudness cue does not survive the model's per-utterance normalisation (as for real
wav2vec2 input), which is intended: pitch, range, rate and pausing remain.

Lexical design, per emotional class (happy / angry / sad):
  * ``both``  (40 %): emotional sentence + emotional prosody;
  * ``text``  (30 %): emotional sentence + neutral prosody  -> only the text tells;
  * ``audio`` (30 %): lexically neutral carrier sentence + emotional prosody -> only audio tells.
Neutral items are carrier sentences with neutral prosody. So a text-only model cannot
separate ``audio`` items from neutral ones, an audio-only model cannot separate ``text``
items from neutral ones, and the best accuracy needs fusion.

Train / validation / test use disjoint voice variants (speakers) and disjoint sentences.
"""
from __future__ import annotations

import csv
import json
import os
import random
import subprocess
from concurrent.futures import ThreadPoolExecutor
from typing import Dict, List

LABELS = ["neutral", "happy", "angry", "sad"]

# --------------------------------------------------------------------------- sentences
OBJ = ["the new car", "the garden", "the project", "the letter", "this house", "the concert", "the results",
       "the trip", "the old photos", "the kitchen", "the wedding", "the job offer", "the dinner", "the painting",
       "the news", "the book", "the holiday", "the phone call", "the team", "the exam"]
TIME = ["today", "tonight", "this morning", "on Monday", "last week", "after lunch", "this year", "right now",
        "yesterday", "this evening"]
PERSON = ["my brother", "my grandmother", "my old friend", "my dog", "my sister", "my father", "my neighbour",
          "my teacher", "my best friend", "my mother"]
PLACE = ["the station", "the office", "the market", "the library", "the corner", "the bank", "the museum",
         "the school", "the hotel", "the bridge"]

TEMPLATES: Dict[str, List[str]] = {
    "happy": [
        "I am so happy about {obj}!", "This is the best day of my life, {person} is here!",
        "I love {obj}, it is wonderful!", "We won, I can't believe it, what a fantastic {t}!",
        "Oh wow, {obj} turned out perfect!", "I'm thrilled, {person} said yes {time}!",
        "Hooray, {obj} was a huge success!", "What a lovely surprise, thank you so much for {obj}!",
        "I feel great {time}, everything is going my way!", "Yes! {person} got the job, I'm delighted!",
        "That's wonderful news about {obj}, I'm overjoyed!", "I can't wait, {obj} is going to be amazing!",
    ],
    "angry": [
        "This is completely unacceptable, fix {obj} now!", "I am furious about {obj}!",
        "How dare you touch {obj} without asking!", "I hate {obj}, I have had enough!",
        "Get out of {place} right now!", "Stop lying to me about {obj}!",
        "I'm sick of waiting for {person}, this is outrageous!", "You ruined {obj}, you idiot!",
        "Don't you ever shout at {person} again!", "This is ridiculous, who broke {obj}?",
        "I told you a hundred times, leave {obj} alone!", "Shut up and listen, I'm really angry {time}!",
    ],
    "sad": [
        "I miss {person} so much.", "I feel so lonely {time}.", "Nobody came to see {obj}.",
        "I lost {obj} and I can't find it anywhere.", "{person} passed away {time}.",
        "I can't stop crying about {obj}.", "Everything is falling apart {time}.",
        "I'm heartbroken, {person} is gone.", "It hurts to think about {obj}.",
        "I wish {person} were still here with me.", "I feel empty and hopeless {time}.",
        "We had to say goodbye to {person}, it was so sad.",
    ],
    "neutral": [
        "The meeting about {obj} is {time}.", "Please take {obj} to {place}.", "{person} lives near {place}.",
        "Turn left at {place} and walk two blocks.", "I will check {obj} {time}.",
        "The report on {obj} has twelve pages.", "The bus to {place} leaves at nine.",
        "{person} called about {obj} {time}.", "We need to order paper for {place}.",
        "The window in {place} faces north.", "Put {obj} on the second shelf.", "The form asks for a postcode.",
    ],
}


def _fill(template: str, rng: random.Random) -> str:
    s = template.format(obj=rng.choice(OBJ), time=rng.choice(TIME), person=rng.choice(PERSON),
                        place=rng.choice(PLACE), t=rng.choice(["day", "evening", "game", "week"]))
    return s[0].upper() + s[1:]


def sentence_pools(seed: int, n_per_template: int = 12) -> Dict[str, Dict[str, List[str]]]:
    """Per class, unique sentences split 70/15/15 into train/validation/test (disjoint strings)."""
    rng = random.Random(seed)
    pools: Dict[str, Dict[str, List[str]]] = {}
    for label, templates in TEMPLATES.items():
        sents = set()
        for t in templates:
            for _ in range(n_per_template * 3):
                sents.add(_fill(t, rng))
        sents_l = sorted(sents)
        rng.shuffle(sents_l)
        n = len(sents_l)
        a, b = int(0.7 * n), int(0.85 * n)
        pools[label] = {"train": sents_l[:a], "validation": sents_l[a:b], "test": sents_l[b:]}
    return pools


# --------------------------------------------------------------------------- voices & prosody
LANGS = ["en-us", "en", "en-gb-x-rp", "en-gb-scotland", "en-029", "en-us-nyc", "en-gb-x-gbclan", "en-gb-x-gbcwmd"]
VARIANTS = ["m1", "m2", "m3", "m4", "m5", "m6", "m7", "m8", "f1", "f2", "f3", "f4", "f5",
            "Alex", "Andrea", "Annie", "belinda", "benjamin", "caleb", "david", "ed", "edward", "Gene", "iven",
            "john", "linda", "max", "Michael", "paul", "rob", "robert", "steph", "travis", "victor", "zac",
            "klatt", "klatt2", "klatt3", "grandma", "grandpa", "Andy", "Lee", "Mario", "Jacky"]

# mean (sd) of espeak-ng settings: speed wpm, pitch 0-99, amplitude 0-200, SSML range %, word gap (10 ms)
PROSODY = {
    "neutral": dict(s=(165, 10), p=(45, 5), a=(100, 10), r=(100, 12), g=(0, 0.5)),
    "happy": dict(s=(195, 10), p=(72, 5), a=(125, 10), r=(190, 20), g=(0, 0.5)),
    "angry": dict(s=(215, 12), p=(62, 5), a=(175, 12), r=(140, 15), g=(0, 0.5)),
    "sad": dict(s=(120, 8), p=(25, 5), a=(65, 8), r=(45, 10), g=(4, 1.5)),
}


def prosody_params(emotion: str, rng: random.Random, voice_shift: float) -> Dict[str, int]:
    spec = PROSODY[emotion]

    def draw(k, lo, hi):
        m, sd = spec[k]
        return int(round(min(hi, max(lo, rng.gauss(m, sd)))))

    return {"s": draw("s", 80, 320), "p": int(min(99, max(0, draw("p", 0, 99) + voice_shift))),
            "a": draw("a", 20, 200), "r": draw("r", 10, 300), "g": draw("g", 0, 12)}


def speakers_for_split(seed: int) -> Dict[str, List[str]]:
    rng = random.Random(seed + 1)
    variants = VARIANTS[:]
    rng.shuffle(variants)
    n = len(variants)
    parts = {"train": variants[: n - 12], "validation": variants[n - 12: n - 6], "test": variants[n - 6:]}
    out = {}
    for split, vs in parts.items():
        out[split] = [f"{rng.choice(LANGS)}+{v}" for v in vs]
    return out


def synth(text: str, voice: str, pr: Dict[str, int], path: str) -> None:
    ssml = f'<speak><prosody range="{pr["r"]}%">{_xml(text)}</prosody></speak>'
    p1 = subprocess.Popen(["espeak-ng", "-m", "-v", voice, "-s", str(pr["s"]), "-p", str(pr["p"]), "-a", str(pr["a"]),
                           "-g", str(pr["g"]), "--stdout", ssml], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    p2 = subprocess.run(["sox", "-G", "-t", "wav", "-", "-r", "16000", "-c", "1", "-b", "16", path],
                        stdin=p1.stdout, stderr=subprocess.PIPE)
    assert p1.stdout is not None  # stdout=subprocess.PIPE
    p1.stdout.close()
    p1.wait()
    if p2.returncode != 0 or not os.path.exists(path):
        raise RuntimeError(f"espeak-ng/sox failed for {voice!r}: {p2.stderr.decode(errors='replace')}")


def _xml(s: str) -> str:
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def plan_items(n_per_split: Dict[str, int], seed: int) -> List[Dict]:
    rng = random.Random(seed)
    pools = sentence_pools(seed)
    voices = speakers_for_split(seed)
    shifts = {v: rng.uniform(-8, 8) for vs in voices.values() for v in vs}
    items: List[Dict] = []
    for split, n in n_per_split.items():
        per_label = max(1, n // 4)
        for label in LABELS:
            for i in range(per_label):
                if label == "neutral":
                    kind = "neutral"
                else:
                    u = (i * 10 + rng.randint(0, 9)) % 10  # 4/3/3 mix, balanced over i
                    kind = "both" if u < 4 else ("text" if u < 7 else "audio")
                text_class = label if kind in ("both", "text") else "neutral"
                prosody_class = label if kind in ("both", "audio") else "neutral"
                text = rng.choice(pools[text_class][split])
                voice = voices[split][(i + LABELS.index(label)) % len(voices[split])]
                pr = prosody_params(prosody_class, rng, shifts[voice])
                items.append({"split": split, "label": label, "text": text, "speaker": voice, "cue": kind,
                              "prosody": pr, "prosody_class": prosody_class})
    for k, it in enumerate(items):
        it["file_name"] = f"{k:06d}_{it['label']}.wav"
    return items


def generate_corpus(out: str, n_train: int = 1600, n_val: int = 320, n_test: int = 320, seed: int = 0,
                    jobs: int = 2, log=print) -> Dict:
    """Writes ``out`` in the studio's audiofolder export layout (+ cues.csv with the cue type of each item)."""
    items = plan_items({"train": n_train, "validation": n_val, "test": n_test}, seed)
    for split in ("train", "validation", "test"):
        os.makedirs(os.path.join(out, split), exist_ok=True)

    def work(it):
        path = os.path.join(out, it["split"], it["file_name"])
        if not os.path.exists(path):
            synth(it["text"], it["speaker"], it["prosody"], path)

    done = 0
    with ThreadPoolExecutor(max_workers=max(1, jobs)) as ex:
        for _ in ex.map(work, items):
            done += 1
            if done % 200 == 0 or done == len(items):
                log(f"  synthesised {done}/{len(items)}")
    for split in ("train", "validation", "test"):
        rows = [it for it in items if it["split"] == split]
        with open(os.path.join(out, split, "metadata.csv"), "w", newline="", encoding="utf-8") as f:
            w = csv.writer(f)
            w.writerow(["file_name", "label", "text", "speaker", "start", "end", "annotator"])
            for it in rows:
                w.writerow([it["file_name"], it["label"], it["text"], it["speaker"], 0, "", "espeak-ng-synthetic"])
    with open(os.path.join(out, "cues.csv"), "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["split", "file_name", "label", "cue", "prosody_class", "speaker", "s", "p", "a", "r", "g"])
        for it in items:
            pr = it["prosody"]
            w.writerow([it["split"], it["file_name"], it["label"], it["cue"], it["prosody_class"], it["speaker"],
                        pr["s"], pr["p"], pr["a"], pr["r"], pr["g"]])
    with open(os.path.join(out, "label_map.json"), "w") as f:
        json.dump({"labels": LABELS, "label2id": {l: i for i, l in enumerate(LABELS)},
                   "id2label": {str(i): l for i, l in enumerate(LABELS)}}, f, indent=2)
    info = {"generator": "wavfusion.corpus (espeak-ng + sox)", "seed": seed,
            "counts": {s: sum(1 for it in items if it["split"] == s) for s in ("train", "validation", "test")},
            "speakers": {s: sorted({it["speaker"] for it in items if it["split"] == s})
                         for s in ("train", "validation", "test")},
            "cue_mix": "emotional classes: 40% text+audio, 30% text only, 30% audio only; neutral: carrier + neutral prosody"}
    with open(os.path.join(out, "provenance.json"), "w") as f:
        json.dump(info, f, indent=2)
    return info
