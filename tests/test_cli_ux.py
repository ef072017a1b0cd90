"""The command line as a new user meets it (issue 9): help, version, usage errors, Ctrl-C, 80 columns, stdout.

Commands run in-process through `cli.main` with capsys, at COLUMNS=80; a few run as real processes where
the way Python is started matters (`python -m screentime`, `python cli.py`).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from classifiers.output.progress import RichProgress
from conftest import ROOT, write_video, run_cli as run
from featurestore import FeatureStore
from featurestore.embedding.vgg16 import VGG16Embedder

TINY = ["--weights", "random", "--image-size", "32", "--batch-size", "4"]
COMMANDS = ["", "embed", "compare-models", "score", "demo"]


@pytest.fixture(autouse=True)
def columns_80(monkeypatch):
    monkeypatch.setenv("COLUMNS", "80")


@pytest.mark.parametrize("command", COMMANDS)
def test_cli_help_is_plain_fits_80_columns_and_has_examples(command, capsys):
    code, out, _ = run([command, "--help"] if command else ["--help"], capsys, prog_name="python -m screentime")
    assert code == 0
    assert "Examples:\n  python -m screentime " in out
    assert "<bool>" not in out and "{" not in out and "<list[" not in out
    assert max(len(line) for line in out.splitlines()) <= 80, out


def test_cli_help_keeps_bracketed_text_and_lists_models(capsys):
    _, out, _ = run(["compare-models", "--help"], capsys)
    text = " ".join(out.split())
    assert "comma-separated [default: 0,1,2]" in text
    assert "Comma-separated subset of logreg,mlp,gboost,lightgbm [default: all]" in text
    assert "[default: no limit]" in text
    _, out, _ = run(["embed", "--help"], capsys)
    assert "Usage: screentime embed [OPTIONS] VIDEO...\n" in out
    assert re.search(r"^  --replace +Re-embed", out, re.MULTILINE)  # a flag, shown without a value


def test_cli_root_help_states_exit_statuses(capsys):
    _, out, _ = run(["--help"], capsys)
    text = " ".join(out.split())
    assert "1 bad input" in text and "2 bad usage" in text and "130 interrupted" in text


def test_cli_version(capsys, monkeypatch):
    code, out, err = run(["--version"], capsys)
    assert code == 0 and re.match(r"screentime \d+\.\d+\.\d+ \(python 3\.", out) and "tensorflow" in out and not err
    monkeypatch.setenv("KERAS_BACKEND", "jax")  # the libraries that make the numbers are the backend's
    code, out, err = run(["--version"], capsys)
    assert code == 0 and re.search(r"\(python 3[.\d]+, jax [.\d]+, jaxlib [.\d]+, keras ", out) and "tensorflow" not in out


@pytest.mark.slow
def test_cli_runs_as_module_and_as_file(tmp_path):
    env = dict(os.environ, COLUMNS="80")
    as_module = subprocess.run([sys.executable, "-m", "screentime", "embed", "--help"], cwd=tmp_path, env=env,
                               capture_output=True, text=True)
    assert as_module.returncode == 0, as_module.stderr
    assert "Usage: python -m screentime embed [OPTIONS] VIDEO..." in as_module.stdout
    as_file = subprocess.run([sys.executable, "cli.py", "--version"], cwd=ROOT, env=env, capture_output=True, text=True)
    assert as_file.returncode == 0 and as_file.stdout.startswith("screentime "), as_file.stderr


def test_cli_help_loads_no_heavy_library():
    # --help (and shell completion) answer from the option lists alone: no Keras, scikit-learn, pandas or h5py
    code = ("import sys; sys.argv = ['screentime', 'compare-models', '--help']; import cli\n"
            "try:\n    cli.main()\nexcept SystemExit:\n    pass\n"
            "print(sorted({m.split('.')[0] for m in sys.modules} & {'keras', 'tensorflow', 'sklearn', 'pandas', 'h5py', 'lightgbm'}))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert "--models" in done.stdout and done.stdout.strip().splitlines()[-1] == "[]", done.stdout[-500:] + done.stderr


def test_cli_embed_names_count_is_a_usage_error(tmp_path, capsys):
    a = write_video(tmp_path / "a.avi", 10, 20, fourcc="MJPG")
    b = write_video(tmp_path / "b.avi", 10, 20, fourcc="MJPG")
    code, out, err = run(["embed", a, b, "--name", "onlyone", "--store", tmp_path / "f.h5", *TINY], capsys)
    assert code == 2 and "Traceback" not in err
    assert "Invalid value for --name: 1 name for 2 videos; give one --name per video" in err
    assert not (tmp_path / "f.h5").exists()


def test_cli_bad_option_value_is_usage_error_exit_2(tmp_path, capsys):
    video = write_video(tmp_path / "v.avi", 10, 20, fourcc="MJPG")
    code, _, err = run(["embed", video, "--fps", "0", "--store", tmp_path / "f.h5"], capsys)
    assert code == 2 and "Invalid value for --fps: 0 is not a positive rate" in err and "Traceback" not in err


def interrupt_after(monkeypatch, n_batches):
    """Make the real VGG16Embedder raise KeyboardInterrupt (as Ctrl-C does) when asked for batch n_batches + 1."""
    original = VGG16Embedder.embed
    calls = []

    def embed(self, batch):
        calls.append(len(batch))
        if len(calls) > n_batches:
            raise KeyboardInterrupt
        return original(self, batch)

    monkeypatch.setattr(VGG16Embedder, "embed", embed)
    return calls


def test_cli_ctrl_c_says_where_it_stopped_and_resumes(tmp_path, capsys, monkeypatch):
    video = write_video(tmp_path / "long.avi", 10, 400, fourcc="MJPG")  # 40 samples at 1/s, batches of 4
    store = tmp_path / "f.h5"
    interrupt_after(monkeypatch, 2)
    code, out, err = run(["embed", video, "--store", store, *TINY], capsys)
    assert code == 130 and out == ""
    lines = [line for line in err.splitlines() if "interrupted" in line]
    assert lines == ["interrupted at 8/40 of long.avi; run the same command to resume"], err
    assert not store.exists()  # no store until it holds a video (issue 9 item 1); the checkpoint waits in f.h5.d/

    monkeypatch.undo()
    monkeypatch.setenv("COLUMNS", "80")
    calls = interrupt_after(monkeypatch, 10**6)
    code, out, err = run(["embed", video, "--store", store, *TINY], capsys)
    assert code == 0, err
    assert sum(calls) == 32  # the 8 checkpointed samples were not embedded again
    assert re.search(r"long\.avi +resumed +40 +40\.0 +32 ", out), out
    assert FeatureStore(store).info("long.avi")["n_samples"] == 40


def test_rich_progress_rate_counts_this_run_and_bar_stays_on_interrupt(monkeypatch):
    from rich.console import Console

    clock = [100.0, 102.0]
    monkeypatch.setattr("time.perf_counter", lambda: clock.pop(0) if len(clock) > 1 else clock[0])
    console = Console(file=open(os.devnull, "w"), width=80)
    progress = RichProgress(console)
    with pytest.raises(KeyboardInterrupt):
        with progress:
            progress.start("long.mp4", 421, n_done=188)
            progress.advance(4)  # 4 samples in 2 s: 2.0 samples/s, not (188 + 4) / 2
            task = progress._progress.tasks[0]
            assert task.fields["rate"] == "2.0 samples/s" and task.completed == 192
            raise KeyboardInterrupt
    assert task.total == 421 and task.completed == 192  # the bar did not jump to done
    assert progress.interrupted_message() == "interrupted at 192/421 of long.mp4; run the same command to resume"


def test_cli_tables_fit_80_columns(tmp_path, capsys):
    """Fold plan, leaderboard, per-class table and embed table stay readable at 80 columns: nothing cut with '…'."""
    from test_compare import make_scene_store

    store, labels = make_scene_store(tmp_path, 3, n_frames=100, informative=True)
    code, out, err = run(["compare-models", "--store", store, "--labels", labels, "--models", "logreg,mlp,gboost,lightgbm",
                          "--folds", "3", "--jobs", "1", "--out", tmp_path / "m.joblib"], capsys)
    assert code == 0, err
    assert "…" not in out and max(len(line) for line in out.splitlines()) <= 80, out
    assert re.search(r"^ *test videos +1 +1 +1 *$", out, re.MULTILINE), out  # one column per fold
    for c in ("a", "b", "c"):
        assert re.search(rf"^ *test {c}( +\d+){{3}} *$", out, re.MULTILINE), out

    long_name = write_video(tmp_path / "Tom and Jerry - The Night Before Christmas (1941).avi", 10, 20, fourcc="MJPG")
    code, out, err = run(["embed", long_name, "--store", tmp_path / "e.h5", *TINY], capsys)
    assert code == 0, err
    assert "…" not in out and max(len(line) for line in out.splitlines()) <= 80, out
    assert "(1941).avi" in out  # the name is folded onto another line, not cut


def test_cli_embed_again_says_it_was_stored(tmp_path, capsys):
    video = write_video(tmp_path / "v.avi", 10, 20, fourcc="MJPG")
    run(["embed", video, "--store", tmp_path / "f.h5", *TINY], capsys)
    code, out, _ = run(["embed", video, "--store", tmp_path / "f.h5", *TINY], capsys)
    assert code == 0 and "it was already in" in " ".join(out.split()) and "1 of 1 videos" not in out


def test_keras_download_messages_go_to_stderr_and_a_failure_is_not_retried(monkeypatch, capsys):
    """Offline, Keras prints 'Downloading data from ...' on stdout and raises a bare Exception: stdout stays clean."""
    import featurestore.embedding.vgg16 as embed_module
    from featurestore import EmbeddingConfig
    from featurestore.errors import WeightsUnavailable

    from featurestore.embedding.backend import import_keras

    import_keras()
    from keras.applications import vgg16

    attempts = []

    def offline_vgg16(*, weights=None, **kwargs):
        attempts.append(weights)
        print("Downloading data from https://storage.googleapis.com/vgg16_notop.h5")
        raise Exception("URL fetch failure on https://storage.googleapis.com/vgg16_notop.h5: None -- no network")

    monkeypatch.setattr(vgg16, "VGG16", offline_vgg16)
    monkeypatch.setattr(embed_module, "_imagenet_failure", None)
    for _ in range(2):
        with pytest.raises(WeightsUnavailable, match="URL fetch failure, offline"):
            VGG16Embedder(EmbeddingConfig(weights="imagenet", image_size_px=32))
    captured = capsys.readouterr()
    assert captured.out == "" and "Downloading data from" in captured.err
    assert attempts == ["imagenet"]  # the second embedder did not try the network again


def test_offline_imagenet_weights_fail_in_one_line_before_any_progress_bar(tmp_path, monkeypatch, capsys):
    """Issue 18: the ImageNet weights, neither cached nor downloadable, are refused before the bar is drawn."""
    import featurestore.embedding.vgg16 as embed_module
    from featurestore.embedding.backend import import_keras

    import_keras()
    from keras.applications import vgg16

    def offline_vgg16(*, weights=None, **kwargs):  # what Keras raises offline
        raise Exception("URL fetch failure on https://storage.googleapis.com/vgg16_notop.h5: None -- name resolution")

    monkeypatch.setattr(vgg16, "VGG16", offline_vgg16)
    monkeypatch.setattr(embed_module, "_imagenet_failure", None)
    monkeypatch.setattr(embed_module, "imagenet_weights_path", lambda: None)
    video = write_video(tmp_path / "clip.avi", 10, 30, fourcc="MJPG")
    code, out, err = run(["embed", video, "--store", tmp_path / "f.h5", "--weights", "imagenet", "--image-size", "32"], capsys)
    assert code == 1 and out == "" and err.count("\n") == 1, err
    assert err.startswith("error: could not get the ImageNet weights") and "--weights FILE" in err and "--weights random" in err
    assert "or --backbone efficientnet-lite0 (ImageNet weights installed with screentime" in err  # docs/embed.md
    assert "clip.avi" not in err and "0/" not in err  # no progress bar line
    assert not (tmp_path / "f.h5").exists()


def test_imagenet_weights_path_looks_in_the_keras_cache(tmp_path, monkeypatch):
    from featurestore.embedding.config import IMAGENET_NOTOP_FILE, imagenet_weights_path

    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    monkeypatch.setattr(Path, "home", lambda: tmp_path / "nobody")
    if Path("/tmp/.keras/models", IMAGENET_NOTOP_FILE).is_file():
        pytest.skip("this machine has the ImageNet weights in /tmp/.keras")
    assert imagenet_weights_path() is None
    (tmp_path / "models").mkdir()
    (tmp_path / "models" / IMAGENET_NOTOP_FILE).write_bytes(b"weights")
    assert imagenet_weights_path() == tmp_path / "models" / IMAGENET_NOTOP_FILE


@pytest.fixture(scope="module")
def scored(tmp_path_factory):
    """Two labelled 15 s colour-coded episodes embedded (random VGG16, 32 px) and a logreg model; a third to score."""
    from classifiers.compare import compare_models
    from featurestore import EmbeddingConfig, embed_videos
    from test_score import labelled_episodes, make_episode

    d = tmp_path_factory.mktemp("scored")
    episodes = labelled_episodes(d, 2, seconds=15)
    make_episode(d / "new.avi", seed=7, seconds=12)
    embed_videos(episodes, d / "f.h5", config=EmbeddingConfig(weights="random", image_size_px=32))
    compare_models(d / "f.h5", d / "labels.csv", out_path=d / "best.joblib", models=["logreg"], n_splits=2)
    return d


def test_cli_score_json_to_stdout_with_grid_and_frame_times(scored, capsys):
    d = scored
    code, out, err = run(["score", d / "new.avi", "--model", d / "best.joblib", "--store", d / "f.h5", "--json", "-"], capsys)
    assert code == 0, err
    doc = json.loads(out)  # stdout holds the JSON alone; the tables went to stderr
    assert "screen time" in err and "1 sample/s" in err
    samples = doc["videos"][0]["samples"]
    stored = FeatureStore(d / "f.h5").read("new.avi")
    assert [s["time"] for s in samples] == pytest.approx(stored.requested_s)
    assert [s["actual_s"] for s in samples] == pytest.approx(stored.actual_s, abs=1e-3)


def test_cli_score_other_rate_of_stored_video_names_its_options(scored, capsys):
    d = scored
    argv = ["score", d / "ep0.avi", "--model", d / "best.joblib", "--store", d / "f.h5", "--fps", "2"]
    code, _, err = run(argv, capsys)
    assert code == 1 and len(err.strip().splitlines()) == 1
    assert "at 1.0 samples/s, this run asks for 2.0; pass --fps 1 to use the stored samples, --replace" in err
    code, _, err = run([*argv, "--name", "ep0 at 2/s"], capsys)
    assert code == 0, err
    assert FeatureStore(d / "f.h5").info("ep0 at 2/s")["sample_fps"] == 2.0
    assert FeatureStore(d / "f.h5").info("ep0.avi")["sample_fps"] == 1.0


def test_cli_compare_models_warns_about_matched_names(tmp_path, capsys):
    from test_compare import make_scene_store

    store, labels = make_scene_store(tmp_path, 3, n_frames=60)
    labels.write_text(labels.read_text().replace("v0.mp4", "v0.mkv"))
    code, _, err = run(["compare-models", "--store", store, "--labels", labels, "--models", "logreg", "--folds", "3",
                        "--jobs", "1", "--out", tmp_path / "m.joblib"], capsys)
    assert code == 0, err
    assert "warning: labels.csv: matched 1 video name to stored ids by file name: 'v0.mkv' -> 'v0.mp4'" in err
