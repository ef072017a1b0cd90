"""JSON and CSV writers: the exact schema other programs rely on, plain rounded floats, no NaN."""

import csv
import json

import numpy as np
import pytest

from classifiers.output.results import results_to_dict, write_csv, write_json
from classifiers.chain.smoothing import Smoother
from classifiers.chain.timeline import summarize_video

CLASSES = ["tom", "jerry"]
VIDEO_KEYS = {"video", "duration_s", "sample_fps", "screen_time_s", "share", "segments", "samples"}


@pytest.fixture
def results():
    """Two videos: 'a' is tom 0-2 s then jerry 2-3.25 s; 'b' is jerry for its whole 2 s."""
    a = summarize_video(
        "a.mp4", np.arange(4.0), np.array([[0.9, 0.1], [0.8, 0.2], [0.3, 0.7], [0.123456, 0.876544]]),
        np.array(CLASSES), 3.25, 1.0,
    )
    b = summarize_video("b.mp4", np.arange(4) / 2.0, np.tile([0.4, 0.6], (4, 1)), CLASSES, 2.0, 2.0)
    return [a, b]


def test_results_to_dict_schema_exact(results):
    doc = results_to_dict(results, {"path": "best.joblib", "smoother": Smoother("hmm", 10.0).to_dict()})
    assert {"model", "videos", "total_screen_time_s"} <= set(doc)
    assert doc["model"] == {"path": "best.joblib", "smoother": {"method": "hmm", "window_s": 10.0}}
    video = doc["videos"][0]
    assert VIDEO_KEYS <= set(video)
    assert (video["video"], video["duration_s"], video["sample_fps"]) == ("a.mp4", 3.25, 1.0)
    assert video["screen_time_s"] == {"tom": 2.0, "jerry": 1.25}
    assert video["share"] == {"tom": 0.6154, "jerry": 0.3846}
    assert video["segments"] == [
        {"start": 0.0, "end": 2.0, "label": "tom", "confidence": 0.85},
        {"start": 2.0, "end": 3.25, "label": "jerry", "confidence": 0.7883},
    ]
    assert set(video["samples"][0]) == {"time", "label", "proba"}
    assert video["samples"][3] == {"time": 3.0, "label": "jerry", "proba": {"tom": 0.1235, "jerry": 0.8765}}
    assert doc["total_screen_time_s"] == {"tom": 2.0, "jerry": 3.25}


def test_results_to_dict_plain_python_types(results):
    doc = results_to_dict(results, {"n_features": np.int64(512), "score": np.float32(0.5), "nan": float("nan")})
    assert doc["model"] == {"n_features": 512, "score": 0.5, "nan": None}
    sample = doc["videos"][0]["samples"][0]
    assert type(sample["time"]) is float and type(sample["proba"]["tom"]) is float
    assert type(doc["videos"][0]["segments"][0]["start"]) is float
    json.dumps(doc, allow_nan=False)


def test_write_json_round_trips_and_is_strict_json(results, tmp_path):
    path = write_json(tmp_path / "result.json", results, {"name": "logreg"})
    text = path.read_text(encoding="utf-8")
    assert "NaN" not in text and "Infinity" not in text
    doc = json.loads(text)
    assert doc == results_to_dict(results, {"name": "logreg"})
    assert not list(tmp_path.glob("*.tmp"))


def test_write_csv_one_row_per_segment(results, tmp_path):
    path = write_csv(tmp_path / "segments.csv", results)
    lines = path.read_text(encoding="utf-8").splitlines()
    assert lines[0] == "video,start,end,label,confidence"
    rows = list(csv.DictReader(lines))
    assert len(rows) == sum(len(r.segments) for r in results) == 3
    assert rows[1] == {"video": "a.mp4", "start": "2.0", "end": "3.25", "label": "jerry", "confidence": "0.7883"}
    assert rows[2]["video"] == "b.mp4" and float(rows[2]["end"]) == 2.0


def test_results_samples_carry_grid_and_frame_time(results):
    a = results[0]
    a.actual_s = a.sample_s + 0.0333333
    [video, _] = results_to_dict(results)["videos"]
    assert video["samples"][1] == {"time": 1.0, "actual_s": 1.033, "label": "tom", "proba": {"tom": 0.8, "jerry": 0.2}}
    assert "actual_s" not in results_to_dict([results[1]])["videos"][0]["samples"][0]  # unknown: not made up


def test_writers_take_dash_for_stdout(results, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    write_json("-", results, {"name": "logreg"})
    assert json.loads(capsys.readouterr().out) == results_to_dict(results, {"name": "logreg"})
    write_csv("-", results)
    assert capsys.readouterr().out.splitlines()[0] == "video,start,end,label,confidence"
    assert not (tmp_path / "-").exists()


def test_single_label_json_keys_unchanged_by_multi_label(results):
    """Issue 11 adds keys for multi-label models only: a single-label document keeps its exact keys, in order
    (issue 18 adds unlike_training and training_distance to every video, after them; issue 26
    raw_training_distance and warning)."""
    doc = results_to_dict(results)
    assert list(doc) == ["model", "videos", "total_screen_time_s", "interval_level", "interval_note"]
    assert list(doc["videos"][0]) == ["video", "duration_s", "sample_fps", "screen_time_s", "share", "n_appearances", "first_s",
                                      "last_s", "screen_time_interval_s", "segments", "samples", "unlike_training",
                                      "training_distance", "raw_training_distance", "warning"]
    assert set(doc["videos"][0]["samples"][0]) == {"time", "label", "proba"}
