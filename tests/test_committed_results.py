"""The committed results/ tree read back with the readers ``make reproduce`` uses.

A committed file its own reader refuses stops ``make reproduce`` on a fresh clone (it happened: the
curve files kept an older header than the curve reader accepted). These tests read every committed
file the way the batch does and check that no profile would measure a trial again.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from capacity_cli.audit import pending_trials, read_back, read_back_tree
from capacity_cli.errors import HopcapError
from capacity_cli.reproduce import batch_profiles

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "results"


def profiles() -> list[str]:
    return batch_profiles()


def test_every_committed_file_reads_back():
    checks = read_back_tree(RESULTS, profiles())
    kinds = {c.kind for c in checks}
    # every reader the batch uses is exercised by the committed tree
    assert {"results", "curve", "trace", "summary", "table", "arrays"} <= kinds, kinds
    for c in checks:
        if c.kind not in ("passive",):
            assert c.rows > 0, c.path


def test_no_profile_has_a_pending_trial():
    pending = pending_trials(RESULTS, profiles())
    assert set(pending) == set(profiles())  # every batch table was looked at
    assert all(n == 0 for n in pending.values()), pending


def test_a_broken_header_is_refused(tmp_path):
    """The check itself can fail: one renamed column in a committed curve file and in a committed
    batch results file each make it refuse the tree with one line naming the file."""
    tree = tmp_path / "results"
    for folder in ("curves", "quick"):
        shutil.copytree(RESULTS / folder, tree / folder)
    read_back_tree(tree, ["quick"])
    for name in ("curves/overlap.csv", "quick/poly.csv"):
        path = tree / name
        text = path.read_text()
        path.write_text(text.replace("p_max", "pmax", 1))
        with pytest.raises(HopcapError) as err:
            read_back_tree(tree, ["quick"])
        assert str(path) in str(err.value) and "\n" not in str(err.value)
        path.write_text(text)


def test_an_older_curve_file_reads_and_migrates_once(tmp_path):
    """A curve file written before a configuration column existed reads with that column's legacy
    value, and the first append migrates its header once (old cells kept byte for byte)."""
    from capacity_cli.curves import append_table, curve_columns, read_table

    columns = curve_columns()
    path = tmp_path / "old.csv"
    rows = read_table(RESULTS / "curves" / "overlap.csv", columns, "curve")[:3]
    old = [c for c in columns if c not in ("update", "temperature")]
    append_table(path, old, rows)  # a file as an older version wrote it
    read = read_table(path, columns, "curve")
    assert [r["update"] for r in read] == ["random"] * 3
    assert [r["temperature"] for r in read] == [0.0] * 3
    append_table(path, columns, rows[:1])
    lines = path.read_text().splitlines()
    assert lines[0].split(",") == old + ["update", "temperature"]
    assert len(read_table(path, columns, "curve")) == 4
    with pytest.raises(HopcapError, match="another header"):
        append_table(path, ["model", "n"], rows[:1])


def test_read_back_refuses_an_unknown_file(tmp_path):
    (tmp_path / "x.bin").write_bytes(b"\0")
    with pytest.raises(HopcapError, match="no reader"):
        read_back(tmp_path / "x.bin")
