#!/usr/bin/env bash
# Installs what the app and its tests need on a fresh Debian machine (run as root, or with sudo).
#   bash scripts/setup.sh          runtime packages
#   bash scripts/setup.sh --test   plus test packages and Debian's chromium
set -euo pipefail
cd "$(dirname "$0")/.."
SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
apt_pkgs="dataset-fashion-mnist"
[ "${1:-}" = "--test" ] && apt_pkgs="$apt_pkgs chromium fonts-dejavu-core poppler-utils"
missing=""
for p in $apt_pkgs; do dpkg -s "$p" >/dev/null 2>&1 || missing="$missing $p"; done
if [ -n "$missing" ]; then
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq $missing
fi
python3 -m pip install -q -r requirements.txt
[ "${1:-}" = "--test" ] && python3 -m pip install -q -r requirements-test.txt
exit 0
