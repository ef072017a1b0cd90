"""Issue 26's small ones, each with a test: anamorphic thumbnails, piped tables, where a random-weights warning came
from, the demo's next commands, predict time per fold, suggest-labels' fold models and its warning line."""

from __future__ import annotations

import re

import base64

import cv2
import numpy as np
import pytest

from conftest import ffmpeg


@pytest.fixture
def anamorphic(tmp_path):
    """192 x 144 stored, sample aspect ratio 4:3: shown 256 x 144, 16:9 (as a PAL DVD's 720 x 576 is shown 16:9)."""
    path = tmp_path / "wide.mp4"
    ffmpeg("-f", "lavfi", "-i", "testsrc=size=192x144:rate=10:duration=3", "-vf", "setsar=4/3", "-c:v", "mpeg4",
           str(path))
    return path


def test_display_aspect_applies_the_sample_aspect_ratio(anamorphic, video_5s):
    from featurestore.video.aspect import display_aspect

    assert display_aspect(anamorphic) == pytest.approx(16 / 9, abs=0.01)
    assert display_aspect(video_5s) == pytest.approx(64 / 48, abs=0.01)


def test_report_thumbnails_and_contact_sheet_keep_16_9(anamorphic, tmp_path):
    from classifiers.output.sheet import draw_sheet
    from classifiers.output.thumbnails import jpeg_data_uri
    from featurestore.video.aspect import display_aspect
    from featurestore.video.pyav import AvVideoReader

    [frame] = AvVideoReader(anamorphic).frames_at([1.0])
    assert frame.shape[:2] == (144, 192)  # stored
    uri = jpeg_data_uri(frame, aspect=display_aspect(anamorphic))
    image = cv2.imdecode(np.frombuffer(base64.b64decode(uri.split(",", 1)[1]), np.uint8), cv2.IMREAD_COLOR)
    assert image.shape[1] / image.shape[0] == pytest.approx(16 / 9, abs=0.03)
    frame[:] = (0, 0, 255)
    draw_sheet(tmp_path / "s.png", [{"heading": "#1", "lines": [], "thumbs": [frame], "captions": ["0 s"],
                                     "aspect": display_aspect(anamorphic)}], title="t")
    sheet = cv2.imread(str(tmp_path / "s.png"))
    ys, xs = np.nonzero((sheet[:, :, 2] > 200) & (sheet[:, :, 0] < 60))
    assert (xs.max() - xs.min() + 1) / (ys.max() - ys.min() + 1) == pytest.approx(16 / 9, abs=0.05)


def test_piped_results_are_not_wrapped_at_80_columns(monkeypatch):
    from screentime.terminal import PIPE_WIDTH, results_console

    monkeypatch.delenv("COLUMNS", raising=False)
    monkeypatch.setattr("sys.stdout.isatty", lambda: False)
    assert results_console().width == PIPE_WIDTH > 80
    monkeypatch.setenv("COLUMNS", "80")
    assert results_console().width == 80  # the user's COLUMNS wins


def test_random_weights_warning_names_where_they_came_from(tmp_path, capsys, stand_in, video_5s, monkeypatch):
    from conftest import run_cli

    import featurestore.pipeline as pipeline

    monkeypatch.setattr(pipeline, "build_embedder", lambda config: stand_in(config), raising=False)
    code, _, err = run_cli(["embed", video_5s, "--store", tmp_path / "f.h5", "--weights", "random", "--image-size", "32",
                            "--workers", "0"], capsys)
    assert code == 0, err
    assert "warning: --weights random:" in err
    code, _, err = run_cli(["embed", video_5s, "--store", tmp_path / "f.h5", "--name", "again.mp4", "--workers", "0"], capsys)
    assert code == 0, err
    assert "--weights random" not in err and "the store holds vgg16 features from random weights" in err


def test_demo_next_commands_name_the_installed_command(monkeypatch, tmp_path):
    from types import SimpleNamespace

    from classifiers.output.demo_console import demo_lines

    result = SimpleNamespace(outputs={}, test_videos=[tmp_path / "t.mp4"], model_path=tmp_path / "m.skops",
                             store_path=tmp_path / "f.h5", weights_arg="random", train_videos=[], out_dir=tmp_path,
                             labels_path=tmp_path / "l.csv", comparison=SimpleNamespace(best_name="logreg"))
    monkeypatch.setattr("shutil.which", lambda name: "/usr/local/bin/screentime" if name == "screentime" else None)
    lines = demo_lines(result, prog="python cli.py")
    assert not any("python cli.py" in line for line in lines) and any("screentime score" in line for line in lines)
    monkeypatch.setattr("shutil.which", lambda name: None)
    assert any("python cli.py score" in line for line in demo_lines(result, prog="python cli.py"))


def test_leaderboard_fit_and_predict_are_both_seconds_per_fold(tmp_path):
    from test_refit import cars_bikes

    from classifiers.compare import compare_models
    from classifiers.output.console import leaderboard_table
    from rich.console import Console

    store, labels, _ = cars_bikes(tmp_path)
    result = compare_models(store, labels, models=["logreg", "gboost"])
    row = result.leaderboard.set_index("model").loc["gboost"]
    n_test = sum(len(test) for _, test in result.cv.folds)
    assert row["predict_s"] == pytest.approx(row["predict_s_per_1000"] * n_test / 1000 / len(result.cv.folds))
    console = Console(width=120, record=True)
    console.print(leaderboard_table(result))
    text = console.export_text()
    assert "predict" in text and "s/1k" not in text


def test_suggest_labels_fold_models_follow_compare_models_folds_on_a_short_clip(tmp_path, capsys):
    """The cars/bikes clip: compare-models splits its 10 s into 4 folds; suggest-labels refits as many, not none."""
    from test_refit import cars_bikes

    from conftest import run_cli
    from classifiers.compare import compare_models

    store, labels, _ = cars_bikes(tmp_path)
    result = compare_models(store, labels, out_path=tmp_path / "m.skops", models=["logreg"])
    code, _, err = run_cli(["suggest-labels", "--store", store, "--model", tmp_path / "m.skops", "--labels", labels,
                            "--budget-s", "2", "--out", tmp_path / "todo.csv"], capsys)
    assert code == 0, err
    assert len(result.cv.folds) == 4
    assert f"fold models: {len(result.cv.folds)} fold models refitted" in err
    # besides the bars of its steps (one line each: not a terminal), warnings and what the fold models are
    lines = [line for line in err.splitlines() if line.strip() and not re.search(r"━ \d+/\d+ ", line)]
    assert lines and all(line.startswith(("warning:", "fold models:")) for line in lines)
