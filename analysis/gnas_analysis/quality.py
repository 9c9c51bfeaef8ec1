"""Search quality: GA against random search on real runs (compare), and the NAS-Bench-201 strategy
curves of `gnas tabular` (tabular)."""

from __future__ import annotations

import csv
import re
from pathlib import Path

import h5py
import numpy as np

from .logs import LogError, _attr, load

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
        out.mkdir(parents=True, exist_ok=True)
        fig, ax = plt.subplots(figsize=(7, 4.5))
        table = ["| strategy | budget | runs | test acc. (mean ± std) | valid acc. (mean ± std) |", "|---|---|---|---|---|"]
        for name in strategies:
            test = np.asarray(f[name]["best_test"])
            valid = np.asarray(f[name]["best_valid"])
            x = np.arange(1, test.shape[1] + 1)
            mean, std = test.mean(axis=0), test.std(axis=0, ddof=1) if test.shape[0] > 1 else np.zeros(test.shape[1])
            ax.plot(x, mean, label=name)
            ax.fill_between(x, mean - std, mean + std, alpha=0.2)
            for b in budgets:
                if b <= test.shape[1]:
                    t, v = test[:, b - 1], valid[:, b - 1]
                    table.append(f"| {name} | {b} | {test.shape[0]} | {t.mean():.2f} ± {t.std(ddof=1):.2f} | "
                                 f"{v.mean():.2f} ± {v.std(ddof=1):.2f} |")
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
