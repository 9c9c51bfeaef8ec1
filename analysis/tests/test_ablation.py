"""gnas-analysis ablation on real searches: a numeric key (made by scripts/ablation), a categorical
key, a refused mixed set, a run still being written, and the report's Ablation section."""

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
from gnas_analysis import ablation, load_runs  # noqa: E402
from gnas_analysis.cli import main  # noqa: E402
from gnas_analysis.logs import LogError  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
TABLE = ROOT / "data" / "nasbench201" / "nasbench201_cifar10.csv"
BASE = ("--space nb201 --net.channels 4 --net.cells 1 --train.batch 32 --data.synthetic_train 128 "
        f"--data.synthetic_val 60 --search.n_v 30 --ga.population 3 --ga.generation 4 --nb201.table {TABLE} --debug.table_on_synthetic "
        "--nb201.rank_cells 0")
TINY = BASE + " --train.epochs 2"


def gnas(*args, check=True):
    return subprocess.run([os.environ["GNAS_EXE"], *map(str, args)], check=check, capture_output=True, text=True)


@pytest.fixture(scope="module")
def sweeps(tmp_path_factory):
    if "GNAS_EXE" not in os.environ:
        pytest.skip("needs the gnas executable (set by CTest)")
    root = tmp_path_factory.mktemp("ablation")
    env = dict(os.environ, KEY="ga.p_m", VALUES="0.02 0.3", SEEDS="2", DATA="", SEARCH_ARGS=TINY, THREADS="1",
               PARALLEL="2", GNAS=os.environ["GNAS_EXE"], ANALYSIS="/nonexistent")
    done = subprocess.run([str(ROOT / "scripts" / "ablation"), str(root / "pm")], env=env, capture_output=True,
                          text=True)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "ablation: 4 searches in" in done.stdout
    for crossover in ("block", "uniform"):
        gnas("search", "--out", root / "crossover" / f"ga.crossover-{crossover}-seed1", "--ga.crossover", crossover,
             "--threads", 1, "--no-progress", *TINY.split())
    return root


def table_test(run: Path) -> float:
    with h5py.File(run / "log.h5", "r") as f:
        return float(f["epoch/gt_chosen_test"][-1])


def test_numeric_key_draws_mean_and_interval_per_value(sweeps, tmp_path):
    out = tmp_path / "pm"
    assert main(["ablation", str(sweeps / "pm"), "--key", "ga.p_m", "--out", str(out)]) == 0
    for name in ("ablation.png", "ablation.svg", "ablation.md", "ablation.csv"):
        assert (out / name).exists(), name
    rows = list(csv.DictReader(open(out / "ablation.csv")))
    assert sorted((r["value"], r["seed"]) for r in rows) == [("0.02", "1"), ("0.02", "2"), ("0.3", "1"), ("0.3", "2")]
    md = (out / "ablation.md").read_text()
    values = [table_test(sweeps / "pm" / f"ga.p_m-0.3-seed{s}") for s in (1, 2)]
    mean, std = np.mean(values), np.std(values, ddof=1)
    half = 12.706 * std / np.sqrt(2)
    assert f"| 0.3 | 2 |" in md
    # An accuracy's interval stays in [0, 100] (issue 31: [-1.25, 173.42] was printed and drawn).
    assert f"{mean:.2f} ± {std:.2f} [{max(mean - half, 0):.2f}, {min(mean + half, 100):.2f}] |" in md
    assert md.index("| 0.02 |") < md.index("| 0.3 |")  # numeric order


def test_categorical_key_is_a_table(sweeps, tmp_path):
    text = ablation.ablation(load_runs([sweeps / "crossover"]), "ga.crossover", tmp_path)
    assert "| block | 1 |" in text and "| uniform | 1 |" in text
    numeric, _summary = ablation.summarize(ablation.collect(load_runs([sweeps / "crossover"]), "ga.crossover"))
    assert not numeric
    assert (tmp_path / "ablation.png").exists()


def test_mixed_sets_and_bad_keys_are_refused(sweeps, capsys):
    runs = [sweeps / "pm", sweeps / "crossover"]
    with pytest.raises(LogError, match="the runs differ in ga.crossover besides ga.p_m"):
        ablation.ablation(load_runs(runs), "ga.p_m", None)
    assert main(["ablation", *map(str, runs), "--key", "ga.p_m", "--out", str(sweeps / "x")]) == 1
    assert "--allow-differences" in capsys.readouterr().err
    assert ablation.ablation(load_runs(runs), "ga.p_m", None, allow_differences=True)
    with pytest.raises(LogError, match="--key ga.nope: not an option of these runs"):
        ablation.ablation(load_runs([sweeps / "pm"]), "ga.nope", None)
    with pytest.raises(LogError, match="nothing was swept"):
        ablation.ablation(load_runs([sweeps / "pm" / "ga.p_m-0.3-seed1", sweeps / "pm" / "ga.p_m-0.3-seed2"]),
                          "ga.p_m", None)


def test_a_run_still_being_written_counts_with_its_epochs(sweeps, tmp_path):
    live_dir = sweeps / "pm" / "ga.p_m-0.1-seed1"
    live = subprocess.Popen([os.environ["GNAS_EXE"], "search", "--out", str(live_dir), "--ga.p_m", "0.1",
                             "--threads", "1", "--no-progress", *BASE.split(), "--train.epochs", "200"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.time() + 120
        while time.time() < deadline and live.poll() is None:
            status = live_dir / "status.json"
            if status.exists() and json.loads(status.read_text()).get("epochs_done", 0) >= 1:
                break
            time.sleep(0.2)
        assert live.poll() is None, "the live search ended early"
        # train.epochs differs for the live run: it is the one difference allowed here.
        text = ablation.ablation(load_runs([sweeps / "pm"]), "ga.p_m", tmp_path, allow_differences=True)
        assert "| 0.1 | 1 (1 running) |" in text
    finally:
        live.terminate()
        live.wait(timeout=120)


def test_the_report_has_an_ablation_section(sweeps, tmp_path):
    out = tmp_path / "report"
    assert main(["report", str(sweeps / "crossover"), "--out", str(out)]) == 0
    page = (out / "report.html").read_text()
    assert "<h2>Ablation: ga.crossover</h2>" in page
    assert 'alt="ablation"' in page
    assert ablation.detect(load_runs([sweeps / "crossover"])) == ("ga.crossover", [])


def test_a_sweep_of_a_key_before_its_rename_is_still_an_ablation(sweeps, tmp_path):
    """A sweep whose directories and --key use a key's old name (KEY=ga.rescore before it became
    search.rescore) is found and drawn under the new name. Simulated on copies of the crossover
    sweep whose logs say 'ga.cross' was renamed to 'ga.crossover'."""
    root = tmp_path / "renamed"
    for crossover in ("block", "uniform"):
        run = root / f"ga.cross-{crossover}-seed1"
        shutil.copytree(sweeps / "crossover" / f"ga.crossover-{crossover}-seed1", run)
        with h5py.File(run / "log.h5", "a") as f:
            keys = json.loads(f.attrs["config_keys"])
            keys["renamed"] = keys.get("renamed", []) + [["ga.cross", "ga.crossover"]]
            f.attrs["config_keys"] = json.dumps(keys)
    logs = load_runs([root])
    assert ablation.detect(logs) == ("ga.crossover", [])
    rows = ablation.collect(logs, "ga.cross")
    assert sorted(r["value"] for r in rows) == ["block", "uniform"]


def test_intervals_are_clipped_to_percentages_and_seeds_are_kept():
    """Two seeds 76.4 and 95.8: the t interval is [-36.9, 209.1]; an accuracy's is [0, 100]. A
    training-free fitness (values outside [0, 100]) keeps its interval as it is."""
    rows = [{"value": "a", "status": "finished", "final_fitness": f, "best_val": v, "table_test": v}
            for f, v in ((1500.0, 76.4), (1620.0, 95.8))]
    _numeric, summary = ablation.summarize(rows)
    mean, std, lo, hi = summary[0]["table_test"]
    assert mean == pytest.approx(86.1)
    assert (lo, hi) == (0.0, 100.0)
    assert summary[0]["table_test_seeds"] == [76.4, 95.8]
    _m, _s, flo, fhi = summary[0]["final_fitness"]
    assert flo < 1500 and fhi > 2000  # not a percentage: not clipped to 100


def test_cell_figures_of_runs_with_dots_in_their_names_do_not_overwrite_each_other(sweeps, tmp_path):
    """Every scripts/ablation run name has a dot (ga.p_m-0.02-seed1): with_suffix cut the names at
    it, so the 4 runs wrote one cells file, and every caption named it (issue 31)."""
    out = tmp_path / "report"
    assert main(["report", str(sweeps / "pm"), "--out", str(out)]) == 0
    cells = sorted(p.name for p in out.glob("cells_*.png"))
    runs = sorted(f"cells_{p.name}.png" for p in (sweeps / "pm").iterdir() if (p / "log.h5").exists())
    assert len(runs) >= 4 and cells == runs, cells
    page = (out / "report.html").read_text()
    for name in cells:
        assert name in page
