#!/usr/bin/env bash
# Redo the reproduction of docs/REPRODUCTION.md: the runs, then the report's figures and tables.
set -euo pipefail
cd "$(dirname "$0")/.."
STORE=${LTH_STORE:-runs}
/usr/bin/time -f "mnist1d wall %e s" python3 -m lth_core run --store "$STORE" --preset quick --rate 0.2 --rounds 14 \
  --iterations 1000 --eval-every 25 --controls reinit,random,oneshot --trials 3 --json > docs/repro/mnist1d.json
/usr/bin/time -f "fashion-mnist wall %e s" python3 -m lth_core run --store "$STORE" --preset lenet-fmnist --rounds 12 \
  --iterations 3000 --controls reinit,random,oneshot --trials 3 --json > docs/repro/fashion-mnist.json
