"""Provenance: the code version rows carry, the environment record of a results folder
(environment.json) and ``hopcap info`` on a CSV."""

from __future__ import annotations

import csv
import json
import os
import shutil
import subprocess
import sys
import threading
from importlib import metadata
from pathlib import Path

import pytest
from click.testing import CliRunner

from capacity_cli import provenance
from capacity_cli.cli import main
from capacity_cli.provenance import (
    ENVIRONMENT_FILE,
    FALLBACK_VERSION,
    NO_RECORD,
    UNKNOWN_VERSION,
    code_revision,
    code_version,
    installed_version,
    read_environment,
    record_environment,
    scm_version,
)

T1, T2 = "2026-01-01T00:00:00+00:00", "2026-01-02T00:00:00+00:00"


def run(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


def csv_rows(path) -> list[dict]:
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


@pytest.fixture(scope="module")
def measured(tmp_path_factory):
    """A folder with the CSV of a tiny ``hopcap measure -o`` and its environment record."""
    folder = tmp_path_factory.mktemp("measured")
    result = run("measure", "--model", "poly", "--degree", "2", "--n", "12", "--trials", "2",
                 "--threads", "1", "--no-progress", "-o", folder / "r.csv")
    assert result.exit_code == 0, result.output
    return folder


def test_record_fields(tmp_path):
    record = record_environment(tmp_path, threads=3, now=T1)
    assert set(record) == {"hopcap_version", "revision", "installed_version", "python", "packages", "cpu",
                           "logical_cores", "numba_threads", "platform", "first_used"}
    assert record["hopcap_version"] == code_version()
    assert record["installed_version"] == installed_version()
    assert record["python"].startswith(".".join(map(str, sys.version_info[:3])))
    packages = record["packages"]
    for name in ("numpy", "numba", "scipy", "pandas", "matplotlib", "click", "tqdm", "filelock",
                 "threadpoolctl"):
        assert packages[name] == metadata.version(name)
    assert record["numba_threads"] == 3 and record["logical_cores"] == os.cpu_count()
    assert record["cpu"] and record["platform"]
    assert record["first_used"] == T1
    revision = record["revision"]
    assert revision["source"] in ("git", "installed")
    if revision["source"] == "git":
        assert len(revision["commit"]) == 40 and isinstance(revision["dirty"], bool)
        assert ("+g" + revision["commit"][:7]) in record["hopcap_version"] \
            or "+g" not in record["hopcap_version"]  # on a clean tag: the tag alone
    data = json.loads((tmp_path / ENVIRONMENT_FILE).read_text())
    assert data["records"] == [record]


def test_identical_environments_are_kept_once_and_the_file_is_left_alone(tmp_path):
    record_environment(tmp_path, threads=2, now=T1)
    before = (tmp_path / ENVIRONMENT_FILE).read_bytes()
    record_environment(tmp_path, threads=2, now=T2)
    records = read_environment(tmp_path)
    assert len(records) == 1 and records[0]["first_used"] == T1
    assert (tmp_path / ENVIRONMENT_FILE).read_bytes() == before  # a rerun changes no committed file


def test_two_environments_are_kept_and_writers_under_the_lock_lose_none(tmp_path, monkeypatch):
    record_environment(tmp_path, threads=1, now=T1)
    with monkeypatch.context() as patch:  # a second machine writing into the same folder
        patch.setattr(provenance, "cpu_model", lambda: "Another CPU")
        record_environment(tmp_path, threads=1, now=T2)
    cpus = [r["cpu"] for r in read_environment(tmp_path)]
    assert len(cpus) == 2 and "Another CPU" in cpus
    workers = [threading.Thread(target=record_environment, args=(tmp_path, k)) for k in range(2, 8)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    assert sorted(r["numba_threads"] for r in read_environment(tmp_path)) == [1, 1, 2, 3, 4, 5, 6, 7]


def test_a_failed_write_leaves_the_record_whole(tmp_path, monkeypatch):
    record_environment(tmp_path, threads=1, now=T1)
    before = (tmp_path / ENVIRONMENT_FILE).read_bytes()

    def fail(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", fail)
    with pytest.raises(OSError):
        record_environment(tmp_path, threads=2, now=T2)
    monkeypatch.undo()
    assert (tmp_path / ENVIRONMENT_FILE).read_bytes() == before  # replaced whole or not at all
    assert sorted(p.name for p in tmp_path.iterdir() if not p.name.endswith(".lock")) == [ENVIRONMENT_FILE]


def test_measure_rows_find_their_record(measured):
    rows = csv_rows(measured / "r.csv")
    assert len(rows) == 2 and {r["hopcap_version"] for r in rows} == {code_version()}
    records = read_environment(measured)
    assert len(records) == 1  # two rows, one record
    assert records[0]["hopcap_version"] == rows[0]["hopcap_version"]
    assert records[0]["numba_threads"] == int(rows[0]["threads"]) == 1


def test_info_on_a_results_csv_prints_the_revision_and_the_versions(measured):
    result = run("info", measured / "r.csv")
    assert result.exit_code == 0, result.output
    out = result.output
    assert "2 rows, 1 configuration" in out
    assert f"hopcap_version {code_version()}: 2 rows" in out
    record = read_environment(measured)[0]
    if record["revision"]["commit"]:
        assert record["revision"]["commit"] in out
    assert f"numpy {metadata.version('numpy')}" in out and "numba threads 1" in out
    assert NO_RECORD not in out


def test_info_on_a_csv_without_a_record_says_so(measured, tmp_path):
    shutil.copy(measured / "r.csv", tmp_path / "old.csv")
    result = run("info", tmp_path / "old.csv")
    assert result.exit_code == 0, result.output
    assert NO_RECORD in result.output and "made before environment records were kept" in result.output
    # a folder with records, none for these rows' version
    rows = csv_rows(measured / "r.csv")
    with open(measured / "older.csv", "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows([{**r, "hopcap_version": "0.1.0"} for r in rows])
    out = run("info", measured / "older.csv").output
    assert "hopcap_version 0.1.0: 2 rows" in out and NO_RECORD in out


def test_info_errors_are_one_line(tmp_path):
    missing = run("info", tmp_path / "missing.csv")
    assert missing.exit_code == 2 and "no such file" in missing.output
    assert "Traceback" not in missing.output and len(missing.output.strip().splitlines()) == 1
    (tmp_path / "r.csv").write_text("model,n,criterion,trial,p_max,hopcap_version\nhebbian,8,stable,0,1,x\n")
    (tmp_path / ENVIRONMENT_FILE).write_text("{not json")
    damaged = run("info", tmp_path / "r.csv")
    assert damaged.exit_code == 2 and "damaged JSON" in damaged.output
    assert len(damaged.output.strip().splitlines()) == 1


def test_curve_and_batch_write_records(tmp_path, monkeypatch):
    from types import SimpleNamespace

    from capacity_cli import reproduce
    from capacity_cli._compile import max_threads

    result = run("curve", "--model", "poly", "--degree", "2", "--n", "12", "--p", "2:4:2", "--trials", "1",
                 "--threads", "1", "--no-progress", "-o", tmp_path / "c.csv")
    assert result.exit_code == 0, result.output
    assert {r["hopcap_version"] for r in csv_rows(tmp_path / "c.csv")} == {code_version()}
    assert [r["hopcap_version"] for r in read_environment(tmp_path)] == [code_version()]
    module = SimpleNamespace(extra=lambda out_dir, seed, threads, progress, frames: [])
    monkeypatch.setattr(reproduce, "profile_module", lambda profile: module)
    monkeypatch.setattr(reproduce, "CONFIG_DIR", tmp_path)
    reproduce.run_batch("alone", tmp_path / "results", progress=False)
    [record] = read_environment(tmp_path / "results" / "alone")
    assert record["numba_threads"] == max_threads() and record["hopcap_version"] == code_version()


def test_version_outside_git_falls_back(tmp_path, monkeypatch):
    outside = code_revision(tmp_path)  # not a git checkout
    assert outside.version == installed_version() and outside.source == "installed"
    assert outside.commit is None and outside.dirty is None
    monkeypatch.setattr(provenance, "_git", lambda args, cwd: None)  # no git at all
    assert code_revision().version == installed_version()

    def missing(name):
        raise metadata.PackageNotFoundError(name)

    installed_version.cache_clear()
    monkeypatch.setattr(metadata, "version", missing)
    try:
        assert installed_version() == UNKNOWN_VERSION
        assert code_revision(tmp_path).version == UNKNOWN_VERSION
    finally:
        installed_version.cache_clear()


def test_scm_version_follows_setuptools_scm():
    sha = "6ab8d5d3c1196afc15daa116cc97b07c3b46cb3a"
    assert scm_version("0.1.0", 190, sha, False) == "0.1.1.dev190+g6ab8d5d3c"
    assert scm_version("0.1.0", 190, sha, True) == "0.1.1.dev190+g6ab8d5d3c.dirty"
    assert scm_version("v0.2.0", 0, sha, False) == "0.2.0"
    assert scm_version("v0.2.0", 12, sha, False) == "0.2.1.dev12+g6ab8d5d3c"
    assert scm_version("v0.2.0", 0, sha, True) == "0.2.1.dev0+g6ab8d5d3c.dirty"


def test_fallback_version_is_pyprojects():
    pyproject = (Path(__file__).resolve().parent.parent / "pyproject.toml").read_text()
    assert f'fallback_version = "{FALLBACK_VERSION}"' in pyproject


def test_version_option_and_help_stay_lazy():
    result = run("--version")
    assert result.exit_code == 0 and result.output.startswith(f"hopcap, version {code_version()}")
    code = ("import sys\nfrom capacity_cli.cli import main\ntry:\n    main(['--help'])\n"
            "except SystemExit:\n    pass\nprint('capacity_cli.provenance' in sys.modules)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip().splitlines()[-1] == "False"


def test_info_names_a_curve_file_as_a_curve():
    """A curve CSV has every results column too: info must name it by its own kind."""
    path = Path(__file__).resolve().parent.parent / "results" / "curves" / "overlap.csv"
    result = run("info", path)
    assert result.exit_code == 0, result.output
    assert "retrieval curve" in result.output and "results (hopcap measure)" not in result.output
