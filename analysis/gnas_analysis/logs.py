"""Loading a gnas log.h5 into plain numpy arrays (readable while the job still writes it)."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import h5py
import numpy as np

SUPPORTED_FORMAT = 1
EPOCH_FIELDS = ("lr", "train_loss", "train_acc", "time_s", "best_fitness", "best_full_val_acc", "test_acc", "n_new")


class LogError(Exception):
    """The file is missing, not a gnas log, or of an unsupported format version."""


@dataclasses.dataclass
class RunLog:
    path: Path
    attrs: dict
    epoch: dict            # field -> 1-D array, one entry per epoch
    generation_genome: np.ndarray | None    # [g, N_g, L] uint8
    generation_fitness: np.ndarray | None   # [g, N_g]
    generation_epoch: np.ndarray | None     # [g]
    population_genome: np.ndarray | None    # [g, N_p, L]
    population_fitness: np.ndarray | None   # [g, N_p]
    best_genome: np.ndarray
    best_fitness: float

    @property
    def command(self) -> str:
        return str(self.attrs.get("command", ""))

    @property
    def epochs(self) -> int:
        return len(self.epoch["lr"])


def _attr(value):
    if isinstance(value, bytes):
        return value.decode("utf-8")
    if isinstance(value, np.generic):
        return value.item()
    return value


def load(path: str | Path) -> RunLog:
    """Reads `path` (a log.h5 or a run directory holding one)."""
    path = Path(path)
    if path.is_dir():
        path = path / "log.h5"
    if not path.exists():
        raise LogError(f"{path}: no such file")
    try:
        f = h5py.File(path, "r", swmr=True)
    except OSError as exc:
        raise LogError(f"{path}: not a readable HDF5 file ({exc})") from exc
    with f:
        attrs = {k: _attr(v) for k, v in f.attrs.items()}
        if attrs.get("format_version") != SUPPORTED_FORMAT:
            raise LogError(f"{path}: format_version {attrs.get('format_version')!r} is not supported "
                           f"(expected {SUPPORTED_FORMAT}); is this a gnas log?")
        missing = [name for name in EPOCH_FIELDS if f"epoch/{name}" not in f]
        if missing:
            raise LogError(f"{path}: missing datasets " + ", ".join(f"/epoch/{m}" for m in missing))
        epoch = {name: np.asarray(f[f"epoch/{name}"][...]) for name in EPOCH_FIELDS}
        has_ga = "ga" in f

        def read(name):
            return np.asarray(f[name][...]) if has_ga else None

        return RunLog(
            path=path,
            attrs=attrs,
            epoch=epoch,
            generation_genome=read("ga/generation/genome"),
            generation_fitness=read("ga/generation/fitness"),
            generation_epoch=read("ga/generation/epoch"),
            population_genome=read("ga/population/genome"),
            population_fitness=read("ga/population/fitness"),
            best_genome=np.asarray(f["best/genome"][...]),
            best_fitness=float(f["best/fitness"][()]),
        )
