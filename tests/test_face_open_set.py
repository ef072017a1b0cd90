"""The face model's decision rules: the open-set check (a face may be an actor's only near that actor's training
faces), a track's identity carried by its majority, and the unknown threshold's rules."""

from __future__ import annotations

import numpy as np
from sklearn.linear_model import LogisticRegression

from classifiers.chain.face_decide import UNKNOWN
from classifiers.chain.face_model import FaceModel
from classifiers.chain.face_open_set import FaceReference
from classifiers.chain.face_persist import load_face_model, save_face_model
from classifiers.selection.face_unknown import TARGET_FALSE_ACCEPT, choose_threshold
from face_helpers import Face, face_table, near, people

ALICE, BOB, CAROL, STRANGER = people(4, seed=21)


def _cast_model(**kwargs) -> FaceModel:
    """A logistic regression on alice's and bob's faces only (no unknown class), and their faces as the reference."""
    X = np.array([near(ALICE, i) for i in range(8)] + [near(BOB, 100 + i) for i in range(8)])
    y = np.array(["alice"] * 8 + ["bob"] * 8)
    clf = LogisticRegression(C=10).fit(X, y)
    return FaceModel(clf, ["alice", "bob"], threshold=0.5, **kwargs,
                     reference=FaceReference.from_training(X, y, ["alice", "bob"]))


def test_reference_distances_are_to_the_nearest_face_of_each_actor():
    ref = FaceReference(np.array([[0.0, 0.0], [3.0, 4.0], [1.0, 0.0]], np.float32), np.array([0, 0, 1]), 0.6)
    d = ref.distances(np.array([[3.0, 4.5], [0.9, 0.0]]), n_actors=3)
    assert np.allclose(d[:, :2], [[0.5, np.hypot(2.0, 4.5)], [0.9, 0.1]]) and np.isinf(d[:, 2]).all()


def test_the_reference_leaves_unknown_faces_out_and_keeps_at_most_so_many_per_actor():
    X = np.arange(40, dtype=np.float32).reshape(20, 2)
    y = np.array(["alice"] * 12 + ["bob"] * 3 + [UNKNOWN] * 5)
    ref = FaceReference.from_training(X, y, ["alice", "bob"], per_actor=5)
    assert np.bincount(ref.actor).tolist() == [5, 3] and len(ref.X) == 8
    assert not np.isin(ref.X[:, 0], X[15:, 0]).any()  # no face of unknown people


def test_an_extra_far_from_every_actor_stays_unknown_even_where_the_classifier_is_sure():
    """The classifier never saw the stranger and names him with confidence; his descriptor is far from every
    training face, so the open-set check leaves him unknown -- while alice and bob are still named."""
    model = _cast_model(smoothing="none")
    stranger = near(STRANGER, 7, noise=0.1)
    table = face_table("v.mp4", 3, [Face(0, near(ALICE, 50)), Face(1, near(BOB, 51)), Face(2, stranger)])
    unchecked = FaceModel(model.pipeline, model.actors, threshold=0.5, smoothing="none")
    p = unchecked.face_proba(table)[0]
    assert p[2].max() >= 0.5 and unchecked.decide(table)[0][2] >= 0  # without the check, he is cast
    assert model.predict_video(table, duration_s=3.0).faces.label.tolist() == ["alice", "bob", UNKNOWN]


def test_a_track_is_checked_as_one_person():
    """One face of alice's track is far from her training faces (turned, blurred): alone it is refused, but the track
    (mean distance of its faces) is hers, so with track smoothing every face of it is alice's."""
    far_face = near(ALICE, 60, noise=1.2)
    faces = [Face(0, near(ALICE, 61), 0), Face(1, near(ALICE, 62), 0), Face(2, far_face, 0), Face(3, near(ALICE, 63), 0)]
    table = face_table("v.mp4", 4, faces)
    model = _cast_model(smoothing="none")
    assert model.reference.distances(far_face[None], 2)[0, 0] > 0.6
    assert model.predict_video(table, duration_s=4.0).faces.label.tolist()[2] == UNKNOWN
    tracked = _cast_model(smoothing="track")
    assert tracked.predict_video(table, duration_s=4.0).faces.label.tolist() == ["alice"] * 4


def test_a_tracks_identity_is_carried_by_its_majority():
    """Three faces of a track look like alice and one like bob: with track smoothing all four are alice's, without it
    the odd one is bob's."""
    faces = [Face(0, near(ALICE, 70), 0), Face(1, near(BOB, 71, noise=0.1), 0), Face(2, near(ALICE, 72), 0),
             Face(3, near(ALICE, 73), 0)]
    table = face_table("v.mp4", 4, faces)
    assert _cast_model(smoothing="none").predict_video(table, duration_s=4.0).faces.label.tolist() == \
        ["alice", "bob", "alice", "alice"]
    assert _cast_model(smoothing="track").predict_video(table, duration_s=4.0).faces.label.tolist() == ["alice"] * 4


def test_the_reference_round_trips_through_the_model_file(tmp_path):
    model = _cast_model(smoothing="track")
    loaded = load_face_model(save_face_model(tmp_path / "m.skops", model))
    assert np.array_equal(loaded.reference.X, model.reference.X) and loaded.reference.max_distance == 0.6
    assert np.array_equal(loaded.reference.actor, model.reference.actor)
    table = face_table("v.mp4", 2, [Face(0, near(ALICE, 80)), Face(1, STRANGER)])
    assert loaded.predict_video(table, duration_s=2.0).faces.label.tolist() == ["alice", UNKNOWN]
    model.reference = None  # a model saved without a reference makes no check
    assert load_face_model(save_face_model(tmp_path / "n.skops", model)).reference is None


def _evidence(p_novel, p_known, d_novel=None, d_known=None) -> list[dict]:
    """Inner-fold evidence of one actor's column: novel faces (their own actor: none) and known ones (the actor)."""
    p_novel, p_known = np.asarray(p_novel, float), np.asarray(p_known, float)
    n = len(p_novel) + len(p_known)
    d = None if d_novel is None else np.concatenate([d_novel, d_known])[:, None]
    return [{"p_actor": np.concatenate([p_novel, p_known])[:, None], "p_unknown": np.zeros(n), "d": d,
             "own": np.r_[np.full(len(p_novel), -1), np.zeros(len(p_known), int)],
             "novel": np.concatenate([np.ones(len(p_novel), bool), np.zeros(len(p_known), bool)])}]


def test_the_false_accept_rule_holds_novel_faces_under_its_target_where_balanced_error_would_not():
    """Novel faces at 0.52..0.71 and known ones at 0.6..0.99: the balanced error is smallest at a threshold that lets
    a tenth of the novel faces through; the false-accept rule goes up until at most 2% of them pass."""
    novel = np.r_[np.full(90, 0.3), np.linspace(0.52, 0.71, 10)]
    known = np.r_[np.full(90, 0.99), np.linspace(0.6, 0.69, 10)]
    balanced, _, _ = choose_threshold(_evidence(novel, known), rule="balanced")
    strict, _, why = choose_threshold(_evidence(novel, known), rule="false-accept")
    assert np.mean(novel >= balanced) > TARGET_FALSE_ACCEPT
    assert np.mean(novel >= strict) <= TARGET_FALSE_ACCEPT and strict > balanced and "accepted" in why
    # where no threshold of the grid gets there, the rule falls back to the smallest balanced error
    assert choose_threshold(_evidence(np.full(10, 0.99), known), rule="false-accept")[0] == \
        choose_threshold(_evidence(np.full(10, 0.99), known), rule="balanced")[0]


def test_cross_validation_chooses_the_open_set_distance_that_refuses_novel_faces():
    """Novel faces as likely as known ones by the classifier (0.9) but further from the actors' faces (0.55 against
    0.35): only a distance check tells them apart, and the one chosen lies between the two."""
    evidence = _evidence(np.full(50, 0.9), np.full(50, 0.9), np.full(50, 0.55), np.full(50, 0.35))
    threshold, max_distance, why = choose_threshold(evidence, distances=(None, 0.45, 0.5, 0.6))
    assert max_distance in (0.45, 0.5) and "within" in why
    assert choose_threshold(evidence)[1] is None  # not asked: no check


def test_inner_folds_count_only_held_out_actors_as_novel_unless_asked():
    """Unknown people recur across training videos, so a fit has seen them; by default the novel faces the threshold
    is chosen on are the held-out actor's alone (with `unknown_novel`, unknown faces too), and the distances are to
    the fold's training faces of each actor."""
    from types import SimpleNamespace

    from classifiers.selection.face_unknown import InnerFold, novel_evidence

    embs = [near(ALICE, 90), near(ALICE, 91), near(BOB, 92), near(BOB, 93), near(CAROL, 94), near(CAROL, 95)]
    table = face_table("v.mp4", 6, [Face(float(i), e) for i, e in enumerate(embs)])
    y = np.array(["alice", "alice", "bob", "bob", UNKNOWN, UNKNOWN])
    data = SimpleNamespace(videos={"v.mp4": SimpleNamespace(table=table)}, video_ids=np.full(6, "v.mp4"),
                           rows=np.arange(6), y=y, X=np.array(embs, np.float32))
    train = np.array([2, 3, 4, 5])
    clf = LogisticRegression(C=10).fit(data.X[train], y[train])
    fold = InnerFold(0, "alice", train, np.arange(6))
    default = novel_evidence(fold, clf, data, ["alice", "bob"], "none", distances=True)
    assert default["novel"].tolist() == [True, True, False, False]  # no face of unknown people
    assert np.isinf(default["d"][:, 0]).all() and (default["d"][2:, 1] < 0.6).all() and (default["d"][:2, 1] > 0.6).all()
    both = novel_evidence(fold, clf, data, ["alice", "bob"], "none", unknown_novel=True)
    assert both["novel"].tolist() == [True, True, False, False, True, True] and both["d"] is None
