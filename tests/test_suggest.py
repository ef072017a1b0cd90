"""suggest-labels end to end on tiny colour-coded episodes: the todo CSV, the contact sheet, the loop back into
compare-models, and refusals (moved source video, bad budget, unknown video).

Episodes are those of test_score (each second one character's colour, shots of 2-5 s), embedded with a
random-weight VGG16 at 32 px: ep0 and ep1 are labelled in full, ep2 in part ([0, 7.5) and [20.5, 24) s,
boundaries off the sampling grid on purpose), 'new.avi' not at all.
"""

from __future__ import annotations

import csv
import shutil
import struct
import warnings

import numpy as np
import pytest

from classifiers.chain.persist import load_model
from featurestore.video.pyav import AvVideoReader
from classifiers.suggest import suggest_labels
from conftest import ffmpeg, write_labels, write_video
from featurestore import Cv2VideoReader, EmbeddingConfig, embed_videos
from conftest import run_cli as run
from test_score import interval_rows, make_episode

CONFIG = EmbeddingConfig(weights="random", image_size_px=32)
LABELLED_EP2 = [(0.0, 7.5), (20.5, 24.0)]


@pytest.fixture(scope="module")
def episodes(tmp_path_factory):
    from classifiers.compare import compare_models

    d = tmp_path_factory.mktemp("suggest")
    truth = {f"ep{i}.avi": make_episode(d / f"ep{i}.avi", seed=20 + i) for i in range(3)}
    truth["new.avi"] = make_episode(d / "new.avi", seed=30)
    rows = interval_rows("ep0.avi", truth["ep0.avi"]) + interval_rows("ep1.avi", truth["ep1.avi"])
    rows += [f"ep2.avi,{a:g},{b:g},{truth['ep2.avi'][int(a)]}" for a, b in LABELLED_EP2]
    write_labels(d / "labels.csv", rows)
    embed_videos([d / name for name in truth], d / "f.h5", config=CONFIG)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # a fold without 'jerry' test frames: expected with 3 short videos
        compare_models(d / "f.h5", d / "labels.csv", out_path=d / "best.skops", models=["logreg"], n_splits=3, n_jobs=1)
    return d, truth


def read_todo(path):
    with path.open(newline="") as fh:
        rows = list(csv.reader(fh))
    return rows[0], [(r[0], float(r[1]), float(r[2]), r[3]) for r in rows[1:]]


def overlaps(a, b) -> bool:
    return a[0] < b[1] and b[0] < a[1]


def test_cli_suggest_labels_writes_todo_within_budget_never_on_labelled_time(episodes, capsys):
    d, truth = episodes
    code, out, err = run(["suggest-labels", "--store", d / "f.h5", "--model", d / "best.skops", "--budget-s", "20",
                          "--out", d / "todo.csv", "--labels", d / "labels.csv", "--jobs", "1"], capsys)
    assert code == 0, err
    header, rows = read_todo(d / "todo.csv")
    assert header == ["video", "start", "end", "label"]
    assert rows and all(label == "" for *_, label in rows)
    assert sum(end - start for _, start, end, _ in rows) <= 20
    for video, start, end, _ in rows:
        assert video in ("ep2.avi", "new.avi")  # ep0 and ep1 are labelled in full
        assert 2 <= end - start <= 6 and start == int(start) and end == int(end) and end <= 30
        if video == "ep2.avi":
            assert not any(overlaps((start, end), span) for span in LABELLED_EP2)
    for i, a in enumerate(rows):
        assert not any(a[0] == b[0] and overlaps(a[1:3], b[1:3]) for b in rows[i + 1:])
    listed = [line.split()[1:3] for line in out.splitlines() if line.split()[:1] and line.split()[0].isdigit() and "spans" not in line]
    assert listed == [[v, f"{a:g}-{b:g}"] for v, a, b, _ in rows]  # the table shows the CSV's rows in its order
    only_ep2 = suggest_labels(d / "f.h5", d / "best.skops", 20, labels_paths=[d / "labels.csv"], videos=["ep2.avi"], n_jobs=1)
    assert only_ep2.spans and {s.video_id for s in only_ep2.spans} == {"ep2.avi"}  # the half-labelled video, alone
    assert not any(overlaps((s.start_s, s.end_s), span) for s in only_ep2.spans for span in LABELLED_EP2)
    assert "fold models: 3 fold models refitted" in err and f"wrote {d / 'todo.csv'}" in out
    assert "compare-models -l " in out and "-l " + str(d / "todo.csv") in out


def test_suggest_labels_best_first_in_listed_videos_only(episodes):
    d, _ = episodes
    result = suggest_labels(d / "f.h5", d / "best.skops", 12, labels_paths=[d / "labels.csv"], videos=["new"], n_jobs=1)
    assert result.videos == ["new.avi"] and {s.video_id for s in result.spans} == {"new.avi"}
    values = [s.value for s in result.spans]
    assert values == sorted(values, reverse=True) and result.total_s <= 12
    assert result.available_s == 30.0
    without = suggest_labels(d / "f.h5", d / "best.skops", 12, videos=["new.avi"])
    assert "no labels file" in without.committee_note and all(s.disagreement == 0 for s in without.spans)
    span = result.spans[0]
    assert span.proba.shape == (len(span.sample_s), 3) and len(span.guess) == len(span.sample_s)


def test_suggest_labels_holds_one_video_at_a_time(episodes, monkeypatch):
    """Every candidate video's features stayed in memory until the end (100 two-hour videos of 512-d: 1.9 GB);
    each is let go once its values are taken, so when the last is read no earlier one is still held."""
    import classifiers.suggest as suggest
    from classifiers.data.join import StoreGrids

    held_at_read = {}

    class Watched(dict):
        def __setitem__(self, video_id, v):
            held_at_read[video_id] = sorted(self)
            super().__setitem__(video_id, v)

    class Grids(StoreGrids):
        def __init__(self, store):
            super().__init__(store)
            self.videos = Watched()

    monkeypatch.setattr(suggest, "StoreGrids", Grids)
    d, _ = episodes
    result = suggest_labels(d / "f.h5", d / "best.skops", 12, labels_paths=[d / "labels.csv"], n_jobs=1)
    assert result.videos == ["ep0.avi", "ep1.avi", "ep2.avi", "new.avi"] and result.spans
    assert held_at_read["new.avi"] == []


def test_suggested_spans_filled_in_train_a_model_with_both_label_files(episodes, capsys, tmp_path):
    d, truth = episodes
    result = suggest_labels(d / "f.h5", d / "best.skops", 12, labels_paths=[d / "labels.csv"], videos=["new.avi"], n_jobs=1)
    todo = tmp_path / "todo.csv"
    from classifiers.suggest import write_todo_csv

    write_todo_csv(result, todo)
    code, _, err = run(["compare-models", "-l", d / "labels.csv", "-l", todo, "--store", d / "f.h5", "-m", "logreg",
                        "-k", "3", "-j", "1", "--out", tmp_path / "m.skops"], capsys)
    assert code == 1 and len(err.strip().splitlines()) == 1
    assert "error: todo.csv lines 2, 3" in err and "label is empty; fill them in" in err
    filled = ["video,start,end,label"]  # as a user would: split a span where the character changes
    for s in result.spans:
        labels = truth["new.avi"][int(s.start_s):int(s.end_s)]
        filled += [f"new.avi,{s.start_s + k:g},{s.start_s + k + 1:g},{label}" for k, label in enumerate(labels)]
    todo.write_text("\n".join(filled) + "\n")
    code, out, err = run(["compare-models", "-l", d / "labels.csv", "-l", todo, "--store", d / "f.h5", "-m", "logreg",
                          "-k", "3", "-j", "1", "--out", tmp_path / "m.skops"], capsys)
    assert code == 0, err
    assert "new.avi" in load_model(tmp_path / "m.skops").training_videos


def test_suggest_labels_for_a_multi_label_model_and_the_loop_back(episodes, capsys, tmp_path):
    from classifiers.compare import compare_models
    from classifiers.suggest import write_todo_csv

    d, truth = episodes
    shared = ["video,start,end,label"] + (d / "labels.csv").read_text().splitlines()[1:]
    (tmp_path / "shared.csv").write_text("\n".join(shared) + "\n")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        compare_models(d / "f.h5", tmp_path / "shared.csv", out_path=tmp_path / "ml.skops", models=["logreg"], n_splits=3,
                       n_jobs=1, multi_label=True)
    saved = load_model(tmp_path / "ml.skops")
    assert saved.multi_label and set(saved.classes) == {"jerry", "tom"}
    result = suggest_labels(d / "f.h5", tmp_path / "ml.skops", 10, labels_paths=[tmp_path / "shared.csv"], n_jobs=1)
    assert result.multilabel and result.committee_note.startswith("3 fold models refitted")
    assert result.spans and result.total_s <= 10
    for s in result.spans:
        assert s.video_id in ("ep2.avi", "new.avi") and s.proba.shape == (len(s.sample_s), 2)
        assert set(s.guess) <= {"jerry", "tom", "jerry+tom", "neither"}
        if s.video_id == "ep2.avi":
            assert not any(overlaps((s.start_s, s.end_s), span) for span in LABELLED_EP2)
    todo = tmp_path / "todo.csv"
    write_todo_csv(result, todo)
    filled = ["video,start,end,label"]  # one line per character on screen, as README says
    for s in result.spans:
        for k, label in enumerate(truth[s.video_id][int(s.start_s):int(s.end_s)]):
            filled.append(f"{s.video_id},{s.start_s + k:g},{s.start_s + k + 1:g},{label}")
    todo.write_text("\n".join(filled) + "\n")
    s, k = next((s, k) for s in result.spans for k in range(int(s.end_s - s.start_s))
                if truth[s.video_id][int(s.start_s) + k] != "neither")
    other = {"tom": "jerry", "jerry": "tom"}[truth[s.video_id][int(s.start_s) + k]]
    extra = tmp_path / "extra.csv"  # a third file says the other character shares that second
    extra.write_text(f"video,start,end,label\n{s.video_id},{s.start_s + k:g},{s.start_s + k + 1:g},{other}\n")
    code, out, err = run(["compare-models", "-l", tmp_path / "shared.csv", "-l", todo, "-l", extra, "--multi-label",
                          "--store", d / "f.h5", "-m", "logreg", "-k", "3", "-j", "1", "--out", tmp_path / "ml2.skops"], capsys)
    assert code == 0, err
    again = load_model(tmp_path / "ml2.skops")
    assert again.multi_label and s.video_id in again.training_videos


def test_cli_suggest_labels_sheet_shows_each_span(episodes, capsys, tmp_path):
    d, _ = episodes
    code, out, err = run(["suggest-labels", "--store", d / "f.h5", "--model", d / "best.skops", "--budget-s", "14",
                          "--out", tmp_path / "todo.csv", "--labels", d / "labels.csv", "--sheet", tmp_path / "todo.png",
                          "--jobs", "1", "new.avi"], capsys)
    assert code == 0, err
    _, rows = read_todo(tmp_path / "todo.csv")
    png = (tmp_path / "todo.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", png[16:24])
    from classifiers.output.sheet import DPI, HEADER_IN, THUMB_HEIGHT_IN

    assert height == round(DPI * (HEADER_IN + (THUMB_HEIGHT_IN + 0.45) * len(rows)))  # one row per span
    assert width > 600 and f"wrote {tmp_path / 'todo.png'}" in out


@pytest.mark.parametrize("suffix, encode", [(".mp4", None), (".mkv", ["-c:v", "libx264", "-g", "40", "-bf", "2"])])
def test_frames_at_gives_the_frames_embedding_sampled(tmp_path, suffix, encode):
    path = write_video(tmp_path / "grey.mp4", 10, 240)  # 24 s; frame i is grey 6 * i % 240
    if encode:
        ffmpeg("-i", str(path), *encode, str(tmp_path / f"grey{suffix}"))
        path = tmp_path / f"grey{suffix}"
    sampled = {round(t): (a, f) for t, a, f in Cv2VideoReader(path).sample(1.0)}
    for times in ([17, 18, 19, 20], [0, 1], [23], [20, 2, 2, 14, 0]):  # the last: unsorted, repeated, gaps > SEEK_GAP_S
        frames = AvVideoReader(path).frames_at([sampled[t][0] for t in times])
        assert len(frames) == len(times)
        for t, frame in zip(times, frames):
            assert np.abs(frame.astype(int) - sampled[t][1].astype(int)).max() == 0, (suffix, t)


@pytest.fixture
def moved(episodes, tmp_path):
    """A copy of ep0.avi embedded into its own store (same config as the model), its source then moved away."""
    d, _ = episodes
    source = tmp_path / "videos" / "clip.avi"
    source.parent.mkdir()
    shutil.copy(d / "ep0.avi", source)
    embed_videos([source], tmp_path / "g.h5", config=CONFIG)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    source.rename(elsewhere / "clip.avi")
    return d, tmp_path, elsewhere


def test_cli_suggest_labels_sheet_of_moved_video_is_one_line_and_writes_nothing(moved, capsys):
    d, tmp_path, elsewhere = moved
    argv = ["suggest-labels", "--store", tmp_path / "g.h5", "--model", d / "best.skops", "--budget-s", "6",
            "--out", tmp_path / "todo.csv", "--sheet", tmp_path / "todo.png"]
    code, out, err = run(argv, capsys)
    assert code == 1 and len(err.strip().splitlines()) == 1, err
    assert f"error: clip.avi: its source video {tmp_path / 'videos' / 'clip.avi'} has moved or been deleted; put it back " \
           "or pass --video-dir with the folder it is in now" in err
    assert not (tmp_path / "todo.csv").exists() and not (tmp_path / "todo.png").exists()
    code, out, err = run(argv + ["--video-dir", elsewhere], capsys)
    assert code == 0, err
    assert (tmp_path / "todo.csv").exists() and (tmp_path / "todo.png").exists()
    write_video(elsewhere / "clip.avi", 10, 30)  # another video under the same name is not taken for it
    code, out, err = run(argv + ["--video-dir", elsewhere], capsys)
    assert code == 1 and "clip.avi is not the video that was embedded (its content differs)" in err


def test_cli_suggest_labels_bad_input(episodes, capsys, tmp_path):
    d, _ = episodes
    base = ["suggest-labels", "--store", d / "f.h5", "--model", d / "best.skops", "--out", tmp_path / "todo.csv"]
    code, _, err = run(base + ["--budget-s", "1.5"], capsys)
    assert code == 2 and "1.5 s is less than the shortest span (2 s)" in err
    code, _, err = run(base + ["--budget-s", "10", "nope.mp4"], capsys)
    assert code == 1 and len(err.strip().splitlines()) == 1
    assert "error: nope.mp4 is not in f.h5 (stored: ep0.avi, ep1.avi, ep2.avi, new.avi); embed it first" in err
    code, _, err = run(base + ["--budget-s", "10", "--labels", tmp_path / "missing.csv"], capsys)
    assert code == 1 and "missing.csv does not exist" in err
    assert not (tmp_path / "todo.csv").exists()


def test_cli_suggest_labels_help_fits_80_columns(capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "80")
    from cli import main

    with pytest.raises(SystemExit):
        main(["suggest-labels", "--help"], prog_name="python -m screentime")
    out = capsys.readouterr().out
    assert "Usage: python -m screentime suggest-labels [OPTIONS] [VIDEO...]" in out
    assert "--budget-s" in out and "--sheet" in out and "Examples:\n  python -m screentime suggest-labels " in out
    assert max(len(line) for line in out.splitlines()) <= 80, out


def as_label_studio_export(tasks, truth=None):
    """What Label Studio exports after a labeller submitted each task: its prediction, corrected to `truth` (video ->
    per-second labels) where given, as the task's annotation (an id, a created_at, as the export writes them)."""
    exported = []
    for i, task in enumerate(tasks, start=1):
        result = task["predictions"][0]["result"]
        if truth is not None:
            result = []
            fps = task["data"]["fps"]
            for r in task["predictions"][0]["result"]:
                first, last = r["value"]["ranges"][0]["start"], r["value"]["ranges"][0]["end"]
                for frame in range(first, last + 1):  # one region per frame, labelled with the truth of its second
                    label = truth[task["data"]["video_id"]][int((frame - 1) / fps)]
                    result.append({**r, "value": {"ranges": [{"start": frame, "end": frame}], "timelinelabels": [label]}})
        exported.append({"id": i, "data": task["data"], "predictions": [i],
                         "annotations": [{"id": 100 + i, "result": result, "was_cancelled": False,
                                          "created_at": "2026-01-01T00:00:00Z", "updated_at": "2026-01-01T00:00:00Z"}]})
    return exported


def test_cli_suggest_labels_writes_label_studio_tasks_of_the_spans_and_their_config(episodes, capsys, tmp_path):
    import json
    import xml.etree.ElementTree as ElementTree

    from classifiers.data.join import StoreGrids, labelled_time
    from classifiers.data.labels import parse_label_files
    from featurestore import FeatureStore

    d, truth = episodes
    tasks_path = tmp_path / "tasks.json"
    code, out, err = run(["suggest-labels", "--store", d / "f.h5", "--model", d / "best.skops", "--budget-s", "12",
                          "--labels", d / "labels.csv", "--jobs", "1", "--out", tmp_path / "todo.csv",
                          "--label-studio", tasks_path, "--url-prefix", "http://127.0.0.1:8000/videos/"], capsys)
    assert code == 0, err
    _, todo = read_todo(tmp_path / "todo.csv")
    tasks = json.loads(tasks_path.read_text())
    assert sorted(t["data"]["video_id"] for t in tasks) == sorted({v for v, *_ in todo})
    for task in tasks:
        assert task["data"]["video"] == "http://127.0.0.1:8000/videos/" + task["data"]["video_id"]
        assert task["data"]["fps"] == 10.0
        (prediction,) = task["predictions"]
        assert prediction["model_version"] == "best.skops" and 0 < prediction["score"] <= 1
        assert {r["type"] for r in prediction["result"]} == {"timelinelabels"}
        assert {r["from_name"] for r in prediction["result"]} == {"characters"}
    config = ElementTree.fromstring((tmp_path / "tasks.config.xml").read_text())
    assert config.find("Video").attrib == {"name": "video", "value": "$video", "frameRate": "$fps"}
    assert [x.get("value") for x in config.iter("Label")] == load_model(d / "best.skops").classes
    assert "next: in Label Studio, create a project whose labelling config" in out and f"wrote {tasks_path}" in out
    # the predictions cover the suggested spans exactly: read back as labels, they label the todo's time
    export = tmp_path / "export.json"
    export.write_text(json.dumps(as_label_studio_export(tasks)))
    spans = labelled_time(parse_label_files([export]), StoreGrids(FeatureStore(d / "f.h5")))
    merged = {}
    for video, intervals in spans.items():
        for a, b in sorted(intervals):
            if merged.get(video) and abs(merged[video][-1][1] - a) < 1e-9:
                merged[video][-1] = (merged[video][-1][0], b)
            else:
                merged.setdefault(video, []).append((a, b))
    assert merged == {v: sorted((a, b) for w, a, b, _ in todo if w == v) for v in merged}
    # labelled in Label Studio and exported, the spans train compare-models with the first labels
    export.write_text(json.dumps(as_label_studio_export(tasks, truth)))
    code, out, err = run(["compare-models", "-l", d / "labels.csv", "-l", export, "--store", d / "f.h5", "-m", "logreg",
                          "-k", "3", "-j", "1", "--out", tmp_path / "m.skops"], capsys)
    assert code == 0, err
    assert {t["data"]["video_id"] for t in tasks} <= set(load_model(tmp_path / "m.skops").training_videos)


def test_cli_suggest_labels_label_studio_options_are_checked_first(episodes, capsys, tmp_path):
    d, _ = episodes
    base = ["suggest-labels", "--store", d / "f.h5", "--model", d / "best.skops", "--budget-s", "10"]
    for extra, option in [([], "--out"), (["--label-studio", "-"], "--label-studio"),
                          (["--out", tmp_path / "t.csv", "--url-prefix", "http://x/"], "--url-prefix")]:
        code, _, err = run(base + extra, capsys)
        assert code == 2 and option in err, err
    assert not (tmp_path / "t.csv").exists()


def test_the_next_step_line_names_each_labels_file_once_with_or_without_labels():
    from classifiers.output.console import suggest_next_line

    assert suggest_next_line("todo.csv", []).endswith("then compare-models -l todo.csv --out NEW.skops")
    assert "compare-models -l a.csv -l b.csv -l todo.csv --out" in suggest_next_line("todo.csv", ["a.csv", "b.csv"])
