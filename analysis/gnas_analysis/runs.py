"""The run table (the same as `gnas runs`): status, progress, the config keys that differ between
the runs, results and the best genome."""

from __future__ import annotations

import calendar
import csv
import io
import math
import os
import socket
import time
from pathlib import Path

import numpy as np

from . import logs as logs_module  # `logs` names the runs passed to table()
from .logs import RunLog



def parse_utc(text: str) -> float | None:
    try:
        return float(calendar.timegm(time.strptime(text, "%Y-%m-%dT%H:%M:%SZ")))
    except (TypeError, ValueError):
        return None


def _pid_gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


def view_status(status: dict | None, longest_epoch_s: float = 0.0, now: float | None = None,
                stale_after_s: float | None = None, this_host: str | None = None) -> tuple:
    """(label, reason) for a run's status: "running" becomes "running or died" when its process is
    gone (same host) or nothing was logged for max(30 min, 3x the longest epoch)."""
    if status is None:
        return "unknown", "no status recorded (a run written before gnas recorded its status)"
    if status.get("status") != "running":
        return status.get("status", "unknown"), status.get("reason", "")
    now = time.time() if now is None else now
    this_host = socket.gethostname() if this_host is None else this_host
    segments = status.get("segments") or []
    if segments:
        last = segments[-1]
        pid = int(last.get("pid", 0) or 0)
        if last.get("host") == this_host and pid > 0 and _pid_gone(pid):
            return "running or died", f"its process (pid {pid} on {last.get('host')}) is gone"
    # The writer's rule, from status.json (gnas's RunStatus); files written before it carry gnas's
    # defaults of the time.
    rule = status.get("stale_rule")
    rule = rule if isinstance(rule, dict) else {}
    min_s, epochs = float(rule.get("min_s", 1800.0)), float(rule.get("longest_epochs", 3.0))
    stale = stale_after_s if stale_after_s else max(min_s, epochs * longest_epoch_s)
    updated = parse_utc(status.get("updated_at", ""))
    if updated is not None and now - updated > stale:
        return "running or died", f"nothing logged for {int((now - updated) // 60)} min"
    return "running", ""


def differing_keys(configs, hidden=None) -> list:
    """The config keys whose values differ between the runs that have them (a key a run lacks, such
    as [ga] in a retrain, does not count), less `hidden`: those with their own column and the
    operational ones (as `gnas runs`; logs.config_keys reads them from the logs)."""
    if hidden is None:
        hidden = set(logs_module.CONFIG_KEYS_BEFORE_THE_ATTRIBUTE["own_column"]) | set(
            logs_module.CONFIG_KEYS_BEFORE_THE_ATTRIBUTE["operational"])
    hidden = set(hidden) - {"threads"}  # operational, but it changes the last digits: shown when it differs
    values = {}
    for config in configs:
        for key, value in config.items():
            values.setdefault(key, set()).add(value)
    return sorted(k for k, v in values.items() if len(v) > 1 and k not in hidden)


def _max_finite(values) -> float:
    values = np.asarray(values, dtype=float)
    values = values[np.isfinite(values)]
    return float(values.max()) if values.size else float("nan")


def _last_finite(values) -> float:
    values = np.asarray(values, dtype=float)
    values = values[np.isfinite(values)]
    return float(values[-1]) if values.size else float("nan")


def kendall_tau(x, y) -> float:
    """Kendall's tau-b, as gnas computes it (ties in either handled as tau-b does); NaN when undefined."""
    n = len(x)
    concordant = discordant = ties_x = ties_y = 0
    for i in range(n):
        for j in range(i + 1, n):
            dx = (x[i] > x[j]) - (x[i] < x[j])  # signs by comparison: -inf - -inf is NaN
            dy = (y[i] > y[j]) - (y[i] < y[j])
            if dx == 0 and dy == 0:
                continue
            if dx == 0:
                ties_x += 1
            elif dy == 0:
                ties_y += 1
            elif (dx > 0) == (dy > 0):
                concordant += 1
            else:
                discordant += 1
    denominator = math.sqrt((concordant + discordant + ties_x) * (concordant + discordant + ties_y))
    return (concordant - discordant) / denominator if denominator > 0 else float("nan")


def ranking_taus(log) -> tuple:
    """(the last ranking's tau of the run's fitness, the parameter count's tau: the floor); NaN when absent."""
    rk = getattr(log, "ranking", None)
    if rk is None or len(rk["kendall_tau"]) == 0:
        return float("nan"), float("nan")
    params = rk.get("table_params")
    floor = float("nan")
    if params is not None and len(params) == len(rk["table_test"]) and np.all(np.isfinite(params)):
        floor = kendall_tau([float(v) for v in params], [float(v) for v in rk["table_test"]])
    return float(rk["kendall_tau"][-1]), floor


def with_fitness(rows) -> bool:
    """True when a run's fitness is not the paper's supernet: the fitness column is shown (as gnas runs)."""
    return any(r["fitness"] not in ("", "supernet") for r in rows)


def with_tau(rows) -> bool:
    """True when a run scored a ranking set: the tau and tau_params columns are shown (as gnas runs)."""
    return any(math.isfinite(r["rank_tau"]) for r in rows)


def with_table(rows) -> bool:
    """True when a run has a NAS-Bench-201 table accuracy: the table_test column is shown (as gnas runs)."""
    return any(math.isfinite(r["table_test"]) for r in rows)


def row(log: RunLog, now: float | None = None, stale_after_s: float | None = None) -> dict:
    """One table row for `log` (a loaded run with its name set)."""
    now = time.time() if now is None else now
    status = log.status
    longest = float(np.max(log.epoch["time_s"])) if log.n_epochs else 0.0
    label, reason = view_status(status, longest, now, stale_after_s)
    is_search = log.command == "search"
    test = log.epoch["test_acc"]
    planned = status.get("epochs_planned", 0) if status else int(log.config.get("train.epochs", 0) or 0)
    if status:
        wall = 0.0
        segments = status.get("segments") or []
        for i, seg in enumerate(segments):
            start = parse_utc(seg.get("started_at", ""))
            end = parse_utc(seg.get("ended_at", ""))
            if end is None:
                end = now if (i + 1 == len(segments) and label == "running") else parse_utc(status.get("updated_at", ""))
            if start is not None and end is not None and end >= start:
                wall += end - start
    else:
        wall = float(np.sum(log.epoch["time_s"])) if log.n_epochs else float("nan")
    genome_set = log.command == "retrain" or math.isfinite(log.best_fitness)
    config = dict(log.config)  # the number of ranks is not in config.ini but changes the run
    if int(log.attrs.get("world_size", 0) or 0) > 0:
        config["world_size"] = str(log.attrs["world_size"])
    rank_tau, params_tau = ranking_taus(log)
    return {
        "run": log.name or str(log.run_dir),
        "path": str(log.run_dir),
        "command": log.command,
        "status": label,
        "reason": reason,
        "epochs_done": log.n_epochs,
        "epochs_planned": int(planned),
        "seed": log.config.get("seed") or (str(log.attrs["seed"]) if "seed" in log.attrs else ""),
        "strategy": (log.attrs.get("strategy") or log.config.get("search.strategy", "")) if is_search else "",
        "fitness": str(log.attrs.get("fitness", "") or log.config.get("search.fitness", "supernet")) if is_search else "",
        "rank_tau": rank_tau,
        "params_tau": params_tau,
        "best_fitness": _max_finite(log.epoch["best_fitness"]) if is_search else float("nan"),
        "best_val": _max_finite(log.epoch["best_full_val_acc"]) if is_search else float("nan"),
        "test_acc": float(test[-1]) if len(test) and np.isfinite(test[-1]) else float("nan"),
        "wall_s": wall,
        # The chosen cell's NAS-Bench-201 table accuracy (searches run with the table); NaN otherwise.
        "table_test": _last_finite(log.epoch["gt_chosen_test"]),
        # ... and the share of the table's cells below it (NaN in logs written before it was recorded).
        "table_pct": _last_finite(log.epoch["gt_chosen_below_pct"]),
        "best_genome": log.genome_text(log.best_genome) if genome_set and len(log.best_genome) else "",
        "config": config,
        # A retrain's search (its absolute directory) and the epoch that chose the genome (0: not recorded).
        "source_run": str(log.attrs.get("source_run", "")),
        "source_epoch": int(log.attrs.get("source_epoch", 0) or 0),
    }


def sources(rows) -> list | None:
    """The "from" column (as gnas runs): each retrain's search, by its name in this table when it is
    listed, else by its path, with the epoch that chose the genome ("seed1@2"); None when no row has one."""
    if not any(r["source_run"] for r in rows):
        return None
    names = {str(Path(r["path"]).resolve()): r["run"] for r in rows}
    return [(names.get(r["source_run"], r["source_run"]) + (f"@{r['source_epoch']}" if r["source_epoch"] > 0 else ""))
            if r["source_run"] else "" for r in rows]


def table(logs, now: float | None = None, stale_after_s: float | None = None) -> tuple:
    """(rows, differing keys) for the runs `logs`."""
    rows = [row(log, now, stale_after_s) for log in logs]
    hidden = logs_module.config_keys(logs, "own_column") | logs_module.config_keys(logs, "operational")
    return rows, differing_keys([r["config"] for r in rows], hidden)


def _fixed(value: float, digits: int) -> str:
    return "" if not math.isfinite(value) else f"{value:.{digits}f}"


def to_csv(rows, keys) -> str:
    """The table as CSV, the same columns and formats as `gnas runs --csv`."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    table_column = with_table(rows)
    fitness_column, tau_columns = with_fitness(rows), with_tau(rows)
    source = sources(rows)
    writer.writerow(["run", "path", "command", "status", "reason", "epochs_done", "epochs_planned", "seed",
                     "strategy", *(["fitness"] if fitness_column else []), *keys, "best_fitness", "best_val",
                     "test_acc", *(["table_test", "table_pct"] if table_column else []),
                     *(["tau", "tau_params"] if tau_columns else []), *(["from"] if source else []), "wall_s",
                     "best_genome"])
    for i, r in enumerate(rows):
        writer.writerow([r["run"], r["path"], r["command"], r["status"], r["reason"], r["epochs_done"],
                         r["epochs_planned"], r["seed"], r["strategy"],
                         *([r["fitness"] or "-"] if fitness_column else []),
                         *[r["config"].get(k, "-") for k in keys],
                         _fixed(r["best_fitness"], 2), _fixed(r["best_val"], 2), _fixed(r["test_acc"], 2),
                         *([_fixed(r["table_test"], 2), _fixed(r["table_pct"], 1)] if table_column else []),
                         *([_fixed(r["rank_tau"], 3), _fixed(r["params_tau"], 3)] if tau_columns else []),
                         *([source[i]] if source else []), _fixed(r["wall_s"], 0), r["best_genome"]])
    return out.getvalue()


def duration(seconds: float) -> str:
    if not math.isfinite(seconds):
        return ""
    t = int(round(seconds))
    if t >= 3600:
        return f"{t // 3600}h{(t % 3600) // 60:02d}m"
    if t >= 60:
        return f"{t // 60}m{t % 60:02d}s"
    return f"{t}s"
