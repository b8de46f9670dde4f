#!/usr/bin/env bash
# Debian/Ubuntu packages the test suite and the demo tooling need:
#   chromium (Playwright e2e), espeak-ng + sox + ffmpeg (test and demo audio),
#   python3-torch/torchaudio/onnx/numpy/pytest (training package and its tests),
#   python3-statsmodels (independent check of the agreement statistics).
set -euo pipefail
packages=(chromium espeak-ng sox ffmpeg python3-torch python3-torchaudio python3-onnx python3-numpy python3-pytest python3-statsmodels)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "system packages: all present"
  exit 0
fi
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
echo "system packages: installing ${missing[*]}"
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
