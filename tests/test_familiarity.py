"""'Unlike the training videos' (issue 18): distances to the training samples, their threshold from
cross-validation, the flag in score's JSON and warnings, and older model files without the record."""

import json

import numpy as np
import pytest

from classifiers.chain.familiarity import MARGIN, MIN_THRESHOLD, TrainingReference, fit_reference
from conftest import run_cli as run


def test_reference_distances_are_small_inside_the_training_cloud_and_large_outside():
    rng = np.random.default_rng(0)
    train = rng.normal(size=(600, 40)).astype(np.float32)
    ref = fit_reference(train)
    inside = ref.video_distance(rng.normal(size=(200, 40)))
    outside = ref.video_distance(rng.normal(size=(200, 40)) + 4.0)
    off_axes = rng.normal(size=(200, 40))
    off_axes[:, 0] += 6.0 * np.sign(rng.normal(size=200))  # varies in a direction training barely did
    assert inside < 1.0 < ref.video_distance(off_axes) and 3 * inside < outside
    assert ref.threshold is None and ref.is_unlike(outside) is None
    flagged = ref.with_threshold({"a": inside, "b": 0.5 * inside})
    assert flagged.threshold == pytest.approx(MARGIN * inside)
    assert flagged.is_unlike(outside) is True and flagged.is_unlike(inside) is False
    assert ref.with_threshold({"on the training samples": 1e-6}).threshold == MIN_THRESHOLD  # no flag from rounding
    again = TrainingReference.from_dict(flagged.to_dict())
    assert again.threshold == flagged.threshold and again.video_distance(train[:50]) == ref.video_distance(train[:50])


def test_a_clip_of_another_kind_is_flagged_and_a_held_out_clip_of_its_own_kind_is_not(two_models, capsys, tmp_path):
    from cartoons.synthetic import make_video

    d, models, _ = two_models
    cartoon = make_video(tmp_path / "cartoon.mp4", duration_s=20, seed=3).path
    code, _, err = run(["score", d / "held out.avi", cartoon, "--model", models["single"], "--store", d / "f.h5",
                        "--json", tmp_path / "r.json", "--report", tmp_path / "r.html", "--vtt", tmp_path / "subs"], capsys)
    assert code == 0, err
    doc = json.loads((tmp_path / "r.json").read_text())
    own, other = doc["videos"]
    assert own["unlike_training"] is False and other["unlike_training"] is True
    assert own["warning"] is None and other["warning"].startswith("unlike the training videos")  # issue 26: every output
    vtt = (tmp_path / "subs" / "cartoon.vtt").read_text()
    assert vtt.startswith("WEBVTT\n\nNOTE screentime: cartoon.mp4 is unlike the training videos")
    assert "[unlike the training videos: its screen time may be far off]" in vtt.split("-->", 1)[1].split("\n\n")[0]
    assert "unlike" not in (tmp_path / "subs" / "held out.vtt").read_text()
    threshold = doc["model"]["unlike_training"]["threshold"]
    assert own["training_distance"] < threshold < other["training_distance"]
    assert sorted(doc["model"]["unlike_training"]["held_out"]) == ["ep0.avi", "ep1.avi", "ep2.avi"]
    lines = [line for line in err.splitlines() if "unlike the training videos" in line]
    assert len(lines) == 1 and lines[0].startswith("warning: cartoon.mp4: unlike the training videos")
    assert "suggest-labels" in lines[0] and "held out.avi" not in lines[0]
    html = (tmp_path / "r.html").read_text()
    assert html.count('class="banner unlike"') == 1 and "cartoon.mp4 is unlike the training videos" in html


def test_score_and_cross_validation_measure_a_video_the_same_way(two_models):
    from classifiers import load_model
    from featurestore import FeatureStore

    d, models, _ = two_models
    saved = load_model(models["multi"])
    v = FeatureStore(d / "f.h5").read("ml1.avi")
    result = saved.predict_video(v.requested_s, v.features, duration_s=v.info["duration_s"])
    assert result.training_distance == pytest.approx(saved.training_distance(v.requested_s, v.features))
    assert result.unlike_training is False  # a training video is close to its own samples
    assert set(saved.familiarity.held_out) == {"ml0.avi", "ml1.avi", "ml2.avi"}


def test_a_model_file_without_the_record_still_scores_with_no_flag(two_models, capsys, tmp_path):
    from classifiers.chain.modelfile import dump_model_file, load_model_file

    d, models, _ = two_models
    payload = load_model_file(models["single"])
    del payload["familiarity"]
    dump_model_file(payload, tmp_path / "old.skops")
    code, _, err = run(["score", d / "ep0.avi", "--model", tmp_path / "old.skops", "--store", d / "f.h5",
                        "--json", tmp_path / "r.json"], capsys)
    assert code == 0, err
    doc = json.loads((tmp_path / "r.json").read_text())
    assert doc["videos"][0]["unlike_training"] is None and doc["videos"][0]["training_distance"] is None
    assert doc["model"]["unlike_training"] is None and "unlike" not in err


def kind_store(tmp_path, offset: float, seed: int = 0):
    """A store of 4 labelled videos and 2 held-out ones of one kind, and 1 of another: per video a "room" vector
    (each video its own) plus a class vector per second plus noise; the other kind adds one constant vector of
    length `offset` to every sample, which centring each video takes away entirely (issue 26)."""
    from featurestore.store.store import FeatureStore

    rng = np.random.default_rng(seed)
    n_f = 48
    classes = {c: rng.normal(0, 1, n_f) for c in "ab"}
    kind = rng.normal(0, 1, n_f)
    kind *= offset / np.linalg.norm(kind)
    store = FeatureStore(tmp_path / "f.h5", mode="a", config={"model": "vgg16", "weights": "random:seed=0",
                                                              "pooling": "avg", "image_size_px": 224, "n_features": n_f})
    lines = ["video,start,end,label"]
    for name in ("t0", "t1", "t2", "t3", "own0", "own1", "other"):
        t = np.arange(60, dtype=np.float64)
        labels = np.where((t // 10) % 2 == 0, "a", "b")
        X = rng.normal(0, 0.5, n_f) + np.stack([classes[c] for c in labels]) + rng.normal(0, 0.3, (60, n_f))
        X += kind if name == "other" else 0.0
        store.put(f"{name}.mp4", requested_s=t, actual_s=t, features=X.astype(np.float32),
                  info={"sample_fps": 1.0, "duration_s": 60.0})
        if name.startswith("t"):
            lines += [f"{name}.mp4,{s},{s + 10},{'ab'[(s // 10) % 2]}" for s in range(0, 60, 10)]
    (tmp_path / "l.csv").write_text("\n".join(lines) + "\n")
    return tmp_path / "f.h5", tmp_path / "l.csv"


def test_footage_whose_difference_centring_removes_is_flagged_by_the_uncentred_check(tmp_path):
    from classifiers.compare import compare_models
    from featurestore.store.store import FeatureStore

    store, labels = kind_store(tmp_path, offset=8.0)
    result = compare_models(store, labels, out_path=tmp_path / "m.skops", models=["logreg"], feature_norm="center",
                            context_s=0.0)
    ref = result.familiarity
    assert ref.raw is not None and ref.raw.threshold is not None and set(ref.raw.held_out) == {"t0.mp4", "t1.mp4", "t2.mp4", "t3.mp4"}
    from classifiers import load_model

    saved = load_model(tmp_path / "m.skops")
    assert saved.familiarity.raw.threshold == pytest.approx(ref.raw.threshold)
    features = FeatureStore(store)
    got = {}
    for name in ("own0", "own1", "other"):
        v = features.read(f"{name}.mp4")
        got[name] = saved.predict_video(v.requested_s, v.features, duration_s=60.0)
    other = got["other"]
    assert other.training_distance < ref.threshold  # centred, the other kind sits among the training samples ...
    assert other.raw_training_distance > ref.raw.threshold and other.unlike_training is True  # ... as embedded, not
    assert got["own0"].unlike_training is False and got["own1"].unlike_training is False
    assert got["own0"].raw_training_distance < ref.raw.threshold


def test_without_per_video_stages_the_raw_reference_is_power_normalised(tmp_path):
    from classifiers.chain.familiarity import power_normalise
    from classifiers.compare import compare_models
    from featurestore.store.store import FeatureStore

    store, labels = kind_store(tmp_path, offset=8.0)
    result = compare_models(store, labels, models=["logreg"], feature_norm="none", context_s=0.0)
    ref = result.familiarity
    assert ref.threshold is not None and ref.raw is not None and ref.raw.threshold is not None
    assert set(ref.describe()["raw"]) == {"threshold", "held_out"}
    X = np.vstack([FeatureStore(store).read(f"t{i}.mp4").features for i in range(4)])
    assert np.allclose(ref.raw.mean, power_normalise(X).mean(axis=0), atol=1e-4)  # not the features as they are
    assert not np.allclose(ref.raw.mean, X.mean(axis=0), atol=1e-2)
    assert np.allclose(power_normalise(np.array([[-4.0, 0.0, 9.0]])), [[-2.0, 0.0, 3.0]])
