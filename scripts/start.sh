#!/usr/bin/env bash
# Installs everything, then serves the app on port ${PORT:-8501} to every machine that can reach this one.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec python3 -m streamlit run ui/server.py --server.port "${PORT:-8501}" --server.address 0.0.0.0 --server.headless true "$@"
