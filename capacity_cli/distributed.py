"""Trials on a Dask cluster (``--executor dask``): the workers measure, the client writes.

Each task is one trial of one configuration (:func:`measure_trial`: run_trial + result_row, on a
worker). The client claims every pending trial in the results file first (the locked path of
capacity_cli.results.SharedResults, exactly as the local executor does one at a time), submits them,
and records each row as its future completes, so resume, the CSV format and every number are the
same as with the local executor; only the row order (completion order) and the elapsed_s column
differ. A worker that dies mid-task has its task rerun elsewhere by the scheduler; each trial has one
future and its row is written once, by the client, so nothing is lost or doubled. Trials still
claimed when the run stops (an error, Ctrl-C) are released for a later run.

``dask.distributed`` is an optional dependency (``pip install 'hopcap[dask]'``), imported only here.
"""

from __future__ import annotations

import os
import sys
import uuid
from contextlib import contextmanager

from .errors import HopcapError

EXECUTORS = ("local", "dask")
#: Seconds to open a connection to a given scheduler (a wrong address fails this fast); the Dask
#: handshake that follows gets twice as long.
CONNECT_TIMEOUT_S = 3


def measure_trial(config, trial: int, threads: int) -> dict:
    """One trial's CSV row, computed on a worker with ``threads`` numba threads."""
    from ._compile import thread_count
    from .measure import result_row, run_trial

    with thread_count(threads) as used:
        return result_row(config, trial, run_trial(config, trial), used)


def _import_distributed():
    try:
        import distributed
    except ImportError:
        raise HopcapError("--executor dask needs dask.distributed: pip install 'hopcap[dask]'") from None
    return distributed


@contextmanager
def dask_client(scheduler: str | None, threads: int):
    """A client of the cluster at ``scheduler`` (host:port or tcp://...), or of a new LocalCluster
    with one single-threaded worker process per ``threads`` cores of this machine."""
    distributed = _import_distributed()
    if scheduler:
        _reachable(scheduler)
        try:
            client = distributed.Client(scheduler, timeout=f"{2 * CONNECT_TIMEOUT_S}s")
        except Exception as err:  # dask raises OSError, TimeoutError, TypeError, ... by transport
            reason = str(err).splitlines()[0] if str(err).strip() else type(err).__name__
            raise HopcapError(f"cannot reach the Dask scheduler at {scheduler}: {reason}") from None
        with client:
            yield client
        return
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    workers = max(1, cores // threads)
    with distributed.LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as cluster, distributed.Client(cluster) as client:
        yield client


def _reachable(scheduler: str) -> None:
    """Fail in at most CONNECT_TIMEOUT_S seconds when nothing listens at a tcp://HOST:PORT address
    (Dask itself retries for its whole timeout)."""
    import socket

    host, _, port = scheduler.removeprefix("tcp://").rpartition(":")
    try:
        with socket.create_connection((host.strip("[]"), int(port)), timeout=CONNECT_TIMEOUT_S):
            pass
    except (OSError, ValueError) as err:
        reason = getattr(err, "strerror", None) or str(err) or type(err).__name__
        raise HopcapError(f"cannot reach the Dask scheduler at {scheduler}: {reason}") from None


def run_on_dask(configs: list, keys: list, shared, threads: int | None, progress: bool,
                scheduler: str | None, client=None) -> list[dict]:
    """Run the pending trials of ``configs`` (``keys``: their config keys) as Dask tasks; record
    each row through ``shared`` (results.SharedResults, or None: no file) as it arrives. Returns the
    rows, in completion order. ``threads``: numba threads per trial (default 1). ``client``: an
    existing distributed.Client (tests); otherwise :func:`dask_client`."""
    from tqdm.auto import tqdm

    per_trial = 1 if threads is None else threads
    if client is None:
        with dask_client(scheduler, per_trial) as own:
            return run_on_dask(configs, keys, shared, per_trial, progress, scheduler, own)
    distributed = _import_distributed()
    claimed: list[tuple[tuple, int, object]] = []  # (key, trial, config)
    for config, key in zip(configs, keys, strict=True):
        trials = shared.pending(key, config.trials) if shared is not None else range(config.trials)
        claimed.extend((key, trial, config) for trial in trials)
    futures = {}
    rows: list[dict] = []
    run = uuid.uuid4().hex[:12]  # task keys unique to this run: never an earlier run's result
    try:
        for number, (key, trial, config) in enumerate(claimed):
            future = client.submit(measure_trial, config, trial, per_trial, pure=False,
                                   key=f"hopcap-{run}-{number}-trial-{trial}")
            futures[future] = (key, trial)
        with tqdm(total=len(futures), disable=None if progress else True, unit="trial",
                  leave=False, desc="dask") as bar:
            for future in distributed.as_completed(futures):
                key, trial = futures[future]
                row = future.result()  # a trial's own error is raised here, as locally
                if shared is not None:
                    shared.record(key, trial, row)
                rows.append(row)
                del futures[future]
                bar.update()
    finally:
        if futures:
            client.cancel(list(futures))
            if shared is not None:
                for key, trial in futures.values():
                    shared.release(key, trial)
            print(f"dask: {len(futures)} trials released unmeasured", file=sys.stderr, flush=True)
    return rows
