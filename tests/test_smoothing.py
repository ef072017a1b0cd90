"""Smoothing removes isolated flips, keeps real changes, and keeps its text and dict forms."""

import numpy as np
import pytest

from classifiers.chain.smoothing import Smoother, candidate_smoothers, parse_smoother, sticky_posteriors

SMOOTHERS = [Smoother("median", 5.0), Smoother("mean", 5.0), Smoother("hmm", 10.0)]


def noisy_proba(truth, flips, n_classes=3, seed=0):
    """Probabilities favouring `truth` (0.7 +- noise), but favouring the next class at `flips`."""
    rng = np.random.default_rng(seed)
    truth = np.asarray(truth)
    observed = truth.copy()
    observed[flips] = (observed[flips] + 1) % n_classes
    proba = rng.uniform(0.0, 0.2, size=(len(truth), n_classes))
    proba[np.arange(len(truth)), observed] += 0.8
    return proba / proba.sum(axis=1, keepdims=True)


@pytest.mark.parametrize("smoother", SMOOTHERS, ids=lambda s: s.name)
def test_smoother_removes_isolated_flips_and_keeps_real_changes(smoother):
    truth = np.r_[np.zeros(20, int), np.ones(15, int), np.full(20, 2)]
    flips = [5, 12, 27, 44]
    proba = noisy_proba(truth, flips)
    assert (proba.argmax(axis=1) != truth).sum() == len(flips)
    smoothed = smoother.transform(proba, step_s=1.0)
    np.testing.assert_array_equal(smoothed.argmax(axis=1), truth)


@pytest.mark.parametrize("smoother", SMOOTHERS, ids=lambda s: s.name)
def test_smoother_transform_returns_probabilities(smoother):
    proba = noisy_proba(np.arange(40) // 10 % 3, [3, 17])
    smoothed = smoother.transform(proba, step_s=0.5)
    assert smoothed.shape == proba.shape
    np.testing.assert_allclose(smoothed.sum(axis=1), 1.0)
    assert np.all(smoothed >= 0)


def test_smoother_hmm_removes_hard_zero_flip():
    proba = np.eye(2)[np.r_[np.zeros(10, int), 1, np.zeros(10, int)]]
    smoothed = Smoother("hmm", 10.0).transform(proba, step_s=1.0)
    assert np.all(smoothed.argmax(axis=1) == 0)


def test_smoother_none_is_identity():
    proba = noisy_proba(np.zeros(10, int), [4])
    np.testing.assert_array_equal(Smoother("none").transform(proba, 1.0), proba)


def test_smoother_window_follows_seconds_not_samples():
    # One flipped second is removed at 1 and at 4 fps when the window is 5 s, whatever the rate.
    for fps in (1, 4):
        truth = np.zeros(30 * fps, int)
        flips = list(range(10 * fps, 11 * fps))
        proba = noisy_proba(truth, flips)
        for smoother in SMOOTHERS:
            assert np.all(smoother.transform(proba, 1 / fps).argmax(axis=1) == 0), (smoother.name, fps)


def test_sticky_posteriors_match_loop_forward_backward():
    rng = np.random.default_rng(1)
    proba = rng.dirichlet(np.ones(4), size=300)
    p_stay, noise = 0.9, 0.1
    e = (1 - noise) * proba + noise / 4
    a = np.full((4, 4), (1 - p_stay) / 3)
    np.fill_diagonal(a, p_stay)
    alpha = np.empty_like(e)
    beta = np.ones_like(e)
    alpha[0] = e[0] / e[0].sum()
    for t in range(1, len(e)):
        alpha[t] = e[t] * (a.T @ alpha[t - 1])
        alpha[t] /= alpha[t].sum()
    for t in range(len(e) - 2, -1, -1):
        beta[t] = a @ (e[t + 1] * beta[t + 1])
        beta[t] /= beta[t].sum()
    expected = alpha * beta / (alpha * beta).sum(axis=1, keepdims=True)
    np.testing.assert_allclose(sticky_posteriors(proba, p_stay, noise), expected, atol=1e-10)


@pytest.mark.parametrize(
    "text, expected",
    [
        ("none", Smoother("none")),
        ("median:5", Smoother("median", 5.0)),
        ("median:5s", Smoother("median", 5.0)),
        ("mean:3", Smoother("mean", 3.0)),
        ("hmm:10", Smoother("hmm", 10.0)),
        (" HMM:2.5s ", Smoother("hmm", 2.5)),
        ("median", Smoother("median", 5.0)),
        ("hmm", Smoother("hmm", 10.0)),
    ],
)
def test_parse_smoother_every_method(text, expected):
    assert parse_smoother(text) == expected


@pytest.mark.parametrize("text", ["boxcar:3", "median:abc", "median:0", "none:3", "hmm:-1"])
def test_parse_smoother_rejects_bad_text(text):
    with pytest.raises(ValueError):
        parse_smoother(text)


def test_candidate_smoothers_few_distinct_and_round_trip():
    candidates = candidate_smoothers()
    assert 2 <= len(candidates) <= 6
    assert len({s.name for s in candidates}) == len(candidates)
    assert {s.method for s in candidates} >= {"none", "median", "hmm"}
    for smoother in candidates:
        assert parse_smoother(smoother.name) == smoother
        assert Smoother.from_dict(smoother.to_dict()) == smoother


def test_smoother_rejects_unknown_method_and_bad_window():
    with pytest.raises(ValueError, match="unknown"):
        Smoother("gaussian", 3.0)
    with pytest.raises(ValueError, match="window_s"):
        Smoother("hmm", 0.0)


def test_sticky_posteriors_long_confident_video_stays_finite():
    # Two hours at 1 fps of hard 0/1 probabilities: products of 7,200 steps must not underflow.
    labels = (np.arange(7200) // 600) % 3
    proba = np.eye(3)[labels]
    smoothed = Smoother("hmm", 20.0).transform(proba, step_s=1.0)
    assert np.all(np.isfinite(smoothed))
    np.testing.assert_array_equal(smoothed.argmax(axis=1), labels)


def test_transform_each_smooths_characters_independently():
    """Multi-label probabilities: each column is its own on/off problem; a lone blip goes, columns need not sum to 1."""
    p = np.zeros((30, 2))
    p[:, 0] = 0.9
    p[10:20, 1] = 0.95
    p[25, 1] = 0.99  # a one-frame blip
    out = Smoother("median", 3.0).transform_each(p, step_s=1.0)
    assert out.shape == (30, 2) and out[25, 1] < 0.5 and np.all(out[12:18, 1] > 0.9) and np.allclose(out[:, 0], 0.9)
    hmm = Smoother("hmm", 10.0).transform_each(p, step_s=1.0)
    assert hmm[25, 1] < 0.5 and np.all(hmm[12:18, 1] > 0.5) and np.all(hmm[:, 0] > 0.5)
    assert np.array_equal(Smoother("none").transform_each(p, 1.0), p)
