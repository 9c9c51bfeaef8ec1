"""Reads gnas HDF5 run logs (format_version 1) and draws the GeneticNAS paper's figures."""

from .logs import RunLog, load
from .figures import plot_all

__all__ = ["RunLog", "load", "plot_all"]
