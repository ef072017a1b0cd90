"""compare-models end to end on synthetic stores: honest scores, failed models, the saved winner, the CLI.

Leakage data: every video is cut into 20 s segments; each segment has its own random "scene" vector
(features = scene + small noise) and a random label. Labels carry no information a model could carry to
an unseen segment, so the honest macro F1 is chance (~0.33), while a shuffled split, which tests on
frames whose segment neighbours are in training, scores ~1.
"""

from __future__ import annotations

import json
import time
import warnings

import numpy as np
import pytest
from sklearn.base import BaseEstimator, ClassifierMixin

from classifiers.compare import compare_models
from classifiers.chain.persist import check_config, load_model
from classifiers.selection.registry import build_model
from classifiers.chain.smoothing import Smoother
from cli import main
from featurestore.errors import AllModelsFailed, StoreMismatch
from featurestore.store.store import FeatureStore

N_FEATURES = 64
CONFIG = {"model": "vgg16", "weights": "random:seed=0", "pooling": "avg", "image_size_px": 224, "n_features": N_FEATURES}
NONE = [Smoother("none")]


def make_scene_store(tmp_path, n_videos, n_frames=200, segment_s=20, informative=False, seed=0):
    """Store + interval labels: per video, 1 fps, segments of `segment_s` with a random scene vector and label.

    With `informative`, the features also hold a class-specific offset, so a model can really learn.
    """
    rng = np.random.default_rng(seed)
    store = FeatureStore(tmp_path / "features.h5", mode="a", config=CONFIG)
    class_means = rng.normal(0, 2, (3, N_FEATURES))
    lines = ["video,start,end,label"]
    for v in range(n_videos):
        t = np.arange(n_frames, dtype=np.float64)
        n_seg = n_frames // segment_s
        labels = rng.permutation(np.resize([0, 1, 2], n_seg))
        X = np.empty((n_frames, N_FEATURES), np.float32)
        for s in range(n_seg):
            sl = slice(s * segment_s, (s + 1) * segment_s)
            X[sl] = rng.normal(0, 3, N_FEATURES) + rng.normal(0, 0.3, (segment_s, N_FEATURES))
            if informative:
                X[sl] += class_means[labels[s]]
            lines.append(f"v{v}.mp4,{s * segment_s},{(s + 1) * segment_s},{'abc'[labels[s]]}")
        store.put(f"v{v}.mp4", requested_s=t, actual_s=t + 0.02, features=X, info={"sample_fps": 1.0, "duration_s": float(n_frames)})
    labels_path = tmp_path / "labels.csv"
    labels_path.write_text("\n".join(lines) + "\n")
    return tmp_path / "features.h5", labels_path


class Broken(ClassifierMixin, BaseEstimator):
    def fit(self, X, y):
        raise RuntimeError("boom")


class Slow(ClassifierMixin, BaseEstimator):
    def __init__(self, *, sleep_s=60.0):
        self.sleep_s = sleep_s

    def fit(self, X, y):
        time.sleep(self.sleep_s)
        return self


def f1(result, model="logreg"):
    return result.leaderboard.set_index("model").loc[model, "macro_f1"]


@pytest.mark.parametrize("n_videos, scheme", [(5, "grouped"), (3, "leave-one-video-out"), (1, "blocks")])
def test_compare_models_default_split_is_honest_where_shuffled_leaks(tmp_path, n_videos, scheme):
    store, labels = make_scene_store(tmp_path, n_videos)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # one video's 20 s scenes leave some blocks without a class
        honest = compare_models(store, labels, models=["logreg"], n_jobs=1, smoothers=NONE)
    leaky = compare_models(store, labels, models=["logreg"], n_jobs=1, smoothers=NONE, split="shuffled", allow_leaky_split=True)
    assert honest.cv.scheme == scheme and leaky.cv.scheme == "shuffled"
    assert f1(leaky) > 0.9
    assert f1(honest) < 0.6


def test_compare_models_two_videos_leave_one_out_without_interval(tmp_path):
    store, labels = make_scene_store(tmp_path, 2, n_frames=60, informative=True)
    result = compare_models(store, labels, models=["logreg"], n_jobs=1, smoothers=NONE, feature_norm="none", context_s=0.0,
                            interval_method="t-rms")
    assert result.cv.scheme == "leave-one-video-out" and result.cv.n_splits == 2
    assert result.stage_scores == [] and (result.feature_norm, result.context_s) == ("none", 0.0)
    assert [h.video_id for h in result.held_out] == ["v0.mp4", "v1.mp4"] and all(h.whole_video for h in result.held_out)
    assert result.interval["n_videos"] == 2 and "only 2 labelled videos" in result.interval["note"]


def test_compare_models_two_videos_give_intervals_that_claim_two_thirds(tmp_path):
    """CV+ intervals (the default): 2 held-out videos honestly support a 67% interval, and it says so; the model file
    keeps the fold models they are made with."""
    from classifiers.chain.intervals import claimed_level, interval_note

    store, labels = make_scene_store(tmp_path, 2, n_frames=60, informative=True)
    result = compare_models(store, labels, models=["logreg"], n_jobs=1, smoothers=NONE, feature_norm="none", context_s=0.0)
    assert result.interval["method"] == "cv-plus" and result.interval["note"] == ""
    assert len(result.fold_models) == 2 and sorted(result.interval["folds"]) == [0, 1]
    assert claimed_level(result.interval, 0.9) == pytest.approx(2 / 3)
    assert interval_note(result.interval, 0.9).startswith("67% intervals (90% asked; 2 held-out videos")


def test_the_command_makes_cv_plus_intervals_and_the_json_says_the_level_they_claim(tmp_path, capsys):
    """`compare-models` without --intervals makes the library's default intervals; `score --json` states the method,
    the level asked and the level claimed (2 videos: 2/3)."""
    store, labels = make_scene_store(tmp_path, 2, n_frames=60, informative=True)
    code, _, err = run_cli(["compare-models", "-l", labels, "-s", store, "-o", tmp_path / "m.skops", "-m", "logreg",
                            "--context-s", "0", "--feature-norm", "none", "-j", "1"], capsys)
    assert code == 0, err
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # scored from the stored features: the files are gone
        code, _, err = run_cli(["score", "v0.mp4", "-m", tmp_path / "m.skops", "-s", store,
                                "--json", tmp_path / "r.json"], capsys)
    assert code == 0, err
    doc = json.loads((tmp_path / "r.json").read_text())
    assert doc["model"]["intervals"] == {"method": "cv-plus", "n_videos": 2, "level_asked": 0.9,
                                         "level_claimed": pytest.approx(2 / 3)}
    assert doc["interval_level"] == pytest.approx(2 / 3) and doc["videos"][0]["screen_time_interval_s"] is not None


def test_score_writes_label_studio_tasks_together_with_its_other_files_or_none(tmp_path, capsys):
    """Tasks need each video's frame rate; a store that lacks it refuses them in one line, and the JSON asked for
    beside them is not written either (all outputs or none)."""
    store, labels = make_scene_store(tmp_path, 2, n_frames=60, informative=True)  # stored without a frame rate
    code, _, err = run_cli(["compare-models", "-l", labels, "-s", store, "-o", tmp_path / "m.skops", "-m", "logreg",
                            "--context-s", "0", "--feature-norm", "none", "-j", "1"], capsys)
    assert code == 0, err
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        code, _, err = run_cli(["score", "v0.mp4", "-m", tmp_path / "m.skops", "-s", store, "--json", tmp_path / "r.json",
                                "--label-studio", tmp_path / "tasks.json"], capsys)
    assert code == 1 and "does not record the frame rate of 'v0.mp4'" in err and "Traceback" not in err
    assert not (tmp_path / "r.json").exists() and not (tmp_path / "tasks.json").exists()


def test_compare_models_learns_when_features_are_informative(tmp_path):
    store, labels = make_scene_store(tmp_path, 5, informative=True)
    result = compare_models(store, labels, models=["logreg", "mlp"], n_jobs=1, n_splits=5)
    board = result.leaderboard
    assert list(board["rank"]) == [1, 2] and board["winner"].tolist() == [True, False]
    assert board["macro_f1"].iloc[0] >= board["macro_f1"].iloc[1]
    assert (board["macro_f1"] > 0.8).all()
    for col in ("balanced_accuracy_std", "log_loss", "recall_a", "screen_time_error_pct_c", "fit_s",
                "predict_s_per_1000", "smoothing", "macro_f1_unsmoothed"):
        assert col in board.columns
    assert result.folds["test_frames"].sum() == 1000


@pytest.mark.slow
def test_compare_models_marks_failed_and_timed_out_models(tmp_path):
    store, labels = make_scene_store(tmp_path, 3, n_frames=100, informative=True)
    models = {"broken": Broken(), "logreg": build_model("logreg"), "slow": Slow(sleep_s=60.0)}
    t0 = time.perf_counter()
    result = compare_models(store, labels, models=models, n_splits=3, timeout_s=1.0, n_jobs=1, smoothers=NONE)
    assert time.perf_counter() - t0 < 30
    board = result.leaderboard.set_index("model")
    assert result.best_name == "logreg" and board.loc["logreg", "winner"]
    assert board.loc["broken", "status"] == "failed" and "RuntimeError: boom" in board.loc["broken", "error"]
    assert board.loc["slow", "status"] == "failed" and "1 s timeout" in board.loc["slow", "error"]
    assert board.loc["logreg", "rank"] == 1 and np.isnan(board.loc["broken", "macro_f1"])


def test_compare_models_all_failed(tmp_path):
    store, labels = make_scene_store(tmp_path, 3, n_frames=60)
    with pytest.raises(AllModelsFailed, match="broken: fold 1: RuntimeError: boom"):
        compare_models(store, labels, models={"broken": Broken()}, n_splits=3, n_jobs=1)


def test_compare_models_saves_winner_that_round_trips(tmp_path):
    store_path, labels = make_scene_store(tmp_path, 3, n_frames=100, informative=True)
    result = compare_models(store_path, labels, models=["logreg"], n_splits=3, n_jobs=1, out_path=tmp_path / "best.joblib")
    saved = load_model(result.model_path)
    store = FeatureStore(store_path)
    assert saved.classes == ["a", "b", "c"] and saved.training_videos == ["v0.mp4", "v1.mp4", "v2.mp4"]
    assert saved.smoother == result.best_smoother and saved.cv["scheme"] == "grouped"
    assert saved.scores["macro_f1"] == pytest.approx(f1(result))
    check_config(saved, store.config)
    _, X = store.load("v0.mp4")
    assert saved.pipeline.predict_proba(X).shape == (100, 3)
    with pytest.raises(StoreMismatch, match="n_features 64 vs 25088"):
        check_config(saved, {**store.config, "pooling": "flatten", "n_features": 25088})


def run_cli(args, capsys):
    try:
        main(args)
        code = 0
    except SystemExit as exit_:
        code = exit_.code
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_cli_compare_models_prints_leaderboard_and_writes_report(tmp_path, capsys):
    store, labels = make_scene_store(tmp_path, 3, n_frames=100, informative=True)
    code, out, err = run_cli(["compare-models", "--store", str(store), "--labels", str(labels), "--out", str(tmp_path / "m.joblib"),
                              "--models", "logreg,gboost", "--folds", "3", "--report", str(tmp_path / "board.json")], capsys)
    assert code == 0, err
    assert "grouped by video" in out and "★" in out and "saved" in out
    doc = json.loads((tmp_path / "board.json").read_text())
    assert doc["winner"] in ("logreg", "gboost") and len(doc["leaderboard"]) == 2 and doc["cv"]["scheme"] == "grouped"
    assert load_model(tmp_path / "m.joblib").model_name == doc["winner"]


@pytest.mark.parametrize("extra, match", [
    (["--split", "shuffled"], "--allow-leaky-split"),
    (["--folds", "9", "--split", "grouped"], "fewer than 9 folds"),
])
def test_cli_compare_models_user_errors_are_one_line(tmp_path, capsys, extra, match):
    store, labels = make_scene_store(tmp_path, 2, n_frames=40)
    code, _, err = run_cli(["compare-models", "--store", str(store), "--labels", str(labels), "--models", "logreg",
                            "--jobs", "1", "--out", str(tmp_path / "m.joblib"), *extra], capsys)
    assert code == 1
    assert err.startswith("error: ") and match in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "m.joblib").exists()


def test_cli_compare_models_bad_labels_one_line(tmp_path, capsys):
    store, _ = make_scene_store(tmp_path, 2, n_frames=40)
    (tmp_path / "bad.csv").write_text("video,start,end,label\nv0.mp4,3,1,a\n")
    code, _, err = run_cli(["compare-models", "--store", str(store), "--labels", str(tmp_path / "bad.csv")], capsys)
    assert code == 1 and err.strip() == "error: bad.csv line 2: end 1 s is not after start 3 s; intervals are [start, end) with end > start"


def test_cli_compare_models_warns_before_cv_when_memory_is_short(tmp_path, capsys, monkeypatch):
    """Flatten-sized features (25 088-d, ~100 MB per hour) took 6.6x the labelled videos' bytes with no word first
    (3.6 GB for 540 MB); a run that would take more than the machine has free now says so in one line before the
    cross-validation, and goes on."""
    import classifiers.data.dataset as dataset

    store, labels = make_scene_store(tmp_path, 2, n_frames=60, informative=True)
    monkeypatch.setattr(dataset, "available_memory_bytes", lambda: 1000, raising=False)
    code, out, err = run_cli(["compare-models", "--store", str(store), "--labels", str(labels), "--models", "logreg",
                              "--context-s", "0", "--feature-norm", "none", "-j", "1", "--out", str(tmp_path / "m.skops")], capsys)
    assert code == 0, err
    lines = [line for line in err.splitlines() if "of memory" in line]
    assert len(lines) == 1 and lines[0].startswith("warning: features.h5: comparing models on 120 labelled frames of 64 features "
                                                   "will take about 0.5 GB of memory, 0.0 GB is available"), err
    assert lines[0].endswith("label fewer videos for now, or run it where more memory is free")  # 64-d: no pooling to drop
    monkeypatch.setattr(dataset, "available_memory_bytes", lambda: 10**12)
    code, _, err = run_cli(["compare-models", "--store", str(store), "--labels", str(labels), "--models", "logreg",
                            "--context-s", "0", "--feature-norm", "none", "-j", "1", "--out", str(tmp_path / "n.skops")], capsys)
    assert code == 0 and "of memory" not in err


def test_memory_estimate_counts_the_stored_videos_and_each_staged_copy(tmp_path):
    import classifiers.data.dataset as dataset
    from classifiers.data.dataset import load_labelled_videos

    store, labels = make_scene_store(tmp_path, 2, n_frames=60, informative=True)
    data = load_labelled_videos(FeatureStore(store), labels)
    stored, one = 2 * 60 * data.n_features * 4, len(data.y) * data.n_features * 4
    base = dataset.LIBRARIES_BYTES
    assert data.memory_estimate_bytes([("none", 0.0), ("center", 0.0)]) == base + stored + 5 * one
    assert data.memory_estimate_bytes([("none", 0.0), ("none", 2.0)]) == base + stored + 7 * one  # a context: 3x wide


def test_choosing_the_stages_keeps_one_staged_copy_at_a_time(tmp_path, monkeypatch):
    """Each normalisation x context tried stayed cached to the end (4 copies of the labelled frames, two of them 3x
    as wide: 2.4 GB of 3.8 GB at 40 labelled hours of 512-d); now one setting's copy at a time, and the same result."""
    from classifiers.data.dataset import LabelledVideos

    store, labels = make_scene_store(tmp_path, 3, n_frames=60, informative=True)
    before = compare_models(store, labels, models=["logreg"], n_jobs=1, smoothers=NONE)
    most = [0]
    real = LabelledVideos.features

    def watched(self, feature_norm="none", context_s=0.0):
        out = real(self, feature_norm, context_s)
        most[0] = max(most[0], len(self._cache))
        return out

    monkeypatch.setattr(LabelledVideos, "features", watched)
    after = compare_models(store, labels, models=["logreg"], n_jobs=1, smoothers=NONE)
    assert len(after.stage_scores) >= 3 and most[0] <= 2  # the chosen setting and the familiarity's raw copy
    assert (after.feature_norm, after.context_s) == (before.feature_norm, before.context_s)
    assert after.stage_scores == before.stage_scores


def test_memory_warning_for_wide_features_names_the_pooling(monkeypatch):
    from types import SimpleNamespace

    import classifiers.data.dataset as dataset
    from featurestore.errors import MemoryWarning

    wide = SimpleNamespace(y=np.zeros(36_000), n_features=25_088, memory_estimate_bytes=lambda settings: 25 * 10**9)
    monkeypatch.setattr(dataset, "available_memory_bytes", lambda: 8 * 10**9)
    with pytest.warns(MemoryWarning, match=r"36,000 labelled frames of 25,088 features will take about 25\.0 GB of "
                                           r"memory, 8\.0 GB is available; .*--pooling avg"):
        dataset.warn_if_memory_short(wide, [("none", 0.0)], "f.h5")
    monkeypatch.setattr(dataset, "available_memory_bytes", lambda: None)  # unknown: no guess
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        dataset.warn_if_memory_short(wide, [("none", 0.0)], "f.h5")


def test_cli_compare_models_unknown_model_is_usage_error(tmp_path, capsys):
    store, labels = make_scene_store(tmp_path, 2, n_frames=40)
    code, _, err = run_cli(["compare-models", "--store", str(store), "--labels", str(labels), "--models", "svm"], capsys)
    assert code == 2 and "svm" in err


def test_cli_compare_models_tutorial_mapping(tmp_path, capsys):
    """The tutorial's Image_ID,Class file on one stored video: frameN.jpg is the frame at N s."""
    store, _ = make_scene_store(tmp_path, 1, n_frames=120, informative=True)
    rows = [f"frame{i}.jpg,{(i // 20) % 3}" for i in range(120)]
    (tmp_path / "mapping.csv").write_text("Image_ID,Class\n" + "\n".join(rows) + "\n")
    code, out, err = run_cli(["compare-models", "--store", str(store), "--labels", str(tmp_path / "mapping.csv"), "--video", "v0.mp4",
                              "--classes", "neither,jerry,tom", "--models", "logreg", "--folds", "3", "--jobs", "1",
                              "--out", str(tmp_path / "m.joblib"), "--report", str(tmp_path / "board.csv")], capsys)
    assert code == 0, err
    assert "contiguous time blocks" in out
    text = " ".join(out.split())  # notes wrap at the terminal's width
    assert "not for new videos" in text and "no interval: cross-validation held out no whole video" in text
    assert load_model(tmp_path / "m.joblib").classes == ["jerry", "neither", "tom"]
    assert "recall_jerry" in (tmp_path / "board.csv").read_text().splitlines()[0]


def test_compare_models_interrupted_replaces_neither_model_nor_report(tmp_path, monkeypatch, capsys):
    """Issue 8: an interruption must not leave a new --out beside an old or missing --report."""
    import classifiers.compare as compare

    store, labels = make_scene_store(tmp_path, 3, n_frames=60, informative=True)
    model, report = tmp_path / "m.skops", tmp_path / "board.json"
    model.write_bytes(b"the model of yesterday")

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(compare, "write_report", interrupted)
    with pytest.raises(KeyboardInterrupt):
        compare.compare_models(store, labels, out_path=model, report_path=report, models=["logreg"], n_splits=3, n_jobs=1)
    assert model.read_bytes() == b"the model of yesterday" and not report.exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temporary files left
    monkeypatch.undo()
    code, out, err = run_cli(["compare-models", "--store", str(store), "--labels", str(labels), "--models", "logreg",
                              "--folds", "3", "--jobs", "1", "--out", str(model),
                              "--report", str(tmp_path / "no such folder" / "board.json")], capsys)
    assert code == 2 and "does not exist; make it or give another path (nothing was written)" in err, err  # before any work
    assert model.read_bytes() == b"the model of yesterday"


@pytest.mark.parametrize("value", ["abc", "-2"])
def test_cli_compare_models_bad_context_is_usage_error(tmp_path, capsys, value):
    store, labels = make_scene_store(tmp_path, 2, n_frames=40)
    code, _, err = run_cli(["compare-models", "--store", str(store), "--labels", str(labels), "--context-s", value], capsys)
    assert code == 2 and "--context-s" in err
