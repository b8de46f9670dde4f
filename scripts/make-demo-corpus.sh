#!/usr/bin/env bash
# Builds the small demo corpus in resources/demo/corpus from espeak-ng speech (deterministic).
# Four synthetic "speakers" (espeak-ng voice variants), nine sentences each, one emotion style per
# sentence, rendered with prosody settings loosely following the emotion-prosody literature
# (angry: fast, loud, raised pitch; happy: brisk, high pitch; sad: slow, low, quiet; neutral: baseline).
# Output: <speaker>/<speaker>_<nn>.wav (16 kHz mono 16-bit) + a same-name .txt transcript.
set -euo pipefail
out="$(cd "$(dirname "$0")/.." && pwd)/resources/demo/corpus"
rm -rf "$out"
mkdir -p "$out"
speakers=(spk_a:en-us+m3 spk_b:en-gb+f2 spk_c:en+m1 spk_d:en-us+f4)
# style|sentence
lines=(
  "neutral|The meeting has been moved to Thursday afternoon."
  "neutral|Please put the folders on the second shelf."
  "happy|This is wonderful news, I am so glad for you!"
  "happy|We won the match, what a fantastic day!"
  "angry|I told you three times already, stop touching my things!"
  "angry|This is completely unacceptable and I want it fixed now!"
  "sad|I miss her so much, nothing feels the same anymore."
  "sad|They closed the old library, and I never said goodbye."
  "neutral|The train leaves from platform four at nine."
)
prosody() { # style -> "speed pitch amplitude"
  case "$1" in
    neutral) echo "160 50 100" ;;
    happy) echo "185 72 120" ;;
    angry) echo "200 62 170" ;;
    sad) echo "120 30 70" ;;
  esac
}
for s in "${speakers[@]}"; do
  spk="${s%%:*}"; voice="${s#*:}"
  mkdir -p "$out/$spk"
  i=0
  for line in "${lines[@]}"; do
    i=$((i + 1))
    style="${line%%|*}"; text="${line#*|}"
    read -r speed pitch amp < <(prosody "$style")
    name="$(printf '%s_%02d' "$spk" "$i")"
    espeak-ng -v "$voice" -s "$speed" -p "$pitch" -a "$amp" -w "$out/$spk/tmp.wav" "$text"
    sox -q -D "$out/$spk/tmp.wav" -r 16000 -c 1 -b 16 "$out/$spk/$name.wav" gain -n -1 silence 1 0.02 0.5% reverse silence 1 0.02 0.5% reverse pad 0.15 0.15
    rm "$out/$spk/tmp.wav"
    printf '%s\n' "$text" > "$out/$spk/$name.txt"
  done
done
echo "demo corpus written to $out ($(find "$out" -name '*.wav' | wc -l) clips)"
