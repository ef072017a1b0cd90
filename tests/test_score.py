"""score end to end on tiny colour-coded videos: screen time, JSON/CSV/PNG outputs, refusals."""

import csv
import json
import struct

import numpy as np
import pytest

from conftest import write_labels, write_video, run_cli as run
from featurestore import EmbeddingConfig, FeatureStore, embed_videos

COLOURS = {"neither": (40, 40, 40), "jerry": (30, 120, 200), "tom": (200, 120, 90)}
TINY = ["--weights", "random", "--image-size", "32"]


def make_episode(path, seed, seconds=30):
    """Each second is one character's colour (with jitter), shots of 2-5 s; returns per-second labels."""
    rng = np.random.default_rng(seed)
    labels = []
    while len(labels) < seconds:
        labels += [str(rng.choice(list(COLOURS)))] * int(rng.integers(2, 6))
    labels = labels[:seconds]
    colours = []
    for label in labels:
        c = np.clip(np.array(COLOURS[label]) + rng.integers(-15, 15, 3), 0, 255)
        colours += [tuple(int(x) for x in c)] * 10
    write_video(path, 10, 10 * seconds, fourcc="MJPG", colours=colours)
    return labels


def labelled_episodes(folder, n, seconds=30, labels_path=None):
    """ep0.avi .. ep{n-1}.avi in `folder` (`make_episode`, seeds 0 ..) and their intervals in `labels_path` (default
    folder / 'labels.csv'); returns the videos' paths."""
    paths = [folder / f"ep{i}.avi" for i in range(n)]
    rows = [row for i, path in enumerate(paths) for row in interval_rows(path.name, make_episode(path, seed=i, seconds=seconds))]
    write_labels(labels_path or folder / "labels.csv", rows)
    return paths


def interval_rows(video_id, labels):
    rows, start = [], 0
    for i in range(1, len(labels) + 1):
        if i == len(labels) or labels[i] != labels[start]:
            rows.append(f"{video_id},{start},{i},{labels[start]}")
            start = i
    return rows


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """Three labelled episodes embedded (random VGG16, 32 px), a logreg model, and a held-out episode."""
    from classifiers.compare import compare_models

    d = tmp_path_factory.mktemp("score")
    episodes = labelled_episodes(d, 3)
    truth = make_episode(d / "held out.avi", seed=10)
    embed_videos(episodes, d / "f.h5", config=EmbeddingConfig(weights="random", image_size_px=32))
    compare_models(d / "f.h5", d / "labels.csv", out_path=d / "best.joblib", models=["logreg"], n_splits=3)
    return d, truth


def test_score_reports_true_screen_time_and_writes_outputs(trained, capsys):
    d, truth = trained
    code, out, err = run(["score", d / "held out.avi", "--model", d / "best.joblib", "--store", d / "f.h5",
                          "--json", d / "r.json", "--csv", d / "r.csv", "--plot", d / "r.png"], capsys)
    assert code == 0, err
    result = json.loads((d / "r.json").read_text())
    assert set(result) >= {"model", "videos", "total_screen_time_s"}
    [video] = result["videos"]
    assert set(video) >= {"video", "duration_s", "sample_fps", "screen_time_s", "share", "segments", "samples"}
    for label in COLOURS:
        assert video["screen_time_s"][label] == pytest.approx(truth.count(label), abs=1.0)
    assert sum(video["screen_time_s"].values()) == pytest.approx(30.0)
    assert set(video["segments"][0]) >= {"start", "end", "label", "confidence"}
    assert set(video["samples"][0]) >= {"time", "label", "proba"} and len(video["samples"]) == 30
    rows = list(csv.DictReader((d / "r.csv").open()))
    assert list(rows[0]) == ["video", "start", "end", "label", "confidence"]
    assert sum(float(r["end"]) - float(r["start"]) for r in rows) == pytest.approx(30.0)
    png = (d / "r.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and struct.unpack(">II", png[16:24])[0] > 600
    assert "held out.avi" in out and "screen time" in out and "75% intervals (90% asked; 3 held-out videos" in out
    assert result["interval_level"] == 0.75 and "3 whole videos held out" in result["interval_note"]  # what 3 videos support
    for label, (low, high) in video["screen_time_interval_s"].items():
        assert 0.0 <= low <= video["screen_time_s"][label] <= high <= 30.0
        assert f"{video['screen_time_s'][label]:.1f} s (" in out


def test_score_second_time_uses_store_and_totals_several_videos(trained, capsys):
    d, truth = trained
    code, out, err = run(["score", d / "held out.avi", d / "ep0.avi", "--model", d / "best.joblib", "--store", d / "f.h5"], capsys)
    assert code == 0, err
    assert "total over 2 videos" in out
    assert "ep0.avi" in FeatureStore(d / "f.h5")


def test_score_same_totals_at_other_rate(trained, capsys):
    d, truth = trained
    code, out, err = run(["score", d / "held out.avi", "--model", d / "best.joblib", "--store", d / "f2.h5",
                          "--fps", "2", "--json", d / "r2.json", "--smooth", "none"], capsys)
    assert code == 0, err
    [video] = json.loads((d / "r2.json").read_text())["videos"]
    assert video["sample_fps"] == 2.0 and len(video["samples"]) == 60
    for label in COLOURS:
        assert video["screen_time_s"][label] == pytest.approx(truth.count(label), abs=1.0)


def test_score_refuses_store_of_other_config(trained, tmp_path, capsys):
    d, _ = trained
    other = tmp_path / "other.h5"
    embed_videos([d / "ep0.avi"], other, config=EmbeddingConfig(weights="random", image_size_px=64))
    before = sorted(p.read_bytes() for p in tmp_path.rglob("*.h5"))
    code, _, err = run(["score", d / "held out.avi", "--model", d / "best.joblib", "--store", other], capsys)
    assert code == 1 and len(err.strip().splitlines()) == 1
    assert "image_size_px 32 vs 64" in err and "re-embed" in err
    assert sorted(p.read_bytes() for p in tmp_path.rglob("*.h5")) == before


@pytest.mark.parametrize("content,problem", [
    (None, "does not exist"),
    (b"garbage, not a pickle", "cannot be read"),
    ("dict", "not a screentime model"),
])
def test_score_refuses_bad_model_files(trained, tmp_path, capsys, content, problem):
    import joblib

    d, _ = trained
    model = tmp_path / "model.joblib"
    if content == "dict":
        joblib.dump({"some": "other tool"}, model)
    elif content is not None:
        model.write_bytes(content)
    code, _, err = run(["score", d / "held out.avi", "--model", model, "--store", d / "f.h5"], capsys)
    assert code == 1 and problem in err and "model.joblib" in err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err


def test_score_bad_video_one_line(trained, tmp_path, capsys):
    d, _ = trained
    (tmp_path / "fake.mp4").write_text("not a video")
    code, _, err = run(["score", tmp_path / "fake.mp4", "--model", d / "best.joblib", "--store", d / "f.h5"], capsys)
    assert code == 1 and "fake.mp4" in err and len(err.strip().splitlines()) == 1


def test_score_interval_level_out_of_range_is_usage_error(tmp_path, capsys):
    code, _, err = run(["score", tmp_path / "any.mp4", "--interval-level", "1.5"], capsys)
    assert code == 2 and "--interval-level" in err


def test_score_a_stored_video_whose_file_is_gone_uses_its_features(trained, tmp_path, capsys):
    d, _ = trained
    store = tmp_path / "f.h5"
    video = tmp_path / "moved.avi"
    make_episode(video, seed=10)
    args = ["--model", d / "best.joblib", "--store", store, "--json", tmp_path / "before.json"]
    assert run(["score", video, *args], capsys)[0] == 0
    video.unlink()  # the source is moved away (or was on a removed disk): its features are stored
    code, out, err = run(["score", tmp_path / "elsewhere" / "moved.avi", *args[:4], "--json", tmp_path / "after.json"],
                         capsys)
    assert code == 0, err
    assert f"warning: {tmp_path / 'elsewhere' / 'moved.avi'}: no such file; scoring the features stored as 'moved.avi' " \
           f"(embedded " in err and f"from {video})" in err
    before, after = (json.loads((tmp_path / f"{n}.json").read_text())["videos"] for n in ("before", "after"))
    assert after == before
    code, out, err = run(["score", video, *args, "--fps", "2"], capsys)
    assert code == 1 and err.strip().splitlines()[-1] == (
        f"error: {video}: no such file, so it cannot be embedded at 2/s; its features are stored as 'moved.avi' at 1/s: "
        "drop --fps to score them")
    code, out, err = run(["score", tmp_path / "never.avi", *args], capsys)
    assert code == 1 and err.strip().splitlines()[-1] == f"error: {tmp_path / 'never.avi'}: no such file"


def test_score_a_folder_scores_the_videos_in_it(trained, tmp_path, capsys):
    d, _ = trained
    folder = tmp_path / "new episodes"
    folder.mkdir()
    for name, seed in (("b.avi", 11), ("a.avi", 12)):
        make_episode(folder / name, seed=seed, seconds=8)
    code, out, err = run(["score", folder, "--model", d / "best.joblib", "--store", tmp_path / "f.h5", "--json",
                          tmp_path / "r.json"], capsys)
    assert code == 0, err
    assert [v["video"] for v in json.loads((tmp_path / "r.json").read_text())["videos"]] == ["a.avi", "b.avi"]


def test_score_writes_label_studio_tasks_of_whole_videos(trained, capsys):
    import xml.etree.ElementTree as ElementTree

    d, truth = trained
    code, out, err = run(["score", d / "held out.avi", d / "ep0.avi", "--model", d / "best.joblib", "--store", d / "f.h5",
                          "--label-studio", d / "tasks.json"], capsys)
    assert code == 0, err
    tasks = json.loads((d / "tasks.json").read_text())
    assert [t["data"]["video_id"] for t in tasks] == ["held out.avi", "ep0.avi"]
    held_out = tasks[0]
    assert held_out["data"]["video"] == "/data/local-files/?d=" + str(d / "held%20out.avi").lstrip("/")
    assert held_out["data"]["fps"] == 10.0
    frames = {}
    for region in held_out["predictions"][0]["result"]:
        (r,) = region["value"]["ranges"]
        for f in range(r["start"], r["end"] + 1):
            assert f not in frames, "single-label regions do not overlap"
            frames[f] = region["value"]["timelinelabels"][0]
    assert sorted(frames) == list(range(1, 301))  # every frame of the 30 s at 10 fps, counted from 1
    per_second = [frames[10 * s + 1] for s in range(30)]
    assert np.mean([a == b for a, b in zip(per_second, truth)]) > 0.8
    labels = [x.get("value") for x in ElementTree.parse(d / "tasks.config.xml").iter("Label")]
    assert labels == ["jerry", "neither", "tom"]
    assert "create a project whose labelling config" in err


def test_a_moved_collection_gets_one_warning_not_one_per_video(tmp_path):
    """80 stored videos whose files moved printed 80 'no such file' lines; beyond 3 they are one."""
    import warnings

    from classifiers.score import _stored_without_source

    class Store:
        ids = {f"ep{i}.avi" for i in range(5)}

        def __contains__(self, video_id):
            return video_id in self.ids

        def info(self, video_id):
            return {"sample_fps": 1.0, "embedded_at": "2026-12-06T00:00", "source_path": f"/old/{video_id}",
                    "n_samples": 10, "duration_s": 10.0}

    for n, lines in ((3, 3), (5, 1)):
        with warnings.catch_warnings(record=True) as seen:
            warnings.simplefilter("always")
            found = _stored_without_source([tmp_path / f"ep{i}.avi" for i in range(n)], [f"ep{i}.avi" for i in range(n)],
                                           Store(), None, False)
        assert len(found) == n and len(seen) == lines, [str(w.message) for w in seen]
    assert str(seen[0].message).startswith("5 videos' files are gone (")
