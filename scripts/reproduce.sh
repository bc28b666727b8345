#!/usr/bin/env bash
# Redo the reproduction of docs/REPRODUCTION.md: the budget pilot, the headline run, the two
# shortened-budget runs, then the report (its figures and tables, and the README's headline paragraph).
# A finished run is served from the store without training, so rerunning this is cheap.
set -euo pipefail
cd "$(dirname "$0")/.."
STORE=${LTH_STORE:-runs}
export LTH_STORE=$STORE  # the headline command below takes its store from here

# 1. The budget pilot: where does the dense network's validation loss bottom out? (docs/REPRODUCTION.md,
#    "How the budget was chosen": every dense minimum must fall before 60% of the headline budget)
python3 scripts/budget_pilot.py --iterations 25000 --eval-every 500 --trials 5 --out docs/repro/budget_pilot.json

# 2. The headline run: LeNet-300-100 on Fashion-MNIST, 20,000 iterations per round, 15 rounds, 5 trials, with
#    random re-init, random pruning and one-shot pruning (claims (c), (d), (e) on the same budget).
python3 -m lth_core run --preset lenet-fmnist-full --json > docs/repro/fashion-mnist-full.json

# 3. The shortened-budget runs. The gallery holds them as first made (schema 1: 54637ff2d80f965d,
#    469a0665c381dd61); today the same commands make schema-2 runs (new ids, training accuracy measured
#    in eval mode), and the report then reads those.
/usr/bin/time -f "mnist1d wall %e s" python3 -m lth_core run --store "$STORE" --preset quick --rate 0.2 --rounds 14 \
  --iterations 1000 --eval-every 25 --controls reinit,random,oneshot --trials 3 --json > docs/repro/mnist1d.json
/usr/bin/time -f "fashion-mnist wall %e s" python3 -m lth_core run --store "$STORE" --preset lenet-fmnist --rounds 12 \
  --iterations 3000 --controls reinit,random,oneshot --trials 3 --json > docs/repro/fashion-mnist.json

# 4. The report: docs/REPRODUCTION.md, docs/repro/*.png and *-claims.json, README.md's headline paragraph.
BROWSER_PATH=${BROWSER_PATH:-/usr/bin/chromium} python3 scripts/report.py --store "$STORE"
