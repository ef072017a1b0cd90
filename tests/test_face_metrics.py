"""bench/_face_metrics.py: issue 24's and 25's figures from predictions and the composed footage's truth."""

import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))

from _face_metrics import Predicted, cluster_figures, evaluate, true_people  # noqa: E402

from cartoons.actors import ActorVideo  # noqa: E402
from cartoons.cast import CAST  # noqa: E402


def tiny_truth() -> ActorVideo:
    """10 s at 1 fps: obama frames 0-5, biden 4-9, an extra frames 0-1 (box at x=100), nobody else."""
    rows = [(f, "obama", (10, 10, 20, 20)) for f in range(6)] + [(f, "biden", (50, 10, 20, 20)) for f in range(4, 10)]
    rows += [(f, "extra:someone", (100, 10, 20, 20)) for f in range(2)]
    return ActorVideo(Path("v.mp4"), 1.0, 10, (200, 100), "test", np.array([5.0]), np.array([r[0] for r in rows]),
                      np.array([r[1] for r in rows]), np.array([r[2] for r in rows], np.float32))


def test_evaluate_counts_errors_accuracy_extras_and_coverage():
    v = tiny_truth()
    times = np.arange(10.0)
    labels = [frozenset({"obama"})] * 6 + [frozenset({"biden"})] * 4  # biden missed at 4 and 5
    faces = [(0.0, (100, 10, 20, 20), "obama"), (1.0, (101, 11, 20, 20), "unknown")]  # the extra named obama once
    p = Predicted("v.mp4", times, labels, {"obama": 6.0, "biden": 4.0}, {"obama": (5.0, 7.0), "biden": (4.5, 5.0)}, faces)
    got = evaluate([p], [v])
    assert got["error_pct"]["obama"] == 0.0 and got["error_pct"]["biden"] == pytest.approx(20.0)
    assert got["worst_error_pct"] == pytest.approx(20.0)
    assert got["accuracy"]["biden"] == pytest.approx(0.8) and got["worst_accuracy"] == pytest.approx(0.8)
    assert got["extras_as_cast_pct"] == pytest.approx(50.0) and got["extras_method"] == "per face"
    assert got["coverage"] == pytest.approx(1 / 2)  # obama's 6 s inside (5, 7), biden's 6 s outside (4.5, 5)
    assert got["n_intervals"] == 2
    p.faces = None  # without faces: per sample, an actor named who is not on screen while the extra is
    assert evaluate([p], [v])["extras_as_cast_pct"] == 0.0
    p.labels = [frozenset({"obama", "biden"})] + labels[1:]
    assert evaluate([p], [v])["extras_as_cast_pct"] == pytest.approx(50.0)


def test_evaluate_refuses_predictions_of_another_video():
    p = Predicted("other.mp4", np.arange(10.0), [frozenset()] * 10, dict.fromkeys(CAST, 0.0))
    with pytest.raises(ValueError, match="other.mp4"):
        evaluate([p], [tiny_truth()])


def test_cluster_figures_purity_and_names():
    cluster = [0, 0, 0, 0, 1, 1, 1, 2, 2, -1, -1]
    actor = ["obama", "obama", "obama", "biden", "biden", "biden", "biden", "extra:x", "obama", "obama", "biden"]
    got = cluster_figures(cluster, actor)
    assert got["purity"] == pytest.approx(7 / 9)  # 3 of cluster 0, 3 of cluster 1, 1 of cluster 2; bin -1 apart
    # cast faces: 5 obama + 5 biden = 10; named clusters: 0 gives 3 (obama), 1 gives 3 (biden), 2 gives 1 (tie broken by
    # name order: extra:x first, not cast) -> 6 of 10 at most, never 90%
    assert got["names_to_cover"] is None and got["names_limit"] == 4 and got["n_apart"] == 2
    assert cluster_figures([0, 0, 1, 1, 2], ["obama", "obama", "biden", "biden", "biden"])["names_to_cover"] == 3
    split_biden = cluster_figures([0] * 5 + [1] * 4 + [2], ["obama"] * 5 + ["biden"] * 5)
    assert split_biden["names_to_cover"] == 2 and split_biden["purity"] == 1.0  # 9 of 10 cast faces in two names


def test_true_people_matches_found_faces_to_the_truth():
    v = tiny_truth()
    got = true_people(v, [0.0, 0.0, 4.5, 7.0], [(11, 9, 20, 22), (98, 10, 20, 20), (50, 60, 20, 20), (52, 12, 18, 18)])
    assert got.tolist() == ["obama", "extra:someone", "none", "biden"]
