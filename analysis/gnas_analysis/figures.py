"""The paper's figures (and a few more) for one or more runs, as matplotlib figures.

Every figure gives each run one colour, the same in every figure, and labels it by its unique name.
Runs that differ only by their seed form a group drawn as mean +- std over the seeds.
"""

from __future__ import annotations

import math
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.ticker import MaxNLocator  # noqa: E402
import numpy as np  # noqa: E402

from .logs import CELL_KINDS, RunLog, config_keys  # noqa: E402
from .runs import _last_finite  # noqa: E402



@dataclass
class Group:
    """Runs of one experiment (equal but for the seed): one colour, one label."""
    label: str
    colour: str
    runs: list = field(default_factory=list)


PALETTE = plt.get_cmap("tab10").colors + plt.get_cmap("Dark2").colors


def _grouped(logs: list) -> list:
    """Lists of runs: those of one experiment with distinct seeds together, every other run alone."""
    # Not an experiment's: the seed, and the keys of how a run was executed (the logs say which).
    not_an_experiment = {"seed"} | config_keys(logs, "operational")
    keyed = {}
    for log in logs:
        key = (log.command, tuple(sorted((k, v) for k, v in log.config.items() if k not in not_an_experiment)))
        keyed.setdefault(key, []).append(log)
    out = []
    for runs in keyed.values():
        # The first run of each seed joins the group; a repeat of a seed (a copy, a rerun) stands alone.
        group, alone, seeds = [], [], set()
        for r in runs:
            (alone if r.seed in seeds else group).append(r)
            seeds.add(r.seed)
        out += [group] + [[r] for r in alone]
    return out


def assign_colours(logs: list) -> None:
    """One colour per group of `logs` (all runs of a report), kept by every figure drawn later."""
    for i, runs in enumerate(_grouped(logs)):
        for r in runs:
            r.colour = matplotlib.colors.to_hex(PALETTE[i % len(PALETTE)])


def groups(logs: list) -> list:
    """Runs that differ only by seed go together (mean +- std); the rest stand alone. Colours come
    from assign_colours when it ran on these runs."""
    out = []
    for i, runs in enumerate(_grouped(logs)):
        if len(runs) == 1:
            label = runs[0].name
        else:
            seeds = ", ".join(str(r.seed) for r in runs)
            label = f"{runs[0].name} +{len(runs) - 1} (seeds {seeds}; mean ± std)"
        colour = runs[0].colour or matplotlib.colors.to_hex(PALETTE[i % len(PALETTE)])
        out.append(Group(label, colour, runs))
    return out


def _stack(arrays) -> np.ndarray:
    """Rows of unequal length (a run still being written) padded with NaN."""
    n = max((len(a) for a in arrays), default=0)
    out = np.full((len(arrays), n), np.nan)
    for i, a in enumerate(arrays):
        out[i, :len(a)] = a
    return out


def _curve(ax, group: Group, values, style="-", label=None, x0=1):
    """One run: a line with markers (a single epoch shows as a point). Several: mean and a +-std band."""
    data = _stack([np.asarray(v, dtype=float) for v in values])
    if data.size == 0:
        return
    x = np.arange(x0, x0 + data.shape[1])
    with np.errstate(all="ignore"), _quiet():
        mean = np.nanmean(data, axis=0)
        std = np.nanstd(data, axis=0)
    # Solid, dashed and dotted lines carry different markers, so the legend tells them apart too.
    marker = {"-": "o", "--": "s", ":": "^"}.get(style, "o")
    ax.plot(x, mean, style, color=group.colour, marker=marker, markersize=3.5, label=label or group.label)
    if data.shape[0] > 1:
        ax.fill_between(x, mean - std, mean + std, color=group.colour, alpha=0.2, linewidth=0)


class _quiet:
    def __enter__(self):
        import warnings
        self._w = warnings.catch_warnings()
        self._w.__enter__()
        warnings.simplefilter("ignore", RuntimeWarning)

    def __exit__(self, *exc):
        self._w.__exit__(*exc)


def _epoch_axis(ax, n_max: int, xlabel="epoch"):
    """Integer ticks, and room around a single epoch (no 0.945 .. 1.05 axis)."""
    ax.set_xlim(0.5, max(1, n_max) + 0.5)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True, min_n_ticks=1))
    ax.set_xlabel(xlabel)
    ax.grid(alpha=0.3)


def _n_max(gs) -> int:
    return max((r.n_epochs for g in gs for r in g.runs), default=1)


def _legend(ax):
    """Long handles, so that a dashed or dotted line shows as one in the legend."""
    handles, labels = ax.get_legend_handles_labels()
    if handles:
        ax.legend(fontsize=7, loc="best", handlelength=4)


def last_generation_per_epoch(log: RunLog) -> list:
    """Index of each epoch's last generation row (the population at the epoch's end)."""
    rows = []
    for e in range(log.n_epochs):
        idx = np.flatnonzero(log.generation_epoch == e)
        if idx.size:
            rows.append(int(idx[-1]))
    return rows


def fig13_fitness(gs) -> plt.Figure:
    """Fig. 13: the best individual's fitness (N_v images) and its full-validation accuracy."""
    fig, ax = plt.subplots(figsize=(7, 4))
    for g in gs:
        _curve(ax, g, [r.epoch["best_fitness"] for r in g.runs], "-", f"{g.label}: fitness (N_v)")
        _curve(ax, g, [r.epoch["best_full_val_acc"] for r in g.runs], "--", f"{g.label}: full validation")
    _epoch_axis(ax, _n_max(gs))
    ax.set_ylabel("best individual's accuracy [%]")
    ax.set_title("Fig. 13: best individual per epoch")
    _legend(ax)
    return fig


def rounds_per_epoch(log: RunLog) -> int:
    """Evaluate-and-replace rounds per epoch (generation rows of the first epoch)."""
    if log.generation_epoch is None or not len(log.generation_epoch):
        return 1
    return max(1, int(np.sum(log.generation_epoch == log.generation_epoch[0])))


def fig12_new_individuals(gs) -> plt.Figure:
    """Fig. 12: individuals that entered the population per epoch (summed over the epoch's rounds),
    with a line at the most that can enter: N_p per round."""
    fig, ax = plt.subplots(figsize=(7, 3.8))
    for g in gs:
        _curve(ax, g, [r.epoch["n_new"] for r in g.runs])
        n_p = g.runs[0].population_fitness.shape[1]
        ax.axhline(n_p * rounds_per_epoch(g.runs[0]), color=g.colour, linestyle=":", linewidth=1)
    _epoch_axis(ax, _n_max(gs))
    ax.set_ylim(bottom=0)
    ax.set_ylabel("new individuals per epoch\n(dotted: N_p x rounds, all new)")
    ax.set_title("Fig. 12: new individuals in the population per epoch")
    _legend(ax)
    return fig


def population_stats(log: RunLog) -> dict:
    """Per epoch, over the population at the epoch's end: mean, max, min and std of the fitness."""
    rows = last_generation_per_epoch(log)
    fit = log.population_fitness[rows] if rows else np.zeros((0, 1))
    return {"mean": fit.mean(axis=1), "max": fit.max(axis=1), "min": fit.min(axis=1), "std": fit.std(axis=1)}


def fig11_population(gs) -> plt.Figure:
    """Fig. 11: the population's fitness per epoch: mean with a +-std band, max and min."""
    fig, ax = plt.subplots(figsize=(7, 4))
    for g in gs:
        stats = [population_stats(r) for r in g.runs]
        mean = _stack([s["mean"] for s in stats])
        std = _stack([s["std"] for s in stats])
        with _quiet():
            m, sd = np.nanmean(mean, axis=0), np.nanmean(std, axis=0)
            hi, lo = np.nanmean(_stack([s["max"] for s in stats]), axis=0), np.nanmean(_stack([s["min"] for s in stats]), axis=0)
        x = np.arange(1, len(m) + 1)
        ax.plot(x, m, "-", color=g.colour, marker="o", markersize=3.5, label=f"{g.label}: mean ± std")
        ax.fill_between(x, m - sd, m + sd, color=g.colour, alpha=0.2, linewidth=0)
        ax.plot(x, hi, "--", color=g.colour, marker="^", markersize=3, linewidth=1, label=f"{g.label}: max")
        ax.plot(x, lo, ":", color=g.colour, marker="v", markersize=3, linewidth=1, label=f"{g.label}: min")
    _epoch_axis(ax, _n_max(gs))
    ax.set_ylabel("population fitness [%]")
    ax.set_title("Fig. 11: population fitness at the end of each epoch")
    _legend(ax)
    return fig


def fig_lr(gs) -> plt.Figure:
    """The learning rate as a step plot: constant within an epoch."""
    fig, ax = plt.subplots(figsize=(7, 3.2))
    for g in gs:
        data = _stack([np.asarray(r.epoch["lr"], dtype=float) for r in g.runs])
        if data.size == 0:
            continue
        with _quiet():
            lr = np.nanmean(data, axis=0)
        x = np.arange(1, data.shape[1] + 2) - 0.5  # epoch k spans [k - 0.5, k + 0.5]
        ax.stairs(lr, x, baseline=None, color=g.colour, label=g.label, linewidth=1.5)  # no drop to 0 at the ends
    _epoch_axis(ax, _n_max(gs))
    ax.set_ylabel("learning rate")
    ax.set_title("Learning rate")
    _legend(ax)
    return fig


def fig_steps(logs) -> plt.Figure:
    """Within epochs: each run's /step rows, the training loss and the throughput against the
    global step (one line per run, not per seed group: the rows of a live run are its progress)."""
    fig, (a, b) = plt.subplots(1, 2, figsize=(11, 3.6))
    for r in logs:
        if not r.steps or not len(r.steps["step"]):
            continue
        x = r.steps["step"]
        a.plot(x, r.steps["loss"], color=r.colour, linewidth=1.2, label=r.name)
        b.plot(x, r.steps["img_s"], color=r.colour, linewidth=1.2, label=r.name)
    a.set_ylabel("training loss (rank 0, epoch so far)")
    b.set_ylabel("images / s")
    for ax in (a, b):
        ax.set_xlabel("training step")
        ax.grid(alpha=0.3)
    fig.suptitle("Training steps (the log's /step rows)")
    _legend(a)
    return fig


def fig_training(gs, title: str, with_test: bool) -> plt.Figure:
    """Training loss, and training (and test) accuracy per epoch."""
    fig, (a, b) = plt.subplots(1, 2, figsize=(11, 3.8))
    for g in gs:
        _curve(a, g, [r.epoch["train_loss"] for r in g.runs])
        _curve(b, g, [r.epoch["train_acc"] for r in g.runs], "-", f"{g.label}: train")
        if with_test:
            _curve(b, g, [r.epoch["test_acc"] for r in g.runs], "--", f"{g.label}: test")
    for ax in (a, b):
        _epoch_axis(ax, _n_max(gs))
    a.set_ylabel("training loss")
    b.set_ylabel("accuracy [%]")
    fig.suptitle(title)
    _legend(a)
    _legend(b)
    return fig


def pairwise_difference(log: RunLog) -> np.ndarray:
    """Per epoch: the mean share of genes that differ between two members of the population at the
    epoch's end (0: all alike; the population holds no duplicates, so counting unique genomes says
    nothing)."""
    out = []
    for r in last_generation_per_epoch(log):
        pop = log.population_genome[r].astype(np.int16)
        n = pop.shape[0]
        if n < 2:
            out.append(np.nan)
            continue
        diff = (pop[:, None, :] != pop[None, :, :]).mean(axis=2)
        out.append(diff[np.triu_indices(n, 1)].mean())
    return np.array(out, dtype=float)


def op_frequencies(log: RunLog) -> np.ndarray:
    """[epoch, op group, op]: share of each op among the population's op genes at the epoch's end; the
    groups and which genes are ops come from the log's gene layout (RunLog.op_groups: the paper's three
    cells, or nb201's one)."""
    n_ops = len(log.op_names)
    rows = last_generation_per_epoch(log)
    op_groups = log.op_groups()
    out = np.zeros((len(rows), len(op_groups), n_ops))
    for i, r in enumerate(rows):
        pop = log.population_genome[r]
        for c, (_name, genes) in enumerate(op_groups):
            ops = pop[:, genes].reshape(-1)
            counts = np.bincount(ops[ops < n_ops], minlength=n_ops)[:n_ops]
            out[i, c] = counts / max(1, counts.sum())
    return out


def fig_diversity(gs) -> plt.Figure:
    """Population diversity: mean pairwise gene difference per epoch (all runs), and per-cell op
    frequencies (one row per run or seed group, ops stacked)."""
    rows = len(gs)
    group_names = [name for name, _genes in gs[0].runs[0].op_groups()] or ["cell"]
    columns = max(1, len(group_names))
    fig = plt.figure(figsize=(12, 3.2 + 2.6 * rows))
    grid = fig.add_gridspec(1 + rows, columns, height_ratios=[1.3] + [1] * rows)
    ax = fig.add_subplot(grid[0, :])
    for g in gs:
        _curve(ax, g, [pairwise_difference(r) for r in g.runs])
    _epoch_axis(ax, _n_max(gs))
    ax.set_ylim(0, 1)
    ax.set_ylabel("genes that differ")
    ax.set_title("Population diversity: mean share of genes that differ between two members, at each epoch's end")
    _legend(ax)
    op_colours = plt.get_cmap("Set2").colors
    for i, g in enumerate(gs):
        with _quiet():
            freq = np.nanmean(_stack_3d([op_frequencies(r) for r in g.runs]), axis=0)
        names = g.runs[0].op_names
        x = np.arange(1, freq.shape[0] + 1)
        for c, kind in enumerate(group_names[:freq.shape[1]] if freq.ndim == 3 else group_names):
            a = fig.add_subplot(grid[1 + i, c])
            if freq.shape[0] == 1:  # one epoch: a stacked bar (a stack plot of one point is invisible)
                bottom = 0.0
                for o, name in enumerate(names):
                    a.bar(x, freq[:, c, o], bottom=bottom, width=0.5, label=name, color=op_colours[o % len(op_colours)])
                    bottom = bottom + freq[:, c, o]
            elif freq.shape[0]:
                a.stackplot(x, freq[:, c, :].T, labels=names, colors=op_colours[:len(names)], alpha=0.9)
            _epoch_axis(a, max(1, freq.shape[0]))
            a.set_ylim(0, 1)
            a.set_title(f"{g.label}\n{kind}{'' if kind == 'cell' else ' cell'}: op frequency", fontsize=8,
                        color=g.colour)
            if c == 0:
                a.set_ylabel("share of op genes")
            if i == 0 and c == columns - 1 and a.get_legend_handles_labels()[0]:  # none: matplotlib warns
                a.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    return fig


def _stack_3d(arrays) -> np.ndarray:
    n = max((a.shape[0] for a in arrays), default=0)
    shape = arrays[0].shape[1:] if arrays else (3, 1)
    out = np.full((len(arrays), n, *shape), np.nan)
    for i, a in enumerate(arrays):
        out[i, :a.shape[0]] = a
    return out


GRAPHVIZ_MISSING = ("Graphviz ('dot') is not installed, so the cells are not drawn: install it "
                    "(Debian: apt install graphviz) and run the report again.")


def cell_dot(log: RunLog, title: str) -> str | None:
    """The run's cells.dot (written by gnas, drawn like the paper's Fig. 14) with `title` on top."""
    dot_file = log.run_dir / "cells.dot"
    if not dot_file.exists():
        return None
    text = dot_file.read_text()
    safe = title.replace("\\", "\\\\").replace('"', '\\"')
    if 'label="net.compat' in text:
        return text.replace('label="net.compat', f'label="{safe}\\nnet.compat', 1)
    return text.replace("{", f'{{\n  labelloc=t;\n  label="{safe}";', 1)


def render_dot(dot_text: str, out_stem: Path) -> list:
    """Draws DOT text as out_stem.png and out_stem.svg; raises FileNotFoundError without Graphviz."""
    dot = shutil.which("dot")
    if dot is None:
        raise FileNotFoundError(GRAPHVIZ_MISSING)
    written = []
    for fmt in ("png", "svg"):
        # Appended, not with_suffix: a run name with a dot ("p_m0.05-seed1", every scripts/ablation run)
        # would lose its tail, and the cells of several runs would overwrite one file.
        target = out_stem.parent / f"{out_stem.name}.{fmt}"
        try:
            subprocess.run([dot, f"-T{fmt}", "-o", str(target)], input=dot_text.encode(), check=True,
                           capture_output=True)
        except subprocess.CalledProcessError as exc:
            raise ValueError(f"Graphviz could not draw it: {exc.stderr.decode(errors='replace').strip()}") from exc
        written.append(target)
    return written


def fig_ground_truth(gs) -> plt.Figure:
    """NAS-Bench-201 searches run with the table: the GA's fitness (top-1 of the young supernet on N_v
    images) beside the table's test accuracy of the population's best, its mean and the chosen cell."""
    fig, axes = plt.subplots(1, 2, figsize=(12, 4.2))
    for g in gs:
        _curve(axes[0], g, [r.epoch["best_fitness"] for r in g.runs], label=f"{g.label}: fitness (supernet)")
        _curve(axes[0], g, [r.epoch["best_full_val_acc"] for r in g.runs], style=":",
               label=f"{g.label}: its full validation")
        _curve(axes[1], g, [r.epoch["gt_chosen_test"] for r in g.runs], label=f"{g.label}: chosen cell")
        _curve(axes[1], g, [r.epoch["gt_best_test"] for r in g.runs], style="--", label=f"{g.label}: population's best")
        _curve(axes[1], g, [r.epoch["gt_mean_test"] for r in g.runs], style=":", label=f"{g.label}: population mean")
    n = _n_max(gs)
    _epoch_axis(axes[0], n)
    _epoch_axis(axes[1], n)
    # The table's optimum and its mean cell (a random cell's expectation), and where each run's found
    # cell stands among the table's cells (logs written before these were recorded have neither).
    runs_ = [r for g in gs for r in g.runs]
    best = _last_finite_of(runs_, "gt_table_best_test")
    mean = _last_finite_of(runs_, "gt_table_mean_test")
    if best is not None:
        axes[1].axhline(best, color="black", lw=1, ls="-.", label=f"table's best cell {best:.2f}%")
    if mean is not None:
        axes[1].axhline(mean, color="grey", lw=1, ls="-.", label=f"table mean cell {mean:.2f}%")
    standing = []
    for r in runs_:
        pct, rank = _last_finite(r.epoch["gt_chosen_below_pct"]), _last_finite(r.epoch["gt_chosen_rank"])
        if math.isfinite(pct) and math.isfinite(rank):
            standing.append(f"{r.name or r.run_dir.name}: rank {rank:,.0f}, above {pct:.1f}% of cells")
    if standing:
        shown = standing[:4] + ([f"... {len(standing) - 4} more"] if len(standing) > 4 else [])
        axes[1].text(0.99, 0.02, "found cell among the table's 15,625:\n" + "\n".join(shown),
                     transform=axes[1].transAxes, ha="right", va="bottom", fontsize=7,
                     bbox=dict(boxstyle="round", fc="white", ec="0.8", alpha=0.9))
    axes[0].set_ylabel("top-1 in the supernet [%]")
    axes[0].set_title("What the GA sees: best fitness (solid), its full-validation accuracy (dotted)", fontsize=9)
    axes[1].set_ylabel("NAS-Bench-201 test accuracy [%]")
    axes[1].set_title("Ground truth: chosen cell (solid), population's best (dashed), population mean (dotted)",
                      fontsize=9)
    _legend(axes[0])
    _legend(axes[1])
    return fig


def _last_finite_of(logs, field: str):
    """The last finite value of the epoch column `field` over `logs` (the table's constants), or None."""
    for r in logs:
        v = _last_finite(r.epoch.get(field, []))
        if math.isfinite(v):
            return v
    return None


def robust_limits(values, k: float = 3.0, pad: float = 0.05) -> tuple | None:
    """Axis limits that hold the bulk of `values` when some lie far out: Tukey's far-out fences, the
    quartiles widened by k interquartile ranges, then padded; None when every value lies within them
    (nothing to clip) or there are too few values to tell. Values outside are drawn at the edge
    (see fig_ranking)."""
    v = np.asarray(values, dtype=float)
    v = v[np.isfinite(v)]
    if v.size < 5:
        return None
    q1, q3 = np.percentile(v, [25, 75])
    iqr = q3 - q1
    if iqr <= 1e-9 * max(1.0, float(np.ptp(v))):
        return None  # half the values or more tied: no bulk to tell outliers from
    lo, hi = q1 - k * iqr, q3 + k * iqr
    if v.min() >= lo and v.max() <= hi:
        return None
    inside = v[(v >= lo) & (v <= hi)]
    span = max(float(inside.max() - inside.min()), 1e-9)
    return float(inside.min()) - pad * span - 0.02 * span, float(inside.max()) + pad * span + 0.02 * span


def fig_ranking(logs) -> plt.Figure:
    """The supernet's ranking of the ranking set at its last scoring, against the table (one panel per
    run), with Kendall tau and Spearman rho."""
    ranked = [r for r in logs if r.ranking is not None and len(r.ranking["kendall_tau"])]
    cols = min(3, len(ranked))
    rows = (len(ranked) + cols - 1) // cols
    fig, axes = plt.subplots(rows, cols, figsize=(4.2 * cols, 3.6 * rows), squeeze=False)
    for ax in axes.flat[len(ranked):]:
        ax.set_visible(False)
    for ax, r in zip(axes.flat, ranked):
        rk = r.ranking
        x, y = np.asarray(rk["table_test"], float), np.asarray(rk["score"][-1], float)
        colour = r.colour or "C0"
        # A far outlier (a cell of 10% test accuracy among cells of 85-94%) would squash the rest:
        # the axes hold the bulk, and the cells outside are drawn on the edge as open triangles.
        clipped = np.zeros(len(x), bool)
        for values, set_lim, axis in ((x, ax.set_xlim, 0), (y, ax.set_ylim, 1)):
            lim = robust_limits(values)
            if lim is not None:
                outside = (values < lim[0]) | (values > lim[1])
                clipped |= outside
                set_lim(*lim)
                # On the edge, but wholly inside it: a marker centred on the limit is half cut off.
                margin = 0.025 * (lim[1] - lim[0])
                edge = (lim[0] + margin, lim[1] - margin)
                if axis == 0:
                    x = np.where(outside, np.clip(x, *edge), x)
                else:
                    y = np.where(outside, np.clip(y, *edge), y)
        ax.scatter(x[~clipped], y[~clipped], s=14, color=colour, alpha=0.8)
        if clipped.any():
            ax.scatter(x[clipped], y[clipped], s=22, marker="^", facecolors="none", edgecolors=colour,
                       label=f"{int(clipped.sum())} outside the axes, drawn at the edge")
            _legend(ax)
        ax.set_xlabel("table test accuracy [%]")
        ax.set_ylabel("supernet top-1 (full validation) [%]")
        ax.set_title(f"{r.name}: after epoch {int(rk['epoch'][-1]) + 1}\n"
                     f"tau {rk['kendall_tau'][-1]:.3f}, rho {rk['spearman_rho'][-1]:.3f}, "
                     f"{len(rk['table_test'])} cells", fontsize=9, color=r.colour or "black")
    return fig


def fig_ranking_over_epochs(logs) -> plt.Figure:
    """Kendall tau and Spearman rho of each run's fitness against the table, at every ranking of the
    run (--nb201.rank_every), with the floor that counting parameters gives on the same cells."""
    ranked = [r for r in logs if r.ranking is not None and len(r.ranking["kendall_tau"]) > 1]
    fig, axes = plt.subplots(1, 2, figsize=(12, 4.2))
    for r in ranked:
        rk = r.ranking
        x = np.asarray(rk["epoch"], dtype=float) + 1  # 0-based in the log
        colour = r.colour or None
        axes[0].plot(x, rk["kendall_tau"], "-o", ms=3, color=colour, label=r.name)
        axes[1].plot(x, rk["spearman_rho"], "-o", ms=3, color=colour, label=r.name)
        params = rk.get("table_params")
        if params is not None and len(params) == len(rk["table_test"]) and np.isfinite(params).all():
            tau, rho = rank_correlations(np.asarray(params, float), np.asarray(rk["table_test"], float))
            axes[0].axhline(tau, ls=":", lw=1, color=colour)
            axes[1].axhline(rho, ls=":", lw=1, color=colour)
    for ax, name in zip(axes, ("Kendall tau", "Spearman rho")):
        ax.axhline(0, color="grey", lw=0.8)
        ax.set_xlabel("epoch")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))  # epochs are whole
        ax.set_ylabel(f"{name} vs. the table's test acc.")
        ax.set_ylim(-1, 1)
        ax.set_title(f"{name} of the fitness over training (dotted: the parameter count's, the floor)", fontsize=9)
        _legend(ax)
    return fig


def rank_correlations(a: np.ndarray, b: np.ndarray) -> tuple:
    """Kendall tau (tau-b, ties counted) and Spearman rho (Pearson of average ranks) of two samples."""
    n = len(a)
    if n < 2:
        return float("nan"), float("nan")
    da = np.sign(a[:, None] - a[None, :])
    db = np.sign(b[:, None] - b[None, :])
    iu = np.triu_indices(n, 1)
    s, ta, tb = (da * db)[iu].sum(), (da != 0)[iu].sum(), (db != 0)[iu].sum()
    tau = float(s / np.sqrt(ta * tb)) if ta and tb else float("nan")

    def ranks(v):
        order = np.argsort(v, kind="mergesort")
        r = np.empty(n)
        r[order] = np.arange(n, dtype=float)
        for value in np.unique(v):  # ties: the average rank
            r[v == value] = r[v == value].mean()
        return r

    ra, rb = ranks(a), ranks(b)
    rho = float(np.corrcoef(ra, rb)[0, 1]) if ra.std() and rb.std() else float("nan")
    return tau, rho


def search_figures(logs) -> list:
    """(name, figure) for every search figure of `logs` (searches only); the ground-truth figures for
    NAS-Bench-201 searches run with the table."""
    searches = [r for r in logs if r.is_search]
    gs = groups(searches)
    if not gs:
        return []
    figs = [("fig11_population", fig11_population(gs)), ("fig12_new_individuals", fig12_new_individuals(gs)),
            ("fig13_fitness", fig13_fitness(gs)), ("search_training", fig_training(gs, "Search: supernet training", False)),
            ("diversity", fig_diversity(gs))]
    truth = groups([r for r in searches if r.has_ground_truth])
    if truth:
        figs.append(("ground_truth", fig_ground_truth(truth)))
    if any(r.ranking is not None and len(r.ranking["kendall_tau"]) for r in searches):
        figs.append(("ranking", fig_ranking(searches)))
    if any(r.ranking is not None and len(r.ranking["kendall_tau"]) > 1 for r in searches):
        figs.append(("ranking_over_epochs", fig_ranking_over_epochs(searches)))
    return figs


def retrain_figures(logs) -> list:
    gs = groups([r for r in logs if not r.is_search])
    if not gs:
        return []
    return [("retrain", fig_training(gs, "Retrain: loss, train and test accuracy", True))]


def all_figures(logs) -> list:
    """(name, figure) of every figure that applies, the learning rate over all runs included."""
    figs = search_figures(logs) + retrain_figures(logs)
    if logs:
        figs.append(("lr", fig_lr(groups(logs))))
    if any(r.steps is not None and len(r.steps["step"]) for r in logs):
        figs.append(("steps", fig_steps(logs)))
    return figs


def save(fig, out: Path, name: str) -> list:
    """Writes name.png and name.svg; closes the figure."""
    out.mkdir(parents=True, exist_ok=True)
    fig.tight_layout()
    paths = [out / f"{name}.png", out / f"{name}.svg"]
    fig.savefig(paths[0], dpi=110)
    fig.savefig(paths[1])
    plt.close(fig)
    return paths


def plot_all(logs, out: Path) -> list:
    """Figures-only mode: every figure as PNG and SVG in `out`, and the cells of every run with a
    cells.dot (a message instead when Graphviz is missing). Returns the files written."""
    out = Path(out)
    assign_colours(logs)
    written = []
    for name, fig in all_figures(logs):
        written += save(fig, out, name)
    for log in logs:
        text = cell_dot(log, cell_title(log))
        if text is None:
            continue
        try:
            written += render_dot(text, out / f"cells_{safe_name(log.name or log.run_dir.name)}")
        except FileNotFoundError as exc:
            print(f"gnas-analysis: {exc}")
            break
        except ValueError as exc:
            print(f"gnas-analysis: {log.run_dir / 'cells.dot'}: {exc}")
    return written


def safe_name(name: str) -> str:
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in name)


def cell_title(log: RunLog) -> str:
    name = log.name or log.run_dir.name
    if log.is_search:
        val = log.epoch["best_full_val_acc"]
        best = f", full validation {np.nanmax(val):.1f}%" if len(val) and np.isfinite(val).any() else ""
        fit = f"fitness {log.best_fitness:.1f}%" if np.isfinite(log.best_fitness) else "no best genome yet"
        return f"{name}: best genome, {fit}{best}"
    test = log.epoch["test_acc"]
    return f"{name}: retrained genome" + (f", final test accuracy {test[-1]:.2f}%" if len(test) else "")


def summary(log: RunLog) -> str:
    """A few lines describing a run."""
    status = log.status.get("status") if log.status else "unknown"
    lines = [f"{log.path}: gnas {log.command}, {log.n_epochs} epochs, status {status}, dataset "
             f"{log.attrs.get('dataset')}, world_size {log.attrs.get('world_size')}, started {log.attrs.get('started_at')}"]
    if log.n_epochs:
        lines.append(f"  last epoch: train loss {log.epoch['train_loss'][-1]:.4f}, train acc "
                     f"{log.epoch['train_acc'][-1]:.1f}%, time {log.epoch['time_s'][-1]:.1f}s")
    if log.is_search and log.n_epochs:
        lines.append(f"  best fitness {log.best_fitness:.1f}%, best full-validation accuracy "
                     f"{np.nanmax(log.epoch['best_full_val_acc']):.1f}%")
    if np.isfinite(log.epoch["test_acc"]).any():
        lines.append(f"  final test accuracy {log.epoch['test_acc'][-1]:.2f}%")
    return "\n".join(lines)
