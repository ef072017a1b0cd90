"""score with a multi-label model, end to end on tiny videos through the real (random-weight) VGG16:
time together counts for both characters, in the tables, the JSON, the segments CSV and the plot."""

import csv
import json

import cv2
import numpy as np
import pytest

from featurestore import EmbeddingConfig, embed_videos
from conftest import run_cli as run, write_labels

JERRY, TOM, ROOM = (30, 120, 200), (200, 120, 90), (60, 60, 60)
SETS = [(), ("jerry",), ("tom",), ("jerry", "tom")]


def make_episode(path, seed, seconds=30):
    """Per second a set of characters (runs of 2-5 s): jerry paints the left half, tom the right half, else the room.

    Returns the set of characters on screen in each second.
    """
    rng = np.random.default_rng(seed)
    seconds_sets: list[tuple] = []
    while len(seconds_sets) < seconds:
        seconds_sets += [SETS[int(rng.integers(4))]] * int(rng.integers(2, 6))
    seconds_sets = seconds_sets[:seconds]
    frames = []
    for on in seconds_sets:
        frame = np.empty((48, 64, 3), np.uint8)
        jitter = rng.integers(-12, 12, 3)
        frame[:, :32] = np.clip(np.array(JERRY if "jerry" in on else ROOM) + jitter, 0, 255)
        frame[:, 32:] = np.clip(np.array(TOM if "tom" in on else ROOM) + jitter, 0, 255)
        frames += [frame] * 10
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 10, (64, 48))
    for frame in frames:
        writer.write(frame)
    writer.release()
    return seconds_sets


def label_rows(video_id, seconds_sets):
    """One line per character per run of seconds it is on screen, 'neither' for runs with none."""
    rows = []
    for name in ("jerry", "tom", "neither"):
        on = [(name in s) if name != "neither" else not s for s in seconds_sets] + [False]
        start = None
        for i, flag in enumerate(on):
            if flag and start is None:
                start = i
            elif not flag and start is not None:
                rows.append(f"{video_id},{start},{i},{name}")
                start = None
    return rows


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """Three labelled episodes embedded (random VGG16, 32 px), a multi-label logreg model, and a held-out episode."""
    from classifiers.compare import compare_models

    d = tmp_path_factory.mktemp("score_ml")
    rows = []
    for i in range(3):
        rows += label_rows(f"ep{i}.avi", make_episode(d / f"ep{i}.avi", seed=i))
    truth = make_episode(d / "held out.avi", seed=10)
    write_labels(d / "labels.csv", rows)
    embed_videos([d / f"ep{i}.avi" for i in range(3)], d / "f.h5", config=EmbeddingConfig(weights="random", image_size_px=32))
    compare_models(d / "f.h5", d / "labels.csv", out_path=d / "best.skops", models=["logreg"], n_splits=3, multi_label=True,
                   feature_norm="none", context_s=0.0)
    return d, truth


def test_score_multi_label_model_counts_time_together_for_both(trained, capsys):
    d, truth = trained
    code, out, err = run(["score", d / "held out.avi", "--model", d / "best.skops", "--store", d / "f.h5",
                          "--json", d / "r.json", "--csv", d / "r.csv", "--plot", d / "r.png"], capsys)
    assert code == 0, err
    doc = json.loads((d / "r.json").read_text())
    assert doc["model"]["multi_label"] is True and set(doc["model"]["thresholds"]) == {"jerry", "tom"}
    [video] = doc["videos"]
    true_s = {c: sum(c in s for s in truth) for c in ("jerry", "tom")}
    true_together, true_none = sum(len(s) == 2 for s in truth), sum(not s for s in truth)
    assert true_together >= 3  # the episode really has shared seconds
    assert set(video["screen_time_s"]) == {"jerry", "tom"} == set(video["share"]) == set(video["screen_time_interval_s"])
    for c in ("jerry", "tom"):
        assert video["screen_time_s"][c] == pytest.approx(true_s[c], abs=2.0)
    assert video["together_s"] == pytest.approx(true_together, abs=2.0) and video["none_s"] == pytest.approx(true_none, abs=2.0)
    assert sum(video["screen_time_s"].values()) == pytest.approx(30.0 - video["none_s"] + video["together_s"])
    assert set(video["samples"][0]) == {"time", "actual_s", "labels", "proba"} and set(video["samples"][0]["proba"]) == {"jerry", "tom"}
    segments = video["segments"]
    assert any(a["label"] != b["label"] and a["start"] < b["end"] and b["start"] < a["end"]
               for a in segments for b in segments)  # characters' segments overlap where they share the screen
    assert all(0.0 <= s["confidence"] <= 1.0 for s in segments)
    rows = list(csv.DictReader((d / "r.csv").open()))
    assert {r["label"] for r in rows} <= {"jerry", "tom"} and len(rows) == len(segments)
    assert (d / "r.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    text = " ".join(out.split())
    assert "│ together │" in text and "│ neither │" in text and "character" in text
    assert doc["total_together_s"] == video["together_s"]


def test_score_label_studio_tasks_of_a_multi_label_model_read_back_as_its_guess(trained, capsys):
    """The tasks' regions, read back as a Label Studio export, give each sample the characters the model saw."""
    from classifiers.data.join import read_labels
    from featurestore import FeatureStore

    d, _ = trained
    code, out, err = run(["score", d / "held out.avi", "--model", d / "best.skops", "--store", d / "f.h5",
                          "--json", d / "ls.json", "--label-studio", d / "tasks.json"], capsys)
    assert code == 0, err
    [task] = json.loads((d / "tasks.json").read_text())
    labels = {r["value"]["timelinelabels"][0] for r in task["predictions"][0]["result"]}
    assert labels <= {"jerry", "tom", "neither"} and "neither" in labels
    export = [{"id": 1, "data": task["data"], "annotations": [{"id": 1, "result": task["predictions"][0]["result"]}]}]
    (d / "export.json").write_text(json.dumps(export))
    frames = read_labels(d / "export.json", FeatureStore(d / "f.h5"), multi_label=True)
    [video] = json.loads((d / "ls.json").read_text())["videos"]
    assert [tuple(s["labels"]) for s in video["samples"]] == frames["labels"].tolist()
    config = (d / "tasks.config.xml").read_text()
    assert all(f'<Label value="{c}" />' in config for c in ("jerry", "tom", "neither"))
