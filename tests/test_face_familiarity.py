"""A face model says when a video's faces are unlike its training videos' (issues 18, 24): the held-out videos'
distances saved with the model, the flag, warning, JSON, console and report of score --faces."""

from __future__ import annotations

import json
import warnings

import numpy as np
import pytest

from cartoons.synthetic_faces import (FaceWorld, SyntheticFaceStore, make_face_video, make_face_videos,
                                     write_interval_labels)
from classifiers.chain.face_familiarity import (MARGIN, MIN_QUALITY, MIN_THRESHOLD, FaceFamiliarity, good_faces,
                                                video_face_distance)
from classifiers.chain.face_persist import load_face_model
from classifiers.chain.modelfile import dump_model_file, load_model_file
from classifiers.compare_faces import compare_face_models
from classifiers.output.face_console import face_screen_time_tables
from classifiers.output.notes import FACES_UNLIKE
from classifiers.output.report import report_html
from classifiers.output.results import results_to_dict
from classifiers.score_faces import score_face_videos
from face_helpers import Face, face_table, people
from featurestore.errors import UnlikeTrainingWarning


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """4 labelled synthetic videos of 4 actors (40 s each), a logreg face model on 2 folds; a held-out video of the
    same people, and one of other people. Returns (folder, store, familiar video, strange video, model path)."""
    d = tmp_path_factory.mktemp("familiar")
    world = FaceWorld.make(seed=5)
    train = make_face_videos(world, 4, seed=5, duration_s=40.0)
    familiar = make_face_video("familiar.mp4", world, seed=61, duration_s=40.0)
    strange = make_face_video("strangers.mp4", FaceWorld.make(seed=77), seed=62, duration_s=40.0)
    store = SyntheticFaceStore(train + [familiar, strange], path=d / "synthetic.h5")
    labels = write_interval_labels(d / "labels.csv", train)
    compare_face_models(store, labels, out_path=d / "faces.skops", models=["logreg"], n_splits=2, n_jobs=1)
    return d, store, familiar, strange, d / "faces.skops"


def score(path, store, video_ids):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = score_face_videos(video_ids, model_path=path, store=store)
    doc = json.loads(json.dumps(results_to_dict(result.videos, result.model_info, interval_note=result.interval_note)))
    return result, doc, [w for w in caught if issubclass(w.category, UnlikeTrainingWarning)]


def test_threshold_is_the_margin_over_the_furthest_held_out_video():
    f = FaceFamiliarity.from_held_out({"a.mp4": 0.3, "b.mp4": 0.42, "c.mp4": None})
    assert f.held_out == {"a.mp4": 0.3, "b.mp4": 0.42} and f.threshold == pytest.approx(MARGIN * 0.42)
    assert f.is_unlike(MARGIN * 0.42 + 0.01) is True and f.is_unlike(0.4) is False and f.is_unlike(None) is None
    assert FaceFamiliarity.from_held_out({"a.mp4": 0.01}).threshold == MIN_THRESHOLD
    assert FaceFamiliarity.from_held_out({}).threshold is None and FaceFamiliarity().is_unlike(0.9) is None
    back = FaceFamiliarity.from_dict(f.to_dict())
    assert back.threshold == f.threshold and back.held_out == f.held_out and back.X is None


def test_a_video_distance_is_the_median_over_its_good_faces():
    a, b = people(2, seed=1)
    table = face_table("v.mp4", 4, [Face(0, a, quality=0.9), Face(1, a, quality=0.9), Face(2, b, quality=0.9),
                                    Face(3, b, quality=MIN_QUALITY / 2)])
    assert len(good_faces(table)) == 3
    far = float(np.linalg.norm(a - b))
    assert video_face_distance(table, np.stack([a])) == pytest.approx(0.0, abs=1e-5)  # two of three faces are a
    assert video_face_distance(table, np.stack([b])) == pytest.approx(far, rel=1e-5)
    assert video_face_distance(table, None) is None
    blurred = face_table("w.mp4", 2, [Face(0, a, quality=0.1), Face(1, b, quality=0.2)])
    assert video_face_distance(blurred, np.stack([a])) is None


def test_compare_models_saves_every_held_out_videos_distance(trained):
    _, _, _, _, path = trained
    model = load_face_model(path)
    f = model.familiarity
    assert sorted(f.held_out) == [f"train{k}.mp4" for k in range(4)]
    assert all(0.0 < d < 1.0 for d in f.held_out.values())
    assert f.threshold == pytest.approx(max(MARGIN * max(f.held_out.values()), MIN_THRESHOLD))


def test_a_video_of_the_training_people_is_not_flagged(trained):
    _, store, familiar, _, path = trained
    result, doc, caught = score(path, store, [familiar.video_id])
    video = doc["videos"][0]
    assert video["unlike_training"] is False and not caught
    assert 0.0 < video["training_distance"] <= doc["model"]["unlike_training"]["threshold"]
    assert "unlike the training videos" not in face_screen_time_tables(result)[0].caption


def test_a_video_of_other_people_is_flagged_warned_and_said_so(trained):
    _, store, familiar, strange, path = trained
    result, doc, caught = score(path, store, [familiar.video_id, strange.video_id])
    video = doc["videos"][1]
    threshold = doc["model"]["unlike_training"]["threshold"]
    assert video["unlike_training"] is True and video["training_distance"] > threshold
    assert doc["videos"][0]["unlike_training"] is False
    assert doc["model"]["unlike_training"]["faces"] is True
    assert sorted(doc["model"]["unlike_training"]["held_out"]) == [f"train{k}.mp4" for k in range(4)]
    assert len(caught) == 1
    message = str(caught[0].message)
    assert "\n" not in message and message.startswith("strangers.mp4: unlike the training videos")
    assert f"{result.videos[1].training_distance:.2f}" in message and f"threshold {threshold:.2f}" in message
    assert FACES_UNLIKE in message
    assert FACES_UNLIKE in face_screen_time_tables(result)[1].caption
    assert FACES_UNLIKE not in (face_screen_time_tables(result)[0].caption or "")
    html = report_html(result)
    assert f"strangers.mp4 is unlike the training videos: {FACES_UNLIKE}" in html
    assert "familiar.mp4 is unlike" not in html
    assert "its faces are further from the labelled faces than any video held" in html  # the model's about-box


def test_a_model_file_saved_before_the_check_scores_without_it(trained, tmp_path):
    _, store, _, strange, path = trained
    payload = load_model_file(path)
    payload.pop("familiarity")  # as files saved before it
    dump_model_file(payload, tmp_path / "old.skops")
    assert load_face_model(tmp_path / "old.skops").familiarity is None
    result, doc, caught = score(tmp_path / "old.skops", store, [strange.video_id])
    assert doc["videos"][0]["unlike_training"] is None and doc["videos"][0]["training_distance"] is None
    assert doc["model"]["unlike_training"] is None and not caught
    assert "keeps no record of its training faces" in report_html(result)


def test_a_model_without_the_open_set_check_keeps_its_own_training_faces(trained, tmp_path):
    d, store, familiar, strange, _ = trained
    compare_face_models(store, d / "labels.csv", out_path=tmp_path / "m.skops", models=["logreg"], n_splits=2, n_jobs=1,
                        max_distance=None)
    model = load_face_model(tmp_path / "m.skops")
    assert model.reference is None and model.familiarity.X is not None and model.familiarity.X.shape[1] == 128
    _, doc, caught = score(tmp_path / "m.skops", store, [familiar.video_id, strange.video_id])
    assert [v["unlike_training"] for v in doc["videos"]] == [False, True] and len(caught) == 1


def test_a_model_file_whose_kept_faces_are_not_its_descriptors_width_is_refused_in_one_line(trained, tmp_path):
    from featurestore.errors import ModelFileRefused

    d, store, _, _, _ = trained
    compare_face_models(store, d / "labels.csv", out_path=tmp_path / "m.skops", models=["logreg"], n_splits=2, n_jobs=1,
                        max_distance=None)
    payload = load_model_file(tmp_path / "m.skops")
    payload["familiarity"]["X"] = payload["familiarity"]["X"][:, :64]  # an edited file
    payload["familiarity"]["margin"] = 2.0
    dump_model_file(payload, tmp_path / "edited.skops")
    with pytest.raises(ModelFileRefused, match=r"familiarity: 64-d faces for a classifier of 128-d descriptors") as err:
        load_face_model(tmp_path / "edited.skops")
    assert "\n" not in str(err.value)
    del payload["familiarity"]["X"]
    dump_model_file(payload, tmp_path / "margin.skops")
    assert load_face_model(tmp_path / "margin.skops").familiarity.describe()["margin"] == 2.0  # as saved
