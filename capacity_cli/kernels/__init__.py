"""Numba kernels: pure functions over arrays and plain numbers, no Python objects inside.

Grouped by concern: ``bits`` (bit-packed rows, overlaps, distances), ``stability`` (the
all-patterns fixed-point check), ``dynamics`` (asynchronous retrieval dynamics). Each kernel has a
plain numpy twin in ``tests/naive.py``.
"""
