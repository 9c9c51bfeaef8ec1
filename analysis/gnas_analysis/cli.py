"""gnas-analysis: figures and summaries from gnas run directories."""

from __future__ import annotations

import argparse
import datetime
import sys
import time
from pathlib import Path

from . import ablation, figures, quality, report, runs
from .logs import LogError, load_runs


def main_compare(argv) -> int:
    parser = argparse.ArgumentParser(
        prog="gnas-analysis compare",
        description="GA against random search: EXPERIMENT holds <strategy>-seed<k>/{search,retrain} run "
                    "directories (scripts/ga-vs-random). Prints the final test accuracy per strategy with a "
                    "bootstrap 95%% CI, and the GA - random difference paired by seed; writes compare.csv.")
    parser.add_argument("experiment", help="directory of <strategy>-seed<k>/ runs")
    parser.add_argument("--out", default=None, help="directory for compare.csv (default: none)")
    args = parser.parse_args(argv)
    try:
        print(quality.compare(Path(args.experiment), Path(args.out) if args.out else None))
    except (LogError, OSError) as exc:
        print(f"gnas-analysis compare: {exc}", file=sys.stderr)
        return 1
    return 0


def main_nb201(argv) -> int:
    parser = argparse.ArgumentParser(
        prog="gnas-analysis nb201",
        description="Search quality against NAS-Bench-201's ground truth: EXPERIMENT holds <strategy>-seed<k>/ "
                    "search run directories of --space nb201 with --nb201.table (scripts/nb201-study). Prints per "
                    "strategy the found cells' table test accuracy (mean +- std, Student-t 95%% CI) and the "
                    "supernet's ranking (Kendall tau, Spearman rho) beside the benchmark paper's weight-sharing "
                    "rows; writes nb201.csv and nb201.md.")
    parser.add_argument("experiment", help="directory of <strategy>-seed<k>/ search runs")
    parser.add_argument("--out", default=None, help="directory for nb201.csv and nb201.md (default: none)")
    args = parser.parse_args(argv)
    try:
        print(quality.nb201(Path(args.experiment), Path(args.out) if args.out else None))
    except (LogError, OSError) as exc:
        print(f"gnas-analysis nb201: {exc}", file=sys.stderr)
        return 1
    return 0


def main_ablation(argv) -> int:
    parser = argparse.ArgumentParser(
        prog="gnas-analysis ablation",
        description="An ablation: search runs that differ in one option (and the seed), e.g. from scripts/ablation "
                    "or jobs/slurm/ablation.sbatch. A numeric option is drawn like the paper's Fig. 9 and 10 (the "
                    "final best fitness, the best full-validation accuracy and, for NAS-Bench-201 runs with the "
                    "table, the found cell's table accuracy, each as the mean with a 95%% t interval over seeds "
                    "against the value); any option is tabulated like its Table 1. Writes ablation.png/.svg/.md/.csv. "
                    "Runs still being written count with the epochs they have.")
    parser.add_argument("runs", nargs="+", help="run directories, or directories holding them")
    parser.add_argument("--key", required=True, help="the swept option as in config.ini, e.g. ga.population, "
                                                     "ga.p_m, ga.crossover, space")
    parser.add_argument("--with", dest="with_keys", action="append", default=[],
                        help="an option swept along with --key (set to the same value), e.g. ga.generation; repeatable")
    parser.add_argument("--allow-differences", action="store_true",
                        help="draw even when the runs differ in other options (they are refused by default)")
    parser.add_argument("--out", default="ablation", help="directory for the figure and tables (default: ablation)")
    args = parser.parse_args(argv)
    try:
        logs = load_runs(args.runs)
        text = ablation.ablation(logs, args.key, Path(args.out), args.with_keys, args.allow_differences)
    except LogError as exc:
        print(f"gnas-analysis ablation: {exc}", file=sys.stderr)
        return 1
    print(text)
    print(f"wrote {Path(args.out) / 'ablation.png'}")
    return 0


def main_tabular(argv) -> int:
    parser = argparse.ArgumentParser(
        prog="gnas-analysis tabular",
        description="Draws the curves of `gnas tabular --out DIR` (DIR/tabular.h5): test accuracy of the "
                    "best-valid cell against distinct cells looked up, mean +- std per strategy, and the table.")
    parser.add_argument("file", help="tabular.h5 (or the directory holding it)")
    parser.add_argument("--out", default="figures", help="directory for tabular.png and tabular.md")
    args = parser.parse_args(argv)
    path = Path(args.file)
    if path.is_dir():
        path = path / "tabular.h5"
    try:
        for written in quality.tabular(path, Path(args.out)):
            print(f"wrote {written}")
    except LogError as exc:
        print(f"gnas-analysis tabular: {exc}", file=sys.stderr)
        return 1
    return 0


def _add_watch(parser, what: str) -> None:
    parser.add_argument("--watch", type=float, metavar="SECONDS", help=what)


def _parse_watched(parser, argv):
    """The arguments, with --watch checked (1 s to a day)."""
    args = parser.parse_args(argv)
    if args.watch is not None and not (1 <= args.watch <= 86400):
        parser.error(f"--watch must be in [1, 86400] seconds, got {args.watch:g}")
    return args


def _watch(args, prog: str, write, kept: str) -> int:
    """Runs write(logs, going) once, or with --watch every SECONDS while any run is still running
    (going: their names; empty without --watch), then once more when all have ended. A LogError
    ends it with exit 1; Ctrl-C ends the watch quietly (`kept` says what stays)."""
    while True:
        try:
            logs = load_runs(args.runs)
            going = [r.name for r in logs if runs.view_status(r.status)[0] == "running"] if args.watch else []
            write(logs, going)
        except LogError as exc:
            print(f"{prog}: {exc}", file=sys.stderr)
            return 1
        if not going:
            return 0
        try:
            time.sleep(args.watch)
        except KeyboardInterrupt:
            print(f"stopped watching; {kept}", file=sys.stderr)
            return 0


def _stamp() -> str:
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def main_report(argv) -> int:
    parser = argparse.ArgumentParser(
        prog="gnas-analysis report",
        description="One self-contained HTML page (OUT/report.html, images embedded, opens offline) for the "
                    "runs given: the run table (as gnas runs), Fig. 11/12/13, supernet training, population "
                    "diversity, the learning rate, the retrain curves, the cells (Fig. 14 style, needs Graphviz) "
                    "and each run's configuration. Every figure is also written as PNG and SVG. Works on runs "
                    "that are still being written.")
    parser.add_argument("runs", nargs="+", help="run directories, log.h5 files, or directories holding runs")
    parser.add_argument("--out", default="report", help="directory for report.html and the figures (default: report)")
    _add_watch(parser, "rewrite the page every SECONDS while any run is still running (the page reloads itself); "
                       "stops, after a last page without reloading, when every run has ended")
    args = _parse_watched(parser, argv)

    def write(logs, going):
        page = report.write(logs, Path(args.out), refresh_seconds=args.watch if going else None)
        print(f"{_stamp()} wrote {page} ({len(logs)} run{'s' if len(logs) != 1 else ''}"
              + (f"; {len(going)} running: {', '.join(going)})" if going else ")"), flush=True)

    return _watch(args, "gnas-analysis report", write, "the page keeps its last state")


def main_tensorboard(argv) -> int:
    parser = argparse.ArgumentParser(
        prog="gnas-analysis tensorboard",
        description="TensorBoard event files from gnas runs: OUT/<run>/ per run, the /step rows (training loss, "
                    "accuracy, lr, img/s) and the epoch rows (losses, accuracies, GA fitness, test accuracy, time "
                    "split, GPU memory, the NAS-Bench-201 ranking's tau and rho) against the global training "
                    "step. Then: tensorboard --logdir OUT. Needs PyPI's tensorboard package (scripts/bootstrap "
                    "installs it into .venv-analysis/).")
    parser.add_argument("runs", nargs="+", help="run directories, log.h5 files, or directories holding runs")
    parser.add_argument("--out", required=True, help="directory for the event files (one subdirectory per run)")
    _add_watch(parser, "write the event files again every SECONDS while any run is still running; stops after a "
                       "last export when every run has ended")
    args = _parse_watched(parser, argv)
    from . import tensorboard
    # The tensorboard beside this Python (the project's .venv-analysis), which is rarely on PATH.
    beside = Path(sys.executable).parent / "tensorboard"
    viewer = str(beside) if beside.exists() else "tensorboard"
    try:
        tensorboard._modules()  # the missing package is said before any log is read
    except LogError as exc:
        print(f"gnas-analysis tensorboard: {exc}", file=sys.stderr)
        return 1
    told = []

    def write(logs, going):
        written = tensorboard.export(logs, Path(args.out))
        print((f"{_stamp()} " if args.watch else "") + f"wrote {len(written)} run(s) under {args.out}"
              + (f" ({len(going)} running: {', '.join(going)})" if going else "")
              + ("" if told else f"; view them with: {viewer} --logdir {args.out}"), flush=True)
        told.append(True)

    return _watch(args, "gnas-analysis tensorboard", write, "the event files keep their last state")


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] == "compare":
        return main_compare(argv[1:])
    if argv and argv[0] == "tabular":
        return main_tabular(argv[1:])
    if argv and argv[0] == "nb201":
        return main_nb201(argv[1:])
    if argv and argv[0] == "ablation":
        return main_ablation(argv[1:])
    if argv and argv[0] == "report":
        return main_report(argv[1:])
    if argv and argv[0] == "tensorboard":
        return main_tensorboard(argv[1:])
    parser = argparse.ArgumentParser(
        prog="gnas-analysis",
        description="Figures-only mode: the figures of 'gnas-analysis report' (Fig. 11/12/13, training, "
                    "diversity, learning rate, retrain curves, cells) as PNG and SVG files, without the HTML page, "
                    "from gnas run directories or log.h5 files. Also: 'gnas-analysis report RUN... --out DIR' "
                    "(the HTML page), 'gnas-analysis compare EXPERIMENT' (GA against random search), "
                    "'gnas-analysis nb201 EXPERIMENT' (weight-sharing search against NAS-Bench-201's table), "
                    "'gnas-analysis ablation RUN... --key KEY' (one option swept, Fig. 9/10 and Table 1 style) and "
                    "'gnas-analysis tabular FILE' (gnas tabular's curves) and "
                    "'gnas-analysis tensorboard RUN... --out DIR' (TensorBoard event files).")
    parser.add_argument("runs", nargs="+", help="run directories or log.h5 files")
    parser.add_argument("--out", default="figures", help="directory for the PNG and SVG files (default: figures)")
    parser.add_argument("--summary-only", action="store_true", help="print the summaries, draw nothing")
    args = parser.parse_args(argv)
    try:
        logs = load_runs(args.runs)
    except LogError as exc:
        print(f"gnas-analysis: {exc}", file=sys.stderr)
        return 1
    for log in logs:
        print(figures.summary(log))
    if not args.summary_only:
        for path in figures.plot_all(logs, Path(args.out)):
            print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
