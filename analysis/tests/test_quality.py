"""Tests of gnas_analysis.quality: the bootstrap interval, `compare` on a fixture experiment, and
`tabular` on a fixture tabular.h5."""

import sys
from pathlib import Path

import h5py
import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))
from gnas_analysis import quality  # noqa: E402
from gnas_analysis.cli import main  # noqa: E402
from gnas_analysis.logs import LogError  # noqa: E402
from test_analysis import write_fixture  # noqa: E402


def test_bootstrap_ci_is_seeded_and_brackets_the_mean():
    values = [1.0, 2.0, 3.0, 4.0, 10.0]
    lo, hi = quality.bootstrap_ci(values)
    assert (lo, hi) == quality.bootstrap_ci(values)  # fixed seed
    assert lo < np.mean(values) < hi
    assert lo >= 1.0 and hi <= 10.0
    assert quality.bootstrap_ci([5.0, 5.0, 5.0]) == (5.0, 5.0)
    assert all(np.isnan(quality.bootstrap_ci([1.0])))


def write_run(root: Path, strategy: str, seed: int, test_acc: float):
    run = root / f"{strategy}-seed{seed}"
    (run / "search").mkdir(parents=True)
    write_fixture(run / "search" / "log.h5")
    with h5py.File(run / "search" / "log.h5", "a") as f:
        f.attrs["strategy"] = strategy
        f.attrs["seed"] = np.uint64(seed)
    (run / "retrain").mkdir()
    write_fixture(run / "retrain" / "log.h5")
    with h5py.File(run / "retrain" / "log.h5", "a") as f:
        f.attrs["command"] = "retrain"
        f["epoch/test_acc"][...] = [10.0, 20.0, test_acc]  # only the final epoch counts


def test_compare_groups_by_strategy_and_pairs_by_seed(tmp_path, capsys):
    for seed, (g, r) in enumerate([(60.0, 50.0), (62.0, 51.0), (58.0, 55.0)], start=1):
        write_run(tmp_path, "ga", seed, g)
        write_run(tmp_path, "random", seed, r)
    (tmp_path / "notes").mkdir()  # other folders are ignored
    table = quality.compare(tmp_path, tmp_path / "out")
    assert "| ga | 3 | 60.00 |" in table
    assert "| random | 3 | 52.00 |" in table
    assert "GA - random (paired by seed, 3 pairs): +8.00 points" in table
    rows = (tmp_path / "out" / "compare.csv").read_text().splitlines()
    assert rows[0].startswith("run,strategy,seed,")
    assert len(rows) == 7
    assert main(["compare", str(tmp_path)]) == 0
    assert "| ga | 3 |" in capsys.readouterr().out
    with pytest.raises(LogError, match="no <strategy>-seed<k>/search run directories"):
        quality.compare(tmp_path / "notes")


def test_tabular_draws_the_curves_and_the_table(tmp_path):
    rng = np.random.default_rng(0)
    with h5py.File(tmp_path / "tabular.h5", "w") as f:
        for name, shift in (("ga", 0.5), ("random", 0.0)):
            curve = np.maximum.accumulate(90 + rng.random((4, 50)) + shift, axis=1).astype(np.float32)
            f[f"{name}/best_test"] = curve
            valid = curve - 3
            if name == "ga":
                valid[0, 40:] = 91.61  # one run of four finds the optimum within 41 cells
            f[f"{name}/best_valid"] = valid
        f.attrs["budgets"] = "10,50"
        f.attrs["optimum_test"] = "94.37"
        f.attrs["optimum_valid"] = "91.610001"
    written = quality.tabular(tmp_path / "tabular.h5", tmp_path / "fig")
    assert [p.name for p in written] == ["tabular.png", "tabular.md"]
    assert written[0].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    table = written[1].read_text()
    assert "| ga | 50 | 4 |" in table and "| random | 10 | 4 |" in table
    rows = {tuple(line.split(" | ")[:2]): line for line in table.splitlines()}
    assert rows[("| ga", "50")].endswith("| 0.250 |")  # p(optimum), as the terminal table has it
    assert rows[("| ga", "10")].endswith("| 0.000 |")
    (tmp_path / "junk.h5").write_bytes(b"junk")
    with pytest.raises(LogError, match="not a readable HDF5 file"):
        quality.tabular(tmp_path / "junk.h5", tmp_path / "fig")
    with h5py.File(tmp_path / "empty.h5", "w"):
        pass
    with pytest.raises(LogError, match="is this a gnas tabular file"):
        quality.tabular(tmp_path / "empty.h5", tmp_path / "fig")
    assert main(["tabular", str(tmp_path / "junk.h5"), "--out", str(tmp_path / "fig")]) == 1
