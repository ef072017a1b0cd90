"""The selection rule of suggest-labels on made-up values: the measures per sample, then spans under a budget."""

from __future__ import annotations

import numpy as np
import pytest

from classifiers.active.spans import Candidates, pick_spans, sample_values, scenes, span_lengths


def candidates(video_id, value, *, step_s=1.0, available=None, guess=None, scene=None):
    value = np.asarray(value, dtype=float)
    n = len(value)
    return Candidates(video_id, np.arange(n) * step_s, step_s, value,
                      np.ones(n, bool) if available is None else np.asarray(available),
                      np.array(["x"] * n, dtype=object) if guess is None else np.asarray(guess, dtype=object),
                      np.zeros(n, int) if scene is None else np.asarray(scene))


def test_sample_values_single_label():
    proba = np.array([[1.0, 0.0, 0.0], [0.5, 0.5, 0.0], [0.6, 0.3, 0.1]])
    raw = np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.6, 0.3, 0.1]])
    committee = np.stack([proba, proba, np.array([[0.0, 1.0, 0.0], [0.5, 0.5, 0.0], [0.6, 0.3, 0.1]])])
    v = sample_values(proba, raw, committee)
    np.testing.assert_allclose(v["uncertainty"], [0.0, 1.0, 0.7])
    np.testing.assert_allclose(v["instability"], [0.0, 0.5, 0.0])  # total variation between unsmoothed and smoothed
    np.testing.assert_allclose(v["disagreement"], [4 / 9, 0.0, 0.0], atol=1e-12)  # mean distance of the 3 fold models to their mean
    np.testing.assert_allclose(v["value"], v["uncertainty"] + v["instability"] + v["disagreement"])
    assert sample_values(proba)["disagreement"].tolist() == [0.0, 0.0, 0.0]


def test_sample_values_multilabel_takes_the_least_sure_character():
    # columns: tom, jerry (independent yes/no); rows need not sum to 1
    proba = np.array([[0.99, 0.01], [0.95, 0.5], [0.9, 0.9]])
    v = sample_values(proba, proba, multilabel=True)
    np.testing.assert_allclose(v["uncertainty"], [0.02, 1.0, 0.2])
    single = sample_values(proba / proba.sum(axis=1, keepdims=True))
    assert single["uncertainty"][2] == pytest.approx(1.0)  # as classes, 0.9/0.9 would be a coin toss; as characters it is sure


def test_span_lengths_are_whole_seconds_of_samples():
    assert span_lengths(1.0) == [2, 3, 4, 5, 6]
    assert span_lengths(0.5) == [4, 6, 8, 10, 12]
    assert span_lengths(2.0) == [1, 2, 3]
    assert span_lengths(2.5) == [2]  # 5 s
    assert span_lengths(2.4) == [1, 2]  # no whole second from 2 to 6 fits the grid: 2.4 and 4.8 s


@pytest.mark.parametrize("budget_s", [2, 7, 20, 100])
def test_pick_spans_respects_budget_lengths_and_availability(budget_s):
    rng = np.random.default_rng(0)
    videos = [candidates(f"v{k}", rng.uniform(0, 2, 40), available=rng.uniform(size=40) > 0.2,
                         scene=np.arange(40) // 8) for k in range(3)]
    spans = pick_spans(videos, budget_s)
    assert sum(s.duration_s for s in spans) <= budget_s
    assert spans and all(2 <= s.duration_s <= 6 and s.duration_s == int(s.duration_s) for s in spans)
    by_id = {v.video_id: v for v in videos}
    for s in spans:
        v = by_id[s.video_id]
        assert v.available[s.first:s.last + 1].all() and s.start_s == v.sample_s[s.first]
        assert s.end_s == pytest.approx(v.sample_s[s.last] + 1.0)
    for a in spans:
        for b in spans:
            if a is not b and a.video_id == b.video_id:
                assert a.end_s < b.start_s or b.end_s < a.start_s  # never overlapping, not even touching
    values = [s.value for s in spans]
    assert values == sorted(values, reverse=True)


def test_pick_spans_are_short_and_spend_what_is_left_on_the_best():
    value = np.zeros(30)
    value[10:14] = 1.0  # a 4 s confusing stretch
    value[20:29] = 2.0  # a 9 s more confusing one
    scene = np.r_[np.zeros(15), np.ones(15)].astype(int)
    spans = pick_spans([candidates("v", value, scene=scene)], 4)
    assert [(s.start_s, s.end_s) for s in spans] == [(20, 22), (10, 12)]  # two moments rather than one longer look
    spans = pick_spans([candidates("v", value, scene=scene)], 5)  # 1 s left: the best span takes it
    assert [(s.start_s, s.end_s) for s in spans] == [(20, 23), (10, 12)]
    spans = pick_spans([candidates("v", value, scene=scene, available=np.arange(30) != 22)], 5)
    assert [(s.start_s, s.end_s) for s in spans] == [(19, 22), (10, 12)]  # grown on its free side


def test_pick_spans_spreads_over_videos_scenes_and_guesses():
    # video a is worth a little more everywhere, but not so much that it should take the whole budget
    a = candidates("a", np.full(60, 1.0), scene=np.arange(60) // 20, guess=np.where(np.arange(60) < 40, "tom", "jerry"))
    b = candidates("b", np.full(60, 0.8), scene=np.arange(60) // 20, guess=np.where(np.arange(60) < 20, "tom", "neither"))
    spans = pick_spans([a, b], 6)
    assert len(spans) == 3 and {s.video_id for s in spans} == {"a", "b"}
    per_scene = [(s.video_id, s.first // 20) for s in spans]
    assert len(per_scene) == len(set(per_scene))  # no two spans from one scene while others are unvisited
    guessed = {a.guess[s.first] for s in spans if s.video_id == "a"}
    assert guessed == {"tom", "jerry"}


def test_pick_spans_never_picks_labelled_samples_even_when_nothing_else_is_left():
    available = np.zeros(20, bool)
    available[5:8] = True  # 3 free seconds
    spans = pick_spans([candidates("v", np.ones(20), available=available)], 60)
    assert [(s.start_s, s.end_s) for s in spans] == [(5, 8)]
    assert pick_spans([candidates("v", np.ones(20), available=np.zeros(20, bool))], 60) == []


def test_scenes_cut_where_features_jump():
    rng = np.random.default_rng(0)
    shots = [rng.normal(size=32) for _ in range(3)]
    X = np.vstack([shot + 0.05 * rng.normal(size=(n, 32)) for shot, n in zip(shots, (10, 5, 8))])
    assert scenes(X).tolist() == [0] * 10 + [1] * 5 + [2] * 8


def test_sample_values_multilabel_uncertainty_is_relative_to_each_threshold():
    proba = np.array([[0.2, 0.9], [0.3, 0.99], [0.6, 0.95]])
    v = sample_values(proba, multilabel=True, thresholds=np.array([0.2, 0.5]))
    # column 0 turns to yes at 0.2: 0.2 is a coin toss, 0.3 is 1/8 of the way to sure, 0.6 is half way
    np.testing.assert_allclose(v["uncertainty"], [1.0, 0.875, 0.5])


def test_pick_spans_never_end_after_the_video():
    """Issue 26: a 4.0 s video whose samples sit at 0.2, 1.2, 2.2, 3.2 s, the best at the end: the span is 2.2-4.0 s,
    not 2.2-4.2 s."""
    c = Candidates("v.mp4", np.arange(4) + 0.2, 1.0, np.array([0, 0, 1, 1.0]), np.ones(4, bool), np.array(["a"] * 4),
                   np.zeros(4, int), duration_s=4.0)
    [span] = pick_spans([c], budget_s=2.0)
    assert (span.start_s, span.end_s) == (pytest.approx(2.2), pytest.approx(4.0))
