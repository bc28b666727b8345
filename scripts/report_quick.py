"""The quick demo's budget, as the report states it: the candidate configs that
scripts/calibrate_quick.py measured (docs/repro/quick_calibration.json), which of them the `quick`
preset is (the candidate whose config equals lth_core.presets.get_preset("quick")), the demo's
requirements and whether the preset meets them, and its click-to-chart timing in a real browser
(scripts/time_quick_demo.py, docs/repro/quick_demo_timing.json). Every number comes from those
two files or from the constant below."""
from __future__ import annotations

from lth_core.config import ExperimentConfig
from report_format import ARM_WORDS, its, pct, pts, share, short_name

DEMO_CORES = 2  # the demo's time budget holds on a machine with this many CPU cores (scripts/calibrate_quick.py)
SETTING_WORDS = {"iterations": "iterations", "batch_size": "batch", "lr": "lr", "eval_every": "evaluation every"}


def _varying(configs: list[dict]) -> list[tuple[str | None, str]]:
    """The (section, field) pairs whose value differs between configs, in config order."""
    first, out = configs[0], []
    for key, value in first.items():
        fields = [(key, k) for k in value] if isinstance(value, dict) else [(None, key)]
        for section, name in fields:
            values = [c[section][name] if section else c[name] for c in configs]
            if any(v != values[0] for v in values):
                out.append((section, name))
    return out


def _candidate(c: dict, varying: list, preset: ExperimentConfig) -> dict:
    """One candidate's row: its settings and what calibrate_quick measured over its seeds."""
    cfg = c["config"]
    return {"name": c["name"], "chosen": ExperimentConfig.from_dict(cfg) == preset,
            "settings": {name: cfg[section][name] if section else cfg[name] for section, name in varying},
            "network_iterations": c["network_iterations"],
            "est_s": max(c["est_app_s"], c["est_app_s_compute"]), "passes_time_estimate": c["passes_time_estimate"],
            "seeds": len(c["seeds"]), "censored": sum(s["dense_censored"] for s in c["seeds"]),
            "beats": c["gap_pass_seeds"], "mean_gap": c["mean_gap_points"], "min_gap": c["min_gap_points"],
            "smallest_percent": c["smallest_percent_remaining"]}


def quick_facts(calibration: dict, timing: dict | None, preset: ExperimentConfig) -> dict:
    """Everything the section prints, as plain numbers, strings and booleans."""
    varying = _varying([c["config"] for c in calibration["candidates"]])
    rows = [_candidate(c, varying, preset) for c in calibration["candidates"]]
    seeds = [s["seed"] for s in calibration["candidates"][0]["seeds"]]
    chosen = next((r for r in rows if r["chosen"]), None)
    budget, cores = calibration["budget_s"], DEMO_CORES
    measured = None
    if timing:
        repeats = [{"repeat": i, "first_s": r["first_point_s"], "last_s": r["last_point_s"]}
                   for i, r in enumerate(timing["repeats"], start=1)]
        measured = {"repeats": repeats, "first_s": timing["median"]["first_point_s"],
                    "last_s": timing["median"]["last_point_s"], "cpus": timing["cpus"],
                    "of_preset": ExperimentConfig.from_dict(timing["config"]) == preset}
    met = None
    if chosen:
        on_time = (measured["last_s"] <= budget and measured["cpus"] <= cores
                   if measured and measured["of_preset"] else None)
        met = {"time": on_time, "censoring": chosen["censored"] == 0,
               "gap": chosen["beats"] >= calibration["gap_seeds_needed"]}
    return {"preset": preset.to_dict(), "settings": [name for _, name in varying], "candidates": rows,
            "chosen": chosen, "seed_first": seeds[0], "seed_last": seeds[-1], "seeds": len(seeds),
            "threshold": calibration["gap_threshold_points"], "needed": calibration["gap_seeds_needed"],
            "budget_s": budget, "cores": cores, "baseline_s": calibration["baseline_app_s"],
            "timing": measured, "met": met}


def _yes(ok: bool | None) -> str:
    return "not measured" if ok is None else "**yes**" if ok else "**no**"


def _setting(value) -> str:
    """A config value as the table prints it: a rate as written, a count with separators."""
    if isinstance(value, float):
        return f"{value:g}"
    return its(value) if isinstance(value, int) and not isinstance(value, bool) else str(value)


def _misses(r: dict, q: dict) -> str:
    """The requirements a candidate misses on its calibration (time: the estimate)."""
    out = [what for what, miss in (("time (estimated)", not r["passes_time_estimate"]),
                                   ("dense censored", r["censored"] > 0), ("gap", r["beats"] < q["needed"])) if miss]
    return ", ".join(out) or "none"


def candidates_table(q: dict) -> str:
    """One row per candidate measured; the preset's row marked."""
    heads = [SETTING_WORDS.get(n, n.replace("_", " ")) for n in q["settings"]]
    lines = ["| candidate | " + " | ".join(heads) + " | network-iterations | estimated click to last point | "
             f"dense early stops censored | seeds where the ticket beats re-init by {q['threshold']:g} points or "
             "more | mean ticket − re-init gap (points) | requirements missed |",
             "|---|" + "---|" * (len(heads) + 6)]
    for r in q["candidates"]:
        name = f"`{r['name']}`" + (" **(the preset)**" if r["chosen"] else "")
        lines.append(f"| {name} | " + " | ".join(_setting(r["settings"][n]) for n in q["settings"])
                     + f" | {its(r['network_iterations'])} | {r['est_s']:.1f} s | {r['censored']} of {r['seeds']} | "
                     f"{r['beats']} of {r['seeds']} | {pts(r['mean_gap'])} | {_misses(r, q)} |")
    return "\n".join(lines)


def _requirements(q: dict) -> str:
    c, t, met = q["chosen"], q["timing"], q["met"]
    if t is None:
        when = "no browser timing"
    elif not t["of_preset"]:
        when = "the browser timing was measured on another config"
    else:
        when = f"median {t['last_s']:.1f} s in Chromium over {len(t['repeats'])} repeats on {t['cpus']} cores"
    return "\n".join([
        "| requirement | measured on the preset | met |", "|---|---|---|",
        f"| from click to last point within {q['budget_s']:g} s on {q['cores']} cores | {when} (estimated "
        f"{c['est_s']:.1f} s) | {_yes(met['time'])} |",
        f"| the dense network's early stop uncensored | censored on {c['censored']} of {c['seeds']} seeds | "
        f"{_yes(met['censoring'])} |",
        f"| the ticket beats its re-init by {q['threshold']:g} points or more at the smallest level "
        f"({pct(c['smallest_percent'])}) on at least {q['needed']} of {q['seeds']} seeds | {c['beats']} of "
        f"{c['seeds']} seeds (mean {pts(c['mean_gap'])}, smallest {pts(c['min_gap'])} points) | "
        f"{_yes(met['gap'])} |"])


def _timing(t: dict) -> str:
    rows = [f"| {r['repeat']} | {r['first_s']:.1f} s | {r['last_s']:.1f} s |" for r in t["repeats"]]
    return "\n".join(["| repeat | click to first point | click to last point |", "|---|---|---|", *rows,
                      f"| median | {t['first_s']:.1f} s | {t['last_s']:.1f} s |"])


def quick_section(q: dict) -> str:
    """The section "The quick demo's budget", from quick_facts."""
    p = q["preset"]
    text = [f"The app's quick demo (`--preset quick`) trains the {short_name('arch', p['arch'])} on "
            f"{short_name('dataset', p['dataset'])} for {p['pruning']['rounds']} rounds at "
            f"{share(p['pruning']['rate'])} per round (output layer {share(p['pruning']['output_rate'])}), the ticket "
            f"against its {', '.join(ARM_WORDS[a] for a in p['controls'])}, {p['trials']} trial. Its settings come "
            f"from `scripts/calibrate_quick.py`: each candidate below trained seeds {q['seed_first']}–"
            f"{q['seed_last']}, one trial per seed, and at the smallest level compared the ticket's test accuracy "
            "with its re-init's, each at its own early stop. Network-iterations count every optimizer step of one "
            "trial over all levels and arms; the estimated time scales the previous preset's measured "
            f"{q['baseline_s']:.1f} s in the app by the larger of the network-iteration ratio and the modelled "
            "compute ratio.", "", candidates_table(q), ""]
    c = q["chosen"]
    if c is None:
        text.append("No candidate's config equals `get_preset(\"quick\")`: the table does not speak for the "
                    "preset, and its requirements are not checked here.")
    else:
        text += [f"The preset is `{c['name']}`: its config equals `get_preset(\"quick\")` field for field. The "
                 "demo's requirements, on it:", "", _requirements(q)]
    t = q["timing"]
    if t:
        text += ["", f"Measured by `scripts/time_quick_demo.py` on {t['cpus']} cores: for each repeat a fresh "
                 "`streamlit run app.py` with an empty store, Chromium clicks \"Try it: quick demo\" on the home "
                 "page, and the clock stops at the live accuracy chart's first ticket point and at its last"
                 + ("." if t["of_preset"] else ", on a config other than the preset's."), "", _timing(t)]
    return "\n".join(text)
