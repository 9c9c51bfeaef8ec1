"""gnas-analysis: figures and summaries from gnas run directories."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from . import figures
from .logs import LogError, load


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="gnas-analysis",
        description="Draws the GeneticNAS figures (fitness of the best individual, new individuals per "
                    "epoch, population fitness, training curves, best cells) from gnas run directories "
                    "or log.h5 files.")
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
