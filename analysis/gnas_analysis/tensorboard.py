"""TensorBoard event files from gnas logs: `gnas-analysis tensorboard RUN... --out DIR`, then
`tensorboard --logdir DIR`. Needs PyPI's tensorboard package (an optional dependency: scripts/bootstrap
installs it into .venv-analysis/); the logs stay the record, the event files are derived from them.

Every run becomes DIR/<run name>/ with one event file. Its scalars share one x axis, the global
training step: the /step rows at their step, each epoch's rows (and each scoring of the NAS-Bench-201
ranking set: Kendall tau and Spearman rho) at the epoch's last step. With --watch the files are
written again every SECONDS while a run is still running; TensorBoard picks the new file up.
"""

from __future__ import annotations

import datetime
import math
import sys
from pathlib import Path

from .logs import LogError, RunLog

# The epoch columns exported, with their TensorBoard tag; NaN values (a column that does not apply to
# the command, or a log written before it existed) are left out.
EPOCH_TAGS = (
    ("train_loss", "epoch/train_loss"), ("train_acc", "epoch/train_acc"), ("lr", "epoch/lr"),
    ("time_s", "time/epoch_s"), ("train_time_s", "time/train_s"), ("eval_time_s", "time/eval_s"),
    ("peak_mem_mib", "gpu/peak_mem_mib"),
    ("best_fitness", "search/best_fitness"), ("best_full_val_acc", "search/best_full_val_acc"),
    ("best_full_val_loss", "search/best_full_val_loss"), ("n_new", "search/n_new"),
    ("gt_chosen_test", "nb201/chosen_table_test"), ("gt_best_test", "nb201/best_table_test"),
    ("gt_mean_test", "nb201/mean_table_test"), ("gt_chosen_below_pct", "nb201/chosen_above_pct_of_cells"),
    ("test_acc", "retrain/test_acc"), ("test_loss", "retrain/test_loss"),
)
# The ranking set's rows (--nb201.table with --nb201.rank_every): how well the fitness ranks the
# cells against the table, at the step that ends the epoch it was scored after.
RANKING_TAGS = (("kendall_tau", "nb201/ranking_kendall_tau"), ("spearman_rho", "nb201/ranking_spearman_rho"))
STEP_TAGS = (("loss", "step/train_loss"), ("acc", "step/train_acc"), ("lr", "step/lr"), ("img_s", "step/img_per_s"))


class MissingTensorBoard(LogError):
    """The optional tensorboard package is not importable by this interpreter."""


def _modules():
    try:
        from tensorboard.compat.proto.event_pb2 import Event
        from tensorboard.compat.proto.summary_pb2 import Summary
        from tensorboard.summary.writer.event_file_writer import EventFileWriter
    except ImportError as exc:
        raise MissingTensorBoard(
            f"gnas-analysis tensorboard needs PyPI's tensorboard package, which {sys.executable} cannot import "
            f"({exc}). scripts/bootstrap installs it into .venv-analysis/ (then rebuild: the build binds "
            "gnas-analysis to that interpreter), or: python3 -m pip install tensorboard in a virtual "
            "environment made with --system-site-packages") from exc
    return Event, Summary, EventFileWriter


def _started(log: RunLog) -> float:
    """The run's start (seconds since 1970), for the events' wall times."""
    text = str(log.attrs.get("started_at", ""))
    try:
        return datetime.datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=datetime.timezone.utc).timestamp()
    except ValueError:
        return 0.0


def export(logs: list, out: Path) -> list:
    """Writes one event file per run under out/<run name>/ (replacing event files written there
    before); returns the run directories written."""
    Event, Summary, EventFileWriter = _modules()
    out = Path(out)
    written = []
    for log in logs:
        run_dir = out / log.name.replace("/", "_")
        run_dir.mkdir(parents=True, exist_ok=True)
        for old in run_dir.glob("events.out.tfevents.*"):  # derived data: a rerun replaces it
            old.unlink()
        steps = log.steps if log.steps is not None and len(log.steps["step"]) else None
        n = log.n_epochs
        per_epoch = int(steps["step"][-1]) // int(steps["epoch"][-1]) if steps else 1
        start = _started(log)
        # Wall times: the run's start plus the epochs' times so far (a step row: within its epoch,
        # in proportion to its step).
        ends, total = [], start
        for e in range(n):
            t = float(log.epoch["time_s"][e])
            total += t if math.isfinite(t) else 0.0
            ends.append(total)
        writer = EventFileWriter(str(run_dir))

        def scalar(tag, value, step, wall):
            value = float(value)
            if math.isfinite(value):
                writer.add_event(Event(wall_time=wall, step=int(step),
                                       summary=Summary(value=[Summary.Value(tag=tag, simple_value=value)])))

        if steps:
            for i in range(len(steps["step"])):
                e = int(steps["epoch"][i]) - 1
                begin = ends[e - 1] if 0 < e <= len(ends) else start
                end = ends[e] if e < len(ends) else begin
                within = (int(steps["step"][i]) - e * per_epoch) / max(1, per_epoch)
                for field, tag in STEP_TAGS:
                    scalar(tag, steps[field][i], steps["step"][i], begin + within * (end - begin))
        for e in range(n):
            for field, tag in EPOCH_TAGS:
                if field in log.epoch:
                    scalar(tag, log.epoch[field][e], (e + 1) * per_epoch, ends[e])
        if log.ranking is not None:
            for i in range(len(log.ranking["epoch"])):
                e = int(log.ranking["epoch"][i])  # 0-based: scored after epoch e + 1
                wall = ends[e] if e < len(ends) else (ends[-1] if ends else start)
                for field, tag in RANKING_TAGS:
                    scalar(tag, log.ranking[field][i], (e + 1) * per_epoch, wall)
        writer.close()
        written.append(run_dir)
    return written
