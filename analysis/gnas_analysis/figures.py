"""The paper's figures from one or more run logs, as PNG files."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.ticker import MaxNLocator  # noqa: E402
import numpy as np  # noqa: E402

from .logs import RunLog  # noqa: E402


def _save(fig, out: Path, name: str) -> Path:
    for ax in fig.axes:
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    out.mkdir(parents=True, exist_ok=True)
    path = out / name
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


def _label(log: RunLog) -> str:
    return log.path.parent.name or str(log.path)


def fitness_curve(logs: list[RunLog], out: Path) -> Path:
    """Fig. 13: the best individual's fitness (N_v images) and full-validation accuracy per epoch."""
    fig, ax = plt.subplots(figsize=(6, 4))
    for log in logs:
        x = np.arange(1, log.epochs + 1)
        ax.plot(x, log.epoch["best_fitness"], label=f"{_label(log)} fitness (N_v)")
        ax.plot(x, log.epoch["best_full_val_acc"], "--", label=f"{_label(log)} full validation")
    ax.set_xlabel("epoch")
    ax.set_ylabel("accuracy of the best individual [%]")
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    return _save(fig, out, "fitness.png")


def new_individuals(logs: list[RunLog], out: Path) -> Path:
    """Fig. 12: how many new individuals entered the population at the end of each epoch."""
    fig, ax = plt.subplots(figsize=(6, 3.5))
    width = 0.8 / max(1, len(logs))
    for i, log in enumerate(logs):
        x = np.arange(1, log.epochs + 1) + i * width
        ax.bar(x, log.epoch["n_new"], width=width, label=_label(log))
    ax.set_xlabel("epoch")
    ax.set_ylabel("new individuals in the population")
    ax.legend(fontsize=8)
    return _save(fig, out, "n_new.png")


def population_fitness(log: RunLog, out: Path) -> Path:
    """Population fitness after every replacement: best, median and worst member."""
    fit = log.population_fitness
    fig, ax = plt.subplots(figsize=(6, 3.5))
    g = np.arange(1, len(fit) + 1)
    ax.fill_between(g, fit.min(axis=1), fit.max(axis=1), alpha=0.3, label="worst .. best")
    ax.plot(g, np.median(fit, axis=1), label="median")
    ax.set_xlabel("generation")
    ax.set_ylabel("population fitness [%]")
    ax.legend(fontsize=8)
    return _save(fig, out, "population.png")


def training_curves(logs: list[RunLog], out: Path) -> Path:
    """Training loss, training accuracy (and test accuracy for retrain runs) per epoch."""
    fig, (a, b) = plt.subplots(1, 2, figsize=(10, 3.5))
    for log in logs:
        x = np.arange(1, log.epochs + 1)
        a.plot(x, log.epoch["train_loss"], label=_label(log))
        b.plot(x, log.epoch["train_acc"], label=f"{_label(log)} train")
        if np.isfinite(log.epoch["test_acc"]).any():
            b.plot(x, log.epoch["test_acc"], "--", label=f"{_label(log)} test")
    a.set_xlabel("epoch")
    a.set_ylabel("training loss")
    b.set_xlabel("epoch")
    b.set_ylabel("accuracy [%]")
    b.legend(fontsize=8)
    return _save(fig, out, "training.png")


def cells(run_dir: Path, out: Path) -> Path | None:
    """Fig. 14: the best cells, rendered from the run's cells.dot with Graphviz when installed."""
    dot_file = run_dir / "cells.dot"
    dot = shutil.which("dot")
    if not dot_file.exists() or dot is None:
        return None
    out.mkdir(parents=True, exist_ok=True)
    target = out / "cells.png"
    subprocess.run([dot, "-Tpng", str(dot_file), "-o", str(target)], check=True)
    return target


def plot_all(logs: list[RunLog], out: Path) -> list[Path]:
    """Every figure that applies to the given logs; returns the files written."""
    out = Path(out)
    written = [training_curves(logs, out)]
    searches = [log for log in logs if log.population_fitness is not None]
    if searches:
        written.append(fitness_curve(searches, out))
        written.append(new_individuals(searches, out))
        written.append(population_fitness(searches[0], out))
        picture = cells(searches[0].path.parent, out)
        if picture is not None:
            written.append(picture)
    return written


def summary(log: RunLog) -> str:
    """A few lines describing a run."""
    lines = [f"{log.path}: gnas {log.command}, {log.epochs} epochs, dataset {log.attrs.get('dataset')}, "
             f"world_size {log.attrs.get('world_size')}, started {log.attrs.get('started_at')}"]
    if log.epochs:
        lines.append(f"  last epoch: train loss {log.epoch['train_loss'][-1]:.4f}, train acc "
                     f"{log.epoch['train_acc'][-1]:.1f}%, time {log.epoch['time_s'][-1]:.1f}s")
    if log.population_fitness is not None and log.epochs:
        lines.append(f"  best fitness {log.best_fitness:.1f}%, best full-validation accuracy "
                     f"{log.epoch['best_full_val_acc'][-1]:.1f}%")
    if np.isfinite(log.epoch["test_acc"]).any():
        lines.append(f"  best test accuracy {np.nanmax(log.epoch['test_acc']):.2f}%")
    return "\n".join(lines)
