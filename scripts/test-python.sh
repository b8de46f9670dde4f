#!/usr/bin/env bash
# Runs the training package's pytest suite with Debian's Python (torch 1.13 from apt).
set -euo pipefail
cd "$(dirname "$0")/../training"
exec /usr/bin/python3 -m pytest -q -p no:cacheprovider "$@"
