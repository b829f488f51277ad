"""hopcap: storage capacity of Hopfield networks and dense associative memories.

Library first: models (:mod:`capacity_cli.models`), criteria (:mod:`capacity_cli.criteria`), pattern
sets (:mod:`capacity_cli.datasets`), the capacity search (:mod:`capacity_cli.search`) and batch
measurement (:mod:`capacity_cli.measure`). Conventions follow ``docs/theory.md``.

The names below are imported on first use, so ``import capacity_cli`` (and ``hopcap --help``) stays
fast. ``__version__`` is the installed version (package metadata; setuptools-scm derives it from git
when hopcap is built), looked up on first use; the code revision recorded with results is
:func:`capacity_cli.provenance.code_version`, read from git at run time in a checkout.
"""

from importlib import import_module

_EXPORTS = {
    "BinaryDAM": "models",
    "Stable": "criteria",
    "Retrieve": "criteria",
    "Overlap": "criteria",
    "OverlapMean": "criteria",
    "make_criterion": "criteria",
    "PatternSpec": "datasets",
    "PatternStream": "datasets",
    "generate_patterns": "datasets",
    "load_patterns": "datasets",
    "pattern_stats": "datasets",
    "largest_storable": "search",
    "capacity_of_sequence": "search",
    "MeasureConfig": "measure",
    "run_measurements": "measure",
    "configs_from_options": "measure",
    "fit_law": "fit",
    "laws_for": "theory",
    "HopcapError": "errors",
    "pattern_outcomes": "curves",
    "PatternOutcome": "curves",
}

__all__ = ["__version__", *_EXPORTS]


def __getattr__(name: str):
    if name == "__version__":
        from .provenance import installed_version

        return installed_version()
    if name in _EXPORTS:
        return getattr(import_module(f".{_EXPORTS[name]}", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
