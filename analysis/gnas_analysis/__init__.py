"""Reads gnas run logs (format_version 1 and 2) and draws the GeneticNAS paper's figures.

    import gnas_analysis
    run = gnas_analysis.load("runs/first")      # a run directory or its log.h5
    run.epochs                                  # pandas DataFrame, one row per epoch
    run.generations, run.population             # one row per member of each generation / population
    run.status                                  # status.json: running | finished | stopped | failed
    run.to_csv("runs/first/csv")
"""

from .logs import LogError, RunLog, load, load_runs
from .figures import plot_all
from .report import write as write_report

__all__ = ["LogError", "RunLog", "load", "load_runs", "plot_all", "write_report"]
__version__ = "0.2.0"
