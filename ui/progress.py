"""Live status of one run: state, progress, ETA, cancel, and the accuracy chart filling in.

While a run is queued or running the panel is an st.fragment that redraws itself from the
store (nothing is pushed from the worker); when the run ends the page reruns once.
"""
from __future__ import annotations

import time

import streamlit as st

from lth_core.charts import live as live_charts
from lth_core.charts import results as charts
from lth_core.estimate import format_duration
from lth_core.service.stall import STALL_S
from lth_core.store.run_store import Store
from ui import data, errors, presenter, state, text

ACTIVE = ("queued", "running")
FIRST_CURVE_POLL_S = 0.03  # how often the panel looks for the first live record while it waits for it
LIVE_SPAN = 5.0  # percentage points the live accuracy chart shows at least
SHARED_NOTE = "Other sessions asked for this same run, so it keeps training for them; you no longer wait for it."
NOT_YOURS = ("Only the browser session that started this run can cancel it (after a reload this page is a new "
             "session); it keeps training for whoever asked for it.")
REFRESH_S = 1.5  # how often the live panel redraws from the store...
FAST_S = 0.25    # ...and until the dense network is stored, so its first curve and point show at once (issue 25).
# Only the dense network trains then, so one core is free for the page; once two networks train, fast
# redraws take server and browser CPU from them (docs/PERFORMANCE.md, the quick demo).


def run_state(store: Store, run_id: str) -> dict:
    """{'state', 'reason', 'position', 'cancellable', 'starting'}: the store's final states first (a worker that
    has written 'done' may still be exiting), then the job manager's queued/running, then the store."""
    st_ = store.status(run_id)
    s = st_.get("state", "unknown")
    if store.readonly and s == "unknown":
        s = "done"
    mgr = None if store.readonly else state.manager()
    job = mgr.state(run_id) if mgr is not None else None
    if job is not None and s not in ("done", "failed", "cancelled"):
        holder = mgr.jobs.get(run_id)
        owners = set(holder.owners) if holder is not None else set()
        mine = state.owner() in owners or owners <= {"recovered"}  # others' runs are not ours to stop
        position = mgr.queue_position(run_id)
        # queued, first in line, and a worker slot free: the manager starts it within moments
        starting = job == "queued" and position == 0 and mgr.running_count() < mgr.settings.workers
        return {"state": job, "reason": "", "position": position, "cancellable": mine,
                "idle_s": mgr.idle_s(run_id), "starting": starting}
    if s == "queued":  # queued in the store but held by no manager: nothing will run it
        s, st_ = "interrupted", {"reason": "it was queued but no worker holds it; press Start to queue it again"}
    reason = st_.get("reason", "")
    if s == "interrupted" and mgr is not None and mgr.messages.get(run_id):
        reason = mgr.messages[run_id]  # the manager saw why its worker ended (e.g. a full disk) but could not store it
    return {"state": s, "reason": reason, "position": None, "cancellable": False}


def panel(run_id: str, store: Store, *, chart: bool = True, key: str = "live") -> dict:
    """Draw the status panel (live while the run is active); returns the run state."""
    info = run_state(store, run_id)
    if info["state"] in ACTIVE:
        # fast only while the dense network trains alone, or its run is about to start (a run waiting in a
        # queue has nothing to show yet)
        fast = (info["state"] == "running" or info.get("starting", False)) and _before_first_level(store, run_id)
        st.fragment(_live, run_every=FAST_S if fast else REFRESH_S)(run_id, str(store.root), store.readonly, chart,
                                                                    key, fast)
    else:
        _draw(run_id, store, info, chart, key)
    return info


def _before_first_level(store: Store, run_id: str) -> bool:
    """Whether the run has no network stored yet (queued, or training its dense network)."""
    return data.summary(store, run_id).empty


def _live(run_id: str, root: str, readonly: bool, chart: bool, key: str, fast: bool) -> None:
    """The panel's body, rerun on its own every FAST_S or REFRESH_S (a fragment)."""
    with errors.guard():  # a fragment's own reruns happen outside app.py's guard
        store = Store(root, readonly=readonly)
        info = run_state(store, run_id)
        _draw(run_id, store, info, chart, key)
        if info["state"] not in ACTIVE or (fast and not _before_first_level(store, run_id)):
            st.rerun(scope="app")  # finished, or the dense network is stored: time to slow down the refresh
        if chart:
            return  # the panel draws its own chart; the page has nothing else that grows with the run
        # a newly finished level redraws the whole page, so its charts outside this panel fill in too
        seen = data.levels_finished(data.summary(store, run_id), store.config(run_id))
        if st.session_state.setdefault(f"{key}_levels", seen) != seen:
            st.session_state[f"{key}_levels"] = seen
            st.rerun(scope="app")


def _status_line(info: dict, prog: dict, ladder: list[float]) -> None:
    s = info["state"]
    if s == "queued":
        ahead = info.get("position") or 0
        st.progress(0.0, text=f"Queued: waiting for a free worker ({ahead} run{'s' * (ahead != 1)} ahead)")
    elif s == "running":
        # capped below 1 while running: Store.progress can over-count finished tasks' live files
        frac = min(float(prog.get("fraction", 0.0)), 0.99)
        level = int(prog.get("level", 0))
        where = f"level {level + 1} of {len(ladder)} ({ladder[min(level, len(ladder) - 1)]:.3g}% of weights)"
        eta = prog.get("eta_s")
        left = f" · about {format_duration(eta)} left" if eta is not None and eta > 0 and frac > 0.02 else ""
        st.progress(min(frac, 1.0), text=f"Running · training {where} · {frac:.0%} done{left}")
        idle = info.get("idle_s")
        if idle is not None and idle >= STALL_S:
            now = ("**Cancel run** ends it now and frees its place for others" if info.get("cancellable")
                   else "the session that started it can cancel it now")
            st.warning(f"No progress: the worker has used no processor time for {format_duration(idle)}, so it "
                       f"looks stopped or stuck. The run's time limit will end it; {now}.",
                       icon=":material/hourglass_disabled:")
    elif s == "done":
        st.success("Finished: every level is trained and stored.", icon=":material/check_circle:")
    elif s == "failed":
        st.error(f"The run failed: {text.plain(info['reason']) or 'no reason recorded'}.\n\n"
                 "Press **Start** to try again; levels already finished are kept.", icon=":material/error:")
    elif s in ("cancelled", "interrupted"):
        st.warning(f"The run is {s}: {text.plain(info['reason']) or 'no reason recorded'}.\n\n"
                   "Press **Start** to resume it; levels already finished are kept.", icon=":material/pause_circle:")
    else:
        st.error(f"The run's status is {s}: {text.plain(info['reason'])}", icon=":material/error:")


def _draw(run_id: str, store: Store, info: dict, chart: bool, key: str) -> None:
    config = store.config(run_id)
    ladder = data.ladder(_json(config))
    prog = store.progress(run_id)
    cols = st.columns([5, 1]) if info.get("cancellable") else [st.container()]
    with cols[0]:
        _status_line(info, prog, ladder)
        if info["state"] in ACTIVE and not info.get("cancellable"):
            st.caption(NOT_YOURS)
    if info.get("cancellable"):
        with cols[1]:
            if st.button("Cancel run", key=f"{key}_cancel", icon=":material/stop_circle:"):
                if state.cancel(run_id):
                    st.rerun(scope="app")
                st.info(SHARED_NOTE, icon=":material/group:")
    if not chart:
        return
    if info["state"] == "running":
        _training_now(store, run_id, config, ladder, prog, key)
    summary = data.summary(store, run_id)
    finished = data.levels_finished(summary, config)
    if summary.empty:
        st.caption(f"0 of {config.levels} levels finished · the chart appears when the dense network "
                   "(level 1) has finished training.")
        return
    # a fixed 5-point window at least: a level or two measured once must not look dramatic while it trains
    fig = charts.accuracy_vs_sparsity(data.aggregate(store, run_id), all_percents=ladder, min_span=LIVE_SPAN)
    presenter.show(fig, key=f"{key}_chart", filename=f"accuracy-vs-sparsity-{run_id}")
    st.caption(f"{finished} of {config.levels} levels finished")
    st.markdown("**What to look for:** each point is one size of the network, from 100% on the left to the "
                "smallest on the right; a new one appears after every pruning round. Does the blue ticket stay "
                "near the dotted dense-network line while the controls fall away?")


def _training_now(store: Store, run_id: str, config, ladder: list[float], prog: dict, key: str) -> None:
    """The learning curves of the networks training at this moment, as the worker measures them."""
    records = _first_curve(store, run_id, prog)
    if not records:
        return
    st.markdown("**Training now**: each line is one network learning, measured every "
                f"{config.training.eval_every:,} iterations on the validation set. Watch the loss fall; "
                "its lowest point is where that network stops early.")
    presenter.show(live_charts.training_now(records, ladder, config.training.iterations), key=f"{key}_now",
                   filename=f"training-now-{run_id}")


def _curves(records: list[dict]) -> list[dict]:
    return records if any((r.get("curve") or {}).get("iteration") for r in records) else []


def _first_curve(store: Store, run_id: str, prog: dict) -> list[dict]:
    """The live records, once one carries a curve. Before the first one exists (the run has just
    started), wait for it up to FAST_S: the worker writes it a few tenths of a second after the click,
    and waiting here shows it in this redraw rather than the next one (issue 25: feedback within 1 s)."""
    records = _curves(store.live(run_id, prog))
    give_up = time.monotonic() + FAST_S
    while not records and prog.get("network_iterations_done", 0) == 0 and time.monotonic() < give_up:
        time.sleep(FIRST_CURVE_POLL_S)
        prog = store.progress(run_id)
        records = _curves(store.live(run_id, prog))
    return records


def _json(config) -> str:
    import json
    return json.dumps(config.to_dict(), sort_keys=True)
