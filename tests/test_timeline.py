"""Screen-time arithmetic: sampling intervals, the partial last sample, fps invariance, segments."""

import numpy as np
import pytest

from classifiers.chain.timeline import Segment, sample_durations_s, segments_from_labels, summarize_video, total_screen_time

CLASSES = ["tom", "jerry", "none"]


def one_hot(idx, n_classes=3, p=0.9):
    """Rows with probability `p` on class idx[i] and the rest spread evenly."""
    idx = np.asarray(idx)
    proba = np.full((len(idx), n_classes), (1 - p) / (n_classes - 1))
    proba[np.arange(len(idx)), idx] = p
    return proba


def truth_at(t_s):
    """Ground truth of a made-up 10.5 s video: tom [0, 4), jerry [4, 7.5), none [7.5, 10.5)."""
    t_s = np.asarray(t_s)
    return np.where(t_s < 4.0, 0, np.where(t_s < 7.5, 1, 2))


def test_sample_durations_s_intervals_and_partial_last_sample():
    durations = sample_durations_s(np.arange(5.0), duration_s=4.4, sample_fps=1.0)
    np.testing.assert_allclose(durations, [1, 1, 1, 1, 0.4])


def test_sample_durations_s_last_sample_never_negative():
    durations = sample_durations_s(np.arange(5.0), duration_s=3.9, sample_fps=1.0)
    assert durations[-1] == 0.0
    assert np.all(durations >= 0)


def test_sample_durations_s_sum_to_duration_at_any_fps():
    for fps in (0.5, 1.0, 2.0, 3.0):
        requested_s = np.arange(0, 61.3, 1 / fps)
        assert sample_durations_s(requested_s, 61.3, fps).sum() == pytest.approx(61.3)


def test_sample_durations_s_first_sample_covers_start():
    durations = sample_durations_s(np.array([0.5, 1.5]), duration_s=2.0, sample_fps=1.0)
    np.testing.assert_allclose(durations, [1.5, 0.5])


def test_sample_durations_s_rejects_unsorted_times():
    with pytest.raises(ValueError, match="strictly increasing"):
        sample_durations_s(np.array([0.0, 2.0, 1.0]), 3.0, 1.0)


def test_summarize_video_screen_time_is_fps_invariant():
    totals = {}
    for fps in (1.0, 2.0):
        requested_s = np.arange(0, 10.5, 1 / fps)
        result = summarize_video("v", requested_s, one_hot(truth_at(requested_s)), CLASSES, 10.5, fps)
        assert sum(result.screen_time_s.values()) == pytest.approx(10.5)
        totals[fps] = result.screen_time_s
    for label in CLASSES:
        assert totals[1.0][label] == pytest.approx(totals[2.0][label], abs=1.0)
    assert totals[2.0] == pytest.approx({"tom": 4.0, "jerry": 3.5, "none": 3.0})


def test_summarize_video_reports_every_class_share_and_appearances():
    idx = [0, 0, 1, 1, 0, 0, 0, 0]
    result = summarize_video("v", np.arange(8.0), one_hot(idx), CLASSES, 8.0, 1.0)
    assert result.screen_time_s == {"tom": 6.0, "jerry": 2.0, "none": 0.0}
    assert result.share == pytest.approx({"tom": 0.75, "jerry": 0.25, "none": 0.0})
    assert result.n_appearances == {"tom": 2, "jerry": 1, "none": 0}
    assert result.first_s == {"tom": 0.0, "jerry": 2.0, "none": None}
    assert result.last_s == {"tom": 8.0, "jerry": 4.0, "none": None}
    assert list(result.labels) == ["tom", "tom", "jerry", "jerry", "tom", "tom", "tom", "tom"]
    time_s, label, proba = result.samples[2]
    assert (time_s, label) == (2.0, "jerry") and proba.shape == (3,)


def test_segments_from_labels_runs_bounds_and_confidence():
    proba = one_hot([0, 0, 1, 2, 2], p=0.8)
    proba[1] = [0.6, 0.2, 0.2]
    labels = np.array(["tom", "tom", "jerry", "none", "none"], dtype=object)
    segments = segments_from_labels(np.arange(5.0), labels, proba, CLASSES, 4.5, 1.0)
    assert [(s.start_s, s.end_s, s.label) for s in segments] == [
        (0.0, 2.0, "tom"),
        (2.0, 3.0, "jerry"),
        (3.0, 4.5, "none"),
    ]
    assert segments[0].confidence == pytest.approx(0.7)
    assert isinstance(segments[0], Segment) and segments[2].duration_s == pytest.approx(1.5)


def test_segments_from_labels_drops_zero_length_last_segment():
    segments = segments_from_labels(np.arange(3.0), ["tom", "tom", "jerry"], one_hot([0, 0, 1]), CLASSES, 2.0, 1.0)
    assert [(s.label, s.end_s) for s in segments] == [("tom", 2.0)]


def test_segments_from_labels_rejects_unknown_label():
    with pytest.raises(ValueError, match="spike"):
        segments_from_labels(np.arange(2.0), ["tom", "spike"], one_hot([0, 1]), CLASSES, 2.0, 1.0)


def test_summarize_video_empty_video():
    result = summarize_video("v", np.zeros(0), np.zeros((0, 3)), CLASSES, 0.0, 1.0)
    assert result.segments == [] and result.screen_time_s == {"tom": 0.0, "jerry": 0.0, "none": 0.0}


def test_summarize_video_rejects_wrong_proba_shape():
    with pytest.raises(ValueError, match=r"\(4, 3\)"):
        summarize_video("v", np.arange(4.0), np.zeros((4, 2)), CLASSES, 4.0, 1.0)


def test_total_screen_time_sums_over_videos():
    a = summarize_video("a", np.arange(3.0), one_hot([0, 0, 1]), CLASSES, 3.0, 1.0)
    b = summarize_video("b", np.arange(2.0), one_hot([2, 1]), CLASSES, 2.5, 1.0)
    assert total_screen_time([a, b]) == pytest.approx({"tom": 2.0, "jerry": 2.5, "none": 1.0})
