"""Labels made in Label Studio or CVAT, or typed as timecodes: the same frames as the seconds CSV, and every refusal.

The store holds made-up features: 'ep1.mp4' is 10 s of 25 fps video sampled at 2 per second (requested_s = 0, 0.5,
..., 9.5), 'ep2.mp4' 10 s of 10 fps video sampled at 1 per second. At 25 fps, Label Studio's frame f (from 1) is on
screen over [(f - 1) / 25, f / 25) s and CVAT's frame f (from 0) over [f / 25, (f + 1) / 25) s, so which samples get
which label is known exactly.
"""

from __future__ import annotations

import json
import warnings

import numpy as np
import pandas as pd
import pytest

from classifiers.data.dataset import load_labelled_videos
from classifiers.data.join import read_labels
from classifiers.data.label_studio import range_to_seconds, seconds_to_range, video_name
from classifiers.data.timecode import FrameTime, parse_time
from featurestore.errors import LabelsInvalid
from featurestore.store.store import FeatureStore

CONFIG = {"model": "vgg16", "weights": "random:seed=0", "pooling": "avg", "image_size_px": 224, "n_features": 4}
VIDEOS = {"ep1.mp4": (25.0, 2.0), "ep2.mp4": (10.0, 1.0)}  # video_id -> (fps, sample_fps), each 10 s long
SECONDS_CSV = ("video,start,end,label\nep1.mp4,0,2,tom\nep1.mp4,2,4.5,jerry\nep1.mp4,6,10,tom\n"
               "ep2.mp4,1,3,jerry\nep2.mp4,3,7,tom\n")


@pytest.fixture
def store(tmp_path):
    fs = FeatureStore(tmp_path / "features.h5", mode="a", config=CONFIG)
    rng = np.random.default_rng(0)
    for video_id, (fps, sample_fps) in VIDEOS.items():
        t = np.arange(int(10 * sample_fps)) / sample_fps
        fs.put(video_id, requested_s=t, actual_s=t, features=rng.normal(size=(len(t), 4)).astype(np.float32),
               info={"sample_fps": sample_fps, "duration_s": 10.0, "fps": fps})
    return FeatureStore(tmp_path / "features.h5")


def write(tmp_path, text, name):
    path = tmp_path / name
    path.write_text(text if isinstance(text, str) else json.dumps(text))
    return path


def ls_task(task_id, video, ranges, fps=None, annotations=None, **data):
    """A task as Label Studio exports it: ranges are (start_frame, end_frame, label), frames from 1."""
    result = [{"id": f"r{i}", "from_name": "characters", "to_name": "video", "type": "timelinelabels", "origin": "manual",
               "value": {"ranges": [{"start": s, "end": e}], "timelinelabels": [label]}} for i, (s, e, label) in enumerate(ranges)]
    data = {"video": video, **({"fps": fps} if fps is not None else {}), **data}
    return {"id": task_id, "data": data, "project": 1, "predictions": [],
            "annotations": annotations if annotations is not None else [
                {"id": 10 + task_id, "result": result, "was_cancelled": False, "ground_truth": False,
                 "created_at": "2026-01-01T10:00:00Z", "updated_at": "2026-01-01T10:00:00Z", "completed_by": 1}]}


LS_EXPORT = [
    ls_task(1, "/data/local-files/?d=videos/ep1.mp4", [(1, 50, "tom"), (51, 112, "jerry"), (151, 250, "tom")], fps=25),
    ls_task(2, "/data/upload/1/3f2a9c1b-ep2.mp4", [(11, 30, "jerry"), (31, 70, "tom")], fps=10),
]

CVAT_XML = """<?xml version="1.0" encoding="utf-8"?>
<annotations>
  <version>1.1</version>
  <meta>
    <task><id>7</id><name>ep1</name><size>250</size><mode>interpolation</mode><start_frame>0</start_frame>
      <stop_frame>249</stop_frame><frame_filter></frame_filter>
      <labels><label><name>tom</name></label><label><name>jerry</name></label></labels></task>
    <source>ep1.mp4</source>
  </meta>
  <track id="0" label="tom" source="manual">
    <box frame="0" outside="0" occluded="0" keyframe="1" xtl="1" ytl="1" xbr="9" ybr="9" z_order="0"></box>
    <box frame="50" outside="1" occluded="0" keyframe="1" xtl="1" ytl="1" xbr="9" ybr="9" z_order="0"></box>
    <box frame="150" outside="0" occluded="0" keyframe="1" xtl="1" ytl="1" xbr="9" ybr="9" z_order="0"></box>
  </track>
  <track id="1" label="jerry" source="manual">
    <box frame="30" outside="0" occluded="0" keyframe="1" xtl="1" ytl="1" xbr="9" ybr="9" z_order="0"></box>
    <box frame="31" outside="0" occluded="0" keyframe="0" xtl="2" ytl="1" xbr="9" ybr="9" z_order="0"></box>
    <box frame="112" outside="1" occluded="0" keyframe="1" xtl="1" ytl="1" xbr="9" ybr="9" z_order="0"></box>
  </track>
</annotations>
"""


def test_label_studio_frames_count_from_one():
    assert range_to_seconds(1, 25, 25.0) == (0.0, 1.0)  # frames 1..25 are the first second
    assert range_to_seconds(26, 26, 25.0) == (1.0, 1.04)  # one clicked frame: start == end
    assert seconds_to_range(0.0, 1.0, 25.0) == (1, 25) and seconds_to_range(2.0, 4.48, 25.0) == (51, 112) and seconds_to_range(2.0, 4.5, 25.0) == (51, 113)
    for start_s, end_s in [(0.0, 2.0), (1.04, 3.0), (6.0, 10.0)]:
        assert range_to_seconds(*seconds_to_range(start_s, end_s, 25.0), 25.0) == pytest.approx((start_s, end_s))


def test_video_name_from_task_data():
    assert video_name({"video": "/data/local-files/?d=videos%2Fep%201.mp4"}) == "videos/ep 1.mp4"
    assert video_name({"video": "/data/upload/3/1a2b3c4d-ep1.mp4"}) == "ep1.mp4"
    assert video_name({"video": "https://host/media/ep1.mp4?token=x"}) == "ep1.mp4"
    assert video_name({"video": "https://host/ep1.mp4", "video_id": "tj01"}) == "tj01"
    assert video_name({"image": "x"}) is None


@pytest.mark.parametrize("text, expected", [
    ("12.5", 12.5), ("0:00", 0.0), ("1:05.5", 65.5), ("90:00", 5400.0), ("1:02:03", 3723.0), ("0:00:01.250", 1.25),
    ("00:01:05:12", FrameTime(65, 12, "00:01:05:12", is_smpte=True)),
])
def test_parse_time_reads_seconds_clocks_and_smpte(text, expected):
    assert parse_time(text) == expected


def test_smpte_counts_frames_at_the_nominal_rate():
    tc = parse_time("00:00:10:15")
    assert tc.to_seconds(25.0) == 10.6 and tc.to_seconds(30000 / 1001) == pytest.approx(315 * 1001 / 30000)
    assert tc.fits(25.0) and not parse_time("00:00:10:25").fits(25.0)


def joined(paths, store, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return load_labelled_videos(store, paths, **kwargs)


def assert_same_training_data(a, b):
    """What a model is fitted on: the same frames of the same videos with the same targets."""
    assert list(a.video_ids) == list(b.video_ids)
    np.testing.assert_array_equal(a.rows, b.rows)
    np.testing.assert_array_equal(a.requested_s, b.requested_s)
    np.testing.assert_array_equal(a.y, b.y)
    if a.Y is not None or b.Y is not None:
        np.testing.assert_array_equal(a.Y, b.Y)
        assert a.characters == b.characters


def test_label_studio_cvat_and_timecodes_join_as_the_seconds_csv(tmp_path, store):
    seconds = joined(write(tmp_path, SECONDS_CSV, "seconds.csv"), store)
    assert len(seconds.y) == 17 + 6  # ep1: 0-4.5 s and 6-10 s at 2/s; ep2: 1-7 s at 1/s
    studio = joined(write(tmp_path, LS_EXPORT, "export.json"), store)
    assert_same_training_data(studio, seconds)
    # 00:00:04:12 is 4.48 s at 25 fps: like 4.5 (exclusive), it ends before the sample at 4.5 s
    timecodes = write(tmp_path, "video;start;end;label\nep1.mp4;0:00;0:02;tom\nep1.mp4;00:00:02:00;00:00:04:12;jerry\n"
                                "ep1.mp4;00:00:06:00;0:00:10;tom\nep2.mp4;0:01;00:00:03:00;jerry\nep2.mp4;3;0:07.000;tom\n",
                      "timecodes.csv")
    assert_same_training_data(joined(timecodes, store), seconds)
    both = joined([write(tmp_path, LS_EXPORT, "export.json"), write(tmp_path, SECONDS_CSV, "seconds.csv")], store)
    assert_same_training_data(both, seconds)


def test_cvat_tracks_join_as_the_seconds_csv_with_the_gaps_as_none(tmp_path, store):
    # tom 0-2 s and 6-10 s, jerry 1.2-4.48 s (frames 30-111), nobody 4.48-6 s
    expected = write(tmp_path, "video,start,end,label\nep1.mp4,0,2,tom\nep1.mp4,6,10,tom\nep1.mp4,1.2,4.48,jerry\n"
                               "ep1.mp4,4.48,6,neither\n", "cvat.csv")
    cvat = write(tmp_path, CVAT_XML, "annotations.xml")
    a = joined(cvat, store, multi_label=True)
    b = joined(expected, store, multi_label=True)
    assert_same_training_data(a, b)
    assert a.characters == ["jerry", "tom"] and set(a.y) == {"tom", "jerry+tom", "jerry", "neither"}
    with pytest.raises(LabelsInvalid, match=r"annotations.xml track 0 \(tom\), frames 0-49 and track 1 \(jerry\), "
                                            r"frames 30-111 overlap .* pass --multi-label"):
        read_labels(cvat, store)


def test_label_studio_reads_the_latest_annotation_and_the_stored_rate_without_fps(tmp_path, store):
    old = {"id": 1, "result": [{"type": "timelinelabels", "value": {"ranges": [{"start": 1, "end": 250}],
                                                                    "timelinelabels": ["jerry"]}}],
           "created_at": "2026-01-01T09:00:00Z", "updated_at": "2026-01-01T09:00:00Z"}
    task = ls_task(1, "ep1.mp4", [(1, 50, "tom"), (51, 100, "jerry")])
    task["annotations"] = [old, task["annotations"][0], {"id": 3, "result": [], "was_cancelled": True,
                                                         "updated_at": "2027-01-01T00:00:00Z"}]
    with pytest.warns(UserWarning) as record:
        frames = read_labels(write(tmp_path, [task], "export.json"), store)
    said = " ".join(str(w.message) for w in record)
    assert "1 task has several annotations; the latest of each is used (by time, then by id as a number): task 1 (annotation 11 of 2)" in said
    assert "give no fps" in said or "gives no fps" in said
    assert dict(zip(frames.requested_s, frames.label)) == {0.0: "tom", 0.5: "tom", 1.0: "tom", 1.5: "tom",
                                                           2.0: "jerry", 2.5: "jerry", 3.0: "jerry", 3.5: "jerry"}


def test_a_name_that_differs_in_case_is_matched_with_a_warning(tmp_path, store):
    with pytest.warns(UserWarning, match=r"1 video name differs from the stored id only in case, matched: 'EP2.MP4' -> 'ep2.mp4'"):
        frames = read_labels(write(tmp_path, "video,start,end,label\nEP2.MP4,0,2,tom\nep2.mp4,2,4,jerry\n", "l.csv"), store)
    assert frames.label.tolist() == ["tom", "tom", "jerry", "jerry"]


@pytest.mark.parametrize("content, name, match", [
    ({"model": {}, "videos": []}, "result.json", r"^result.json is JSON but not a Label Studio export"),
    ("[{\"data\": {\"video\": \"ep1.mp4\"}, ", "broken.json", r"^broken.json line 1: not valid JSON"),
    ([ls_task(4, "ep1.mp4", [(200, 300, "tom")], fps=25)], "past.json",
     r"^past.json task 4, frames 200-300: ends at 12 s \(at 25 fps\), past the end of 'ep1.mp4' \(10 s\)"),
    ([ls_task(5, "ep1.mp4", [(0, 20, "tom")], fps=25)], "zero.json", r"^zero.json task 5, frames 0-20: a range is whole "
                                                                     r"frames start <= end, counted from 1"),
    ([ls_task(6, "ep1.mp4", [(1, 20, "tom"), (30, 40, "Tom")], fps=25)], "case.json",
     r"^case.json task 6, frames 30-40 and task 6, frames 1-20: labels 'Tom' and 'tom' are one name written 2 ways"),
    ([{"id": 8, "data": {"video": "ep1.mp4"}, "annotations": [], "predictions": [{"result": []}]}], "todo.json",
     r"^todo.json has 1 task and no submitted annotation \(predictions are the model's guesses, not labels\)"),
    ([ls_task(9, "nope.mp4", [(1, 20, "tom")], fps=25)], "where.json", r"^where.json task 9, frames 1-20: video 'nope.mp4' "
                                                                      r"is not in features.h5"),
    ("<annotations><version>1.1</version><meta><task><size>10</size></task></meta></annotations>", "empty.xml",
     r"^empty.xml has no <track> \(no annotation\); export the task from CVAT as 'CVAT for video 1.1'"),
    ("<annotations><image id='0' name='a.jpg'/></annotations>", "images.xml", r"^images.xml has no <track> \(CVAT for images"),
    (CVAT_XML.replace('label="jerry" source', 'label="spike" source'), "unknown.xml",
     r"^unknown.xml track 1 \(spike\): label 'spike' is not one of the task's labels \(jerry, tom\)"),
    ("<html><body/></html>", "page.xml", r"^page.xml is XML but not CVAT annotations"),
    (CVAT_XML.replace("<stop_frame>249</stop_frame>", "<stop_frame>399</stop_frame>"), "long.xml",
     r"^long.xml track 0 \(tom\), frames 150-399: ends at 16 s \(at 25 fps\), past the end of 'ep1.mp4' \(10 s\)"),
    ("<annotations><track", "cut.xml", r"^cut.xml line 1: not well-formed XML"),
    ("video,start,end,label\nep1.mp4,0:0x,1,tom\n", "bad.csv", r"^bad.csv line 2: start '0:0x' is not a number of seconds; "
                                                             r"write it like 12.5, or as a timecode: 1:05.5 \(mm:ss\)"),
    ("video,start,end,label\nep1.mp4,0:75,1:30,tom\n", "sixty.csv", r"^sixty.csv line 2: start '0:75' has minutes or seconds of 60"),
    ("video,start,end,label\nep1.mp4,00:00:01:30,2,tom\nep1.mp4,2,3,x\n", "ff.csv",
     r"^ff.csv line 2: timecode '00:00:01:30' counts frame 30, but 'ep1.mp4' has 25 frames a second"),
    ("video,start,end,label\nep1.mp4,00:00:01;00,2,tom\n", "drop.csv", r"^drop.csv line 2: start '00:00:01;00' is a "
                                                                    r"drop-frame timecode"),
])
def test_bad_labels_are_refused_in_one_line(tmp_path, store, content, name, match):
    path = write(tmp_path, content, name)
    with pytest.raises(LabelsInvalid, match=match) as err:
        read_labels(path, store, multi_label=name.endswith(".xml"))
    assert "\n" not in str(err.value) and name in str(err.value)


def test_smpte_end_before_start_is_refused_once_resolved(tmp_path, store):
    path = write(tmp_path, "video,start,end,label\nep1.mp4,2,00:00:01:10,tom\nep1.mp4,3,4,x\n", "back.csv")
    with pytest.raises(LabelsInvalid, match=r"^back.csv line 2: end 1.4 s is not after start 2 s \(at 25 fps\)"):
        read_labels(path, store)


def test_frames_of_a_video_without_a_recorded_frame_rate_are_refused(tmp_path):
    fs = FeatureStore(tmp_path / "old.h5", mode="a", config=CONFIG)
    t = np.arange(10.0)
    fs.put("ep1.mp4", requested_s=t, actual_s=t, features=np.zeros((10, 4), np.float32),
           info={"sample_fps": 1.0, "duration_s": 10.0})
    path = write(tmp_path, "video,start,end,label\nep1.mp4,00:00:01:00,3,tom\nep1.mp4,3,4,x\n", "tc.csv")
    with pytest.raises(LabelsInvalid, match=r"tc.csv line 2: its time counts video frames, but old.h5 does not record"):
        read_labels(path, FeatureStore(tmp_path / "old.h5"))


def test_label_studio_several_labels_on_one_range_need_multi_label(tmp_path, store):
    task = ls_task(3, "ep2.mp4", [(1, 40, "tom"), (41, 100, "neither")], fps=10)
    task["annotations"][0]["result"][0]["value"]["timelinelabels"] = ["tom", "jerry"]
    path = write(tmp_path, [task], "both.json")
    with pytest.raises(LabelsInvalid, match=r"both.json task 3, frames 1-40: 2 labels on one range \(tom, jerry\)"):
        read_labels(path, store)
    frames = read_labels(path, store, multi_label=True)
    assert frames.labels.tolist()[:4] == [("jerry", "tom")] * 4 and frames.labels.tolist()[4:] == [()] * 6
    assert isinstance(frames, pd.DataFrame)


def test_cli_prints_a_bad_labels_file_as_one_line(tmp_path, store, capsys):
    from conftest import run_cli

    path = write(tmp_path, [ls_task(4, "ep1.mp4", [(200, 300, "tom")], fps=25)], "past.json")
    code, out, err = run_cli(["compare-models", "--labels", path, "--store", tmp_path / "features.h5"], capsys)
    assert code == 1 and err.strip().splitlines() == [err.strip()]
    assert err.startswith("error: past.json task 4, frames 200-300: ends at 12 s")
