"""hopcap: storage capacity of Hopfield networks and dense associative memories.

Library first: models (:mod:`capacity_cli.models`), criteria (:mod:`capacity_cli.criteria`), pattern
sets (:mod:`capacity_cli.datasets`), the capacity search (:mod:`capacity_cli.search`) and batch
measurement (:mod:`capacity_cli.measure`). Conventions follow ``docs/theory.md``.
"""

__version__ = "0.1.0"
