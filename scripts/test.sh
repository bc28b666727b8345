#!/usr/bin/env bash
# Installs the test needs, then runs every tier of the test suite: unit, integration, e2e (pages,
# browsers, load, Ray) and science (tests/conftest.py's TIERS). Plain `pytest` runs only unit and
# integration. Under CI=true a missing dataset or browser fails the run instead of skipping.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --test
set +e
python3 -m pytest tests -m "unit or integration or e2e or science" -q -p no:cacheprovider -o faulthandler_timeout=900 "$@"
code=$?
set -e
if [ "$code" -eq 5 ]; then echo "error: pytest collected no tests" >&2; exit 1; fi
exit "$code"
