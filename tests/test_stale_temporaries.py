"""A kill -9 while outputs are renamed into place leaves the hidden temporary file of the one not yet renamed; the
next run that writes that output removes it, and never a temporary file of a running process or a user's file."""

from __future__ import annotations

import os
import subprocess
import sys
import time

from conftest import ROOT
from featurestore.files import _HOST, remove_stale_temporaries, temporary_sibling
from featurestore.outputs import CallFiles
from test_compare import make_scene_store, run_cli

DIE_AFTER_FIRST_RENAME = """
import os, signal, sys
real_replace = os.replace

def replace_then_die(src, dst, *args, **kwargs):
    real_replace(src, dst, *args, **kwargs)
    if os.path.basename(os.fspath(dst)) in ("m.skops", "board.csv"):
        os.kill(os.getpid(), signal.SIGKILL)  # between the renames of the model and its report

os.replace = replace_then_die
from cli import main
main(sys.argv[1:])
"""


def a_dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_a_rerun_removes_what_a_kill_9_between_the_renames_left_and_nothing_else(tmp_path, capsys):
    store, labels = make_scene_store(tmp_path, 3, n_frames=60, informative=True)
    argv = ["compare-models", "-s", str(store), "-l", str(labels), "-m", "logreg", "-k", "3", "-j", "1",
            "--feature-norm", "none", "--context-s", "0", "-o", str(tmp_path / "m.skops"), "--report",
            str(tmp_path / "board.csv")]
    killed = subprocess.run([sys.executable, "-c", DIE_AFTER_FIRST_RENAME, *argv], cwd=ROOT, capture_output=True,
                            env={**os.environ, "PYTHONPATH": str(ROOT)}, timeout=300)
    assert killed.returncode == -9, killed.stderr.decode()[-2000:]
    [left] = tmp_path.glob(".*.tmp-*")  # one output renamed, the other's temporary file left by the killed run
    assert left.name.startswith((".m.skops.tmp-", ".board.csv.tmp-"))
    code, _, err = run_cli(argv, capsys)
    assert code == 0 and left.exists(), err  # a writer of the same name on another machine could still be at it
    _age(left, 700)
    with subprocess.Popen(["sleep", "60"]) as sleeper:  # a running writer of the same output: its file stays
        try:
            running = tmp_path / f".m.skops.tmp-{sleeper.pid}@{_HOST}-0123abcd"
            other_host = tmp_path / f".m.skops.tmp-{a_dead_pid()}@ffffffff-0123abcd"
            mine = tmp_path / ".m.skops.tmp-my-notes"
            other_output = tmp_path / f".other.csv.tmp-{a_dead_pid()}@{_HOST}-0123abcd"
            for path in (running, other_host, mine, other_output):
                path.write_text("keep")
                _age(path, 7200)
            code, _, err = run_cli(argv, capsys)
            assert code == 0, err
            assert not left.exists()
            assert sorted(p.name for p in tmp_path.glob(".*")) == sorted(
                p.name for p in (running, other_host, mine, other_output))
        finally:
            sleeper.kill()


def _age(path, seconds: float) -> None:
    then = time.time() - seconds
    os.utime(path, (then, then))


def test_a_check_removes_temporaries_of_dead_processes_only_once_named_by_this_machine(tmp_path):
    out = tmp_path / "result.json"
    dead = tmp_path / f".result.json.tmp-{a_dead_pid()}@{_HOST}-0123abcd"
    dead_just_now = tmp_path / f".result.json.tmp-{a_dead_pid()}@{_HOST}-89abcdef"
    ours = temporary_sibling(out)  # this process's: alive
    untagged_old = tmp_path / f".result.json.tmp-{a_dead_pid()}-0123abcd"  # named before the host was
    untagged_new = tmp_path / f".result.json.tmp-{a_dead_pid()}-4567abcd"
    for path in (dead, dead_just_now, ours, untagged_old, untagged_new):
        path.write_text("x")
    _age(untagged_old, 7200)
    _age(dead, 700)
    _age(untagged_new, 700)
    CallFiles().write("json_path", out).check()
    assert not dead.exists() and not untagged_old.exists()
    assert ours.exists() and untagged_new.exists() and dead_just_now.exists()
    assert remove_stale_temporaries([out]) == []


def test_a_stale_temporary_this_user_may_not_remove_is_left_without_an_error(tmp_path, monkeypatch):
    """Another user's file in a shared (sticky) folder: unlink raises PermissionError; the command goes on."""
    from pathlib import Path

    out = tmp_path / "result.json"
    dead = tmp_path / f".result.json.tmp-{a_dead_pid()}@{_HOST}-0123abcd"
    dead.write_text("x")
    _age(dead, 700)
    real_unlink = Path.unlink

    def refuse(self, *args, **kwargs):
        if self == dead:
            raise PermissionError(1, "Operation not permitted", str(self))
        return real_unlink(self, *args, **kwargs)

    monkeypatch.setattr(Path, "unlink", refuse)
    CallFiles().write("json_path", out).check()
    assert dead.exists() and remove_stale_temporaries([out]) == []
