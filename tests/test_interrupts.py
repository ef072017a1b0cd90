"""Interrupting the steps after embed as users do: Ctrl-C, SIGTERM (a job scheduler, `kill`), a full disk while
writing outputs. Exit status 130 (128 + the signal), one line, no worker left running, no temporary file left,
outputs all old or all new, never a mix."""

import os
import signal
import subprocess
import sys
import time

import pytest

from conftest import ROOT, alive, run_cli as run
from featurestore.errors import OutputUnwritable
from featurestore.files import written_together
from test_store_faults import fill, small_disk  # noqa: F401 (a fixture)
from test_workers import children_of


def test_ctrl_c_between_the_renames_of_outputs_written_together_replaces_all_then_stops(tmp_path, monkeypatch):
    paths = [tmp_path / name for name in ("a.json", "b.csv", "c.html")]
    for path in paths:
        path.write_text("old")
    real_replace, renamed = os.replace, []

    def replace_then_ctrl_c(src, dst):
        real_replace(src, dst)
        renamed.append(dst)
        if len(renamed) == 1:
            signal.raise_signal(signal.SIGINT)  # the user presses Ctrl-C after the first output is in place

    monkeypatch.setattr(os, "replace", replace_then_ctrl_c)
    with pytest.raises(KeyboardInterrupt):
        with written_together(*paths) as temps:
            for tmp in temps:
                tmp.write_text("new")
    assert len(renamed) == 3 and [p.read_text() for p in paths] == ["new"] * 3
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.json", "b.csv", "c.html"]  # no temporary file left
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_ctrl_c_pressed_twice_during_the_renames_stops_at_once(tmp_path, monkeypatch):
    paths = [tmp_path / name for name in ("a.json", "b.csv", "c.html")]
    real_replace, renamed = os.replace, []

    def replace_then_ctrl_c_twice(src, dst):
        real_replace(src, dst)
        renamed.append(dst)
        signal.raise_signal(signal.SIGINT)
        signal.raise_signal(signal.SIGINT)  # a disk that hangs: the user insists

    monkeypatch.setattr(os, "replace", replace_then_ctrl_c_twice)
    with pytest.raises(KeyboardInterrupt):
        with written_together(*paths) as temps:
            for tmp in temps:
                tmp.write_text("new")
    assert len(renamed) == 1 and sorted(p.name for p in tmp_path.iterdir()) == [renamed[0].name]  # temps removed
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_ctrl_c_before_the_outputs_are_written_keeps_the_old_ones(tmp_path):
    paths = [tmp_path / "a.json", tmp_path / "b.csv"]
    for path in paths:
        path.write_text("old")
    with pytest.raises(KeyboardInterrupt):
        with written_together(*paths) as temps:
            temps[0].write_text("new")
            raise KeyboardInterrupt
    assert [p.read_text() for p in paths] == ["old", "old"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.json", "b.csv"]


def test_ctrl_c_in_compare_models_is_exit_130_and_one_line(two_models, tmp_path, capsys, monkeypatch):
    d, _, _ = two_models

    def ctrl_c(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr("classifiers.compare.run_folds", ctrl_c)
    out = tmp_path / "m.skops"
    out.write_bytes(b"old model")
    code, stdout, err = run(["compare-models", "--store", d / "f.h5", "--labels", d / "single.csv", "--out", out,
                             "--models", "logreg", "-k", "3"], capsys)
    assert code == 130
    assert err.strip().splitlines()[-1] == "interrupted; outputs are replaced only when all of them are complete; run the same command again"
    assert "Traceback" not in err and out.read_bytes() == b"old model"


def test_a_full_disk_names_the_model_not_the_report(two_models, small_disk):  # noqa: F811 (the fixture)
    from classifiers.compare import compare_models

    d, _, _ = two_models
    model, report = small_disk / "m.skops", small_disk / "m.csv"
    model.write_text("old")
    report.write_text("old")
    fill(small_disk, 16_000)  # room for the leaderboard, not for the model and its fold models
    with pytest.raises(OutputUnwritable, match="m.skops: cannot write it"):
        compare_models(d / "f.h5", d / "single.csv", out_path=model, report_path=report, models=["logreg"], n_splits=3)
    assert model.read_text() == "old" and report.read_text() == "old"
    assert sorted(p.name for p in small_disk.iterdir()) == ["filler", "m.csv", "m.skops"]


@pytest.mark.slow
@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGHUP])
def test_sigterm_during_cross_validation_stops_workers_and_keeps_the_old_model(two_models, tmp_path, sig):
    """Before: SIGTERM killed only the main process; its loky workers fitted on for ever (holding the terminal's
    pipes) and the CV's temporary folder stayed in /tmp."""
    d, _, _ = two_models
    out = tmp_path / "m.skops"
    out.write_bytes(b"old model")
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    argv = [sys.executable, str(ROOT / "cli.py"), "compare-models", "--store", str(d / "f.h5"), "--labels",
            str(d / "single.csv"), "--out", str(out), "-j", "2", "-k", "3"]
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT,
                            env={**os.environ, "TMPDIR": str(tmp)})
    deadline, workers = time.time() + 180, []
    while not workers and time.time() < deadline and proc.poll() is None:
        time.sleep(0.05)
        workers = [pid for pid in children_of(proc.pid) if "popen_loky" in _cmdline(pid)]  # fitting folds
    assert proc.poll() is None and workers, "the run ended before it could be interrupted"
    os.kill(proc.pid, sig)
    _, err = proc.communicate(timeout=120)
    time.sleep(1.0)
    assert proc.returncode == 128 + sig
    assert err.strip().splitlines()[-1] == (f"terminated ({signal.Signals(sig).name}); outputs are replaced only when "
                                            "all of them are complete; run the same command again"), err
    assert "Traceback" not in err
    assert not any(alive(pid) for pid in workers), "workers outlived the command"
    assert not any(p.name.startswith("screentime-cv-") for p in tmp.iterdir())
    assert out.read_bytes() == b"old model" and sorted(p.name for p in tmp_path.iterdir()) == ["m.skops", "tmp"]


def _cmdline(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as fh:
            return fh.read().decode(errors="replace")
    except OSError:
        return ""
