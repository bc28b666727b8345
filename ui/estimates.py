"""The Run page's time estimate: every planned network's iterations x a step cost measured on this machine."""
from __future__ import annotations

import streamlit as st

from lth_core.config import ConfigError, ExperimentConfig
from lth_core.estimate import EstimateUnavailable, estimate_seconds, format_duration, measure_apart, planned_steps, worker_layout
from lth_core.plan import planned_tasks
from lth_core.lottery.tasks import resolve_device
from ui import state


@st.cache_resource(show_spinner=False, max_entries=64)
def _cost(arch: str, batch_size: int, device: str, threads: int):
    """Timed in a process of its own, so the server never imports torch's compiler stack."""
    return measure_apart(arch, batch_size, device=device, threads=threads)


LONG_S = 2 * 3600  # warn above this: a class will not wait for it


def describe(config: ExperimentConfig) -> tuple[str, float | None]:
    """('about 52 s on this machine (…how it was measured…)' as markdown, the seconds or None when
    there is no estimate); warns when it is long."""
    try:
        device = resolve_device(config.device)
    except ConfigError as exc:
        return f"no estimate: {exc}", None
    mgr = state.manager()
    processes, threads = worker_layout(device, mgr.processes_per_job)
    try:
        with st.spinner(f"Timing {config.arch} on this machine (once per network and batch size)…"):
            cost = _cost(config.arch, config.training.batch_size, device, threads)
    except EstimateUnavailable as exc:  # not cached: the next visit tries again
        return f"no estimate: {exc}", None
    seconds = estimate_seconds(config, cost, processes)
    if LONG_S < seconds <= state.settings().job_timeout_s:
        st.warning(f"This run would take about {format_duration(seconds)} here. For a lesson, cut the "
                   "iterations per round, the rounds or the trials, or open a finished run from the gallery.",
                   icon=":material/schedule:")
    where = f"{processes} worker process{'es' * (processes > 1)}" + (f" on {device}" if device != "cpu" else "")
    networks = len(planned_tasks(config))
    return (f"**about {format_duration(seconds)}** on this machine · {networks:,} network{'s' * (networks > 1)} "
            f"to train, {planned_steps(config):,} network-iterations at {1000 * cost.step_s:.3g} ms each "
            f"(measured here), {where}"), seconds


def over_limit(seconds: float | None) -> str | None:
    """Why Start is refused for a run estimated at `seconds`: longer than the server's time limit per run
    ($LTH_JOB_TIMEOUT_S), it would be stopped unfinished while holding a worker others wait for."""
    limit = state.settings().job_timeout_s
    if seconds is None or seconds <= limit:
        return None
    return (f"This run would take about {format_duration(seconds)} here, longer than this server's limit of "
            f"{format_duration(limit)} per run: it would be stopped before it finished, holding a worker others "
            f"wait for. Cut the iterations per round, the rounds or the trials, or run it from the command line "
            f"(below), which has no such limit.")
