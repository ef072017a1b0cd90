"""Screen-time intervals: from held-out videos' errors, honest about too few videos, in JSON and tables."""

from __future__ import annotations

import json

import numpy as np
import pytest
from scipy.stats import t as student_t

from classifiers.chain.intervals import claimed_level, error_spread, half_width_share, interval_note, screen_time_interval
from classifiers.output.console import screen_time_cell
from classifiers.output.results import results_to_dict
from classifiers.chain.timeline import summarize_video

CLASSES = ["jerry", "tom"]


def record(video, true_jerry, predicted_jerry, labelled_s=100.0):
    return {"video": video, "labelled_s": labelled_s, "true_s": {"jerry": true_jerry, "tom": labelled_s - true_jerry},
            "predicted_s": {"jerry": predicted_jerry, "tom": labelled_s - predicted_jerry}}


def test_error_spread_keeps_signed_shares_per_class():
    spread = error_spread([record("a", 40, 50), record("b", 30, 25), record("c", 60, 60), record("d", 10, 12)], CLASSES,
                          "leave-one-video-out")
    assert spread["n_videos"] == 4 and spread["videos"] == ["a", "b", "c", "d"] and spread["note"] == ""
    assert spread["error_share"]["jerry"] == pytest.approx([0.10, -0.05, 0.0, 0.02])
    assert spread["error_share"]["tom"] == pytest.approx([-0.10, 0.05, 0.0, -0.02])
    json.dumps(spread)  # saved with the model as plain JSON


def test_interval_width_is_student_t_times_rms_error_pooled_over_classes():
    spread = error_spread([record("a", 40, 50), record("b", 30, 25), record("c", 60, 60), record("d", 10, 12)], CLASSES,
                          "grouped", method="t-rms")
    rms = np.sqrt(np.mean(np.square([0.10, -0.05, 0.0, 0.02, -0.10, 0.05, 0.0, -0.02])))
    df = 4  # the videos are the independent draws, whatever the number of classes
    assert half_width_share(spread, 0.9) == pytest.approx({"jerry": student_t.ppf(0.95, df) * rms, "tom": student_t.ppf(0.95, df) * rms})
    assert half_width_share(spread, 0.5)["jerry"] < half_width_share(spread, 0.9)["jerry"]
    interval = screen_time_interval({"jerry": 30.0, "tom": 195.0}, 200.0, spread, 0.9)
    h = student_t.ppf(0.95, df) * rms * 200.0
    assert interval["jerry"] == pytest.approx((30.0 - h, 30.0 + h))
    assert interval["tom"][1] == 200.0  # clipped to the video's duration
    assert screen_time_interval({"jerry": 1.0, "tom": 199.0}, 200.0, spread)["jerry"][0] == 0.0  # and to 0


def test_interval_degrees_of_freedom_are_the_videos_not_the_video_class_pairs():
    three = {"jerry": [0.1, -0.05, 0.0, 0.02], "tom": [-0.05, 0.05, 0.01, -0.02], "neither": [-0.05, 0.0, -0.01, 0.0]}
    spread = {"n_videos": 4, "videos": list("abcd"), "error_share": three, "note": ""}
    rms = np.sqrt(np.mean(np.square(np.concatenate(list(three.values())))))
    assert half_width_share(spread, 0.9)["tom"] == pytest.approx(student_t.ppf(0.95, 4) * rms)  # not 4 x 2 = 8 df
    assert half_width_share({**spread, "multi_label": True}, 0.9)["tom"] == pytest.approx(student_t.ppf(0.95, 4) * rms)


@pytest.mark.parametrize("records, scheme, reason", [
    ([record("a", 40, 50), record("b", 30, 25)], "leave-one-video-out", "only 2 labelled videos"),
    ([record("a", 40, 50)] * 5, "blocks", "held out no whole video"),
])
def test_no_interval_with_too_few_held_out_videos(records, scheme, reason):
    spread = error_spread(records, CLASSES, scheme, method="t-rms")
    assert reason in spread["note"] and interval_note(spread) == spread["note"]
    assert half_width_share(spread) is None
    assert screen_time_interval({"jerry": 30.0, "tom": 70.0}, 100.0, spread) is None


def test_interval_never_narrower_than_one_sample():
    spread = error_spread([record(v, 40, 40) for v in "abc"], CLASSES, "grouped")  # perfect in CV
    assert screen_time_interval({"jerry": 40.0, "tom": 60.0}, 100.0, spread, min_half_width_s=0.5)["jerry"] == (39.5, 40.5)


def test_interval_fields_in_json_and_table():
    video = summarize_video("a.mp4", np.arange(4.0), np.array([[0.9, 0.1]] * 3 + [[0.2, 0.8]]), CLASSES, 4.0, 1.0)
    video.screen_time_interval_s, video.interval_level = {"jerry": (2.0, 4.0), "tom": (0.0, 2.5)}, 0.9
    other = summarize_video("b.mp4", np.arange(2.0), np.array([[0.9, 0.1]] * 2), CLASSES, 2.0, 1.0)
    other.interval_level = 0.9  # no interval for this one
    doc = json.loads(json.dumps(results_to_dict([video, other], {}, interval_note="from 4 videos")))
    assert doc["interval_level"] == 0.9 and doc["interval_note"] == "from 4 videos"
    assert doc["videos"][0]["screen_time_interval_s"] == {"jerry": [2.0, 4.0], "tom": [0.0, 2.5]}
    assert doc["videos"][1]["screen_time_interval_s"] is None
    assert screen_time_cell(81.0, (72.2, 90.4)) == "81.0 s (72–90)"
    assert screen_time_cell(3.2, (1.5, 4.9)) == "3.2 s (1.5–4.9)"
    assert screen_time_cell(3.2, None) == "3.2 s"


def test_conformal_intervals_take_the_kth_smallest_video_score_and_claim_what_n_videos_support():
    # per-video scores: max over classes of |error share| = 0.10, 0.05, 0.0, 0.02 (a video's classes are off together)
    spread = error_spread([record("a", 40, 50), record("b", 30, 25), record("c", 60, 60), record("d", 10, 12)], CLASSES,
                          "grouped", method="conformal")
    assert spread["method"] == "conformal"
    assert claimed_level(spread, 0.9) == pytest.approx(0.8)  # 4 videos: no more than 4/5
    assert half_width_share(spread, 0.9) == pytest.approx({"jerry": 0.10, "tom": 0.10})  # the widest of 4
    assert claimed_level(spread, 0.5) == 0.5 and half_width_share(spread, 0.5)["jerry"] == pytest.approx(0.05)  # k = 3 of 0, .02, .05, .1
    assert interval_note(spread, 0.9).startswith("80% intervals (90% asked; 4 held-out videos can support no more")
    assert interval_note(spread, 0.5).startswith("50% intervals from the screen-time errors of 4 whole videos")
    per_class = {**spread, "method": "conformal-class"}
    assert half_width_share(per_class, 0.9) == pytest.approx({"jerry": 0.10, "tom": 0.10})
    assert half_width_share(per_class, 0.5) == pytest.approx({"jerry": 0.05, "tom": 0.05})


def test_models_saved_before_interval_methods_keep_their_intervals():
    spread = error_spread([record(v, 40, 44) for v in "abcd"], CLASSES, "grouped", method="t-rms")
    old = {k: v for k, v in spread.items() if k != "method"}  # a model file of before issue 20
    assert half_width_share(old, 0.9) == half_width_share(spread, 0.9) and claimed_level(old, 0.9) == 0.9


def test_a_model_claims_the_level_its_videos_support_in_the_json(tmp_path):
    from classifiers.chain.model import SavedModel
    from classifiers.chain.smoothing import Smoother
    from classifiers.selection.registry import build_model

    spread = error_spread([record(v, 40, 44) for v in "abcd"], CLASSES, "grouped")
    X, y = np.random.default_rng(0).normal(size=(20, 4)), np.array(CLASSES * 10)
    model = SavedModel(pipeline=build_model("logreg").fit(X, y), classes=CLASSES, embedding_config={},
                       smoother=Smoother(), interval=spread)
    video = model.predict_video(np.arange(20.0), X, interval_level=0.9)
    assert video.interval_level == pytest.approx(0.8) and video.screen_time_interval_s is not None
    doc = results_to_dict([video], {})
    assert doc["interval_level"] == pytest.approx(0.8)


def test_cv_plus_runs_from_the_kth_smallest_fold_prediction_minus_its_score_to_the_kth_largest_plus():
    spread = error_spread([{**record("a", 40, 50), "fold": 1}, {**record("b", 30, 25), "fold": 2},
                           {**record("c", 60, 60), "fold": 3}, {**record("d", 10, 12), "fold": 4}], CLASSES, "grouped")
    assert spread["method"] == "cv-plus" and spread["folds"] == [0, 1, 2, 3]
    # scores 0.10, 0.05, 0.0, 0.02 of a 200 s video: 20, 10, 0, 4 s; the fold models agree on jerry, not on tom
    folds = [{"jerry": 30.0, "tom": 150.0}, {"jerry": 31.0, "tom": 170.0}, {"jerry": 29.0, "tom": 190.0},
             {"jerry": 30.0, "tom": 160.0}]
    interval = screen_time_interval({"jerry": 30.0, "tom": 170.0}, 200.0, spread, 0.9, fold_screen_time_s=folds)
    assert interval["jerry"] == pytest.approx((min(30 - 20, 31 - 10, 29 - 0, 30 - 4), max(30 + 20, 31 + 10, 29, 34)))
    assert interval["tom"] == pytest.approx((130.0, 190.0))  # min(150-20, 170-10, 190, 156), max(170, 180, 190, 164)
    wide = screen_time_interval({"jerry": 30.0, "tom": 170.0}, 200.0, spread, 0.9)  # no fold predictions: conformal
    assert wide["tom"] == pytest.approx((150.0, 190.0))
    assert interval_note(spread, 0.9).startswith("80% intervals (90% asked; 4 held-out videos")
    assert "CV+ over their fold models" in interval_note(spread, 0.9)
