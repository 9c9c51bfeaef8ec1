"""gnas-analysis: figures and summaries from gnas run directories."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from . import figures, quality
from .logs import LogError, load


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


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] == "compare":
        return main_compare(argv[1:])
    if argv and argv[0] == "tabular":
        return main_tabular(argv[1:])
    parser = argparse.ArgumentParser(
        prog="gnas-analysis",
        description="Draws the GeneticNAS figures (fitness of the best individual, new individuals per "
                    "epoch, population fitness, training curves, best cells) from gnas run directories "
                    "or log.h5 files. Also: 'gnas-analysis compare EXPERIMENT' (GA against random search) and "
                    "'gnas-analysis tabular FILE' (gnas tabular's curves).")
    parser.add_argument("runs", nargs="+", help="run directories or log.h5 files")
    parser.add_argument("--out", default="figures", help="directory for the PNG files (default: figures)")
    parser.add_argument("--summary-only", action="store_true", help="print the summaries, draw nothing")
    args = parser.parse_args(argv)
    try:
        logs = [load(run) for run in args.runs]
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
