"""Study profiles with code of their own (see :mod:`capacity_cli.reproduce`): one module per
profile, ``capacity_cli/studies/<profile>.py``, run by ``make reproduce-<profile>``."""
