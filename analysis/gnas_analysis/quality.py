"""Search quality: GA against random search on real runs (compare), and the NAS-Bench-201 strategy
curves of `gnas tabular` (tabular)."""

from __future__ import annotations

import csv
import re
import sys
from pathlib import Path

import h5py
import numpy as np

from .logs import LogError, _attr, check_regular_file, load

RUN_DIR = re.compile(r"^(?P<strategy>[a-z]+)-seed(?P<seed>\d+)$")


def bootstrap_ci(values, n_boot=10000, seed=0, level=0.95):
    """Percentile bootstrap interval of the mean of `values` (fixed seed: the same data, the same interval)."""
    values = np.asarray(values, dtype=float)
    if values.size < 2:
        return float("nan"), float("nan")
    rng = np.random.default_rng(seed)
    means = values[rng.integers(0, values.size, (n_boot, values.size))].mean(axis=1)
    lo, hi = np.quantile(means, [(1 - level) / 2, 1 - (1 - level) / 2])
    return float(lo), float(hi)


def collect(experiment: Path):
    """Rows (strategy, seed, best_fitness, best_val, test_acc) of EXPERIMENT/<strategy>-seed<k>/{search,retrain}.
    The strategy and seed come from the search log, not from the folder name."""
    rows = []
    for run in sorted(p for p in Path(experiment).iterdir() if p.is_dir() and RUN_DIR.match(p.name)):
        try:
            search = load(run / "search")
        except LogError:
            continue
        row = {
            "run": run.name,
            "strategy": str(search.attrs.get("strategy", "ga")),
            "seed": int(search.attrs.get("seed", -1)),
            "best_fitness": float(search.epoch["best_fitness"][-1]) if search.n_epochs else float("nan"),
            "best_val": float(np.nanmax(search.epoch["best_full_val_acc"])) if search.n_epochs else float("nan"),
            "test_acc": float("nan"),
        }
        try:
            retrain = load(run / "retrain")
            if retrain.n_epochs:
                row["test_acc"] = float(retrain.epoch["test_acc"][-1])  # the final epoch: no selection on test
        except LogError:
            pass
        rows.append(row)
    return rows


def compare(experiment: Path, out: Path | None = None) -> str:
    """A markdown table per strategy (runs, mean test accuracy with a bootstrap 95% CI, search figures)
    and the GA - random difference (paired by seed where both strategies have it). Writes compare.csv."""
    rows = collect(experiment)
    if not rows:
        raise LogError(f"{experiment}: no <strategy>-seed<k>/search run directories with a readable log")
    lines = ["| strategy | runs | test acc. mean | 95% CI (bootstrap) | best fitness (search) | best val (search) |",
             "|---|---|---|---|---|---|"]
    by = {}
    for r in rows:
        by.setdefault(r["strategy"], []).append(r)
    for strategy, rs in sorted(by.items()):
        test = [r["test_acc"] for r in rs if np.isfinite(r["test_acc"])]
        lo, hi = bootstrap_ci(test)
        lines.append(f"| {strategy} | {len(test)} | {np.mean(test) if test else float('nan'):.2f} | "
                     f"[{lo:.2f}, {hi:.2f}] | {np.nanmean([r['best_fitness'] for r in rs]):.2f} | "
                     f"{np.nanmean([r['best_val'] for r in rs]):.2f} |")
    if "ga" in by and "random" in by:
        ga = {r["seed"]: r["test_acc"] for r in by["ga"] if np.isfinite(r["test_acc"])}
        rnd = {r["seed"]: r["test_acc"] for r in by["random"] if np.isfinite(r["test_acc"])}
        seeds = sorted(set(ga) & set(rnd))
        if seeds:
            diff = [ga[s] - rnd[s] for s in seeds]
            lo, hi = bootstrap_ci(diff)
            lines.append("")
            lines.append(f"GA - random (paired by seed, {len(seeds)} pairs): {np.mean(diff):+.2f} points, "
                         f"bootstrap 95% CI [{lo:+.2f}, {hi:+.2f}]")
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
        with open(out / "compare.csv", "w", newline="") as f:
            w = csv.DictWriter(f, fieldnames=list(rows[0]))
            w.writeheader()
            w.writerows(rows)
    return "\n".join(lines)


def tabular(path: Path, out: Path):
    """Draws `gnas tabular`'s curves: test accuracy of the best-valid cell against distinct cells looked up,
    mean +- std over runs, one line per strategy (tabular.png), and writes the table at the logged budgets
    (tabular.md). Returns the paths written."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    check_regular_file(path)
    try:
        f = h5py.File(path, "r")
    except OSError as exc:
        raise LogError(f"{path}: not a readable HDF5 file ({exc})") from exc
    with f:
        strategies = [k for k in f.keys() if isinstance(f[k], h5py.Group) and "best_test" in f[k]]
        if not strategies:
            raise LogError(f"{path}: no <strategy>/best_test datasets: is this a gnas tabular file?")
        budgets = [int(b) for b in str(_attr(f.attrs.get("budgets", ""))).split(",") if b]
        optimum = float(_attr(f.attrs.get("optimum_test", "nan")))
        optimum_valid = float(_attr(f.attrs.get("optimum_valid", "nan")))
        out.mkdir(parents=True, exist_ok=True)
        fig, ax = plt.subplots(figsize=(7, 4.5))
        table = ["| strategy | budget | runs | test acc. (mean ± std) | valid acc. (mean ± std) | p(optimum) |",
                 "|---|---|---|---|---|---|"]
        for name in strategies:
            test = np.asarray(f[name]["best_test"])
            valid = np.asarray(f[name]["best_valid"])
            x = np.arange(1, test.shape[1] + 1)
            mean, std = test.mean(axis=0), test.std(axis=0, ddof=1) if test.shape[0] > 1 else np.zeros(test.shape[1])
            ax.plot(x, mean, label=name)
            # The band stops at the attainable optimum (no run can beat it; mean + std can).
            upper = np.minimum(mean + std, optimum) if np.isfinite(optimum) else mean + std
            ax.fill_between(x, mean - std, upper, alpha=0.2)
            for b in budgets:
                if b <= test.shape[1]:
                    t, v = test[:, b - 1], valid[:, b - 1]
                    # Found the optimum: the best-valid cell is the table's best-valid cell (valid values are
                    # float32 copies of the same table entry, so equality is exact).
                    p_opt = float(np.mean(np.isclose(v, optimum_valid, rtol=0, atol=1e-3))) if np.isfinite(optimum_valid) \
                        else float("nan")
                    table.append(f"| {name} | {b} | {test.shape[0]} | {t.mean():.2f} ± {t.std(ddof=1):.2f} | "
                                 f"{v.mean():.2f} ± {v.std(ddof=1):.2f} | {p_opt:.3f} |")
        if np.isfinite(optimum):
            ax.axhline(optimum, color="k", linestyle=":", label=f"optimum ({optimum:.2f})")
        ax.set_xscale("log")
        ax.set_xlabel("distinct cells looked up")
        ax.set_ylabel("test accuracy of the best-valid cell (%)")
        ax.set_title("NAS-Bench-201 CIFAR-10: mean ± std over runs")
        lo = min(np.asarray(f[n]["best_test"]).mean(axis=0)[min(9, f[n]["best_test"].shape[1] - 1)] for n in strategies)
        ax.set_ylim(lo - 1.0, optimum + 0.3 if np.isfinite(optimum) else None)
        ax.grid(True, alpha=0.3)
        ax.legend()
        fig.tight_layout()
        png = out / "tabular.png"
        fig.savefig(png, dpi=120)
        plt.close(fig)
    md = out / "tabular.md"
    md.write_text("\n".join(table) + "\n")
    return [png, md]


# NAS-Bench-201's weight-sharing rows (Dong & Yang, ICLR 2020, Table 5; CIFAR-10 test accuracy of the
# found cell, mean +- std over 3 searches). The table circulates in versions; these are the paper's.
NB201_PAPER_ROWS = (
    ("DARTS-V1", 54.30, 0.00), ("DARTS-V2", 54.30, 0.00), ("ENAS", 53.89, 0.58), ("RSPS", 87.66, 1.69),
    ("SETN", 87.64, 0.00), ("GDAS", 93.61, 0.09), ("optimum", 94.37, 0.00),
)
STUDY_DIR = re.compile(r"^(?P<strategy>[a-z][a-z-]*)-seed(?P<seed>\d+)$")
# Student's t, 0.975 quantile, by degrees of freedom (1 .. 30); 1.96 beyond.
_T975 = (12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.160, 2.145,
         2.131, 2.120, 2.110, 2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064, 2.060, 2.056, 2.052, 2.048,
         2.045, 2.042)


def t_interval(values, level_quantile=_T975):
    """(mean, std, lo, hi): the mean with a Student-t 95% interval (NaN bounds below 2 values)."""
    values = np.asarray(values, dtype=float)
    values = values[np.isfinite(values)]
    if values.size == 0:
        return (float("nan"),) * 4
    mean = float(values.mean())
    if values.size < 2:
        return mean, float("nan"), float("nan"), float("nan")
    std = float(values.std(ddof=1))
    df = values.size - 1
    t = level_quantile[df - 1] if df <= len(level_quantile) else 1.96
    half = t * std / np.sqrt(values.size)
    return mean, std, mean - half, mean + half


def nb201_rows(experiment: Path, skipped: list | None = None) -> list:
    """One row per NAS-Bench-201 search of EXPERIMENT/<strategy>-seed<k>/ (scripts/nb201-study): the
    chosen cell's table accuracies, the population's best and mean, the last ranking's tau and rho.
    The strategy comes from the log (ga, ga+rescore, random; @fitness for a training-free fitness,
    +warmM:score for the hybrid's warm start), not from the folder name. The runs left out (unreadable,
    another space, no table) are appended to `skipped` as (run, reason)."""
    rows = []
    skipped = [] if skipped is None else skipped
    for run in sorted(p for p in Path(experiment).iterdir() if p.is_dir() and STUDY_DIR.match(p.name)):
        try:
            log = load(run)
        except LogError as exc:
            skipped.append((run.name, str(exc)))
            continue
        if log.space != "nb201":
            skipped.append((run.name, f"a search of the {log.space} space, not nb201"))
            continue
        if not log.has_ground_truth:
            skipped.append((run.name, "no ground truth (searched without --nb201.table)"))
            continue
        if not np.isfinite(log.epoch["gt_chosen_test"]).any():
            skipped.append((run.name, "no epoch finished yet"))
            continue
        strategy = str(log.attrs.get("strategy", "ga"))
        if log.config.get("search.rescore", "none") == "population":
            strategy += "+rescore"
        # The fitness (logs before --search.fitness: the supernet's) and the hybrid's warm start.
        fitness = str(log.attrs.get("fitness", "") or log.config.get("search.fitness", "supernet"))
        if fitness != "supernet":
            strategy += f"@{fitness}"
        if int(log.config.get("proxy.warm_start", "0") or 0) > 0:
            strategy += f"+warm{log.config.get('proxy.warm_start')}:{log.config.get('proxy.score', 'naswot+synflow')}"
        last = lambda name: float(log.epoch[name][np.isfinite(log.epoch[name])][-1])  # noqa: E731
        rk = log.ranking
        ranked = rk is not None and len(rk["kendall_tau"]) > 0
        rows.append({
            "run": run.name, "strategy": strategy, "seed": log.seed, "epochs": log.n_epochs,
            "cell": log.genome_text(log.best_genome),
            "table_test": last("gt_chosen_test"), "table_valid": last("gt_chosen_valid"),
            "population_best_test": last("gt_best_test"), "population_mean_test": last("gt_mean_test"),
            "fitness": float(np.nanmax(log.epoch["best_fitness"])),
            "kendall_tau": float(rk["kendall_tau"][-1]) if ranked else float("nan"),
            "spearman_rho": float(rk["spearman_rho"][-1]) if ranked else float("nan"),
            "ranking_cells": int(len(rk["table_test"])) if ranked else 0,
            "table": Path(str(log.config.get("nb201.table", ""))).name,
            "epochs_planned": int(log.config.get("train.epochs", "0") or 0),
        })
    return rows


# What the runs averaged into one row must share: the same benchmark table, the same length of
# search and the same ranking set size (tau over 50 cells is not tau over 200).
NB201_SAME = ("table", "epochs", "epochs_planned", "ranking_cells")


def nb201(experiment: Path, out: Path | None = None) -> str:
    """Markdown: per strategy the found cells' table test accuracy (mean +- std, Student-t 95% CI), the
    population's mean, the supernet's ranking (tau, rho), then the benchmark paper's weight-sharing rows.
    Writes nb201.csv and nb201.md into `out`."""
    skipped = []
    rows = nb201_rows(experiment, skipped)
    for run, why in skipped:
        print(f"gnas-analysis: nb201: skipped {run}: {why}", file=sys.stderr)
    if not rows:
        raise LogError(f"{experiment}: no <strategy>-seed<k>/ NAS-Bench-201 search with a table (--nb201.table)")
    groups = {}
    for r in rows:
        groups.setdefault(r["strategy"], []).append(r)
    for strategy, rs in groups.items():
        for key in NB201_SAME:
            values = sorted({str(r[key]) for r in rs})
            if len(values) > 1:
                runs = ", ".join(f"{r['run']}: {r[key]}" for r in rs)
                raise LogError(f"{experiment}: the {strategy} runs differ in {key} ({runs}); their figures cannot be "
                               "averaged into one row: put the runs of one setup in one directory")
    lines = ["| strategy | runs | found cell: table test acc. (mean ± std) | 95% CI (t) | population mean | "
             "Kendall tau | Spearman rho |", "|---|---|---|---|---|---|---|"]
    by = {}
    for r in rows:
        by.setdefault(r["strategy"], []).append(r)
    for strategy, rs in sorted(by.items()):
        mean, std, lo, hi = t_interval([r["table_test"] for r in rs])
        pop = np.nanmean([r["population_mean_test"] for r in rs])
        tau = t_interval([r["kendall_tau"] for r in rs])
        rho = t_interval([r["spearman_rho"] for r in rs])
        lines.append(f"| {strategy} (gnas) | {len(rs)} | {mean:.2f} ± {std:.2f} | [{lo:.2f}, {hi:.2f}] | {pop:.2f} | "
                     f"{tau[0]:.3f} ± {tau[1]:.3f} | {rho[0]:.3f} ± {rho[1]:.3f} |")
    for name, mean, std in NB201_PAPER_ROWS:
        lines.append(f"| {name} (NAS-Bench-201 paper) | 3 | {mean:.2f} ± {std:.2f} | | | | |")
    lines.append("")
    lines.append("Per run: " + "; ".join(f"{r['run']} {r['table_test']:.2f} (tau {r['kendall_tau']:.3f})"
                                         for r in rows))
    if skipped:
        lines.append("")
        lines.append("Skipped: " + "; ".join(f"{run} ({why})" for run, why in skipped))
    text = "\n".join(lines)
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
        with open(out / "nb201.csv", "w", newline="") as f:
            w = csv.DictWriter(f, fieldnames=list(rows[0]))
            w.writeheader()
            w.writerows(rows)
        (out / "nb201.md").write_text(text + "\n")
    return text
