"""Characters, not classes (issue 11): one binary problem per character, thresholds chosen by cross-validation
for screen-time error, the same folds and the same predict path as single-label models.

Store data: per video, 10 s segments cycle through every set of characters ({}, {a}, {b}, {a, b}) in a
seeded order; features = a segment's own scene vector + small noise + the offset of each character on
screen, so a character's presence is learnable and adds up when both are there.
"""

from __future__ import annotations

import json
import warnings

import numpy as np
import pytest

from classifiers.compare import compare_models
from classifiers.chain.stages import video_features
from classifiers.selection.heldout import HeldOutVideo
from classifiers.chain.modelfile import untrusted_types
from classifiers.chain.estimators import MultiLabelClassifier
from classifiers.selection.thresholds import choose_thresholds, score_multilabel
from classifiers.chain.model import SavedModel
from classifiers.chain.persist import load_model
from classifiers.selection.registry import build_model
from classifiers.output.results import results_to_dict
from classifiers.chain.smoothing import Smoother
from conftest import run_cli
from classifiers.data.join import read_labels
from featurestore.store.store import FeatureStore

N_FEATURES = 32
CONFIG = {"model": "vgg16", "weights": "random:seed=0", "pooling": "avg", "image_size_px": 224, "n_features": N_FEATURES}
SETS = [(), ("a",), ("b",), ("a", "b")]
NONE = [Smoother("none")]


def make_multilabel_store(tmp_path, n_videos, n_frames=120, segment_s=10, seed=0):
    """Store + multi-label interval labels (one line per character per segment, 'neither' for none).

    Returns (store path, labels path, truth) with truth[video] = (n_frames, 2) 0/1 for characters a, b.
    """
    rng = np.random.default_rng(seed)
    store = FeatureStore(tmp_path / "features.h5", mode="a", config=CONFIG)
    offsets = rng.normal(0, 2, (2, N_FEATURES))
    lines, truth = ["video,start,end,label"], {}
    for v in range(n_videos):
        t = np.arange(n_frames, dtype=np.float64)
        X = np.empty((n_frames, N_FEATURES), np.float32)
        Y = np.zeros((n_frames, 2), np.int8)
        order = np.resize(rng.permutation(4), n_frames // segment_s)
        for s, which in enumerate(order):
            sl = slice(s * segment_s, (s + 1) * segment_s)
            X[sl] = rng.normal(0, 1, N_FEATURES) + rng.normal(0, 0.5, (segment_s, N_FEATURES))
            for c in SETS[which]:
                X[sl] += offsets["ab".index(c)]
                Y[sl, "ab".index(c)] = 1
            for c in SETS[which] or ("neither",):
                lines.append(f"v{v}.mp4,{s * segment_s},{(s + 1) * segment_s},{c}")
        store.put(f"v{v}.mp4", requested_s=t, actual_s=t + 0.02, features=X,
                  info={"sample_fps": 1.0, "duration_s": float(n_frames)})
        truth[f"v{v}.mp4"] = Y
    labels_path = tmp_path / "labels.csv"
    labels_path.write_text("\n".join(lines) + "\n")
    return tmp_path / "features.h5", labels_path, truth


def test_multilabel_classifier_fits_one_weighted_binary_problem_per_character():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 6))
    Y = np.column_stack([X[:, 0] > 1.2, X[:, 1] > -0.5, np.zeros(200)]).astype(int)  # rare, common, never
    model = MultiLabelClassifier(estimator=build_model("logreg")).fit(X, Y)
    assert [e is None for e in model.estimators_] == [False, False, True]
    assert all(e.named_steps["clf"].class_weight == "balanced" for e in model.estimators_[:2])
    proba = model.predict_proba(X)
    assert proba.shape == (200, 3) and np.all(proba[:, 2] == 0.0)
    assert not np.allclose(proba.sum(axis=1), 1.0)  # characters, not classes: no sum to one
    assert (proba[Y[:, 0] == 1, 0].mean() > 0.7) and (proba[Y[:, 0] == 0, 0].mean() < 0.3)  # the rare one is not ignored
    with pytest.raises(ValueError, match="n_characters"):
        MultiLabelClassifier(estimator=build_model("logreg")).fit(X, Y[:, 0])


def held(fold, frames, proba):
    return HeldOutVideo(fold, f"v{fold}", np.asarray(frames), np.asarray(proba, dtype=float), np.ones(len(frames)), True)


def test_choose_thresholds_minimise_screen_time_error_not_half():
    # character a: on-screen frames score 0.35, others 0.05 -> 0.5 would count none of it; 0.1-0.3 are exact
    # character b: on-screen frames score 0.95, others 0.6 -> 0.5 would count all; 0.7-0.9 are exact
    Y = np.array([[1, 1], [1, 1], [0, 0], [0, 0], [1, 0], [0, 1]])
    proba = np.where(Y == 1, [0.35, 0.95], [0.05, 0.6])
    thresholds = choose_thresholds([held(1, np.arange(6), proba)], Y, ["a", "b"])
    assert thresholds == {"a": 0.3, "b": 0.7}  # of equally exact thresholds, the one nearest 0.5


def test_score_multilabel_scores_each_fold_with_thresholds_of_the_other_folds():
    """Fold 1 wants a low threshold, fold 2 a high one: honest scores are poor, the saved thresholds fit both."""
    Y = np.array([[1], [1], [0], [1], [0]])
    held_out = [held(1, [0, 1, 2], [[0.35], [0.35], [0.05]]), held(2, [3, 4], [[0.95], [0.6]])]

    class Data:
        pass

    data = Data()
    data.Y, data.video_ids = Y, np.array(["v1", "v1", "v1", "v2", "v2"])
    row, thresholds = score_multilabel(held_out, data, ["a"], n_folds=2)
    # in-fold choice would give 0% error in both folds; chosen on the other fold (0.7 for fold 1, 0.3 for
    # fold 2), fold 1 counts none of its 2 s and fold 2 counts 2 s for 1: (2 + 1) / 3 s labelled on screen
    assert row["screen_time_error_pct_a"] == pytest.approx(100.0)
    assert thresholds == {"a": 0.3} and row["threshold_a"] == 0.3  # all folds: 1 s wrong at 0.3, 2 s at 0.7


@pytest.mark.filterwarnings("ignore:character")
def test_compare_models_multi_label_learns_characters_and_saves_a_model_that_loads(tmp_path):
    store_path, labels, truth = make_multilabel_store(tmp_path, 3)
    result = compare_models(store_path, labels, multi_label=True, models=["logreg"], n_jobs=1, smoothers=NONE,
                            feature_norm="none", context_s=0.0, out_path=tmp_path / "m.skops", report_path=tmp_path / "board.json")
    assert result.multi_label and result.classes == ["a", "b"] and result.cv.scheme == "leave-one-video-out"
    row = result.leaderboard.iloc[0]
    for col in ("f1_a", "f1_b", "screen_time_error_pct_a", "together_error_pct", "none_error_pct", "exact_set_accuracy",
                "threshold_a", "threshold_b"):
        assert col in result.leaderboard.columns, col
    assert row["f1_a"] > 0.9 and row["f1_b"] > 0.9 and row["together_error_pct"] < 15 and row["exact_set_accuracy"] > 0.85
    assert set(result.cv.summary.columns) >= {"test_n_a", "test_n_b", "test_n_neither"}
    assert result.interval["multi_label"] and set(result.interval["error_share"]) == {"a", "b"}
    report = json.loads((tmp_path / "board.json").read_text())
    assert report["multi_label"] and report["thresholds"] == result.thresholds

    assert untrusted_types(tmp_path / "m.skops") == []
    saved = load_model(tmp_path / "m.skops")
    assert saved.multi_label and saved.classes == ["a", "b"] and saved.thresholds == result.thresholds
    assert saved.none_label == "neither"
    v = FeatureStore(store_path).read("v1.mp4")
    video = saved.predict_video(v.requested_s, v.features, duration_s=120.0, sample_fps=1.0, video_id="v1.mp4")
    Y = truth["v1.mp4"]
    assert video.screen_time_s == pytest.approx({"a": float(Y[:, 0].sum()), "b": float(Y[:, 1].sum())}, abs=3.0)
    assert video.together_s == pytest.approx(float((Y.sum(1) == 2).sum()), abs=3.0)
    assert video.none_s == pytest.approx(float((Y.sum(1) == 0).sum()), abs=3.0)
    assert sum(video.screen_time_s.values()) > 120.0 - video.none_s  # time together counts for both
    assert set(video.screen_time_interval_s) == {"a", "b"}


def test_cv_held_out_multi_label_predictions_equal_predict_video(tmp_path):
    """One predict path, multi-label too: a fold's held-out probabilities are what predict_video gives."""
    store_path, labels, _ = make_multilabel_store(tmp_path, 3, n_frames=60)
    smoother = Smoother("hmm", 5.0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = compare_models(store_path, labels, multi_label=True, models=["logreg"], n_jobs=1, feature_norm="center",
                                context_s=2.0, smoothers=[smoother])
    store = FeatureStore(store_path)
    labelled = read_labels(labels, store, multi_label=True)
    staged = {v: video_features(store.read(v).features, store.read(v).requested_s, feature_norm="center", context_s=2.0)
              for v in store.video_ids()}
    for h in result.held_out:
        train = labelled[labelled["video_id"] != h.video_id].sort_values(["video_id", "requested_s"])
        X_train = np.concatenate([staged[v][rows["row"].to_numpy()] for v, rows in train.groupby("video_id", sort=True)])
        Y_train = np.array([[c in s for c in ("a", "b")] for s in train["labels"]], dtype=int)
        model = MultiLabelClassifier(estimator=build_model("logreg")).fit(X_train, Y_train)
        chain = SavedModel(pipeline=model, classes=["a", "b"], embedding_config={}, smoother=smoother, feature_norm="center",
                           context_s=2.0, multi_label=True, thresholds=result.thresholds)
        v = store.read(h.video_id)
        video = chain.predict_video(v.requested_s, v.features, duration_s=60.0, sample_fps=1.0)
        rows = labelled[labelled["video_id"] == h.video_id]["row"].to_numpy()
        np.testing.assert_allclose(h.proba, video.proba[rows], atol=1e-6)


def test_multi_label_json_has_characters_together_and_none(tmp_path):
    """score's JSON for a multi-label model: per character (may exceed the duration), together_s, none_s,
    overlapping per-character segments with confidences, samples with the characters on screen."""
    from classifiers.chain.presence import summarize_presence

    proba = np.array([[0.9, 0.1], [0.8, 0.7], [0.6, 0.9], [0.2, 0.95], [0.1, 0.2]])
    video = summarize_presence("ep.mp4", np.arange(5.0), proba, ["jerry", "tom"], np.array([0.5, 0.65]), 5.0, 1.0)
    doc = results_to_dict([video], {"name": "logreg", "multi_label": True})
    [v] = doc["videos"]
    assert v["screen_time_s"] == {"jerry": 3.0, "tom": 3.0} and v["share"] == {"jerry": 0.6, "tom": 0.6}
    assert (v["together_s"], v["none_s"]) == (2.0, 1.0)
    assert v["segments"] == [{"start": 0.0, "end": 3.0, "label": "jerry", "confidence": 0.7667},
                             {"start": 1.0, "end": 4.0, "label": "tom", "confidence": 0.85}]
    assert v["samples"][1] == {"time": 1.0, "labels": ["jerry", "tom"], "proba": {"jerry": 0.8, "tom": 0.7}}
    assert v["samples"][4]["labels"] == [] and "label" not in v["samples"][0]
    assert (v["n_appearances"], v["first_s"], v["last_s"]) == ({"jerry": 1, "tom": 1}, {"jerry": 0.0, "tom": 1.0},
                                                               {"jerry": 3.0, "tom": 4.0})
    assert doc["total_screen_time_s"] == {"jerry": 3.0, "tom": 3.0}
    assert (doc["total_together_s"], doc["total_none_s"]) == (2.0, 1.0)
    json.dumps(doc, allow_nan=False)


def test_cli_compare_models_multi_label_prints_characters_and_thresholds(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "80")
    store_path, labels, _ = make_multilabel_store(tmp_path, 3, n_frames=60)
    code, out, err = run_cli(["compare-models", "--store", store_path, "--labels", labels, "--multi-label", "--models", "logreg",
                              "--jobs", "1", "--feature-norm", "none", "--context-s", "0", "--out", tmp_path / "m.skops"], capsys)
    assert code == 0, err
    text = " ".join(out.split())
    assert "per character (multi-label)" in text and "together" in text
    assert all(len(line) <= 80 for line in out.splitlines())
    assert "per character: F1 / screen-time error %" in text and "test neither" in text
    assert "thresholds (chosen by cross-validation): a " in text and load_model(tmp_path / "m.skops").multi_label


def test_cli_multi_label_bad_input_one_line_and_usage(tmp_path, capsys):
    store_path, labels, _ = make_multilabel_store(tmp_path, 2, n_frames=40)
    code, _, err = run_cli(["compare-models", "--store", store_path, "--labels", labels, "--out", tmp_path / "m.skops"], capsys)
    assert code == 1 and len(err.strip().splitlines()) == 1 and "overlap" in err and "pass --multi-label" in err
    bad = tmp_path / "bad.csv"
    bad.write_text("video,start,end,label\nv0.mp4,0,10,a\nv0.mp4,5,20,neither\nv0.mp4,20,30,b\n")
    code, _, err = run_cli(["compare-models", "--store", store_path, "--labels", bad, "--multi-label"], capsys)
    assert code == 1 and len(err.strip().splitlines()) == 1
    assert "bad.csv lines 2 and 3 overlap" in err and "'neither' says no character is on screen" in err
    code, _, err = run_cli(["compare-models", "--store", store_path, "--labels", labels, "--none-label", "nobody"], capsys)
    assert code == 2 and "--none-label" in err and "--multi-label" in err
    assert not (tmp_path / "m.skops").exists()
