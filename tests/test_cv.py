"""Cross-validation folds: which scheme is chosen, and that no training frame sits next to a test frame."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from classifiers.selection.cv import plan_folds
from featurestore.errors import ScreentimeError, TooFewSamples


def frames(n_videos, n_per_video=60, step_s=1.0):
    """n_videos videos of n_per_video frames, step_s apart; labels cycle a, b, c in 10-frame runs."""
    video_ids = np.repeat([f"v{i}" for i in range(n_videos)], n_per_video)
    requested_s = np.tile(np.arange(n_per_video) * step_s, n_videos)
    y = np.array(list("abc"))[(np.arange(n_videos * n_per_video) // 10) % 3]
    return video_ids, requested_s, y


def test_plan_folds_groups_by_video_when_enough_videos():
    v, t, y = frames(6)
    plan = plan_folds(v, t, y, n_splits=3)
    assert plan.scheme == "grouped"
    assert "grouped by video" in plan.description
    tested = np.concatenate([test for _, test in plan.folds])
    assert sorted(tested) == list(range(len(y)))
    for train, test in plan.folds:
        assert not set(v[train]) & set(v[test])
    assert plan.summary["test_videos"].sum() == 6
    assert {"fold", "train_frames", "test_frames", "train_videos", "test_videos", "test_n_a"} <= set(plan.summary.columns)


def test_plan_folds_blocks_keep_gap_between_train_and_test():
    v, t, y = frames(2, n_per_video=100)
    plan = plan_folds(v, t, y, n_splits=5, gap_s=4.0, split="blocks")
    assert plan.scheme == "blocks"
    tested = np.concatenate([test for _, test in plan.folds])
    assert sorted(tested) == list(range(len(y)))  # every frame tested exactly once
    for train, test in plan.folds:
        for video in np.unique(v):
            tr, te = t[train][v[train] == video], t[test][v[test] == video]
            assert te.max() - te.min() == len(te) - 1  # one contiguous block per video
            assert np.abs(tr[:, None] - te[None, :]).min() > 4.0
    assert (plan.summary["gap_dropped_frames"] > 0).all()
    assert plan.summary.loc[0, "gap_dropped_frames"] == 2 * 4  # first block: gap on one side only


def test_plan_folds_refuses_shuffled_without_permission():
    v, t, y = frames(2)
    with pytest.raises(ScreentimeError, match="--allow-leaky-split"):
        plan_folds(v, t, y, n_splits=3, split="shuffled")
    plan = plan_folds(v, t, y, n_splits=3, split="shuffled", allow_leaky_split=True)
    assert plan.scheme == "shuffled" and "LEAKY" in plan.description


def test_plan_folds_class_with_fewer_frames_than_folds():
    v, t, y = frames(2)
    y = y.astype(object)
    y[0:3] = "rare"
    with pytest.raises(TooFewSamples, match="class 'rare' has 3 labelled frames, fewer than 5 folds; .*--folds to 3"):
        plan_folds(v, t, y, n_splits=5, split="blocks")


def test_plan_folds_grouped_needs_enough_videos():
    v, t, y = frames(2)
    with pytest.raises(TooFewSamples, match="only 2 labelled videos, fewer than 3 folds"):
        plan_folds(v, t, y, n_splits=3, split="grouped")


def test_plan_folds_refuses_fold_training_on_one_class():
    v, t, y = frames(1, n_per_video=40)
    y[:] = "a"
    y[:8] = "b"  # all of b is in the first block: with a wide gap fold 1 trains on 'a' only
    with pytest.raises(TooFewSamples, match="fold 1 .* one class only"):
        plan_folds(v, t, y, n_splits=4, gap_s=2.0, split="blocks")


def test_plan_folds_is_reproducible():
    v, t, y = frames(8)
    a = plan_folds(v, t, y, n_splits=4, random_state=3)
    b = plan_folds(v, t, y, n_splits=4, random_state=3)
    assert all(np.array_equal(x[1], z[1]) for x, z in zip(a.folds, b.folds))
    assert a.to_dict()["scheme"] == "grouped" and len(a.to_dict()["folds"]) == 4


@pytest.mark.parametrize("n_videos", [2, 3, 4])
def test_plan_folds_leave_one_video_out_below_n_splits(n_videos):
    v, t, y = frames(n_videos)
    plan = plan_folds(v, t, y, n_splits=5)
    assert plan.scheme == "leave-one-video-out" and plan.n_splits == n_videos and len(plan.folds) == n_videos
    assert plan.holds_out_videos and plan.caveat == ""
    assert "leave one video out" in plan.description
    tested = [sorted(set(v[test])) for _, test in plan.folds]
    assert sorted(map(tuple, tested)) == [(f"v{i}",) for i in range(n_videos)]  # each video is the test set once
    for train, test in plan.folds:
        assert len(train) + len(test) == len(y)  # nothing dropped: the training videos are whole
        assert not set(v[train]) & set(v[test])
    assert plan.summary["test_videos"].tolist() == [1] * n_videos


def test_plan_folds_single_video_uses_blocks_with_a_caveat():
    v, t, y = frames(1, n_per_video=100)
    with pytest.warns(UserWarning, match="no test frames in fold"):  # 10-frame runs: some blocks lack a class
        plan = plan_folds(v, t, y, n_splits=5)
    assert plan.scheme == "blocks" and not plan.holds_out_videos
    assert "same video" in plan.caveat and "not for new videos" in plan.caveat and "\n" not in plan.caveat
    assert plan.to_dict()["caveat"] == plan.caveat


def test_plan_folds_split_overrides_auto():
    v, t, y = frames(3)
    assert plan_folds(v, t, y, n_splits=3, split="leave-one-video-out").scheme == "leave-one-video-out"
    with pytest.warns(UserWarning, match="no test frames"):
        assert plan_folds(v, t, y, n_splits=3, split="blocks").scheme == "blocks"
    with pytest.raises(TooFewSamples, match="leave-one-video-out needs 2"):
        plan_folds(*frames(1), n_splits=3, split="leave-one-video-out")


def test_plan_folds_warns_when_a_fold_lacks_test_or_training_frames_of_a_class():
    v, t, y = frames(3)
    y = y.astype(object)
    y[(v == "v2") & (y == "c")] = "a"  # v2 has no 'c'
    y[(v == "v0") | (v == "v1")] = np.where(y[(v == "v0") | (v == "v1")] == "c", "b", y[(v == "v0") | (v == "v1")])
    y[(v == "v0") & (t < 5)] = "c"  # 'c' only in v0
    with pytest.warns(UserWarning) as caught:
        plan_folds(v, t, y.astype(str), n_splits=5)
    messages = [str(w.message) for w in caught]
    assert any("class 'c' has no test frames in folds 2, 3 of 3 (test: v1; v2): those folds say nothing" in m for m in messages), messages
    assert any("class 'c' has no training frames in fold 1 of 3 (test: v0)" in m and "recall 0" in m for m in messages), messages


def test_plan_folds_no_warning_when_every_fold_has_every_class():
    v, t, y = frames(3)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        plan_folds(v, t, y, n_splits=5)


def multi_label_frames(n_videos, n_per_video=60):
    """Characters a, b: 10-frame runs cycle through {}, {a}, {b}, {a, b}; returns video_ids, times, Y (n, 2)."""
    v, t, _ = frames(n_videos, n_per_video)
    run = (np.arange(len(v)) // 10) % 4
    Y = np.column_stack([(run == 1) | (run == 3), (run == 2) | (run == 3)]).astype(np.int8)
    return v, t, Y


def test_plan_folds_multi_label_same_rules_per_character():
    v, t, Y = multi_label_frames(6)
    plan = plan_folds(v, t, Y, n_splits=3, classes=["a", "b"])
    assert plan.scheme == "grouped"
    for train, test in plan.folds:
        assert not set(v[train]) & set(v[test])
    summary = plan.summary
    assert {"test_n_a", "test_n_b", "test_n_neither"} <= set(summary.columns)
    assert summary["test_n_a"].sum() == Y[:, 0].sum() and summary["test_n_neither"].sum() == int((Y.sum(1) == 0).sum())
    assert plan_folds(v[:120], t[:120], Y[:120], classes=["a", "b"]).scheme == "leave-one-video-out"


def test_plan_folds_multi_label_checks_and_warnings_name_characters():
    v, t, Y = multi_label_frames(1, n_per_video=80)
    Y[:, 1] = 0
    Y[5, 1] = 1  # character b in one frame only
    with pytest.raises(TooFewSamples, match="character 'b' has 1 labelled frames, fewer than 5 folds"):
        plan_folds(v, t, Y, classes=["a", "b"])
    v, t, Y = multi_label_frames(3)
    Y[v == "v0", 1] = 0  # b never on screen in v0, so the fold testing v0 does not test b ...
    Y[v != "v2", 0] = 0  # ... and a is only in v2, so the fold testing v2 cannot learn a
    with pytest.warns(UserWarning) as record:
        plan_folds(v, t, Y, classes=["a", "b"])
    messages = " | ".join(str(w.message) for w in record)
    assert "character 'b' has no test frames in fold 1 of 3 (test: v0)" in messages
    assert "character 'a' has no training frames in fold 3 of 3 (test: v2)" in messages


def test_a_short_clip_still_trains_with_what_fits_and_says_what_it_changed(tmp_path, capsys, stand_in):
    """Issue 20: one 11 s clip, two characters in four shots, labelled at 4 samples/s: the defaults' folds cannot
    split it (gap widened to 4 s context), so fewer windows, a smaller gap and fewer folds are tried, and said."""
    from conftest import run_cli, write_video
    from featurestore import EmbeddingConfig, embed_videos

    shots = [(0, 3, "tom", (200, 120, 90)), (3, 6, "jerry", (30, 120, 200)), (6, 8.5, "tom", (200, 120, 90)),
             (8.5, 11, "jerry", (30, 120, 200))]
    colours = [c for a, b, _, c in shots for _ in range(int(round((b - a) * 20)))]
    write_video(tmp_path / "scene.avi", 20, len(colours), fourcc="MJPG", colours=colours)
    embed_videos([tmp_path / "scene.avi"], tmp_path / "f.h5", config=EmbeddingConfig(weights="random", image_size_px=32),
                 sample_fps=4.0, make_embedder=stand_in)
    (tmp_path / "l.csv").write_text("video,start,end,label\n" + "".join(f"scene.avi,{a},{b},{n}\n" for a, b, n, _ in shots))
    code, out, err = run_cli(["compare-models", "-l", tmp_path / "l.csv", "-s", tmp_path / "f.h5", "-o", tmp_path / "m.skops",
                              "-m", "logreg"], capsys)
    assert code == 0 and (tmp_path / "m.skops").exists(), err
    warning = next(line for line in err.splitlines() if "too little for the default folds" in line)
    assert "only 11.0 s labelled in 1 video" in warning and "(--gap-s; 5 s asked)" in warning
    assert "--context-s" in warning and "do not fit" in warning


def test_labels_too_few_for_any_fold_name_every_option_that_would_help():
    v = np.array(["a"] * 3)
    t = np.arange(3.0)
    with pytest.raises(TooFewSamples, match="choose --folds, --gap-s, --context-s or --split yourself"):
        from classifiers.selection.few_labels import plan_folds_that_fit

        plan_folds_that_fit(v, t, np.array(["x", "y", "x"]), np.ones(3), n_splits=5, split="auto", gap_s=5.0,
                            contexts=(0.0, 2.0), allow_leaky_split=False, random_state=0)
