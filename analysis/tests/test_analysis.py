"""Tests of gnas_analysis on fixture logs written here with h5py, and on a real gnas log when the
gnas executable is given in GNAS_EXE."""

import os
import subprocess
import sys
from pathlib import Path

import h5py
import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from gnas_analysis import load, plot_all  # noqa: E402
from gnas_analysis.cli import main  # noqa: E402
from gnas_analysis.logs import LogError  # noqa: E402


def write_fixture(path: Path, epochs=3, n_g=4, n_p=3, rounds=2, fmt=1):
    rng = np.random.default_rng(0)
    with h5py.File(path, "w") as f:
        f.attrs["format_version"] = fmt
        f.attrs["command"] = "search"
        f.attrs["dataset"] = "synthetic10"
        f.attrs["world_size"] = 1
        for name in ("lr", "train_loss", "train_acc", "time_s", "best_fitness", "best_full_val_acc", "test_acc"):
            f.create_dataset(f"epoch/{name}", data=rng.random(epochs) * 50, maxshape=(None,), chunks=True)
        f["epoch/test_acc"][...] = np.nan
        f.create_dataset("epoch/n_new", data=np.array([n_p, 1, 0][:epochs], dtype=np.int32), maxshape=(None,))
        g = epochs * rounds
        f.create_dataset("ga/generation/genome", data=rng.integers(0, 2, (g, n_g, 60), dtype=np.uint8))
        f.create_dataset("ga/generation/fitness", data=rng.random((g, n_g)).astype(np.float32) * 100)
        f.create_dataset("ga/generation/epoch", data=np.repeat(np.arange(epochs), rounds).astype(np.int32))
        f.create_dataset("ga/population/genome", data=rng.integers(0, 2, (g, n_p, 60), dtype=np.uint8))
        f.create_dataset("ga/population/fitness", data=np.sort(rng.random((g, n_p)), axis=1)[:, ::-1] * 100)
        f.create_dataset("best/genome", data=np.zeros(60, dtype=np.uint8))
        f.create_dataset("best/fitness", data=np.float32(42.0))


def test_load_reads_every_field(tmp_path):
    write_fixture(tmp_path / "log.h5")
    log = load(tmp_path)  # a run directory works too
    assert log.command == "search"
    assert log.epochs == 3
    assert log.generation_genome.shape == (6, 4, 60)
    assert log.population_fitness.shape == (6, 3)
    assert list(log.epoch["n_new"]) == [3, 1, 0]
    assert log.best_fitness == pytest.approx(42.0)


def test_plot_all_writes_nonempty_pngs(tmp_path):
    write_fixture(tmp_path / "log.h5")
    written = plot_all([load(tmp_path / "log.h5")], tmp_path / "fig")
    names = {p.name for p in written}
    assert {"training.png", "fitness.png", "n_new.png", "population.png"} <= names
    for p in written:
        assert p.stat().st_size > 1000
        assert p.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_bad_inputs_are_clear_errors(tmp_path, capsys):
    with pytest.raises(LogError, match="no such file"):
        load(tmp_path / "missing.h5")
    (tmp_path / "junk.h5").write_bytes(b"not hdf5")
    with pytest.raises(LogError, match="not a readable HDF5 file"):
        load(tmp_path / "junk.h5")
    write_fixture(tmp_path / "v9.h5", fmt=9)
    with pytest.raises(LogError, match="format_version 9 is not supported"):
        load(tmp_path / "v9.h5")
    assert main([str(tmp_path / "missing.h5")]) == 1
    assert "no such file" in capsys.readouterr().err


@pytest.mark.skipif("GNAS_EXE" not in os.environ, reason="needs the gnas executable (set by CTest)")
def test_real_search_log_round_trip(tmp_path):
    run = tmp_path / "run"
    subprocess.run([os.environ["GNAS_EXE"], "search", "--out", str(run), "--net.channels", "4",
                    "--train.epochs", "2", "--train.batch", "32", "--data.synthetic_train", "128",
                    "--data.synthetic_val", "60", "--ga.n_v", "30", "--ga.population", "3", "--ga.generation", "4",
                    "--no-progress", "--threads", "1"], check=True, capture_output=True)
    log = load(run)
    assert log.epochs == 2
    assert log.attrs["world_size"] == 1
    assert log.population_fitness.shape == (4, 3)
    assert np.all(np.diff(log.population_fitness, axis=1) <= 0)  # best first
    assert main([str(run), "--out", str(tmp_path / "fig")]) == 0
    assert (tmp_path / "fig" / "cells.png").exists()
