#!/usr/bin/env bash
# Installs what the app and its tests need (run as root, or with sudo, on Debian).
#   bash scripts/setup.sh          runtime packages
#   bash scripts/setup.sh --test   plus test packages, Debian's chromium and, where it is missing, systemd-analyze
# Where apt-get or dpkg is missing (macOS, Windows' Git Bash or WSL without apt, other Linux): the
# Debian packages are skipped with a message, and Fashion-MNIST is downloaded by torchvision into
# ${LTH_DATA_DIR:-data}/fashion-mnist (tests/test_install.py runs exactly this, without apt and network).
set -euo pipefail
cd "$(dirname "$0")/.."
case "${1:-}" in
  ""|--test) ;;
  *) echo "error: unknown option '$1'; allowed: --test (or nothing)" >&2; exit 2 ;;
esac
SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
apt_pkgs="dataset-fashion-mnist"
if [ "${1:-}" = "--test" ]; then
  apt_pkgs="$apt_pkgs chromium fonts-dejavu-core poppler-utils"
  # systemd-analyze checks deploy/'s unit file (tests/test_deploy.py); Debian ships it in systemd
  command -v systemd-analyze >/dev/null 2>&1 || apt_pkgs="$apt_pkgs systemd"
fi
if command -v apt-get >/dev/null 2>&1 && command -v dpkg >/dev/null 2>&1; then
  missing=""
  for p in $apt_pkgs; do dpkg -s "$p" >/dev/null 2>&1 || missing="$missing $p"; done
  if [ -n "$missing" ]; then
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq $missing
  fi
  debian=1
else
  echo "setup: apt-get/dpkg not found (not Debian): skipping the system packages ($apt_pkgs)." >&2
  echo "setup: Fashion-MNIST will be downloaded by torchvision into ${LTH_DATA_DIR:-data}/fashion-mnist." >&2
  [ "${1:-}" = "--test" ] && echo "setup: the browser, PDF and systemd tests need Chromium (BROWSER_PATH)," \
    "poppler's pdftoppm and systemd-analyze from this system's own packages." >&2
  debian=0
fi
python3 -m pip install -q -r requirements.txt
[ "${1:-}" = "--test" ] && python3 -m pip install -q -r requirements-test.txt
if [ "$debian" = 0 ]; then
  # parses it once into <data dir>/cache too (a copy already in the data folder is used as it is); without
  # a network the app still runs (MNIST-1D is built in), so a failed download is a warning, not an error
  python3 - "${LTH_DATA_DIR:-data}" <<'EOF'
import sys
from pathlib import Path
from lth_core.data.datasets import DataUnavailable, load
try:
    load("fashion-mnist", Path(sys.argv[1]))
except DataUnavailable as exc:
    print("setup: warning:", " ".join(str(exc).split()), file=sys.stderr)  # one line: torchvision's has several
EOF
fi
exit 0
