"""Predict, then reveal: a student's guess of where each arm falls below dense, kept anonymously.

A guess names, per arm, the % remaining from which it falls clearly below dense (spread's
falls_below_at), or None for "never, within this run"; it must be one of the run's pruned
levels, else GuessError. Stored at <store root>/guesses/<run_id>/<token>.json (checksummed,
atomic): beside the runs, not inside them, because gallery runs are read-only and a config-less
<run_id>/ would read as a damaged run. The token is server-generated and the file holds only
the guessed values: no session id, no name, no path from user input. At most MAX_PER_RUN per run.
"""
from __future__ import annotations

import math
import re
import secrets
from pathlib import Path

from lth_core.store.run_store import Corrupt, Store, validate_run_id

ARMS = ("ticket", "reinit")
FOLDER = "guesses"
MAX_PER_RUN = 500
TOKEN_RE = re.compile(r"\A[0-9a-f]{32}\Z")
NEVER_LABEL = "never, within this run"


class GuessError(ValueError):
    """A guess the store refuses: its message says why, in words a student can act on."""


def guess_store(root: Path | str) -> Store:
    """The store of guesses beside the writable store at `root` (never the read-only gallery)."""
    return Store(Path(root) / FOLDER)


def levels(ladder) -> list[float]:
    """The % remaining a guess may name: every pruned level of the run (the dense 100% excluded)."""
    return [float(p) for p in list(ladder)[1:]]


def check_value(value, ladder) -> float | None:
    """`value` as a level of the ladder (% remaining), or None for never; GuessError otherwise."""
    if value is None:
        return None
    allowed = levels(ladder)
    try:
        x = float(value)
    except (TypeError, ValueError):
        x = math.nan
    for p in allowed:
        if math.isclose(x, p, rel_tol=1e-9, abs_tol=1e-12):
            return p
    shown = ", ".join(f"{p:.3g}%" for p in allowed)
    raise GuessError(f"A guess must be one of this run's levels ({shown}) or '{NEVER_LABEL}'; "
                     f"{str(value)[:40]!r} is not one of them.")


def check_guess(guess: dict, ladder, arms=ARMS) -> dict:
    """{arm: % or None} for exactly the guessable `arms`, each on the ladder; GuessError otherwise."""
    if not isinstance(guess, dict) or set(guess) != set(arms):
        raise GuessError(f"A guess names exactly these arms: {', '.join(arms)}.")
    return {arm: check_value(guess[arm], ladder) for arm in arms}


def new_token() -> str:
    """A fresh random file name for one session's guess (128 bits, server-generated)."""
    return secrets.token_hex(16)


def _tokens(gs: Store, run_id: str) -> list[str]:
    folder = gs.run_dir(run_id)
    if not folder.is_dir():
        return []
    return sorted(p.stem for p in folder.glob("*.json") if TOKEN_RE.match(p.stem))


def save(root: Path | str, run_id: str, guess: dict, ladder, token: str, arms=ARMS) -> None:
    """Store `guess` for `run_id` under `token` (rewriting that token's earlier guess).
    GuessError for a bad value, a bad token, or when the run already holds MAX_PER_RUN guesses."""
    run_id = validate_run_id(run_id)
    if not isinstance(token, str) or not TOKEN_RE.match(token):
        raise GuessError("That guess has no valid token; reload the page and guess again.")
    clean = check_guess(guess, ladder, arms)
    gs = guess_store(root)
    known = _tokens(gs, run_id)
    if token not in known and len(known) >= MAX_PER_RUN:
        raise GuessError(f"This run already holds {MAX_PER_RUN} guesses, the most it keeps; yours was not saved.")
    gs.write_json(run_id, f"{token}.json", {"arms": clean})


def load(root: Path | str, run_id: str, ladder, arms=ARMS) -> list[dict]:
    """Every stored guess for `run_id` ({arm: % or None}); damaged or off-ladder files are skipped."""
    gs = guess_store(root)
    out = []
    for token in _tokens(gs, validate_run_id(run_id))[:MAX_PER_RUN]:
        try:
            out.append(check_guess(gs.read_json(run_id, f"{token}.json")["arms"], ladder, arms))
        except (Corrupt, GuessError, KeyError, TypeError, OSError):
            continue
    return out


def distribution(guesses: list[dict], ladder, arm: str) -> list[tuple[str, float | None, int]]:
    """(label, % or None, count) for each guessable level of the ladder, then never: how many
    of `guesses` named each, in ladder order (zero counts included, so the class sees the scale)."""
    counts = {p: 0 for p in levels(ladder)}
    never = 0
    for g in guesses:
        v = g.get(arm, "missing")
        if v is None:
            never += 1
        elif v in counts:
            counts[v] += 1
    return [(f"{p:.3g}%", p, n) for p, n in counts.items()] + [(NEVER_LABEL, None, never)]


def _pct(p: float | None) -> str:
    return NEVER_LABEL if p is None else f"{p:.3g}%"


def arm_closeness(arm_name: str, guess: float | None, truth: float | None, ladder) -> str:
    """One clause: how close a guess of where `arm_name` falls below dense was to the truth
    (spread.compare_to_dense's falls_below_at; None: never), counted in levels of the ladder."""
    if guess == truth or (guess is not None and truth is not None and math.isclose(guess, truth)):
        where = "never falls clearly below dense" if truth is None else f"falls below dense from {_pct(truth)}"
        return f"{arm_name}: spot on, it {where}"
    if truth is None:
        return f"{arm_name}: you guessed {_pct(guess)}, but it never falls clearly below dense within this run"
    if guess is None:
        return f"{arm_name}: you guessed never, but it falls below dense from {_pct(truth)}"
    lv = levels(ladder)
    gap = _index(lv, truth) - _index(lv, guess)
    n = abs(gap)
    side = "sparser" if gap > 0 else "denser"
    return (f"{arm_name}: you guessed {_pct(guess)}, it falls below dense from {_pct(truth)}, "
            f"{n} level{'s' * (n != 1)} {side} than your guess")


def _index(lv: list[float], p: float) -> int:
    return min(range(len(lv)), key=lambda i: abs(math.log(lv[i]) - math.log(p)))


def closeness(guess: dict, truth: dict, ladder, names: dict) -> str:
    """The one sentence of the reveal: each guessed arm's clause, joined."""
    parts = [arm_closeness(names.get(arm, arm), guess[arm], truth.get(arm), ladder) for arm in guess]
    return "; ".join(parts) + "."
