"""Ablations: searches that differ in one option (and its seed), drawn against that option's value
like the paper's Fig. 9 (population size) and Fig. 10 (mutation probability), or tabulated like its
Table 1 (crossover) when the values are not numbers."""

from __future__ import annotations

import csv
import math
from pathlib import Path

import numpy as np

from .logs import LogError, RunLog, config_keys, current_key, old_names
from .quality import t_interval

METRICS = (("final_fitness", "final best fitness [%]"), ("best_val", "best full-validation accuracy [%]"),
           ("table_test", "found cell: NAS-Bench-201 table test accuracy [%]"))


def _differing(logs) -> dict:
    """The keys whose values differ, less those that may differ between the runs of an ablation:
    the seed, and how a run was executed (the operational keys the logs list)."""
    ignored = {"seed"} | config_keys(logs, "operational")
    values: dict = {}
    for log in logs:
        for key, value in log.config.items():
            values.setdefault(key, set()).add(value)
    return {k: v for k, v in values.items() if len(v) > 1 and k not in ignored}


def _determined_by(logs, key: str, other: str) -> bool:
    """True when each value of `key` goes with one value of `other` (a key swept along with it)."""
    seen: dict = {}
    for log in logs:
        seen.setdefault(log.config.get(key), set()).add(log.config.get(other))
    return all(len(v) == 1 for v in seen.values())


def detect(logs):
    """(key, with_keys) when `logs` form an ablation as scripts/ablation and jobs/slurm/ablation.sbatch
    write one: search runs in directories named <KEY>-<value>-seed<k>, whose configurations differ in
    KEY (at least two values) and in nothing else but options determined by it (swept along). Runs
    that merely differ (a longer run beside a shorter one) are not an ablation: None."""
    searches = [r for r in logs if r.is_search]
    if len(searches) < 2:
        return None
    differing = _differing(searches)
    for key in sorted(differing):
        names = {key} | old_names(key, searches)  # an ablation swept before its key was renamed
        if not all(any(r.run_dir.name.startswith(f"{name}-{r.config.get(key)}-seed") for name in names)
                   for r in searches):
            continue
        if all(_determined_by(searches, key, o) for o in differing if o != key):
            return key, [o for o in sorted(differing) if o != key]
    return None


def _last_finite(values) -> float:
    values = np.asarray(values, dtype=float)
    values = values[np.isfinite(values)]
    return float(values[-1]) if values.size else float("nan")


def _max_finite(values) -> float:
    values = np.asarray(values, dtype=float)
    values = values[np.isfinite(values)]
    return float(values.max()) if values.size else float("nan")


def collect(logs, key: str, with_keys=(), allow_differences: bool = False) -> list:
    """One row per search run: the key's value (from its configuration), seed, status, epochs and the
    metrics. Refuses runs that differ in other keys (naming them) unless allow_differences; keys in
    with_keys must be determined by the key's value."""
    searches = [r for r in logs if r.is_search]
    if not searches:
        raise LogError("no search runs given")
    key = current_key(key, searches)  # --key ga.rescore: the key's old name
    with_keys = [current_key(k, searches) for k in with_keys]
    missing = [str(r.run_dir) for r in searches if key not in r.config]
    if missing:
        raise LogError(f"--key {key}: not an option of these runs (missing in {', '.join(missing[:3])}); "
                       "give it as in config.ini, e.g. ga.population or space")
    for other in with_keys:
        if not _determined_by(searches, key, other):
            raise LogError(f"--with {other}: it takes several values for one value of {key}")
    differing = sorted(set(_differing(searches)) - {key, *with_keys})
    if differing and not allow_differences:
        raise LogError(f"the runs differ in {', '.join(differing)} besides {key}: an ablation varies one option "
                       "(pass --with KEY for an option swept along with it, or --allow-differences to draw anyway)")
    rows = []
    for r in searches:
        status = r.status.get("status", "unknown") if r.status else "unknown"
        rows.append({
            "run": r.name or str(r.run_dir), "value": r.config[key], "seed": r.seed, "status": status,
            "epochs": r.n_epochs, "final_fitness": _last_finite(r.epoch["best_fitness"]),
            "best_val": _max_finite(r.epoch["best_full_val_acc"]),
            "table_test": _last_finite(r.epoch["gt_chosen_test"]),
        })
    return rows


def _number(text: str):
    try:
        value = float(text)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def summarize(rows) -> tuple:
    """(numeric, [per value: value, runs, running, and (mean, std, lo, hi) per metric]) in value order."""
    numeric = all(_number(r["value"]) is not None for r in rows)
    values = sorted({r["value"] for r in rows}, key=lambda v: (_number(v) if numeric else v))
    out = []
    for v in values:
        rs = [r for r in rows if r["value"] == v]
        entry = {"value": v, "runs": len(rs), "running": sum(r["status"] == "running" for r in rs)}
        for metric, _label in METRICS:
            values = [r[metric] for r in rs]
            seeds = [float(v) for v in values if v is not None and math.isfinite(v)]
            mean, std, lo, hi = t_interval(seeds)
            # An accuracy's t interval over few seeds can reach past [0, 100] (86.08 ± 9.72 gave
            # [-1.25, 173.42]), which no accuracy can: clipped there. A training-free fitness is no
            # percentage (its values leave [0, 100]) and is left as it is.
            if all(0.0 <= v <= 100.0 for v in seeds):
                lo = max(lo, 0.0) if math.isfinite(lo) else lo
                hi = min(hi, 100.0) if math.isfinite(hi) else hi
            entry[metric] = (mean, std, lo, hi)
            entry[metric + "_seeds"] = seeds
        out.append(entry)
    return numeric, out


def figure(key: str, numeric: bool, summary):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    metrics = [(m, label) for m, label in METRICS if any(np.isfinite(s[m][0]) for s in summary)]
    fig, axes = plt.subplots(1, len(metrics), figsize=(4.6 * len(metrics), 3.8), squeeze=False)
    positions = [_number(s["value"]) for s in summary] if numeric else list(range(len(summary)))
    for ax, (metric, label) in zip(axes[0], metrics):
        mean = np.array([s[metric][0] for s in summary])
        lo = np.array([s[metric][2] for s in summary])
        hi = np.array([s[metric][3] for s in summary])
        err = np.vstack([np.where(np.isfinite(lo), mean - lo, 0), np.where(np.isfinite(hi), hi - mean, 0)])
        ax.errorbar(positions, mean, yerr=err, marker="o", capsize=4, linestyle="-" if numeric else "none")
        for x, s in zip(positions, summary):  # each seed's own value, beside the interval
            seeds = s[metric + "_seeds"]
            ax.scatter([x] * len(seeds), seeds, s=12, color="grey", alpha=0.7, zorder=3)
        if numeric and min(positions) > 0 and max(positions) / min(positions) >= 10:
            ax.set_xscale("log")
        if not numeric:
            ax.set_xticks(positions)
            ax.set_xticklabels([s["value"] for s in summary])
            ax.set_xlim(-0.5, len(summary) - 0.5)
        ax.set_xlabel(key)
        ax.set_ylabel(label)
        runs = ", ".join(f"{s['value']}: {s['runs']}" for s in summary)
        ax.set_title(f"{label.split(' [')[0]}\nmean, 95% t interval over seeds ({runs})", fontsize=8)
        ax.grid(True, alpha=0.3)
    fig.tight_layout()
    return fig


def markdown(key: str, summary) -> str:
    lines = [f"| {key} | runs | final best fitness | best full val | found cell: table test |", "|---|---|---|---|---|"]
    for s in summary:
        cells = []
        for metric, _label in METRICS:
            mean, std, lo, hi = s[metric]
            cells.append("" if not math.isfinite(mean) else
                         f"{mean:.2f}" + ("" if not math.isfinite(std) else f" ± {std:.2f} [{lo:.2f}, {hi:.2f}]"))
        running = f" ({s['running']} running)" if s["running"] else ""
        lines.append(f"| {s['value']} | {s['runs']}{running} | " + " | ".join(cells) + " |")
    lines.append("")
    lines.append("mean ± std [Student-t 95% interval, clipped to [0, 100]] over the seeds of each value; the "
                 "figure also draws each seed; the fitness is the last epoch's "
                 "best member's, the full-validation accuracy the best epoch's, the table accuracy that of the "
                 "cell the search chose (NAS-Bench-201 runs with --nb201.table).")
    return "\n".join(lines)


def ablation(logs: list, key: str, out: Path | None, with_keys=(), allow_differences=False) -> str:
    """Draws and tabulates the ablation of `key` over `logs`; writes ablation.{png,svg,md,csv} to `out`."""
    rows = collect(logs, key, with_keys, allow_differences)
    numeric, summary = summarize(rows)
    if len(summary) < 2:
        raise LogError(f"--key {key}: every run has the value {summary[0]['value']}: nothing was swept")
    text = markdown(key, summary)
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
        fig = figure(key, numeric, summary)
        import matplotlib.pyplot as plt
        fig.savefig(out / "ablation.png", dpi=110)
        fig.savefig(out / "ablation.svg")
        plt.close(fig)
        (out / "ablation.md").write_text(text + "\n")
        with open(out / "ablation.csv", "w", newline="") as f:
            w = csv.DictWriter(f, fieldnames=list(rows[0]))
            w.writeheader()
            w.writerows(rows)
    return text
