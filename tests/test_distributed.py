"""``--executor dask`` (capacity_cli/distributed.py): the same rows as the local executor, resume, and a
worker killed mid-task losing and doubling nothing. One LocalCluster of two single-threaded worker
processes serves every test here (starting it is most of the time)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time

import pytest

from capacity_cli.distributed import run_on_dask
from capacity_cli.errors import HopcapError
from capacity_cli.measure import configs_from_options, run_measurements
from capacity_cli.results import SharedResults, config_key, load_results

#: Columns that legitimately differ between two runs of the same trials.
TIMING = ("elapsed_s",)


def test_the_default_path_does_not_import_dask():
    code = ("import sys, capacity_cli.cli, capacity_cli.measure, capacity_cli.reproduce; "
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('dask', 'distributed')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


@pytest.fixture(scope="module")
def client():
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=":0") as cluster, \
            distributed.Client(cluster) as c:
        yield c


def table(path) -> dict:
    """{(config key, trial): row without timing columns} of a results file, each trial once."""
    loaded = load_results(path)
    assert not loaded.warning()
    out = {}
    for row in loaded.records:
        key = (config_key(row), int(row["trial"]))
        assert key not in out
        out[key] = {k: v for k, v in row.items() if k not in TIMING}
    return out


def dask_run(configs, path, client) -> list:
    keys = [config_key(c.columns()) for c in configs]
    return run_on_dask(configs, keys, SharedResults(path), 1, False, None, client=client)


def test_dask_writes_the_same_rows_as_local_and_resumes(client, tmp_path):
    configs = configs_from_options({"model": "poly", "degree": [3], "n": [32, 48], "trials": 6})
    local, remote = tmp_path / "local.csv", tmp_path / "dask.csv"
    run_measurements(configs, output=str(local), threads=1, progress=False)
    rows = dask_run(configs, remote, client)
    assert len(rows) == 12
    assert table(remote) == table(local)
    assert local.read_text().splitlines()[0] == remote.read_text().splitlines()[0]  # same header
    before = remote.read_text()
    assert dask_run(configs, remote, client) == []  # resume: every trial is done
    assert remote.read_text() == before
    # a half-done file is completed with exactly the missing trials
    lines = before.splitlines()
    partial = tmp_path / "partial.csv"
    partial.write_text("\n".join(lines[:6]) + "\n")
    assert len(dask_run(configs, partial, client)) == 7
    assert table(partial) == table(local)


def test_executor_options_are_checked(tmp_path):
    with pytest.raises(HopcapError, match="--scheduler needs --executor dask"):
        run_measurements([], output=str(tmp_path / "x.csv"), scheduler="tcp://127.0.0.1:1")
    with pytest.raises(HopcapError, match="--executor must be local or dask"):
        run_measurements([], executor="ray")


def test_a_worker_killed_mid_task_loses_and_doubles_nothing(client, tmp_path):
    configs = configs_from_options({"model": "exp", "beta": [1.0], "n": [26], "trials": 6})
    local, remote = tmp_path / "local.csv", tmp_path / "dask.csv"
    run_measurements(configs, output=str(local), threads=1, progress=False)
    pids = client.run(os.getpid)  # worker address -> process id
    killed: list[str] = []

    def kill_one_busy_worker():
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            busy = [w for w, tasks in client.processing().items() if tasks]
            if busy:
                os.kill(pids[busy[0]], signal.SIGKILL)
                killed.append(busy[0])
                return
            time.sleep(0.005)

    killer = threading.Thread(target=kill_one_busy_worker)
    killer.start()
    rows = dask_run(configs, remote, client)
    killer.join()
    assert killed, "no task was seen running"
    assert len(rows) == 6
    assert table(remote) == table(local)
    assert len(remote.read_text().splitlines()) == 1 + 6
