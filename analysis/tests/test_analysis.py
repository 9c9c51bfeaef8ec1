"""Tests of gnas_analysis on fixture logs written here with h5py (format_version 1 and 2), and on
real gnas runs when CTest gives the gnas executable in GNAS_EXE."""

import csv
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import h5py
import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from gnas_analysis import figures, load, load_runs, plot_all, report, runs  # noqa: E402
from gnas_analysis.cli import main  # noqa: E402
from gnas_analysis.logs import LogError, config_keys, parse_config, unique_names  # noqa: E402

CONFIG_V1 = "# gnas search: resolved configuration\nseed = 1\nthreads = 0\n\n[ga]\npopulation = 3\np_m = 0.02\n"
CONFIG_V2 = "# gnas search: resolved configuration\n[run]\nseed = 1\nthreads = 0\n\n[ga]\npopulation = 3\np_m = 0.02\n"


def write_fixture(path: Path, epochs=3, n_g=4, n_p=3, rounds=2, fmt=1, optional=True, seed=1):
    """A search log. fmt 1: fixed-length byte-string attributes, no status; fmt 2: UTF-8 strings,
    the op table and the status attributes (optional=False leaves out every optional attribute)."""
    rng = np.random.default_rng(seed)
    text = (lambda s: np.bytes_(s)) if fmt == 1 else (lambda s: s)
    with h5py.File(path, "w") as f:
        f.attrs["format_version"] = np.int32(fmt)
        f.attrs["command"] = text("search")
        f.attrs["dataset"] = text("synthetic10")
        f.attrs["world_size"] = np.int32(1)
        f.attrs["seed"] = np.uint64(seed)
        if optional:
            f.attrs["config"] = text(CONFIG_V1 if fmt == 1 else CONFIG_V2)
            f.attrs["started_at"] = text("2026-11-29T00:00:00Z")
            f.attrs["strategy"] = text("ga")
        if fmt == 2 and optional:
            f.attrs["op_names"] = ["identity", "max_pool_3x3", "avg_pool_3x3", "sep_conv_3x3", "sep_conv_5x5"]
            f.attrs["status"] = "finished"
            f.attrs["status_reason"] = ""
            f.attrs["epochs_done"] = np.int64(epochs)
            f.attrs["epochs_planned"] = np.int64(epochs)
            f.attrs["updated_at"] = "2026-11-29T00:10:00Z"
            f.attrs["segments"] = json.dumps([{"started_at": "2026-11-29T00:00:00Z", "ended_at": "2026-11-29T00:10:00Z",
                                               "end": "finished", "host": "h", "pid": 1}])
        for name in ("lr", "train_loss", "train_acc", "time_s", "best_fitness", "best_full_val_acc", "test_acc"):
            f.create_dataset(f"epoch/{name}", data=rng.random(epochs) * 50, maxshape=(None,), chunks=True)
        f["epoch/test_acc"][...] = np.nan
        f.create_dataset("epoch/n_new", data=np.array([n_p, 1, 0, 2, 2][:epochs], dtype=np.int32), maxshape=(None,))
        g = epochs * rounds
        f.create_dataset("ga/generation/genome", data=rng.integers(0, 5, (g, n_g, 60), dtype=np.uint8))
        f.create_dataset("ga/generation/fitness", data=rng.random((g, n_g)).astype(np.float32) * 100)
        f.create_dataset("ga/generation/epoch", data=np.repeat(np.arange(epochs), rounds).astype(np.int32))
        f.create_dataset("ga/population/genome", data=rng.integers(0, 5, (g, n_p, 60), dtype=np.uint8))
        f.create_dataset("ga/population/fitness", data=np.sort(rng.random((g, n_p)), axis=1)[:, ::-1] * 100)
        f.create_dataset("best/genome", data=np.arange(60, dtype=np.uint8) % 5)
        f.create_dataset("best/fitness", data=np.float32(42.0))


@pytest.mark.parametrize("fmt", [1, 2])
def test_load_reads_both_format_versions(tmp_path, fmt):
    write_fixture(tmp_path / "log.h5", fmt=fmt)
    log = load(tmp_path)  # a run directory works too
    assert log.format_version == fmt
    assert log.command == "search" and isinstance(log.attrs["dataset"], str)
    assert log.n_epochs == 3
    assert log.generation_genome.shape == (6, 4, 60)
    assert log.population_fitness.shape == (6, 3)
    assert list(log.epoch["n_new"]) == [3, 1, 0]
    assert log.best_fitness == pytest.approx(42.0)
    assert log.config == {"seed": "1", "threads": "0", "ga.population": "3", "ga.p_m": "0.02"}
    assert log.op_names[3] == "sep_conv_3x3"
    if fmt == 1:
        assert log.status is None
        assert runs.view_status(log.status)[0] == "unknown"
    else:
        assert log.status["status"] == "finished" and log.status["epochs_planned"] == 3
        assert runs.view_status(log.status) == ("finished", "")


def test_dataframes_and_csv_round_trip(tmp_path):
    write_fixture(tmp_path / "log.h5")
    log = load(tmp_path)
    ep = log.epochs
    assert list(ep.index) == [1, 2, 3] and ep.index.name == "epoch"
    assert np.array_equal(ep["train_loss"].to_numpy(), log.epoch["train_loss"])
    gen = log.generations
    assert len(gen) == 6 * 4
    assert list(gen.columns) == ["generation", "epoch", "member", "fitness", "genome"]
    assert gen["generation"].iloc[-1] == 6 and gen["epoch"].iloc[-1] == 3  # 1-based
    row = gen.iloc[5]  # generation 2, member 1
    genes = [str(g) for g in log.generation_genome[1, 1]]
    assert row["genome"] == " | ".join(" ".join(genes[c * 20:(c + 1) * 20]) for c in range(3))
    assert row["fitness"] == pytest.approx(float(log.generation_fitness[1, 1]))
    pop = log.population
    assert (pop.groupby("generation")["fitness"].apply(lambda s: s.is_monotonic_decreasing)).all()
    written = log.to_csv(tmp_path / "csv")
    assert [p.name for p in written] == ["epochs.csv", "generations.csv", "population.csv"]
    with open(tmp_path / "csv" / "epochs.csv") as f:
        rows = list(csv.DictReader(f))
    assert [int(r["epoch"]) for r in rows] == [1, 2, 3]
    assert [float(r["lr"]) for r in rows] == pytest.approx(list(log.epoch["lr"]), rel=1e-12)
    with open(tmp_path / "csv" / "population.csv") as f:
        assert sum(1 for _ in csv.DictReader(f)) == 6 * 3


def test_log_without_optional_attributes(tmp_path):
    write_fixture(tmp_path / "log.h5", fmt=2, optional=False)
    log = load(tmp_path)
    assert log.config == {} and log.status is None
    assert log.op_names == ["identity", "max_pool_3x3", "avg_pool_3x3", "sep_conv_3x3", "sep_conv_5x5"]
    rows, keys = runs.table([log])
    assert rows[0]["status"] == "unknown" and rows[0]["strategy"] == "" and keys == []
    assert rows[0]["epochs_planned"] == 0
    page = report.write(load_runs([tmp_path]), tmp_path / "report")
    assert "unknown" in page.read_text()


def test_one_epoch_log_draws_points_on_a_sane_axis(tmp_path):
    write_fixture(tmp_path / "log.h5", epochs=1)
    log = load_runs([tmp_path])[0]
    fig = figures.fig13_fitness(figures.groups([log]))
    ax = fig.axes[0]
    assert ax.get_xlim() == (0.5, 1.5)
    assert [t for t in ax.get_xticks() if 0.5 <= t <= 1.5] == [1.0]
    assert all(line.get_marker() not in (None, "", "None") for line in ax.lines)  # a point per epoch
    assert all(len(line.get_xdata()) == 1 for line in ax.lines)
    # Fitness (solid) and full validation (dashed) differ in the legend too: line style and marker,
    # with handles long enough to show the dashes.
    assert {(line.get_linestyle(), line.get_marker()) for line in ax.lines} == {("-", "o"), ("--", "s")}
    assert ax.get_legend().handlelength == 4
    written = plot_all([log], tmp_path / "fig")
    names = {p.name for p in written}
    assert {"fig11_population.png", "fig12_new_individuals.svg", "fig13_fitness.png", "diversity.png", "lr.svg"} <= names
    for p in written:
        if p.suffix == ".png":
            assert p.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and p.stat().st_size > 1000
        else:
            assert b"<svg" in p.read_bytes()[:500]


def test_differing_keys_and_unique_names(tmp_path):
    a = {"seed": "1", "ga.p_m": "0.02", "net.channels": "20", "train.epochs": "3", "threads": "0"}
    b = {"seed": "2", "ga.p_m": "0.05", "net.channels": "20", "train.epochs": "9", "threads": "2"}
    retrain = {"seed": "1", "net.channels": "36"}  # no [ga]: absent keys do not count
    # threads is operational but changes the last digits: shown when it differs (issue 31)
    assert runs.differing_keys([a, b]) == ["ga.p_m", "threads"]
    assert runs.differing_keys([a, b, retrain]) == ["ga.p_m", "net.channels", "threads"]
    assert runs.differing_keys([a]) == []
    assert runs.differing_keys([a, dict(a)]) == []
    for d in ("x/a/run", "x/b/run", "x/c/other"):
        (tmp_path / d).mkdir(parents=True)
    assert unique_names([tmp_path / "x/a/run", tmp_path / "x/b/run", tmp_path / "x/c/other"]) == ["a/run", "b/run", "other"]
    assert unique_names([tmp_path / "x/a/run", tmp_path / "x/a/run"])[1].endswith("#2")


def test_seed_groups_and_running_or_died(tmp_path):
    for s in (1, 2):
        (tmp_path / f"s{s}").mkdir()
        write_fixture(tmp_path / f"s{s}" / "log.h5", fmt=2, seed=s)
    (tmp_path / "again").mkdir()
    write_fixture(tmp_path / "again" / "log.h5", fmt=2, seed=1)  # a repeat of seed 1 stands alone
    logs = load_runs([tmp_path])
    sizes = sorted(len(g.runs) for g in figures.groups(logs))
    assert sizes == [1, 2]
    status = {"status": "running", "updated_at": "2026-11-29T00:00:00Z",
              "segments": [{"host": "elsewhere", "pid": 1}]}
    now = runs.parse_utc("2026-11-29T00:20:00Z")
    assert runs.view_status(status, 0, now=now, this_host="here") == ("running", "")
    assert runs.view_status(status, 600, now=now + 3600, this_host="here")[0] == "running or died"
    gone = {"status": "running", "updated_at": "2026-11-29T00:00:00Z",
            "segments": [{"host": "here", "pid": 2 ** 22 + 12345}]}  # above pid_max: no such process
    label, reason = runs.view_status(gone, now=now, this_host="here")
    assert label == "running or died" and "is gone" in reason


def test_bad_inputs_are_clear_errors(tmp_path, capsys):
    with pytest.raises(LogError, match="no such file"):
        load(tmp_path / "missing.h5")
    (tmp_path / "junk.h5").write_bytes(b"not hdf5")
    with pytest.raises(LogError, match="not a readable HDF5 file"):
        load(tmp_path / "junk.h5")
    write_fixture(tmp_path / "v9.h5", fmt=9)
    with pytest.raises(LogError, match="format_version 9 is not supported"):
        load(tmp_path / "v9.h5")
    (tmp_path / "run").mkdir()
    write_fixture(tmp_path / "run" / "log.h5", fmt=2)
    (tmp_path / "run" / "status.json").write_text("{not json")
    with pytest.raises(LogError, match="status.json: not a valid gnas status file"):
        load(tmp_path / "run")
    with pytest.raises(LogError, match="not INI text"):
        parse_config("[ga]\nthis line has no equals sign\n")
    # Damaged metadata inside a valid HDF5 file: an error in a moment, not minutes of SWMR retries.
    (tmp_path / "flipped").mkdir()
    write_fixture(tmp_path / "flipped" / "log.h5", fmt=2)
    data = bytearray((tmp_path / "flipped" / "log.h5").read_bytes())
    for i in range(len(data) // 2 - 2000, len(data) // 2 + 2000):
        data[i] ^= 0xFF
    (tmp_path / "flipped" / "log.h5").write_bytes(bytes(data))
    t0 = time.time()
    with pytest.raises(LogError, match="damaged|not a readable"):
        load(tmp_path / "flipped")
    assert time.time() - t0 < 20
    # A directory of runs given to load() says so; load_runs skips the damaged runs found below it.
    (tmp_path / "good").mkdir()
    write_fixture(tmp_path / "good" / "log.h5", fmt=2)
    with pytest.raises(LogError, match="holds runs, not one: use gnas_analysis.load_runs"):
        load(tmp_path)
    assert [log.run_dir.name for log in load_runs([tmp_path])] == ["good"]
    assert "skipped" in capsys.readouterr().err
    (tmp_path / "empty").mkdir()
    with pytest.raises(LogError, match="holds no gnas run"):
        load_runs([tmp_path / "empty"])
    assert main([str(tmp_path / "missing.h5")]) == 1
    assert "no such file" in capsys.readouterr().err
    assert main(["report", str(tmp_path / "empty"), "--out", str(tmp_path / "r")]) == 1
    assert "holds no gnas run" in capsys.readouterr().err


def test_missing_graphviz_is_said_in_the_report(tmp_path, monkeypatch):
    (tmp_path / "run").mkdir()
    write_fixture(tmp_path / "run" / "log.h5", fmt=2)
    (tmp_path / "run" / "cells.dot").write_text('digraph gnas {\n  label="net.compat = paper";\n  a -> b;\n}\n')
    monkeypatch.setattr(shutil, "which", lambda name: None)
    page = report.write(load_runs([tmp_path / "run"]), tmp_path / "report").read_text()
    assert "Graphviz (&#x27;dot&#x27;) is not installed" in page
    assert not list((tmp_path / "report").glob("cells_*"))


# --- real gnas runs ----------------------------------------------------------------------------

TINY = ["--net.channels", "4", "--net.cells", "1", "--train.batch", "32", "--data.synthetic_train", "128",
        "--data.synthetic_val", "60", "--data.synthetic_test", "50", "--threads", "1", "--no-progress"]
GA = ["--search.n_v", "30", "--ga.population", "3", "--ga.generation", "4"]
needs_gnas = pytest.mark.skipif("GNAS_EXE" not in os.environ, reason="needs the gnas executable (set by CTest)")


def gnas(*args, check=True):
    return subprocess.run([os.environ["GNAS_EXE"], *map(str, args)], check=check, capture_output=True, text=True)


@pytest.fixture(scope="module")
def real_runs(tmp_path_factory):
    """Two finished searches (seeds 1, 2), a search stopped by SIGTERM, a retrain, and a search that
    is still running while the tools read it (stopped when the module's tests are done)."""
    if "GNAS_EXE" not in os.environ:
        pytest.skip("needs the gnas executable (set by CTest)")
    root = tmp_path_factory.mktemp("runs")
    gnas("search", "--out", root / "seed1", "--train.epochs", 2, *TINY, *GA)
    gnas("search", "--out", root / "seed2", "--seed", 2, "--train.epochs", 2, *TINY, *GA)
    stopped = gnas("search", "--out", root / "stopped", "--train.epochs", 3, "--debug.stop_after_steps", 6, *TINY, *GA,
                   check=False)
    assert stopped.returncode == 3, stopped.stdout + stopped.stderr
    gnas("retrain", "--genome", root / "seed1", "--out", root / "retrain", "--train.epochs", 1, *TINY)
    live = subprocess.Popen([os.environ["GNAS_EXE"], "search", "--out", str(root / "live"), "--train.epochs", "200",
                             *TINY, *GA], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 120
    while time.time() < deadline:
        status = root / "live" / "status.json"
        if status.exists() and json.loads(status.read_text()).get("epochs_done", 0) >= 1:
            break
        time.sleep(0.2)
    yield root
    live.terminate()
    live.wait(timeout=120)


def test_real_runs_report(real_runs, tmp_path):
    out = tmp_path / "report"
    assert main(["report", str(real_runs), "--out", str(out)]) == 0
    page = (out / "report.html").read_text()
    for name in ("seed1", "seed2", "stopped", "retrain", "live"):
        assert f"> {name}</td>" in page or f">{name}</td>" in page or name in page
    # 8 figures, the cells of 4 runs: the retrain trains seed1's cell, drawn once
    assert page.count('<img class="figure"') == 8 + 4
    assert "retrain retrains the cell of seed1 (chosen after epoch " in page
    assert "http://" not in page and "https://" not in page  # opens offline
    for name in ("fig11_population", "fig12_new_individuals", "fig13_fitness", "diversity", "retrain", "lr", "steps"):
        assert (out / f"{name}.png").exists() and (out / f"{name}.svg").exists()
    logs = {log.name: log for log in load_runs([real_runs])}
    assert logs["live"].status["status"] == "running"
    assert logs["stopped"].status["status"] == "stopped"
    assert logs["seed1"].format_version == 2
    groups = figures.groups(list(logs.values()))
    assert any(sorted(r.name for r in g.runs) == ["seed1", "seed2"] for g in groups)


def test_python_table_equals_gnas_runs(real_runs):
    copy = real_runs.parent / "copied"  # a log without its run directory: the log's own status
    copy.mkdir(exist_ok=True)
    shutil.copy(real_runs / "seed2" / "log.h5", copy / "log.h5")
    finished = [real_runs / n for n in ("seed1", "seed2", "stopped", "retrain")] + [copy]
    ours = runs.to_csv(*runs.table(load_runs(finished)))
    theirs = gnas("runs", "--csv", *finished).stdout
    assert ours == theirs
    last = ours.splitlines()[-1]
    assert last.startswith("copied,") and ",finished," in last
    # The retrain names its search and the epoch whose genome it trains (the best full validation).
    seed1 = load(real_runs / "seed1")
    epoch = int(np.argmax(seed1.epoch["best_full_val_acc"])) + 1
    header = ours.splitlines()[0].split(",")
    retrain = next(line.split(",") for line in ours.splitlines() if line.startswith("retrain,"))
    assert retrain[header.index("from")] == f"seed1@{epoch}"
    assert load(real_runs / "retrain").attrs["source_run"] == str((real_runs / "seed1").resolve())


def test_report_renders_in_chromium(real_runs, tmp_path):
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if browser is None:
        pytest.skip("Debian's chromium is not installed (scripts/bootstrap installs it)")
    out = tmp_path / "report"
    assert main(["report", str(real_runs), "--out", str(out)]) == 0
    url = (out / "report.html").as_uri()
    flags = ["--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", f"--user-data-dir={tmp_path / 'profile'}"]
    dom = subprocess.run([browser, *flags, "--dump-dom", url], capture_output=True, text=True, timeout=120).stdout
    assert 'data-images-loaded="12/12"' in dom  # every figure decoded by the browser
    shot = out / "screenshot.png"
    subprocess.run([browser, *flags, "--window-size=1400,9000", f"--screenshot={shot}", url], capture_output=True,
                   timeout=120)
    import matplotlib.image
    pixels = matplotlib.image.imread(shot)
    assert pixels.shape[:2] == (9000, 1400)
    not_white = (pixels[..., :3] < 0.9).any(axis=2)
    rows_with_ink = np.flatnonzero(not_white.any(axis=1))
    assert rows_with_ink.size > 4000, "the page should fill most of the screenshot with figures"
    keep = os.environ.get("GNAS_REPORT_SCREENSHOT")
    if keep:
        shutil.copy(shot, keep)


@needs_gnas
def test_xarray_sees_named_dimensions(real_runs):
    xr = pytest.importorskip("xarray", reason="xarray is not installed (Debian: python3-xarray)")
    pytest.importorskip("h5netcdf", reason="h5netcdf is not installed (Debian: python3-h5netcdf)")
    path = real_runs / "seed1" / "log.h5"
    with xr.open_dataset(path, engine="h5netcdf", group="ga/population") as ds:
        assert ds["genome"].dims == ("generation", "member", "gene")
        assert ds.sizes["member"] == 3 and ds.sizes["gene"] == 60
        assert list(ds["generation"].values) == list(range(1, ds.sizes["generation"] + 1))
    with xr.open_dataset(path, engine="h5netcdf", group="epoch") as ds:
        assert ds["train_loss"].dims == ("epoch",)
        assert list(ds["epoch"].values) == [1, 2]
        assert ds["train_loss"].attrs["units"] == "nat"
    with h5py.File(path, "r") as f:
        assert [d.label for d in f["ga/generation/genome"].dims] == ["generation", "member", "gene"]
        assert isinstance(f.attrs["config"], str)


@needs_gnas
def test_pip_installs_the_package(tmp_path):
    source = Path(__file__).resolve().parents[1]
    copy = tmp_path / "analysis"
    shutil.copytree(source, copy, ignore=shutil.ignore_patterns("__pycache__", "build", "*.egg-info", "tests"))
    pip = subprocess.run([sys.executable, "-m", "pip", "--version"], capture_output=True)
    if pip.returncode != 0:
        pytest.skip("pip is not installed for this Python (Debian: python3-pip)")
    target = tmp_path / "site"
    r = subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "--no-build-isolation", "--no-index",
                        "--target", str(target), str(copy)], capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr
    env = dict(os.environ, PYTHONPATH=str(target))
    code = "import gnas_analysis, sys; print(gnas_analysis.__file__); print(gnas_analysis.load.__doc__ is not None)"
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert str(target) in r.stdout and "True" in r.stdout
    r = subprocess.run([str(target / "bin" / "gnas-analysis"), "report", "--help"], capture_output=True, text=True,
                       env=env)
    assert r.returncode == 0 and "self-contained HTML" in r.stdout


def test_pairwise_difference_is_exact(tmp_path):
    write_fixture(tmp_path / "log.h5", epochs=1, rounds=1, n_p=3)
    pop = np.zeros((1, 3, 60), dtype=np.uint8)
    pop[0, 1, :6] = 1   # 6 genes from member 0
    pop[0, 2, :12] = 1  # 12 from member 0, 6 from member 1
    with h5py.File(tmp_path / "log.h5", "a") as f:
        f["ga/population/genome"][...] = pop
    diff = figures.pairwise_difference(load(tmp_path))
    assert diff.tolist() == [pytest.approx((6 + 12 + 6) / 60 / 3, abs=1e-12)]


def test_report_skips_bad_runs_with_a_note(tmp_path, monkeypatch, capsys):
    """A bad config.ini, a status.json that is not UTF-8, a FIFO as config.ini (it used to hang the
    reader) and an unreadable directory: each run is skipped and named on the page, the others drawn.
    (Root ignores permission bits, so the unreadable directory is simulated.)"""
    root = tmp_path / "runs"
    for name in ("good", "bad_ini", "bad_status", "fifo", "locked"):
        (root / name).mkdir(parents=True)
        write_fixture(root / name / "log.h5", fmt=2)
    (root / "bad_ini" / "config.ini").write_text("[ga\npopulation = 3\n")
    (root / "bad_status" / "status.json").write_bytes(b"\xff\xfe{")
    os.mkfifo(root / "fifo" / "config.ini")
    real_iterdir = Path.iterdir

    def iterdir(self):
        if self.name == "locked":
            raise PermissionError(13, "Permission denied", str(self))
        return real_iterdir(self)

    monkeypatch.setattr(Path, "iterdir", iterdir)
    real_exists = Path.exists

    def exists(self):
        if self.parent.name == "locked":
            raise PermissionError(13, "Permission denied", str(self))
        return real_exists(self)

    monkeypatch.setattr(Path, "exists", exists)
    out = tmp_path / "report"
    assert main(["report", str(root), "--out", str(out)]) == 0
    page = (out / "report.html").read_text()
    assert ">good</td>" in page or "> good</td>" in page
    for name, reason in (("bad_ini", "not INI text"), ("bad_status", "not UTF-8 text"),
                         ("fifo", "not a regular file"), ("locked", "Permission denied")):
        assert f"Skipped {root / name}" in page, name
        assert reason in page, reason
    assert "skipped" in capsys.readouterr().err


@needs_gnas
def test_step_rows_and_new_epoch_columns_are_read(real_runs):
    """The /step rows and the epoch columns added with them come through load(); a column the
    reader does not list is kept too (the log is the source of its columns)."""
    log = load(real_runs / "seed1")
    assert log.steps is not None
    assert list(log.steps["step"]) == list(range(1, 9))  # 4 steps per epoch, a row every step, 2 epochs
    assert list(log.steps["epoch"]) == [1, 1, 1, 1, 2, 2, 2, 2]
    assert np.all(log.steps["img_s"] > 0)
    assert np.all(log.epoch["train_time_s"] > 0) and np.all(log.epoch["eval_time_s"] > 0)
    assert np.all(np.isfinite(log.epoch["best_full_val_loss"])) and np.all(np.isnan(log.epoch["test_loss"]))
    retrain = load(real_runs / "retrain")
    assert np.all(np.isfinite(retrain.epoch["test_loss"])) and np.all(np.isnan(retrain.epoch["best_full_val_loss"]))
    assert np.all(np.isnan(log.epoch["peak_mem_mib"]))  # a CPU run


@needs_gnas
def test_tensorboard_events_read_back(real_runs, tmp_path):
    pytest.importorskip("tensorboard", reason="PyPI's tensorboard is not installed here (scripts/bootstrap puts it "
                                              "into .venv-analysis/)")
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    out = tmp_path / "tb"
    assert main(["tensorboard", str(real_runs / "seed1"), str(real_runs / "retrain"), "--out", str(out)]) == 0
    assert main(["tensorboard", str(real_runs / "seed1"), "--out", str(out)]) == 0  # again: replaced, not doubled
    log = load(real_runs / "seed1")
    acc = EventAccumulator(str(out / "seed1"))
    acc.Reload()
    tags = set(acc.Tags()["scalars"])
    assert {"step/train_loss", "step/img_per_s", "epoch/train_loss", "search/best_fitness", "time/train_s"} <= tags
    assert "retrain/test_acc" not in tags and "gpu/peak_mem_mib" not in tags  # NaN columns are left out
    loss = acc.Scalars("step/train_loss")
    assert [e.step for e in loss] == list(log.steps["step"])
    assert [e.value for e in loss] == [float(np.float32(v)) for v in log.steps["loss"]]
    fitness = acc.Scalars("search/best_fitness")
    assert [e.step for e in fitness] == [4, 8]  # each epoch at its last step
    assert [e.value for e in fitness] == [float(np.float32(v)) for v in log.epoch["best_fitness"]]
    retrain = EventAccumulator(str(out / "retrain"))
    retrain.Reload()
    assert [e.value for e in retrain.Scalars("retrain/test_acc")] == \
        [float(np.float32(v)) for v in load(real_runs / "retrain").epoch["test_acc"]]


def test_tensorboard_missing_package_is_named(tmp_path, monkeypatch, capsys):
    write_fixture(tmp_path / "log.h5", fmt=2)
    monkeypatch.setitem(sys.modules, "tensorboard", None)  # as if it were not installed
    for name in [m for m in sys.modules if m.startswith("tensorboard.")]:
        monkeypatch.setitem(sys.modules, name, None)
    assert main(["tensorboard", str(tmp_path), "--out", str(tmp_path / "tb")]) == 1
    err = capsys.readouterr().err
    assert "needs PyPI's tensorboard package" in err and "scripts/bootstrap" in err
    assert not (tmp_path / "tb").exists()


@needs_gnas
def test_report_watch_rewrites_until_every_run_has_ended(tmp_path):
    """--watch: the page reloads itself while a run goes on; when the run ends (here: SIGTERM, so it
    stops with a checkpoint) the loop writes a last page without reloading and exits."""
    run = tmp_path / "live"
    live = subprocess.Popen([os.environ["GNAS_EXE"], "search", "--out", str(run), "--train.epochs", "300", *TINY, *GA],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.time() + 120  # an epoch logged: the run is readable, and far from its end
        while time.time() < deadline and not ((run / "status.json").exists() and
                                              json.loads((run / "status.json").read_text()).get("epochs_done", 0) >= 1):
            time.sleep(0.1)
        out = tmp_path / "report"
        code = ("import sys; sys.path.insert(0, %r); from gnas_analysis.cli import main; "
                "sys.exit(main(['report', %r, '--out', %r, '--watch', '1']))"
                % (str(Path(__file__).resolve().parents[1]), str(run), str(out)))
        watcher = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                   text=True)
        page = out / "report.html"
        while time.time() < deadline and not (page.exists() and "http-equiv='refresh'" in page.read_text()):
            time.sleep(0.2)
        assert "http-equiv='refresh' content='1'" in page.read_text()
        assert watcher.poll() is None, "the watcher ended while the run goes on"
        live.terminate()
        assert live.wait(timeout=120) == 3
        output, _ = watcher.communicate(timeout=120)
        assert watcher.returncode == 0, output
        assert "1 running: live" in output and output.strip().splitlines()[-1].endswith("(1 run)")
        assert "http-equiv" not in page.read_text()
    finally:
        if live.poll() is None:
            live.kill()


def test_report_watch_bad_value(tmp_path, capsys):
    write_fixture(tmp_path / "log.h5", fmt=2)
    with pytest.raises(SystemExit) as exit_info:
        main(["report", str(tmp_path), "--out", str(tmp_path / "r"), "--watch", "0"])
    assert exit_info.value.code == 2
    assert "--watch must be in [1, 86400] seconds" in capsys.readouterr().err


def test_stale_rule_is_the_status_files(tmp_path):
    """view_status applies the rule status.json carries (gnas writes its own): 10 minutes of silence
    is "running" under 30 minutes, "running or died" under 5; a file without the rule gets 30."""
    now = 1_800_000_000.0
    status = {"status": "running", "segments": [{"host": "elsewhere", "pid": 1}],
              "updated_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now - 600))}
    assert runs.view_status(status, 0.0, now)[0] == "running"
    status["stale_rule"] = {"min_s": 300.0, "longest_epochs": 3.0}
    assert runs.view_status(status, 0.0, now) == ("running or died", "nothing logged for 10 min")
    status["stale_rule"] = {"min_s": 300.0, "longest_epochs": 2.0}
    assert runs.view_status(status, 400.0, now)[0] == "running"  # 2 x a 400 s epoch is longer


def test_experiment_keys_come_from_the_log(tmp_path):
    """Runs that differ only in a key the logs call operational are one experiment; the key the
    logs do not list splits them (the list is gnas's, written into every log)."""
    paths = []
    for i, threads in enumerate(("1", "2")):
        run = tmp_path / f"r{i}"
        run.mkdir()
        write_fixture(run / "log.h5", fmt=2, seed=i + 1)
        (run / "config.ini").write_text(f"seed = {i + 1}\nthreads = {threads}\nnew.knob = {threads}\n")
        paths.append(run)
    logs = load_runs(paths)
    assert len(figures.groups(logs)) == 2  # new.knob differs, and older logs do not call it operational
    for run in paths:
        with h5py.File(run / "log.h5", "a") as f:
            f.attrs["config_keys"] = json.dumps({"operational": ["threads", "new.knob"], "own_column": ["seed"]})
    logs = load_runs(paths)
    assert len(figures.groups(logs)) == 1
    # new.knob (operational, by the log) is no differing column; threads is, as it changes the last digits
    assert runs.table(logs)[1] == ["threads"]


def test_renamed_keys_are_read_under_their_new_names(tmp_path):
    """[ga] strategy, n_v, ... became [search]'s: a log written before (no `config_keys`, or one
    without a "renamed" list) is read under the new names, so old and new runs group alike; a log's
    own "renamed" list is what is applied when it has one."""
    old, new = tmp_path / "old", tmp_path / "new"
    for i, run in enumerate((old, new)):
        run.mkdir()
        write_fixture(run / "log.h5", fmt=2, seed=i + 1)
    (old / "config.ini").write_text("seed = 1\n[ga]\npopulation = 3\nstrategy = random\nn_v = 50\n")
    (new / "config.ini").write_text("seed = 2\n[ga]\npopulation = 3\n[search]\nstrategy = random\nn_v = 50\n")
    logs = load_runs([old, new])
    for log in logs:
        assert log.config["search.n_v"] == "50" and log.config["search.strategy"] == "random", log.config
        assert "ga.n_v" not in log.config
    assert len(figures.groups(logs)) == 1
    # A log of the gnas before the rename has the attribute, without a "renamed" list: its roles
    # name the old key, which counts under the new one (no extra strategy column).
    with h5py.File(old / "log.h5", "a") as f:
        f.attrs["config_keys"] = json.dumps({"operational": ["threads"], "own_column": ["seed", "ga.strategy"]})
    assert config_keys([load(old)], "own_column") == {"seed", "search.strategy"}
    assert "search.strategy" not in runs.table(load_runs([old, new]))[1]
    with h5py.File(old / "log.h5", "a") as f:  # a log naming its own renames (here: none)
        f.attrs["config_keys"] = json.dumps({"operational": ["threads"], "renamed": []})
    assert load(old).config["ga.n_v"] == "50"
    assert parse_config("[ga]\nn_v = 5\n", {"ga.n_v": "search.n_v"}) == {"search.n_v": "5"}
