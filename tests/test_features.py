"""Per-video normalisation: chosen by cross-validation when rooms differ, saved with the model, applied by score."""

import numpy as np
import pytest

from classifiers.compare import compare_models
from classifiers.features import normalize_video
from classifiers.persist import load_model
from classifiers.score import score_videos
from conftest import write_video
from featurestore import EmbeddingConfig, embed_videos

TINY = EmbeddingConfig(weights="random", image_size_px=32)
OFFSET = {"neither": 0, "jerry": 30, "tom": 60}


def test_normalize_video_centers_each_feature():
    X = np.array([[1.0, 10.0], [3.0, 14.0]])
    np.testing.assert_allclose(normalize_video(X, "center"), [[-1, -2], [1, 2]])
    np.testing.assert_array_equal(normalize_video(X, "none"), X)
    with pytest.raises(ValueError, match="feature_norm"):
        normalize_video(X, "zscore")


def room_video(path, base_level, seed, seconds=36):
    """Grey frames: room brightness `base_level` + 0/30/60 for neither/jerry/tom; each class a third of the time."""
    rng = np.random.default_rng(seed)
    labels = [label for label in OFFSET for _ in range(seconds // 3)]
    shots = [labels[i:i + 3] for i in range(0, seconds, 3)]
    rng.shuffle(shots)
    labels = [label for shot in shots for label in shot]
    colours = [(base_level + OFFSET[label],) * 3 for label in labels for _ in range(10)]
    write_video(path, 10, 10 * seconds, fourcc="MJPG", colours=colours)
    return labels


def test_center_is_chosen_saved_and_applied_when_rooms_differ(tmp_path, stand_in):
    rows, paths = [], []
    for k, base in enumerate([20, 70, 120, 45]):
        path = tmp_path / f"room{k}.avi"
        labels = room_video(path, base, seed=k)
        rows += [f"{path.name},{t},{t + 1},{label}" for t, label in enumerate(labels)]
        paths.append(path)
    (tmp_path / "labels.csv").write_text("video,start,end,label\n" + "\n".join(rows) + "\n")
    embed_videos(paths, tmp_path / "f.h5", config=TINY, make_embedder=stand_in)

    result = compare_models(tmp_path / "f.h5", tmp_path / "labels.csv", out_path=tmp_path / "m.joblib",
                            models=["logreg"], n_splits=4, n_jobs=1)
    assert result.feature_norm == "center"
    assert result.feature_norm_scores["center"] > result.feature_norm_scores["none"] + 0.3
    assert load_model(tmp_path / "m.joblib").feature_norm == "center"

    held_out = tmp_path / "bright room.avi"
    truth = room_video(held_out, 170, seed=9)  # a room brighter than any in training
    scored = score_videos([held_out], model_path=tmp_path / "m.joblib", store_path=tmp_path / "f.h5",
                          smooth="none", make_embedder=stand_in)
    [video] = scored.videos
    assert scored.model_info["feature_norm"] == "center"
    accuracy = np.mean(np.asarray(video.labels) == np.asarray(truth))
    assert accuracy > 0.9
    for label in OFFSET:
        assert video.screen_time_s[label] == pytest.approx(truth.count(label), abs=2.0)
