"""Face models (issue 24): whose each face is, screen time from faces, the unknown threshold, compare-models --faces
with CV over whole videos, the model file, and score --faces (JSON shape, report, command line).

Data: synthetic face tables (`cartoons.synthetic_faces`: actors' descriptors around centres on the unit sphere,
extras nobody labels, tracks within shots, missed detections) behind a stand-in store with the face contract.
"""

from __future__ import annotations

import json
import re

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression

from cartoons.synthetic_faces import FaceWorld, SyntheticFaceStore, make_face_video, make_face_videos, write_interval_labels
from classifiers.chain.face_decide import UNKNOWN, decide, track_mean
from classifiers.chain.face_model import FaceModel
from classifiers.chain.face_persist import load_face_model
from classifiers.chain.persist import load_model, save_model
from classifiers.chain.smoothing import Smoother
from classifiers.compare import compare_models
from classifiers.compare_faces import compare_face_models
from classifiers.output.report import report_html
from classifiers.output.results import results_to_dict
from classifiers.score_faces import score_face_videos
from conftest import run_cli, write_video
from face_helpers import Face, face_table, hand_store, near, people
from featurestore.errors import InvalidParameter, ModelFileRefused, StoreMismatch

ALICE, BOB = people(2, seed=3)


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """6 labelled synthetic videos of 4 actors (60 s each) and 2 held out; a logreg face model compared on 3 folds.
    Returns (folder, world, store with all 8, held-out videos, FaceComparison, model path)."""
    d = tmp_path_factory.mktemp("faces")
    world = FaceWorld.make(seed=5)
    train = make_face_videos(world, 6, seed=5, duration_s=60.0)
    test = make_face_videos(world, 2, seed=6, prefix="heldout", duration_s=60.0)
    store = SyntheticFaceStore(train + test, path=d / "synthetic.h5")
    labels = write_interval_labels(d / "labels.csv", train)
    result = compare_face_models(store, labels, out_path=d / "faces.skops", models=["logreg"], n_splits=3, n_jobs=1)
    return d, world, store, test, result, d / "faces.skops"


def test_decide_gives_each_actor_at_most_one_face_per_sample():
    p = np.array([[0.9, 0.1], [0.8, 0.15], [0.7, 0.2]])
    assert decide(p, np.zeros(3), np.array([0, 0, 1]), threshold=0.1).tolist() == [0, 1, 0]
    assert decide(p, np.zeros(3), np.array([0, 0, 1]), threshold=0.5).tolist() == [0, -1, 0]
    assert decide(p, np.array([0.0, 0.0, 0.75]), np.array([0, 1, 2]), threshold=0.1).tolist() == [0, 0, -1]


def test_one_actor_shown_twice_in_a_sample_is_the_actors_twice_not_unknown_people():
    """A split screen or a mirror shows one actor twice: the second face lost the actor to the first and was unknown
    people's time (12 s of 12 on a composed split screen). A face within the same-person distance of the face that
    holds the actor is the actor's too; a look-alike the model also takes for the actor, far from that face, stays
    unknown."""
    clf = LogisticRegression(C=10).fit(np.array([near(ALICE, i) for i in range(6)] + [near(BOB, i) for i in range(6)]),
                                       ["alice"] * 6 + ["bob"] * 6)
    twin_a, twin_b, real, lookalike = near(ALICE, 20), near(ALICE, 21), near(ALICE, 22), near(ALICE, 30, noise=0.8)
    assert np.linalg.norm(twin_a - twin_b) < 0.4 < np.linalg.norm(real - lookalike)
    table = face_table("split.mp4", 2, [Face(0, twin_a, 0), Face(0, twin_b, 1), Face(1, real, 0), Face(1, lookalike, 2)])
    model = FaceModel(clf, ["alice", "bob"], threshold=0.5, smoothing="none")
    assert (model.face_proba(table)[0][:, 0] > 0.5).all()  # the model takes all four for alice
    video = model.predict_video(table, duration_s=2.0)
    assert video.faces.label.tolist() == ["alice", "alice", "alice", UNKNOWN]
    assert video.screen_time_s == {"alice": 2.0, "bob": 0.0} and video.unknown_s == 1.0
    p = np.array([[0.9, 0.1], [0.8, 0.1]])
    assert decide(p, np.zeros(2), np.zeros(2, int), 0.5).tolist() == [0, -1]  # without descriptors: one face each
    assert decide(p, np.zeros(2), np.zeros(2, int), 0.5, embedding=np.array([[0.0, 0.0], [0.3, 0.0]])).tolist() == [0, 0]
    assert decide(p, np.zeros(2), np.zeros(2, int), 0.5, embedding=np.array([[0.0, 0.0], [0.5, 0.0]])).tolist() == [0, -1]


def test_a_small_face_is_named_only_when_the_model_is_sure():
    """A face under 40 px high needs p >= 0.7 to be named (or the threshold, if higher); a large one the threshold;
    a model file saved without the rule names both; the rule survives saving."""
    clf = LogisticRegression(C=0.3).fit(np.array([near(ALICE, i, noise=0.6) for i in range(6)]
                                                 + [near(BOB, i, noise=0.6) for i in range(6)]), ["alice"] * 6 + ["bob"] * 6)
    face = near(ALICE, 20, noise=0.6)
    big, small = (0.1, 0.1, 0.1, 0.2), (0.1, 0.1, 0.05, 0.1)  # 72 and 36 px high at 640x360
    table = face_table("v.mp4", 2, [Face(0, face, box=big), Face(1, face, box=small)])
    p = clf.predict_proba(face[None])[0, list(clf.classes_).index("alice")]
    assert 0.5 < p < 0.7  # unsure, yet over the threshold
    model = FaceModel(clf, ["alice", "bob"], threshold=0.5, smoothing="none")
    assert model.small_face == (40.0, 0.7)
    assert model.decide(table)[0].tolist() == [0, -1]
    assert FaceModel(clf, ["alice", "bob"], threshold=0.5, smoothing="none", small_face=(40.0, p - 0.01)).decide(table)[0].tolist() == [0, 0]
    assert FaceModel(clf, ["alice", "bob"], threshold=0.5, smoothing="none", small_face=None).decide(table)[0].tolist() == [0, 0]
    assert decide(np.array([[0.6], [0.6]]), np.zeros(2), np.array([0, 1]), np.array([0.5, 0.7])).tolist() == [0, -1]


def test_track_mean_averages_within_tracks_only():
    out = track_mean(np.array([[1.0], [0.0], [0.5], [0.2]]), np.array([3, 3, -1, 4]))
    assert out.ravel().tolist() == [0.5, 0.5, 0.5, 0.2]


def test_a_track_carries_its_actor_through_a_missed_detection_as_tracked_time():
    """alice's track has faces at 0, 1 and 3 s (missed at 2 s) and bob is never there: alice is seen 3 s of 5, and
    tracked 4 s; an extra's face at 4 s is unknown people's time."""
    strangers = people(8, seed=9)
    clf = LogisticRegression(C=10).fit(np.array([near(ALICE, i) for i in range(5)] + [near(BOB, i) for i in range(5)]
                                                + list(strangers[:5])), ["alice"] * 5 + ["bob"] * 5 + [UNKNOWN] * 5)
    extra = strangers[6]
    table = face_table("v.mp4", 5, [Face(0, near(ALICE, 10), 0), Face(1, near(ALICE, 11), 0), Face(3, near(ALICE, 12), 0),
                                    Face(4, extra, 1)])
    video = FaceModel(clf, ["alice", "bob"], threshold=0.5, smoothing="none").predict_video(table, duration_s=5.0)
    assert video.screen_time_s == {"alice": 3.0, "bob": 0.0}
    assert video.tracked_s == {"alice": 4.0, "bob": 0.0}
    assert video.unknown_s == 1.0 and video.faces.label.tolist() == ["alice", "alice", "alice", UNKNOWN]
    assert video.labels.tolist() == [("alice",), ("alice",), (), ("alice",), ()]


def test_unknown_threshold_refuses_held_out_actors(tmp_path):
    """Training videos show 3 actors and nobody else (no unknown faces to learn from): the threshold chosen on
    faces of actors held out inside the training folds must still refuse a 4th person's faces at score time,
    while naming the cast's."""
    world = FaceWorld.make(actors=("alice", "bob", "carol", "eve"), seed=11)
    cast = FaceWorld(world.actors[:3], world.centres[:3], world.common)
    stranger = FaceWorld(("eve",), world.centres[3:], world.common)
    train = make_face_videos(cast, 5, seed=11, duration_s=60.0, extras_rate=0.0, junk_rate=0.0)
    store = SyntheticFaceStore(train)
    labels = write_interval_labels(tmp_path / "l.csv", train)
    result = compare_face_models(store, labels, out_path=tmp_path / "m.skops", models=["logreg"], n_splits=5, n_jobs=1)
    assert UNKNOWN not in set(result.leaderboard.columns) and 0.3 <= result.threshold <= 0.95
    model = load_face_model(tmp_path / "m.skops")
    eve = make_face_video("eve.mp4", stranger, seed=12, duration_s=60.0, extras_rate=0.0, junk_rate=0.0)
    called = model.predict_video(eve.table, duration_s=60.0, sample_fps=1.0).faces.label
    assert np.mean(called == UNKNOWN) >= 0.9
    known = make_face_video("cast.mp4", cast, seed=13, duration_s=60.0, extras_rate=0.0, junk_rate=0.0)
    named = model.predict_video(known.table, duration_s=60.0, sample_fps=1.0).faces.label
    assert np.mean(named == known.person.astype(str)) >= 0.9


def test_cv_over_whole_videos_with_faces(trained):
    _, world, _, _, result, _ = trained
    assert result.cv.scheme == "grouped" and result.cv.holds_out_videos
    by_fold = {}
    for h in result.held_out:
        by_fold.setdefault(h.fold, set()).add(h.video_id)
    assert sorted(v for vs in by_fold.values() for v in vs) == sorted(f"train{k}.mp4" for k in range(6))
    summary = result.cv.summary  # every fold trains on the videos it does not test
    assert (summary["train_videos"] + summary["test_videos"]).tolist() == [6, 6, 6]
    assert [len(by_fold[k]) for k in (1, 2, 3)] == summary["test_videos"].tolist()
    assert result.interval["n_videos"] == 6 and result.interval["method"] == "cv-plus"
    row = result.leaderboard.iloc[0]
    for a in world.actors:
        assert 0 <= row[f"screen_time_error_pct_{a}"] < 50 and 0.8 <= row[f"second_accuracy_{a}"] <= 1
    assert row["face_accuracy"] > 0.85 and row["unknown_as_cast_pct"] < 10
    counts = result.label_counts
    assert counts["assigned"] > 0 and counts["leftover"] > 0 and counts["single"] > 0


def test_compare_models_with_faces_is_the_face_comparison(trained, tmp_path):
    d, _, store, _, _, _ = trained
    result = compare_models(store, d / "labels.csv", faces=True, models=["logreg"], n_splits=3, n_jobs=1)
    assert result.faces and result.best_name == "logreg" and result.smoothing in ("none", "track")


def test_compare_models_passes_the_unknown_options_to_the_face_comparison(trained, tmp_path):
    """`compare_models(..., faces=True)` (and `screentime.compare_models`, whose options go to it) reaches
    `max_distance`, `unknown_rule`, `unknown_novel` of the face comparison."""
    d, _, store, _, _, _ = trained
    with pytest.raises(InvalidParameter, match="unknown_rule"):
        compare_models(store, d / "labels.csv", faces=True, models=["logreg"], n_splits=3, n_jobs=1, unknown_rule="nope")
    compare_models(store, d / "labels.csv", out_path=tmp_path / "m.skops", faces=True, models=["logreg"], n_splits=3,
                   n_jobs=1, max_distance=0.55, unknown_rule="balanced", unknown_novel=True)
    assert load_face_model(tmp_path / "m.skops").reference.max_distance == 0.55


def test_the_face_model_file_round_trips_and_frame_loaders_refuse_it(trained, tmp_path):
    _, _, store, test, result, path = trained
    model = load_face_model(path)
    assert model.actors == result.classes and model.threshold == result.threshold and model.small_face == (40.0, 0.7)
    from dataclasses import replace

    from classifiers.chain.face_persist import save_face_model

    before = save_face_model(tmp_path / "before.skops", replace(model, small_face=None))  # as files saved before the rule
    assert load_face_model(before).small_face is None
    assert model.face_config == dict(test[0].table.config) and len(model.fold_pipelines) == 3
    with pytest.raises(ModelFileRefused, match="score --faces"):
        load_model(path)
    frames = tmp_path / "frames.skops"
    save_model(frames, pipeline=LogisticRegression().fit([[0.0], [1.0]], ["a", "b"]), classes=["a", "b"],
               embedding_config={}, smoother=Smoother())
    with pytest.raises(ModelFileRefused, match="whole frames"):
        load_face_model(frames)


def test_score_faces_json_keeps_the_shape_and_adds_unknown_people(trained):
    _, world, store, test, _, path = trained
    result = score_face_videos([v.video_id for v in test], model_path=path, store=store)
    doc = json.loads(json.dumps(results_to_dict(result.videos, result.model_info, interval_note=result.interval_note)))
    assert [v["video"] for v in doc["videos"]] == ["heldout0.mp4", "heldout1.mp4"]
    for video, truth in zip(doc["videos"], test):
        assert set(video["screen_time_s"]) == set(world.actors)
        assert all(isinstance(s, float) for s in video["screen_time_s"].values())
        assert isinstance(video["unknown_s"], float) and set(video["tracked_s"]) == set(world.actors)
        assert all(video["tracked_s"][a] >= video["screen_time_s"][a] for a in world.actors)
        assert set(video["screen_time_interval_s"]) == set(world.actors)
        assert len(video["samples"]) == 60 and video["n_faces"] == len(truth.table)
        for sample in video["samples"]:
            assert isinstance(sample["labels"], list) and set(sample["labels"]) <= set(world.actors)
            assert {f["label"] for f in sample["faces"]} <= {*world.actors, UNKNOWN}
            assert sample["unknown"] == sum(f["label"] == UNKNOWN for f in sample["faces"])
            assert all(len(f["box"]) == 4 for f in sample["faces"])
            assert set(sample["labels"]) == {f["label"] for f in sample["faces"]} - {UNKNOWN}
    assert "total_unknown_s" in doc and doc["model"]["faces"]["unknown_threshold"] == result.model_info["faces"]["unknown_threshold"]
    true_s = {a: float(test[0].truth[:, j].sum()) for j, a in enumerate(world.actors)}
    assert max(abs(doc["videos"][0]["tracked_s"][a] - true_s[a]) for a in world.actors) <= 6.0  # 10% of 60 s


def test_score_refuses_faces_found_with_another_face_config(trained):
    _, world, _, test, _, path = trained
    other = make_face_video("other.mp4", world, seed=99, duration_s=20.0, config={"detector": "another"})
    with pytest.raises(StoreMismatch) as err:
        score_face_videos(["other.mp4"], model_path=path, store=SyntheticFaceStore([other]))
    assert "\n" not in str(err.value) and "detector: synthetic vs another" in str(err.value)


def test_the_report_names_the_faces_over_each_thumbnail(tmp_path):
    """A 5 s video (64 x 48, 10 fps) with alice's face at every second: the report draws her named box over the
    segment's thumbnails, and lists her appearance."""
    video = write_video(tmp_path / "v.avi", 10.0, 50, fourcc="MJPG")
    clf = LogisticRegression(C=10).fit(np.array([near(ALICE, i) for i in range(5)] + [near(BOB, i) for i in range(5)]),
                                       ["alice"] * 5 + ["bob"] * 5)
    table = face_table("v.avi", 5, [Face(t, near(ALICE, 20 + t), 0, (0.25, 0.25, 0.25, 0.5)) for t in range(5)],
                       frame_size=(64, 48))
    store = hand_store(table, fps=10.0, source_path=str(video))
    path = tmp_path / "m.skops"
    from classifiers.chain.face_persist import save_face_model

    save_face_model(path, FaceModel(clf, ["alice", "bob"], 0.5, smoothing="track", face_config=dict(table.config)))
    result = score_face_videos(["v.avi"], model_path=path, store=store)
    html = report_html(result)
    assert 'class="face-thumb"' in html and "<rect x=\"16.0\" y=\"12.0\" width=\"16.0\" height=\"24.0\"" in html
    assert ">alice</text>" in html and 'data-actor="alice"' in html and "unknown people" in html
    # unknown is what the model could not name, not only people nobody labelled (an actor's face at crf 40 is unknown)
    assert "an actor's face it could not name" in html


def test_unknown_people_show_in_the_timeline_the_segments_csv_and_the_subtitles(tmp_path):
    """A 5 s video, alice at 0-2 s and a stranger far from every training face at 3-4 s: the report's timeline gets a
    grey 'unknown' band (people nobody labelled) over the stranger's two seconds alone, under alice's row, and the axis
    moves down for it; the segments CSV has an 'unknown' row from 3 to 5 s after alice's, the subtitles a cue."""
    from classifiers.chain.face_open_set import FaceReference
    from classifiers.chain.face_persist import save_face_model

    video = write_video(tmp_path / "v.avi", 10.0, 50, fourcc="MJPG")
    X = np.array([near(ALICE, i) for i in range(5)] + [near(BOB, i) for i in range(5)])
    y = np.array(["alice"] * 5 + ["bob"] * 5)
    [stranger] = people(1, seed=99)
    faces = [Face(t, near(ALICE, 20 + t), 0) for t in range(3)] + [Face(t, near(stranger, 30 + t), 1) for t in (3, 4)]
    table = face_table("v.avi", 5, faces, frame_size=(64, 48))
    path = tmp_path / "m.skops"
    save_face_model(path, FaceModel(LogisticRegression(C=10).fit(X, y), ["alice", "bob"], 0.5, smoothing="none",
                                    face_config=dict(table.config), reference=FaceReference.from_training(X, y, ["alice", "bob"])))
    result = score_face_videos(["v.avi"], model_path=path, store=hand_store(table, fps=10.0, source_path=str(video)))
    assert result.videos[0].unknown_s == pytest.approx(2.0)
    html = report_html(result)
    lane = html.index('class="name">unknown</text>')
    bands = re.findall(r'<rect class="unknown" x="([\d.]+)" y="([\d.]+)" width="([\d.]+)"', html)
    assert len(bands) == 1 and lane > html.index('class="name">bob</text>')
    x0, width = 100.0, 860.0 - 100.0 - 16.0  # the report's plot area (classifiers.output.report)
    assert float(bands[0][0]) == pytest.approx(x0 + width * 3 / 5) and float(bands[0][2]) == pytest.approx(width * 2 / 5)
    from classifiers.output.results import write_csv
    from classifiers.output.subtitles import subtitle_text

    rows = write_csv(tmp_path / "s.csv", result.videos).read_text().splitlines()
    assert [r.split(",")[:4] for r in rows[1:]] == [["v.avi", "0.0", "3.0", "alice"], ["v.avi", "3.0", "5.0", "unknown"]]
    doc = results_to_dict(result.videos)["videos"][0]
    assert [s["label"] for s in doc["segments"]] == ["alice"]  # the actors' segments, as before
    assert [(s["start"], s["end"], s["label"]) for s in doc["unknown_segments"]] == [(3.0, 5.0, "unknown")]
    vtt = subtitle_text(result.videos[0], "vtt")
    assert "00:00:00.000 --> 00:00:03.000\nalice" in vtt and "00:00:03.000 --> 00:00:05.000\nunknown" in vtt


def real_store(path, videos):
    """A real FeatureStore holding `videos`' synthetic faces (zero frame features: face models never read them)."""
    from featurestore.store.store import FeatureStore

    store = FeatureStore(path, mode="a", config={"model": "stand-in", "n_features": 4})
    for v in videos:
        t = v.table.sample_times_s
        store.put(v.video_id, requested_s=t, actual_s=t, features=np.zeros((len(t), 4), np.float32),
                  info={"sample_fps": 1.0, "duration_s": v.duration_s, "fps": 25.0})
        store.put_faces(v.video_id, v.table)
    return store


def test_cli_compare_models_and_score_with_faces(trained, tmp_path, capsys):
    d, world, store, test, _, _ = trained
    real_store(tmp_path / "f.h5", [store.videos[v] for v in store.video_ids()])
    model = tmp_path / "m.skops"
    code, output, err = run_cli(["compare-models", "--faces", "-l", str(d / "labels.csv"), "--store", str(tmp_path / "f.h5"),
                                 "-o", str(model), "-m", "logreg", "-k", "3", "-j", "1"], capsys)
    assert code == 0, err
    assert "unknown threshold" in output and "labelled faces" in output and model.is_file()
    out_json = tmp_path / "r.json"
    code, output, err = run_cli(["score", "--faces", "heldout0.mp4", "--model", str(model), "--store", str(tmp_path / "f.h5"),
                                 "--json", str(out_json)], capsys)
    assert code == 0, err
    assert "unknown" in output and "tracked" in output and json.loads(out_json.read_text())["videos"][0]["unknown_s"] is not None
    code, output, err = run_cli(["score", "--faces", "heldout0.mp4", "--model", str(model), "--json", str(out_json)], capsys)
    assert code == 0, err  # no --store: the store the model was trained on
    code, output, err = run_cli(["score", "--faces", "heldout0.mp4", "--model", str(model), "--store", str(tmp_path / "f.h5"),
                                 "--json", str(model)], capsys)
    assert code == 2 and "is the model" in err and model.is_file()  # an output over an input is refused
    code, output, err = run_cli(["score", "heldout0.mp4", "--model", str(model), "--store", str(tmp_path / "f.h5")], capsys)
    assert code == 1 and err.strip().count("\n") == 0 and "score --faces" in err


def test_faces_through_the_real_store(tmp_path):
    """compare-models --faces and score --faces on faces put into a real FeatureStore."""
    world = FaceWorld.make(seed=21)
    videos = make_face_videos(world, 4, seed=21, duration_s=40.0)
    real_store(tmp_path / "f.h5", videos)
    labels = write_interval_labels(tmp_path / "l.csv", videos[:3])
    compare_face_models(tmp_path / "f.h5", labels, out_path=tmp_path / "m.skops", models=["logreg"], n_splits=3, n_jobs=1)
    result = score_face_videos([videos[3].video_id], model_path=tmp_path / "m.skops", store_path=tmp_path / "f.h5")
    assert set(result.videos[0].screen_time_s) == set(world.actors)


def test_inner_folds_hold_out_one_actor_with_whole_videos(trained):
    from classifiers.data.face_dataset import load_labelled_faces
    from classifiers.selection.face_unknown import inner_folds

    d, world, store, _, _, _ = trained
    data = load_labelled_faces(store, d / "labels.csv")
    folds = inner_folds(data, np.arange(len(data.y)), outer=-1)
    assert sorted(f.actor for f in folds) == sorted(world.actors)
    for f in folds:
        assert f.actor not in set(data.y[f.train]) and f.actor in set(data.y[f.test])
        assert set(data.video_ids[f.train]).isdisjoint(data.video_ids[f.test])


def test_a_face_model_file_of_another_format_version_is_refused(trained, tmp_path):
    from classifiers.chain.modelfile import dump_model_file, load_model_file

    payload = load_model_file(trained[5])
    payload["format_version"] = 1
    dump_model_file(payload, tmp_path / "old.skops")
    with pytest.raises(ModelFileRefused, match="format version 1"):
        load_face_model(tmp_path / "old.skops")


def test_a_face_model_without_its_fold_models_says_it_scores_by_conformal(trained, tmp_path):
    """A CV+ face model whose fold models were removed from its file is scored by conformal prediction, and score
    --faces' JSON and note say so, as for frame models (tests/test_hostile_models.py)."""
    from classifiers.chain.intervals import screen_time_interval
    from classifiers.chain.modelfile import dump_model_file, load_model_file

    _, _, store, test, _, path = trained
    payload = load_model_file(path)
    payload.pop("fold_pipelines"), payload.pop("fold_thresholds")  # as a user stripping the file would
    dump_model_file(payload, tmp_path / "stripped.skops")

    def score(model_path):
        result = score_face_videos([test[0].video_id], model_path=model_path, store=store)
        return json.loads(json.dumps(results_to_dict(result.videos, result.model_info, interval_note=result.interval_note))), result

    doc, with_folds = score(path)
    assert doc["model"]["intervals"]["method"] == "cv-plus" and "by CV+ over their fold models" in doc["interval_note"]
    doc, result = score(tmp_path / "stripped.skops")
    assert doc["model"]["intervals"]["method"] == "conformal"
    note = doc["interval_note"]
    assert "by split conformal prediction over videos" in note and "keeps no fold models" in note and "CV+ over" not in note
    video, spread = result.videos[0], load_face_model(path).interval
    assert video.screen_time_interval_s == screen_time_interval(video.screen_time_s, video.duration_s,
                                                                {**spread, "method": "conformal"}, min_half_width_s=1.0)
    assert load_face_model(tmp_path / "stripped.skops").interval_in_use["method"] == "conformal"


def test_compare_models_with_faces_takes_a_mapping_of_estimators_as_frames_do(trained, tmp_path):
    """`compare_models(models={name: estimator}, faces=True)` compares that estimator, as the frame path does."""
    d, _, store, test, _, _ = trained
    result = compare_models(store, d / "labels.csv", out_path=tmp_path / "m.skops", faces=True, n_splits=3, n_jobs=1,
                            models={"mylogreg": LogisticRegression(max_iter=200)})
    assert result.best_name == "mylogreg" and result.leaderboard["model"].tolist() == ["mylogreg"]
    model = load_face_model(tmp_path / "m.skops")
    assert model.model_name == "mylogreg" and isinstance(model.pipeline, LogisticRegression)
    assert all(isinstance(f, LogisticRegression) for f in model.fold_pipelines)
    assert set(score_face_videos([test[0].video_id], model_path=tmp_path / "m.skops", store=store).classes) == set(model.actors)


def test_an_empty_mapping_of_estimators_is_refused_in_one_line_for_faces_and_frames(trained, tmp_path):
    from featurestore.errors import InvalidParameter

    d, _, store, _, _, _ = trained
    for faces in (True, False):
        with pytest.raises(InvalidParameter, match="models: an empty mapping names no model"):
            compare_models(store, d / "labels.csv", out_path=tmp_path / "m.skops", faces=faces, n_splits=3, n_jobs=1,
                           models={})
    assert not (tmp_path / "m.skops").exists()


def test_the_python_apis_face_comparison_writes_its_json(trained, tmp_path):
    """`screentime.compare_models(..., faces=True).to_json()` as for frames: the winner, its smoothing, the CV."""
    import json

    import screentime

    d, _, store, _, _, _ = trained
    real_store(tmp_path / "f.h5", [store.videos[v] for v in store.video_ids()])
    comparison = screentime.compare_models(tmp_path / "f.h5", d / "labels.csv", out=tmp_path / "m.skops", faces=True,
                                           folds=3, models="logreg", n_jobs=1)
    doc = json.loads(comparison.to_json())
    assert doc["best"] == "logreg" and doc["smoothing"]["name"] in ("none", "track") and doc["smoothing"]["faces"]
    assert len(doc["leaderboard"]) == 1 and doc["cv"] and doc["model_path"].endswith("m.skops")


def test_the_python_apis_face_scores_come_as_tidy_frames_with_every_face(trained, tmp_path):
    """`screentime.score(..., faces=True)`: `faces_to_pandas()` has a row per stored face, indexed as the store's
    `to_pandas(faces=True)`, with whose it is; `to_pandas()` adds tracked_s and unknown_s."""
    import screentime
    from featurestore.store.store import FeatureStore

    _, _, store, test, _, path = trained
    real_store(tmp_path / "f.h5", test)
    ids = [v.video_id for v in test]
    score = screentime.score(ids, model=path, store=tmp_path / "f.h5", faces=True)
    faces = score.faces_to_pandas()
    stored = FeatureStore(tmp_path / "f.h5").to_pandas(ids, faces=True)
    assert len(faces) == len(stored) > 0 and (faces.index == stored.index).all()
    assert set(faces["actor"]) <= set(score.classes) | {"unknown"} and faces["p"].between(0, 1).all()
    assert np.allclose(faces[["x", "y", "w", "h"]].to_numpy(), stored[["x", "y", "w", "h"]].to_numpy())
    for v in score.videos:  # each actor's seconds are the samples with one of their faces
        named = faces.loc[v.video_id]
        for actor in score.classes:
            assert len(set(named.index.get_level_values("time_s")[named["actor"] == actor])) == v.screen_time_s[actor]
    frames = score.to_pandas()
    assert (frames.characters["tracked_s"] >= frames.characters["screen_time_s"]).all()
    assert frames.videos["unknown_s"].ge(0).all() and frames.videos["unknown_s"].gt(0).any()


def test_score_faces_reads_each_stored_face_table_once(trained, tmp_path, monkeypatch):
    """score --faces checks the stored faces against the model's face config and scores them from one read (each
    read verifies the table's checksums: a second one costs as much again)."""
    from featurestore.store.store import FeatureStore

    _, _, store, test, _, path = trained
    real_store(tmp_path / "f.h5", [v for v in test])
    reads = []
    monkeypatch.setattr(FeatureStore, "faces", lambda self, video_id, real=FeatureStore.faces:
                        reads.append(video_id) or real(self, video_id))
    ids = [v.video_id for v in test]
    result = score_face_videos([*ids, ids[0]], model_path=path, store_path=tmp_path / "f.h5")
    assert [v.video_id for v in result.videos] == ids and sorted(reads) == sorted(ids)


def test_with_two_actors_a_stranger_is_unknown_by_the_descriptors_own_rule(tmp_path):
    """Two labelled actors and nobody else: no actor can be held out (one class would be left to fit), so nothing
    chooses the threshold and distance by cross-validation; the open-set check falls back to the descriptor's
    same-person rule (0.6), and a third person's faces, however sure the two-class classifier is, stay unknown."""
    world = FaceWorld.make(actors=("alice", "bob", "eve"), seed=21)
    cast = FaceWorld(world.actors[:2], world.centres[:2], world.common)
    stranger = FaceWorld(("eve",), world.centres[2:], world.common)
    clean = {"duration_s": 60.0, "extras_rate": 0.0, "junk_rate": 0.0}
    train = make_face_videos(cast, 3, seed=21, **clean)
    labels = write_interval_labels(tmp_path / "l.csv", train)
    result = compare_face_models(SyntheticFaceStore(train), labels, out_path=tmp_path / "m.skops", models=["logreg"],
                                 n_splits=3, n_jobs=1)
    model = load_face_model(tmp_path / "m.skops")
    assert model.reference is not None and model.reference.max_distance == 0.6
    assert "no actor could be held out" in result.threshold_why and "third actor" in result.threshold_why
    eve = make_face_video("eve.mp4", stranger, seed=22, **clean)
    assert np.mean(model.predict_video(eve.table, duration_s=60.0, sample_fps=1.0).faces.label == UNKNOWN) >= 0.9
    known = make_face_video("cast.mp4", cast, seed=23, **clean)
    named = model.predict_video(known.table, duration_s=60.0, sample_fps=1.0).faces.label
    assert np.mean(named == known.person.astype(str)) >= 0.9
