"""Loading a gnas run (log.h5, status.json, config.ini) into numpy arrays and pandas DataFrames.

Reads format_version 1 and 2 logs, also while the job still writes them (SWMR reader).
"""

from __future__ import annotations

import configparser
import dataclasses
import json
import sys
from pathlib import Path

import h5py
import numpy as np

SUPPORTED_FORMATS = (1, 2)
EPOCH_FIELDS = ("lr", "train_loss", "train_acc", "time_s", "best_fitness", "best_full_val_acc", "test_acc", "n_new")
# The op codes of format_version 1 logs, which do not store their op table (DESIGN §2).
OP_NAMES_V1 = ("identity", "max_pool_3x3", "avg_pool_3x3", "sep_conv_3x3", "sep_conv_5x5")
CELL_KINDS = ("normal", "reduction", "input")
# Ground truth of NAS-Bench-201 searches run with the table (logs since the nb201 space; NaN otherwise).
GT_FIELDS = ("gt_best_test", "gt_best_valid", "gt_mean_test", "gt_mean_valid", "gt_chosen_test", "gt_chosen_valid",
             "gt_chosen_rank", "gt_chosen_below_pct", "gt_table_best_test", "gt_table_mean_test")
# Added to the epoch rows later (NaN in older logs): the evaluation losses, the time split, GPU memory.
LATER_EPOCH_FIELDS = ("best_full_val_loss", "test_loss", "train_time_s", "eval_time_s", "peak_mem_mib")
# /step rows (logs since they existed): rank 0's training figures every --log.every_steps steps.
STEP_FIELDS = ("step", "epoch", "loss", "acc", "lr", "img_s")
RANKING_FIELDS = ("epoch", "score", "kendall_tau", "spearman_rho", "genome", "index", "table_test", "table_valid")


def paper_layout(length: int, op_names) -> dict:
    """The gene layout of the paper's space, for logs written before the log stored it
    (genome_layout_json): 3 cells of N_b blocks of [in_A, in_B, op_A, op_B]."""
    per_cell = length // 3
    genes = [{"name": f"{CELL_KINDS[i // per_cell]} cell, block {(i % per_cell) // 4}, gene {i % 4}",
              "kind": "op" if i % 4 >= 2 else "input", "cell": CELL_KINDS[i // per_cell],
              "block": (i % per_cell) // 4} for i in range(length)] if per_cell else []
    return {"space": "paper", "length": length, "cells": list(CELL_KINDS), "n_blocks": per_cell // 4,
            "op_names": list(op_names), "genes": genes}


# What the configuration's keys mean, for logs written before they carried it (their `config_keys`
# attribute, written from gnas's one list, io/config_keys.h, is read whenever it is there).
CONFIG_KEYS_BEFORE_THE_ATTRIBUTE = {
    "operational": ["threads", "device", "dist.backend", "dist.timeout", "log.all_ranks", "log.progress_seconds",
                    "log.every_steps"],
    "own_column": ["seed", "search.strategy", "search.fitness", "train.epochs"],
    # Logs written before the attribute named these keys as [ga]'s; parse_config reads them under
    # their current names (the attribute's "renamed" list, for logs that carry it).
    "renamed": [["ga.strategy", "search.strategy"], ["ga.n_v", "search.n_v"],
                ["ga.generations_per_epoch", "search.generations_per_epoch"], ["ga.bn_eval", "search.bn_eval"],
                ["ga.rescore", "search.rescore"]],
}


def renamed_keys(attrs) -> dict:
    """{old key: current key} for a log's configuration: its `config_keys` attribute's list, else the
    list of the gnas that wrote logs without one."""
    text = attrs.get("config_keys")
    roles = json.loads(text) if text else {}
    pairs = roles.get("renamed", CONFIG_KEYS_BEFORE_THE_ATTRIBUTE["renamed"])
    return {old: new for old, new in pairs}


def config_keys(logs, role: str) -> set:
    """The keys of `role` ("operational", "own_column", "structural", ...) as the logs record them
    (their union, so that runs of two gnas versions compare alike)."""
    out = set()
    for log in logs:
        text = log.attrs.get("config_keys")
        roles = json.loads(text) if text else CONFIG_KEYS_BEFORE_THE_ATTRIBUTE
        renamed = renamed_keys(log.attrs)  # a list written before a rename names the key's old name
        out.update(renamed.get(key, key) for key in roles.get(role, []))
    return out


def current_key(key: str, logs=()) -> str:
    """A key's current name ("ga.n_v" -> "search.n_v"), as the logs (or this version) rename it."""
    for log in logs:
        renamed = renamed_keys(log.attrs)
        if key in renamed:
            return renamed[key]
    return renamed_keys({}).get(key, key)


def old_names(key: str, logs=()) -> set:
    """The names `key` had before it was renamed ({"ga.n_v"} for "search.n_v"), as the logs say."""
    out = set()
    for attrs in [log.attrs for log in logs] + [{}]:
        out.update(old for old, new in renamed_keys(attrs).items() if new == key)
    return out


class LogError(Exception):
    """The file is missing, not a gnas log, or of an unsupported format version."""


def _attr(value):
    """An HDF5 attribute as a plain Python value (format 1 text comes back as bytes)."""
    if isinstance(value, bytes):
        return value.decode("utf-8")
    if isinstance(value, np.ndarray):
        return [_attr(v) for v in value.tolist()]
    if isinstance(value, np.generic):
        return value.item()
    return value


def parse_config(text: str, renamed: dict | None = None) -> dict:
    """The stored configuration as {"section.key": value}; keys outside a section (config.ini and
    format_version 1 logs) and those of [run] (format_version 2) are plain "key". A key of `renamed`
    ({old: current}) is read under its current name."""
    parser = configparser.ConfigParser(interpolation=None, strict=False)
    parser.optionxform = str
    body = text or ""
    first = next((ln.strip() for ln in body.splitlines() if ln.strip() and ln.strip()[0] not in "#;"), "")
    if not first.startswith("["):
        body = "[run]\n" + body
    try:
        parser.read_string(body)
    except configparser.Error as exc:
        raise LogError(f"the stored configuration is not INI text ({exc})") from exc
    out = {}
    for section in parser.sections():
        for key, value in parser.items(section):
            name = key if section == "run" else f"{section}.{key}"
            out[(renamed or {}).get(name, name)] = value
    return out


@dataclasses.dataclass
class RunLog:
    """One run: its log's arrays and attributes, its status and its configuration.

    `epochs`, `generations` and `population` are pandas DataFrames (built on first use); `epoch` holds
    the same per-epoch columns as numpy arrays."""

    path: Path
    attrs: dict
    epoch: dict            # field -> 1-D array, one entry per epoch
    generation_genome: np.ndarray | None    # [g, N_g, L] uint8
    generation_fitness: np.ndarray | None   # [g, N_g]
    generation_epoch: np.ndarray | None     # [g] 0-based epoch
    population_genome: np.ndarray | None    # [g, N_p, L]
    population_fitness: np.ndarray | None   # [g, N_p], best first
    best_genome: np.ndarray
    best_fitness: float
    ranking: dict | None = None  # /nb201/ranking/* (field -> array); None: the log has no ranking set
    steps: dict | None = None    # /step/* (field -> array, STEP_FIELDS); None: a log written before them
    status: dict | None = None   # status.json (or the log's status attributes); None: not recorded
    config: dict = dataclasses.field(default_factory=dict)
    name: str = ""               # a unique label, set by load_runs
    colour: str = ""             # the run's colour in every figure, set by figures.assign_colours

    def __repr__(self) -> str:
        status = self.status.get("status") if self.status else "unknown"
        return (f"RunLog({str(self.run_dir)!r}, {self.command}, {self.n_epochs} epochs, status {status}, "
                f"format_version {self.format_version})")

    @property
    def run_dir(self) -> Path:
        return self.path.parent

    @property
    def command(self) -> str:
        return str(self.attrs.get("command", ""))

    @property
    def is_search(self) -> bool:
        return self.population_fitness is not None

    @property
    def n_epochs(self) -> int:
        return len(self.epoch["lr"])

    @property
    def format_version(self) -> int:
        return int(self.attrs.get("format_version", 0))

    @property
    def op_names(self) -> list:
        names = self.attrs.get("op_names")
        return list(names) if names else list(OP_NAMES_V1)

    @property
    def layout(self) -> dict:
        """What each gene means (the log's genome_layout_json; the paper's layout for older logs)."""
        text = self.attrs.get("genome_layout_json")
        if text:
            return json.loads(text)
        return paper_layout(len(self.best_genome), self.op_names)

    @property
    def space(self) -> str:
        return str(self.layout.get("space", "paper"))

    @property
    def has_ground_truth(self) -> bool:
        return bool(np.isfinite(self.epoch["gt_chosen_test"]).any())

    def op_groups(self) -> list:
        """[(name, indices of the op genes)]: one group per cell of the paper's space, one for nb201's cell."""
        genes = self.layout.get("genes", [])
        groups: dict = {}
        for i, gene in enumerate(genes):
            if gene.get("kind") == "op":
                groups.setdefault(gene.get("cell", "cell"), []).append(i)
        return list(groups.items())

    def genome_text(self, genome) -> str:
        """A genome as gnas prints it in this run's space (nb201: the benchmark's cell string)."""
        genes = [int(x) for x in genome]
        if self.space == "nb201" and len(genes) == 6:
            names, at, parts = self.op_names, 0, []
            for node in (1, 2, 3):
                edges = []
                for source in range(node):
                    edges.append(f"{names[genes[at]]}~{source}")
                    at += 1
                parts.append("|" + "|".join(edges) + "|")
            return "+".join(parts)
        return genome_text(genes)

    @property
    def seed(self) -> int:
        return int(self.attrs.get("seed", -1))

    @property
    def epochs(self):
        """pandas DataFrame, one row per epoch (index `epoch`, 1-based), with every /epoch column of
        the log: the ground truth (gt_*, NaN without a table), losses, the time split, GPU memory."""
        import pandas as pd

        # Every column the log's /epoch group holds, in a fixed order: the core ones, the ground
        # truth, the later ones, then any this reader does not know by name (all rows aligned).
        known = list(EPOCH_FIELDS) + list(GT_FIELDS) + list(LATER_EPOCH_FIELDS)
        names = known + sorted(n for n in self.epoch if n not in known)
        frame = pd.DataFrame({name: self.epoch[name][:self.n_epochs] for name in names if name in self.epoch})
        frame.index = pd.RangeIndex(1, self.n_epochs + 1, name="epoch")
        return frame

    def _members(self, genomes, fitness, member_name):
        import pandas as pd

        if genomes is None or len(genomes) == 0:
            return pd.DataFrame(columns=["generation", "epoch", member_name, "fitness", "genome"])
        g, n = fitness.shape
        return pd.DataFrame({
            "generation": np.repeat(np.arange(1, g + 1), n),
            "epoch": np.repeat(self.generation_epoch + 1, n),
            member_name: np.tile(np.arange(n), g),
            "fitness": fitness.reshape(-1).astype(float),
            "genome": [self.genome_text(row) for row in genomes.reshape(g * n, -1)],
        })

    @property
    def generations(self):
        """pandas DataFrame, one row per evaluated member: generation (1-based), epoch (1-based, like
        the epoch lines; the log's /ga/generation/epoch is 0-based), member, fitness [%], genome (as
        gnas writes it: " | " between cells). Empty for a retrain."""
        return self._members(self.generation_genome, self.generation_fitness, "member")

    @property
    def population(self):
        """pandas DataFrame, one row per population member after each generation's replacement:
        generation, epoch, rank (0 = best), fitness, genome. Empty for a retrain."""
        return self._members(self.population_genome, self.population_fitness, "rank")

    def to_csv(self, out) -> list:
        """Writes epochs.csv, and for a search generations.csv and population.csv, into `out`."""
        out = Path(out)
        out.mkdir(parents=True, exist_ok=True)
        written = [out / "epochs.csv"]
        self.epochs.to_csv(written[0])
        if self.is_search:
            for name in ("generations", "population"):
                path = out / f"{name}.csv"
                getattr(self, name).to_csv(path, index=False)
                written.append(path)
        return written


def genome_text(genome) -> str:
    """Genes as gnas writes them: space-separated, " | " between the three cells."""
    genes = [int(x) for x in genome]
    if not genes or len(genes) % 3:
        return " ".join(map(str, genes))
    n = len(genes) // 3
    return " | ".join(" ".join(map(str, genes[i * n:(i + 1) * n])) for i in range(3))


def _status_from_attrs(attrs: dict) -> dict | None:
    """The status as the log last recorded it (when its latest process started, or ended):
    status.json is newer while a run goes on."""
    if "status" not in attrs:
        return None
    try:
        segments = json.loads(attrs.get("segments", "[]"))
    except json.JSONDecodeError:
        segments = []
    return {
        "command": attrs.get("command", ""),
        "status": attrs["status"],
        "reason": attrs.get("status_reason", ""),
        "epochs_done": int(attrs.get("epochs_done", 0)),
        "epochs_planned": int(attrs.get("epochs_planned", 0)),
        "updated_at": attrs.get("updated_at", ""),
        "segments": segments,
    }


MAX_TEXT_BYTES = 16 << 20  # a status.json or config.ini is a few kB; /dev/zero is not one


def check_regular_file(path: Path) -> None:
    """Raises LogError unless `path` is a regular file (after symlinks): HDF5 opens a FIFO and waits
    on it for ever, and reads a device file without end."""
    import stat

    try:
        mode = Path(path).stat().st_mode
    except OSError as exc:
        raise LogError(f"{path}: cannot be read ({exc.strerror or exc})") from exc
    if not stat.S_ISREG(mode):
        kind = ("a FIFO" if stat.S_ISFIFO(mode) else "a directory" if stat.S_ISDIR(mode)
                else "a device" if stat.S_ISCHR(mode) or stat.S_ISBLK(mode)
                else "a socket" if stat.S_ISSOCK(mode) else "a special file")
        raise LogError(f"{path}: not a regular file ({kind}); gnas-analysis reads only regular files")


def read_text(path: Path) -> str:
    """A small text file of a run: only a regular file (a FIFO would hang the reader, a device file
    fill its memory), at most MAX_TEXT_BYTES, UTF-8. Raises LogError naming the file otherwise."""
    path = Path(path)
    try:
        if not path.is_file():
            raise LogError(f"{path}: not a regular file")
        if path.stat().st_size > MAX_TEXT_BYTES:
            raise LogError(f"{path}: {path.stat().st_size} bytes, more than a run's text file can be")
        with open(path, "rb") as f:
            data = f.read(MAX_TEXT_BYTES + 1)
    except OSError as exc:
        raise LogError(f"{path}: cannot be read ({exc.strerror or exc})") from exc
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise LogError(f"{path}: not UTF-8 text ({exc})") from exc


def read_status(run_dir: Path) -> dict | None:
    """DIR/status.json, or None when the run has none. Raises LogError when it is not a status file."""
    path = Path(run_dir) / "status.json"
    if not path.exists():
        return None
    try:
        status = json.loads(read_text(path))
    except json.JSONDecodeError as exc:
        raise LogError(f"{path}: not a valid gnas status file ({exc})") from exc
    if not isinstance(status, dict) or "status" not in status or "segments" not in status:
        raise LogError(f'{path}: not a gnas status file (no "status" and "segments")')
    return status


def load(path: str | Path) -> RunLog:
    """Reads a run: `path` is a run directory or its log.h5. The status comes from status.json (the
    newest), else from the log's attributes (format 2); the configuration from config.ini, else from
    the log."""
    path = Path(path)
    if path.is_dir():
        if not (path / "log.h5").exists() and any(p.is_dir() and (p / "log.h5").exists() for p in path.iterdir()):
            raise LogError(f"{path} holds runs, not one: use gnas_analysis.load_runs([{str(path)!r}])")
        path = path / "log.h5"
    if not path.exists():
        raise LogError(f"{path}: no such file")
    check_regular_file(path)
    try:
        # A plain reader first: it fails at once on a damaged file, where an SWMR reader retries each
        # bad checksum for minutes. A log that a writer has open (or left open: SIGKILL) needs SWMR.
        f = h5py.File(path, "r")
    except OSError as exc:
        if "already open for write" not in str(exc) and "lock" not in str(exc):
            raise LogError(f"{path}: not a readable HDF5 file ({exc})") from exc
        try:
            f = h5py.File(path, "r", swmr=True)
        except OSError as exc2:
            raise LogError(f"{path}: not a readable HDF5 file ({exc2})") from exc2
    try:
        with f:
            log = _read(f, path)
    except (OSError, RuntimeError, KeyError, ValueError) as exc:
        raise LogError(f"{path}: damaged: {exc}") from exc
    log.status = read_status(path.parent) or _status_from_attrs(log.attrs)
    config_file = path.parent / "config.ini"
    log.config = parse_config(read_text(config_file) if config_file.exists() else log.attrs.get("config", ""),
                              renamed_keys(log.attrs))
    return log


def _read(f, path: Path) -> RunLog:
    """The arrays and attributes of an open log file."""
    attrs = {k: _attr(v) for k, v in f.attrs.items()}
    if attrs.get("format_version") not in SUPPORTED_FORMATS:
        raise LogError(f"{path}: format_version {attrs.get('format_version')!r} is not supported "
                       f"(expected one of {SUPPORTED_FORMATS}); is this a gnas log?")
    missing = [name for name in EPOCH_FIELDS if f"epoch/{name}" not in f]
    if missing:
        raise LogError(f"{path}: missing datasets " + ", ".join(f"/epoch/{m}" for m in missing))
    # A live log may have grown one dataset before the next: read the rows all of them hold.
    epoch = {name: np.asarray(f[f"epoch/{name}"][...]) for name in EPOCH_FIELDS}
    for name in GT_FIELDS + LATER_EPOCH_FIELDS:  # optional: NaN in logs written before they existed
        epoch[name] = np.asarray(f[f"epoch/{name}"][...]) if f"epoch/{name}" in f else np.full(len(epoch["lr"]), np.nan)
    for name, dataset in f["epoch"].items():  # a column this reader does not know yet is kept too
        if name != "epoch" and name not in epoch and isinstance(dataset, h5py.Dataset) and dataset.ndim == 1:
            epoch[name] = np.asarray(dataset[...])
    rows = min(len(v) for v in epoch.values())
    epoch = {k: v[:rows] for k, v in epoch.items()}
    has_ga = "ga" in f
    ga = {}
    if has_ga:
        names = ("generation/genome", "generation/fitness", "generation/epoch", "population/genome",
                 "population/fitness")
        ga = {n: np.asarray(f[f"ga/{n}"][...]) for n in names}
        g = min(len(v) for v in ga.values())
        ga = {k: v[:g] for k, v in ga.items()}
    log = RunLog(
        path=path,
        attrs=attrs,
        epoch=epoch,
        generation_genome=ga.get("generation/genome"),
        generation_fitness=ga.get("generation/fitness"),
        generation_epoch=ga.get("generation/epoch"),
        population_genome=ga.get("population/genome"),
        population_fitness=ga.get("population/fitness"),
        best_genome=np.asarray(f["best/genome"][...]),
        best_fitness=float(f["best/fitness"][()]),
    )
    if "step" in f and all(f"step/{n}" in f for n in STEP_FIELDS):
        steps = {n: np.asarray(f[f"step/{n}"][...]) for n in STEP_FIELDS}
        rows = min(len(v) for v in steps.values())
        log.steps = {k: v[:rows] for k, v in steps.items()}
    if "nb201/ranking" in f:
        ranking = {n: np.asarray(f[f"nb201/ranking/{n}"][...]) for n in RANKING_FIELDS}
        rows = min(len(ranking[n]) for n in ("epoch", "score", "kendall_tau", "spearman_rho"))
        for n in ("epoch", "score", "kendall_tau", "spearman_rho"):
            ranking[n] = ranking[n][:rows]
        # Each ranking cell's params_m (the floor's ranking): absent in logs written before it was recorded.
        if "nb201/ranking/table_params" in f:
            ranking["table_params"] = np.asarray(f["nb201/ranking/table_params"][...])
        log.ranking = ranking
    return log


def unique_names(paths) -> list:
    """Short unique labels: each run's directory name, with parent directories added where names
    collide (two runs named `run` become `a/run` and `b/run`)."""
    parts = [[p for p in Path(path).resolve().parts if p not in ("/", "")] for path in paths]
    take = [1] * len(parts)
    names = []
    for _ in range(16):
        names = ["/".join(p[len(p) - min(t, len(p)):]) or str(path) for p, t, path in zip(parts, take, paths)]
        clash = False
        for i, name in enumerate(names):
            if names.count(name) > 1 and take[i] < len(parts[i]):
                take[i] += 1
                clash = True
        if not clash:
            break
    seen = {}
    for i, name in enumerate(names):
        seen[name] = seen.get(name, 0) + 1
        if seen[name] > 1:
            names[i] = f"{name}#{seen[name]}"
    return names


def find_runs(path, depth: int = 3) -> list:
    """`path` when it is a run (a log.h5 file, or a directory holding one), else the run directories
    below it (up to `depth` levels), in name order."""
    path = Path(path)
    try:
        is_run = path.is_file() or any((path / f).exists() for f in ("log.h5", "status.json", "config.ini"))
    except OSError as exc:  # a directory that may not be searched
        print(f"gnas-analysis: skipped {path}: cannot be read ({exc.strerror or exc})", file=sys.stderr)
        SKIPPED.append((str(path), f"cannot be read ({exc.strerror or exc})"))
        return []
    if is_run:
        return [path]
    if not path.is_dir():
        raise LogError(f"{path}: no such file or directory")
    found = []
    if depth > 0:
        try:
            children = sorted(p for p in path.iterdir() if p.is_dir())
        except OSError as exc:  # an unreadable directory: named, and the rest is still listed
            print(f"gnas-analysis: skipped {path}: cannot be listed ({exc.strerror or exc})", file=sys.stderr)
            SKIPPED.append((str(path), f"cannot be listed ({exc.strerror or exc})"))
            children = []
        for child in children:
            try:
                found += find_runs(child, depth - 1)
            except LogError:
                pass
    if not found and depth == 3:
        raise LogError(f"{path}: holds no gnas run (no log.h5 in it or in its subdirectories)")
    return found


# (path, reason) of every run or directory that load_runs skipped (the report lists them).
SKIPPED: list = []


def load_runs(paths) -> list:
    """load() of each run (a run directory, its log.h5, or a directory holding runs), each given its
    unique name. When one run is asked for and it cannot be read, LogError; otherwise a run that
    cannot be read (a damaged log, a bad config.ini or status.json, an unreadable directory) is
    skipped with a warning, recorded in SKIPPED, and the others are read."""
    logs = []
    SKIPPED.clear()
    for p in paths:
        found = find_runs(p)
        for run in found:
            try:
                logs.append(load(run))
            except LogError as exc:
                if len(paths) == 1 and len(found) == 1 and Path(run) == Path(p):
                    raise
                print(f"gnas-analysis: skipped {run}: {exc}", file=sys.stderr)
                SKIPPED.append((str(run), str(exc)))
    for log, name in zip(logs, unique_names([log.run_dir for log in logs])):
        log.name = name
    return logs
