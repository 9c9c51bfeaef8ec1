"""gnas_analysis on real NAS-Bench-201 searches (--space nb201 --nb201.table): the gene layout read
from the log, the ground-truth and ranking figures, the table_test column, and `gnas-analysis nb201`."""

import csv
import json
import os
import subprocess
import sys
from pathlib import Path

import h5py
import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from gnas_analysis import figures, load, load_runs, quality, runs  # noqa: E402
from gnas_analysis.cli import main  # noqa: E402

TABLE = Path(__file__).resolve().parents[2] / "data" / "nasbench201" / "nasbench201_cifar10.csv"
TINY = ["--space", "nb201", "--net.channels", "4", "--net.cells", "1", "--train.batch", "32", "--train.epochs", "2",
        "--data.synthetic_train", "128", "--data.synthetic_val", "60", "--threads", "1", "--no-progress",
        "--search.n_v", "30", "--ga.population", "3", "--ga.generation", "4", "--nb201.table", str(TABLE), "--debug.table_on_synthetic",
        "--nb201.rank_cells", "10"]


def gnas(*args):
    return subprocess.run([os.environ["GNAS_EXE"], *map(str, args)], check=True, capture_output=True, text=True)


@pytest.fixture(scope="module")
def study(tmp_path_factory):
    """A miniature scripts/nb201-study: ga seeds 1 and 2, ga with rescore seed 1, random seed 1."""
    if "GNAS_EXE" not in os.environ:
        pytest.skip("needs the gnas executable (set by CTest)")
    root = tmp_path_factory.mktemp("nb201")
    gnas("search", "--out", root / "ga-seed1", *TINY)
    gnas("search", "--out", root / "ga-seed2", "--seed", 2, *TINY)
    gnas("search", "--out", root / "ga-rescore-seed1", "--search.rescore", "population", *TINY)
    gnas("search", "--out", root / "random-seed1", "--search.strategy", "random", *TINY)
    return root


def table_rows():
    with open(TABLE) as f:
        return {row["arch"]: row for row in csv.DictReader(f)}


def test_layout_and_cell_string_come_from_the_log(study):
    log = load(study / "ga-seed1")
    assert log.space == "nb201"
    assert [g["kind"] for g in log.layout["genes"]] == ["op"] * 6
    assert [name for name, _ in log.op_groups()] == ["cell"]
    best = json.loads((study / "ga-seed1" / "best_genome.json").read_text())
    assert log.genome_text(log.best_genome) == best["arch"]
    freq = figures.op_frequencies(log)
    assert freq.shape == (2, 1, 5)
    assert np.allclose(freq.sum(axis=2), 1.0)
    # The chosen cell's table accuracy is the CSV's row of its cell string.
    assert log.epoch["gt_chosen_test"][-1] == pytest.approx(float(table_rows()[best["arch"]]["test_acc"]), abs=1e-4)


def test_report_draws_ground_truth_and_ranking(study, tmp_path):
    out = tmp_path / "report"
    assert main(["report", str(study), "--out", str(out)]) == 0
    page = (out / "report.html").read_text()
    for name in ("ground_truth", "ranking", "diversity"):
        assert (out / f"{name}.png").exists(), name
        assert f'alt="{name}"' in page
    assert "NAS-Bench-201 table test [%]" in page
    assert "|nor_conv" in page or "|avg_pool" in page or "|skip" in page or "|none" in page


def test_python_table_equals_gnas_runs_with_the_table_column(study):
    dirs = sorted(p for p in study.iterdir() if p.is_dir())
    ours = runs.to_csv(*runs.table(load_runs(dirs)))
    theirs = gnas("runs", "--csv", *dirs).stdout
    assert ours == theirs
    assert ",table_test," in ours.splitlines()[0]


def test_t_interval_is_the_textbook_one():
    mean, std, lo, hi = quality.t_interval([1.0, 2.0, 3.0])
    assert (mean, std) == (2.0, 1.0)
    assert hi - mean == pytest.approx(4.303 / np.sqrt(3))
    assert lo == pytest.approx(2 * mean - hi)
    assert np.isnan(quality.t_interval([5.0])[2])


def test_nb201_summary_per_strategy(study, capsys):
    text = quality.nb201(study, study / "summary")
    finals = {}
    for run in ("ga-seed1", "ga-seed2", "ga-rescore-seed1", "random-seed1"):
        with h5py.File(study / run / "log.h5", "r") as f:
            finals[run] = float(f["epoch/gt_chosen_test"][-1])
    ga = [finals["ga-seed1"], finals["ga-seed2"]]
    assert f"| ga (gnas) | 2 | {np.mean(ga):.2f} ± {np.std(ga, ddof=1):.2f} |" in text
    assert f"| ga+rescore (gnas) | 1 | {finals['ga-rescore-seed1']:.2f} ± nan |" in text
    assert f"| random (gnas) | 1 | {finals['random-seed1']:.2f} ± nan |" in text
    assert "| GDAS (NAS-Bench-201 paper) | 3 | 93.61 ± 0.09 |" in text
    rows = list(csv.DictReader(open(study / "summary" / "nb201.csv")))
    assert len(rows) == 4
    with h5py.File(study / "ga-seed1" / "log.h5", "r") as f:
        tau = float(f["nb201/ranking/kendall_tau"][-1])
    assert float(next(r for r in rows if r["run"] == "ga-seed1")["kendall_tau"]) == pytest.approx(tau)
    assert main(["nb201", str(study)]) == 0
    assert "ga (gnas)" in capsys.readouterr().out
    assert main(["nb201", str(study / "ga-seed1" / "checkpoints")]) == 1  # no study there: a clear error
    assert "no <strategy>-seed<k>/ NAS-Bench-201 search" in capsys.readouterr().err


def test_nb201_refuses_mixed_runs_and_names_what_it_skips(study, tmp_path, capsys):
    """Issue 29's attack: `gnas-analysis nb201` averaged runs of different tables, epochs and ranking
    sizes into one interval, and dropped broken runs without a word; a FIFO as log.h5 hung it."""
    import shutil

    mixed = tmp_path / "mixed"
    mixed.mkdir()
    for run in ("ga-seed1", "random-seed1"):
        shutil.copytree(study / run, mixed / run)
    # Another ga run with a ranking set of 5 cells, not 10.
    tiny5 = TINY[:TINY.index("--nb201.rank_cells")] + ["--nb201.rank_cells", "5"]
    gnas("search", "--out", mixed / "ga-seed2", "--seed", 2, *tiny5)
    with pytest.raises(quality.LogError, match=r"the ga runs differ in ranking_cells \(ga-seed1: 10, ga-seed2: 5\)"):
        quality.nb201(mixed)
    shutil.rmtree(mixed / "ga-seed2")
    # Broken runs are named, with why, on stderr and under the table; the others are still summarised.
    (mixed / "ga-seed3").mkdir()
    (mixed / "ga-seed3" / "log.h5").write_text("damaged")
    (mixed / "ga-seed4").mkdir()
    os.mkfifo(mixed / "ga-seed4" / "log.h5")
    capsys.readouterr()
    text = quality.nb201(mixed)  # returns: the FIFO is not opened (it would block for ever)
    err = capsys.readouterr().err
    assert "skipped ga-seed3: " in err and "not a readable HDF5 file" in err
    assert "skipped ga-seed4: " in err and "not a regular file (a FIFO)" in err
    assert "| ga (gnas) | 1 |" in text
    assert "Skipped: ga-seed3 (" in text and "ga-seed4 (" in text
    # A FIFO as log.h5 in `report` is refused the same way, at once.
    with pytest.raises(quality.LogError, match=r"not a regular file \(a FIFO\)"):
        load(mixed / "ga-seed4")


def test_ranking_over_epochs_is_drawn_with_gnas_own_tau(tmp_path):
    """--nb201.rank_every: the report draws tau and rho by epoch, and its floor (the parameter count's
    tau) uses the same statistic as gnas, checked against the tau gnas logged for its own scores."""
    if "GNAS_EXE" not in os.environ:
        pytest.skip("needs the gnas executable (set by CTest)")
    run = tmp_path / "ga-seed1"
    gnas("search", "--out", run, *TINY, "--nb201.rank_every", 1)
    log = load(run)
    rk = log.ranking
    assert list(rk["epoch"]) == [0, 1]
    for row in range(2):
        tau, rho = figures.rank_correlations(np.asarray(rk["score"][row], float), np.asarray(rk["table_test"], float))
        assert tau == pytest.approx(float(rk["kendall_tau"][row]), abs=1e-6)
        assert rho == pytest.approx(float(rk["spearman_rho"][row]), abs=1e-6)
    out = tmp_path / "report"
    assert main(["report", str(run), "--out", str(out)]) == 0
    assert (out / "ranking_over_epochs.png").exists()
    assert 'alt="ranking_over_epochs"' in (out / "report.html").read_text()


def test_to_csv_exports_every_epoch_column(study, tmp_path):
    """Issue 31: run.epochs and run.to_csv() had no gt_*, best_full_val_loss or time columns."""
    import h5py as _h5

    log = load(study / "ga-seed1")
    written = log.to_csv(tmp_path / "csv")
    rows = list(csv.DictReader(open(written[0])))
    assert len(rows) == log.n_epochs
    with _h5.File(study / "ga-seed1" / "log.h5", "r") as f:
        columns = [n for n, d in f["epoch"].items() if n != "epoch" and isinstance(d, _h5.Dataset) and d.ndim == 1]
        for name in columns:
            assert name in rows[0], f"/epoch/{name} is not exported"
        last = float(f["epoch/gt_chosen_test"][-1])
    for name in ("gt_chosen_test", "gt_mean_test", "best_full_val_loss", "train_time_s", "eval_time_s", "time_s"):
        assert name in rows[0], name
    assert float(rows[-1]["gt_chosen_test"]) == pytest.approx(last, abs=1e-4)


def test_found_cell_standing_in_the_log_runs_report_and_figure(study, tmp_path):
    """Issue 31: how good is the found cell? Its rank and percentile among the table's 15,625 cells,
    the table's optimum and mean: in the log (counted here from the CSV), gnas runs' and the Python
    table's table_pct column, the report's run table, and ground_truth's lines and box."""
    rows = table_rows()
    tests = np.array([float(r["test_acc"]) for r in rows.values()])
    assert len(tests) == 15625
    log = load(study / "ga-seed1")
    best = json.loads((study / "ga-seed1" / "best_genome.json").read_text())
    own = float(rows[best["arch"]]["test_acc"])
    rank = int((tests > own).sum()) + 1
    below = 100.0 * (tests < own).sum() / 15625
    assert log.epoch["gt_chosen_rank"][-1] == rank
    assert log.epoch["gt_chosen_below_pct"][-1] == pytest.approx(below, abs=1e-6)
    assert log.epoch["gt_table_best_test"][-1] == pytest.approx(tests.max(), abs=1e-4)
    assert log.epoch["gt_table_mean_test"][-1] == pytest.approx(tests.mean(), abs=1e-4)
    # The tables: the same column in gnas runs and the Python one (their equality is tested above).
    dirs = sorted(p for p in study.iterdir() if (p / "log.h5").exists())
    table = list(csv.DictReader(gnas("runs", "--csv", *dirs).stdout.splitlines()))
    mine = next(r for r in table if r["run"] == "ga-seed1")
    assert mine["table_pct"] == f"{below:.1f}"
    out = tmp_path / "report"
    assert main(["report", str(study / "ga-seed1"), "--out", str(out)]) == 0
    page = (out / "report.html").read_text()
    assert "above % of the table&#x27;s cells" in page and f"<td>{below:.1f}</td>" in page
    # The figure: dash-dotted lines at the optimum and the mean, and the found cell's standing.
    fig = figures.fig_ground_truth(figures.groups([log]))
    truth = fig.axes[1]
    levels = sorted(float(line.get_ydata()[0]) for line in truth.lines if line.get_linestyle() == "-.")
    assert levels == pytest.approx(sorted([float(tests.mean()), float(tests.max())]), abs=1e-4)
    text = "\n".join(t.get_text() for t in truth.texts)
    assert f"ga-seed1: rank {rank:,}, above {below:.1f}% of cells" in text


def test_tensorboard_exports_the_ranking_and_watches_until_the_run_ends(tmp_path, capsys):
    """Issue 31: the TensorBoard export had no tau or rho, and no --watch."""
    if "GNAS_EXE" not in os.environ:
        pytest.skip("needs the gnas executable (set by CTest)")
    pytest.importorskip("tensorboard", reason="PyPI's tensorboard is not installed here (scripts/bootstrap puts it "
                                              "into .venv-analysis/)")
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    run = tmp_path / "ga-seed1"
    gnas("search", "--out", run, *TINY, "--nb201.rank_every", 1)
    log = load(run)
    out = tmp_path / "tb"
    # A finished run: --watch writes once and stops, as the report's does.
    assert main(["tensorboard", str(run), "--out", str(out), "--watch", "1"]) == 0
    printed = capsys.readouterr().out
    assert "wrote 1 run(s)" in printed and "running" not in printed and "--logdir" in printed
    acc = EventAccumulator(str(out / "ga-seed1"))
    acc.Reload()
    per_epoch = int(log.steps["step"][-1]) // int(log.steps["epoch"][-1]) if log.steps is not None and \
        len(log.steps["step"]) else 1
    for field, tag in (("kendall_tau", "nb201/ranking_kendall_tau"), ("spearman_rho", "nb201/ranking_spearman_rho")):
        events = acc.Scalars(tag)
        finite = np.isfinite(np.asarray(log.ranking[field], float))  # a NaN (all scores tied) is left out
        assert [e.step for e in events] == [(int(e) + 1) * per_epoch for e in np.asarray(log.ranking["epoch"])[finite]]
        assert [e.value for e in events] == [float(np.float32(v)) for v in np.asarray(log.ranking[field])[finite]]
    pct = acc.Scalars("nb201/chosen_above_pct_of_cells")
    assert [e.value for e in pct] == [float(np.float32(v)) for v in log.epoch["gt_chosen_below_pct"]]
    with pytest.raises(SystemExit):
        main(["tensorboard", str(run), "--out", str(out), "--watch", "0"])


def test_ranking_scatter_keeps_an_outlier_from_squashing_the_axis(study):
    """Issue 31: one cell far below the rest squashed the ranking scatter's x axis. The axes hold the
    bulk and the outlier is drawn on the edge, counted in the legend."""
    bulk = np.linspace(85, 94, 49)
    assert figures.robust_limits(bulk) is None  # nothing to clip
    lo, hi = figures.robust_limits(np.append(bulk, 10.0))
    assert 10.0 < lo < 85 and hi > 94
    assert figures.robust_limits(np.array([12.0] * 8 + [3.0, 20.0])) is None  # most values tied: nothing to clip
    log = load(study / "ga-seed1")
    n = len(log.ranking["table_test"])
    log.ranking["table_test"] = np.append(np.linspace(85, 94, n - 1), 10.0)
    log.ranking["score"] = np.asarray(log.ranking["score"], float)
    log.ranking["score"][-1] = np.linspace(20, 40, n)  # no outlier on the y axis: the x axis alone is tested
    fig = figures.fig_ranking([log])
    ax = fig.axes[0]
    assert ax.get_xlim()[0] > 10.0
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels == ["1 outside the axes, drawn at the edge"]


def test_report_says_what_the_nb201_space_draws_and_uses(study, tmp_path):
    """Issue 31: the report described the paper's cell figure and listed the paper's [net] keys for an
    nb201 run; Fig. 12's caption named N_p for a line at N_p x rounds."""
    out = tmp_path / "report"
    assert main(["report", str(study / "ga-seed1"), "--out", str(out)]) == 0
    page = (out / "report.html").read_text()
    assert "N_p x the epoch&#x27;s GA rounds" in page
    assert (out / "cells_ga-seed1.png").exists()  # Graphviz's dot: scripts/bootstrap installs it
    assert "The NAS-Bench-201 cell, left to right" in page and "Fig. 14" not in page
    config = page[page.index("<h2>Configuration</h2>"):]
    assert "Left out: net.blocks, net.dropout, net.compat, net.share_slots" in config
    for key in ("blocks =", "compat =", "share_slots ="):
        assert key not in config
    assert "channels = 4" in config and "cells = 1" in config
    text, left_out = __import__("gnas_analysis.report", fromlist=["x"]).config_for_space("[net]\nblocks = 5\n", "paper")
    assert text == "[net]\nblocks = 5\n" and left_out == []
