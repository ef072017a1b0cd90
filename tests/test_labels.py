"""Labels files joined to a store: three formats, boundaries, and every validation error.

The store holds made-up features: video 'a.mp4' sampled at 2 per second for 10 s (requested_s = 0, 0.5, ...,
9.5) and 'b.mp4' at 1 per second for 10 s, so which frame gets which label is known exactly.
"""

from __future__ import annotations

import os
import threading

import numpy as np
import pytest

from featurestore.errors import LabelsInvalid
from classifiers.data.join import read_labels
from featurestore.store.store import FeatureStore

CONFIG = {"model": "vgg16", "weights": "random:seed=0", "pooling": "avg", "image_size_px": 224, "n_features": 4}


def make_store(tmp_path, videos):
    """videos: video_id -> sample_fps; each 10 s long, requested_s = k / sample_fps."""
    store = FeatureStore(tmp_path / "features.h5", mode="a", config=CONFIG)
    for video_id, fps in videos.items():
        t = np.arange(int(10 * fps)) / fps
        store.put(video_id, requested_s=t, actual_s=t + 0.01, features=np.zeros((len(t), 4), np.float32),
                  info={"sample_fps": fps, "duration_s": 10.0})
    return FeatureStore(tmp_path / "features.h5")


@pytest.fixture
def store(tmp_path):
    return make_store(tmp_path, {"a.mp4": 2.0, "b.mp4": 1.0})


def write(tmp_path, text, name="labels.csv"):
    path = tmp_path / name
    path.write_text(text)
    return path


def labelled(frames, video_id):
    rows = frames[frames.video_id == video_id]
    return dict(zip(rows.requested_s.round(6), rows.label))


def test_read_labels_intervals_are_half_open(tmp_path, store):
    path = write(tmp_path, "video,start,end,label\na.mp4,1.0,2.0,tom\na.mp4,2.0,3.0,jerry\nb.mp4,0,2,tom\nb.mp4,5,7.5,jerry\n")
    frames = read_labels(path, store)
    assert labelled(frames, "a.mp4") == {1.0: "tom", 1.5: "tom", 2.0: "jerry", 2.5: "jerry"}
    assert labelled(frames, "b.mp4") == {0.0: "tom", 1.0: "tom", 5.0: "jerry", 6.0: "jerry", 7.0: "jerry"}
    assert list(frames.columns) == ["video_id", "row", "requested_s", "label"]
    assert frames.loc[frames.video_id == "a.mp4", "row"].tolist() == [2, 3, 4, 5]


def test_read_labels_rounded_boundaries_match_grid(tmp_path):
    store = make_store(tmp_path, {"c.mp4": 3.0})  # grid k/3: 1.3333333333..., 2.6666666666...
    path = write(tmp_path, "video,start,end,label\nc.mp4,1.333333,2.666667,x\nc.mp4,2.666667,4,y\n")
    frames = read_labels(path, store)
    got = labelled(frames, "c.mp4")
    assert got[1.333333] == "x" and got[2.333333] == "x" and got[2.666667] == "y"
    assert 1.0 not in got and sum(v == "x" for v in got.values()) == 4


def test_read_labels_same_label_overlap_is_merged(tmp_path, store):
    path = write(tmp_path, "video,start,end,label\nb.mp4,0,5,tom\nb.mp4,3,6,tom\nb.mp4,6,8,jerry\n")
    assert labelled(read_labels(path, store), "b.mp4") == {0.0: "tom", 1.0: "tom", 2.0: "tom", 3.0: "tom", 4.0: "tom",
                                                           5.0: "tom", 6.0: "jerry", 7.0: "jerry"}


def test_read_labels_points_nearest_frame_within_half_interval(tmp_path, store):
    path = write(tmp_path, "video,time,label\na.mp4,1.2,tom\na.mp4,1.3,jerry\nb.mp4,3.4,tom\nb.mp4,30,jerry\n")
    with pytest.warns(UserWarning, match="1 of 4 labelled points"):
        frames = read_labels(path, store)
    assert labelled(frames, "a.mp4") == {1.0: "tom", 1.5: "jerry"}
    assert labelled(frames, "b.mp4") == {3.0: "tom"}


def test_read_labels_tutorial_frame_number_is_seconds(tmp_path, store):
    path = write(tmp_path, "Image_ID,Class\nframe0.jpg,1\nframe3.jpg,2\nframe4.jpg,0\n")
    frames = read_labels(path, store, video="b.mp4", classes=["neither", "jerry", "tom"])
    assert labelled(frames, "b.mp4") == {0.0: "jerry", 3.0: "tom", 4.0: "neither"}
    frames = read_labels(path, store, video="b.mp4")
    assert set(frames.label) == {"0", "1", "2"}


def test_read_labels_video_matched_by_file_name(tmp_path, store):
    path = write(tmp_path, "video,start,end,label\n/videos/a.mp4,0,1,x\na,1,2,y\n")
    with pytest.warns(UserWarning, match=r"matched 2 video names to stored ids by file name: '/videos/a.mp4' -> 'a.mp4', 'a' -> 'a.mp4'"):
        frames = read_labels(path, store)
    assert labelled(frames, "a.mp4") == {0.0: "x", 0.5: "x", 1.0: "y", 1.5: "y"}


@pytest.mark.parametrize("text, match", [
    ("video,start,label\na.mp4,0,x\n", r"labels.csv line 1: .* lacks column end"),
    ("Image_ID\nframe1.jpg\n", r"line 1: .* lacks column class"),
    ("video,start,end,label\na.mp4,0,1,x\nzzz.mp4,0,1,y\n", r"line 3: video 'zzz.mp4' is not in features.h5"),
    ("video,start,end,label\na.mp4,zero,1,x\n", r"line 2: start 'zero' is not a number"),
    ("video,start,end,label\na.mp4,0,nan,x\n", r"line 2: end 'nan' is not a number"),
    ("video,time,label\na.mp4,-1,x\n", r"line 2: time '-1' is negative"),
    ("video,start,end,label\na.mp4,3,3,x\n", r"line 2: end 3 s is not after start 3 s"),
    ("video,start,end,label\na.mp4,0,5,x\na.mp4,9,10,x\na.mp4,4,6,y\n", r"lines 2 and 4 overlap"),
    ("video,start,end,label\na.mp4,0,5,x\nb.mp4,0,5,x\n", r"all 'x'; .* at least two classes"),
    ("video,start,end,label\na.mp4,20,25,x\nb.mp4,30,40,y\n", r"no stored frame of features.h5 falls inside"),
    ("video,start,end,label\na.mp4,0,1,\n", r"line 2: label is empty"),
    ("video,start,end,label\n", r"no rows"),
    ("", r"is empty"),
    ("video,time,label\na.mp4,1.0,x\na.mp4,1.1,y\n", r"lines 2 and 3 give the frame at 1 s of 'a.mp4' two labels"),
])
@pytest.mark.filterwarnings("ignore:labels.csv. 2 intervals start after the video ends")
def test_read_labels_refuses_invalid_file(tmp_path, store, text, match):
    with pytest.raises(LabelsInvalid, match=match):
        read_labels(write(tmp_path, text), store)


@pytest.mark.parametrize("text, kwargs, match", [
    ("Image_ID,Class\nframe0.jpg,1\n", {}, r"name the stored video .* with --video"),
    ("Image_ID,Class\nimg.png,1\n", {"video": "b.mp4"}, r"line 2: Image_ID 'img.png' is not like frame12.jpg"),
    ("Image_ID,Class\nframe1.jpg,3\n", {"video": "b.mp4"}, r"line 2: Class '3' is not one of 0..2"),
    ("Image_ID,Class\nframe1.jpg,0\n", {"video": "nope.mp4"}, r"video 'nope.mp4' is not in features.h5"),
    ("video,start,end,label\nb.mp4,0,1,x\n", {"video": "b.mp4"}, r"drop --video"),
])
def test_read_labels_tutorial_errors(tmp_path, store, text, kwargs, match):
    with pytest.raises(LabelsInvalid, match=match):
        read_labels(write(tmp_path, text), store, **kwargs)


def test_labels_from_excel_and_other_encodings(tmp_path, store):
    text = "video,start,end,label\na.mp4,0,1,Jérôme\na.mp4,1,2,tom\n"
    utf16 = tmp_path / "utf16.csv"
    utf16.write_bytes(text.encode("utf-16"))  # Excel's "Unicode text" (with a BOM)
    assert labelled(read_labels(utf16, store), "a.mp4")[0.5] == "Jérôme"
    excel = tmp_path / "excel.csv"
    excel.write_bytes(text.encode("cp1252"))  # Excel's "CSV (comma delimited)" on Windows
    with pytest.warns(UserWarning, match=r"excel.csv is not UTF-8 text \(from line 2\): read it as Windows-1252"):
        assert labelled(read_labels(excel, store), "a.mp4")[0.5] == "Jérôme"
    broken = tmp_path / "broken.csv"
    broken.write_bytes(b"video,start,end,label\na.mp4,0,1,x\na.mp4,1,2,t\x81\n")  # not text in either encoding
    with pytest.raises(LabelsInvalid, match=r"^broken.csv line 3: not UTF-8 text \(byte 0x81\); save it as CSV UTF-8$"):
        read_labels(broken, store)


def test_labels_from_a_pipe_and_a_folder(tmp_path, store):
    fifo = tmp_path / "labels.fifo"
    os.mkfifo(fifo)  # as `--labels <(grep ... all.csv)` passes them
    writer = threading.Thread(target=fifo.write_text, args=("video,start,end,label\na.mp4,0,1,x\na.mp4,1,2,y\n",))
    writer.start()
    assert labelled(read_labels(fifo, store), "a.mp4") == {0.0: "x", 0.5: "x", 1.0: "y", 1.5: "y"}
    writer.join()
    with pytest.raises(LabelsInvalid, match="is a folder"):
        read_labels(tmp_path, store)


def test_read_labels_missing_file(tmp_path, store):
    with pytest.raises(LabelsInvalid, match="does not exist"):
        read_labels(tmp_path / "nope.csv", store)


def test_read_labels_says_which_names_it_matched(tmp_path):
    store = make_store(tmp_path, {"clipA.mp4": 1.0, "clipB.mkv": 1.0})
    path = write(tmp_path, "video,start,end,label\nclipA.mp4,0,5,x\nclipB.mp4,0,5,y\nclipB.mp4,5,10,x\n")
    with pytest.warns(UserWarning, match=r"matched 1 video name to stored ids by file name: 'clipB.mp4' -> 'clipB.mkv'") as record:
        frames = read_labels(path, store)
    assert len(record) == 1 and "clipA" not in str(record[0].message)
    assert labelled(frames, "clipB.mkv")[0.0] == "y"


def test_a_stored_file_name_beats_a_stored_stem_and_ambiguity_is_named(tmp_path):
    store = make_store(tmp_path, {"/data/s1/clipB.mp4": 1.0, "clipB.mkv": 1.0, "/data/s1/e1.mp4": 1.0,
                                  "/data/s2/e1.mp4": 1.0})
    with pytest.warns(UserWarning, match=r"'clipB.mp4' -> '/data/s1/clipB.mp4'"):
        frames = read_labels(write(tmp_path, "video,start,end,label\nclipB.mp4,0,5,x\nclipB.mp4,5,10,y\n"), store)
    assert labelled(frames, "/data/s1/clipB.mp4")[6.0] == "y" and not labelled(frames, "clipB.mkv")
    with pytest.raises(LabelsInvalid, match=r"labels.csv line 2: video 'e1.mp4' could be any of /data/s1/e1.mp4, "
                                            r"/data/s2/e1.mp4 in features.h5; name it as stored"):
        read_labels(write(tmp_path, "video,start,end,label\ne1.mp4,0,5,x\n"), store)


def test_read_labels_says_what_it_clipped_and_ignored(tmp_path, store):
    # both videos are 10 s long; 'a.mp4' is sampled at 2/s, 'b.mp4' at 1/s
    path = write(tmp_path, "video,start,end,label\na.mp4,0,8,x\na.mp4,8,500,y\nb.mp4,0,10.5,x\nb.mp4,70,90,y\n")
    with pytest.warns(UserWarning) as record:
        frames = read_labels(path, store)
    messages = [str(w.message) for w in record]
    assert "labels.csv: 1 interval runs past the end of the video, so only the part inside it is used: line 3 " \
           "(8-500 s; 'a.mp4' is 10.0 s long)" in messages
    assert "labels.csv: 1 interval starts after the video ends and labels nothing: line 5 (70-90 s; 'b.mp4' is 10.0 s long)" in messages
    assert len(messages) == 2  # 10.5 s on a 10 s video is within a sampling interval: no warning
    assert labelled(frames, "a.mp4")[9.5] == "y" and len(labelled(frames, "b.mp4")) == 10


def test_read_labels_accepts_semicolons_and_hints_at_decimal_commas(tmp_path, store):
    frames = read_labels(write(tmp_path, "video;start;end;label\na.mp4;0;1;x\na.mp4;1;2;y\n"), store)
    assert labelled(frames, "a.mp4") == {0.0: "x", 0.5: "x", 1.0: "y", 1.5: "y"}
    with pytest.raises(LabelsInvalid, match=r"line 2: start '0,5' is not a number of seconds; write it like 12.5 "
                                            r"\(with a decimal point, not a comma\)"):  # ',' separates: 1,000 may be 1000
        read_labels(write(tmp_path, 'video,start,end,label\na.mp4,"0,5",1,x\n'), store)


# Multi-label (issue 11): characters, not classes. 'b.mp4' is sampled at 1/s for 10 s.

def sets(frames, video_id):
    rows = frames[frames.video_id == video_id]
    return dict(zip(rows.requested_s.round(6), rows.labels))


def test_read_labels_multi_label_overlaps_are_sets_and_same_label_merges(tmp_path, store):
    path = write(tmp_path, "video,start,end,label\nb.mp4,0,5,tom\nb.mp4,3,7,jerry\nb.mp4,4,6,tom\nb.mp4,7,9,neither\n"
                           "a.mp4,0,1,jerry\n")
    frames = read_labels(path, store, multi_label=True)
    assert list(frames.columns) == ["video_id", "row", "requested_s", "labels"]
    assert sets(frames, "b.mp4") == {0.0: ("tom",), 1.0: ("tom",), 2.0: ("tom",), 3.0: ("jerry", "tom"), 4.0: ("jerry", "tom"),
                                     5.0: ("jerry", "tom"), 6.0: ("jerry",), 7.0: (), 8.0: ()}
    assert sets(frames, "a.mp4") == {0.0: ("jerry",), 0.5: ("jerry",)}  # 9-10 s of b.mp4 and the rest: unlabelled


def test_read_labels_multi_label_points_and_own_none_label(tmp_path, store):
    path = write(tmp_path, "video,time,label\nb.mp4,1,tom\nb.mp4,1.2,jerry\nb.mp4,2,nobody\nb.mp4,3,jerry\n")
    frames = read_labels(path, store, multi_label=True, none_label="nobody")
    assert sets(frames, "b.mp4") == {1.0: ("jerry", "tom"), 2.0: (), 3.0: ("jerry",)}


@pytest.mark.parametrize("text, match", [
    ("video,start,end,label\nb.mp4,0,5,tom\nb.mp4,6,8,jerry\nb.mp4,4,7,neither\n",
     r"labels.csv lines 2 and 4 overlap \(0-5 s 'tom', 4-7 s 'neither'\) in 'b.mp4', but 'neither' says no character is on "
     r"screen; end the 'neither' interval \(line 4\) where 'tom' appears"),
    ("video,start,end,label\nb.mp4,0,9,neither\nb.mp4,6,8,jerry\n", r"lines 2 and 3 overlap .* end the 'neither' interval \(line 2\) where 'jerry'"),
    ("video,time,label\nb.mp4,1,tom\nb.mp4,1.2,neither\nb.mp4,3,jerry\n",
     r"lines 2 and 3 give the frame at 1 s of 'b.mp4' both 'neither' \(no character on screen\) and 'tom'; keep one"),
    ("video,start,end,label\nb.mp4,0,5,tom\nb.mp4,5,7,Neither\n", r"line 3: label 'Neither' differs from the none label 'neither' only in case"),
    ("video,start,end,label\nb.mp4,0,5,tom+jerry\nb.mp4,5,7,neither\n", r"line 2: label 'tom\+jerry' names several characters; write one line per character"),
    ("video,start,end,label\nb.mp4,0,5,tom\nb.mp4,5,7,none\n", r"line 3: label 'none' looks like 'no character on screen', .* pass --none-label none"),
    ("video,start,end,label\nb.mp4,0,5,tom\nb.mp4,5,7,tom\nb.mp4,2,4,jerry\n",
     r"'tom' is on screen in all 7 labelled frames; .* label some intervals where it is not"),
    ("video,start,end,label\nb.mp4,0,5,neither\n", r"labels 5 stored frames, all 'neither' \(no character on screen\)"),
    ("video,start,end,label\nb.mp4,0,5,\n", r"line 2: label is empty"),
    ("video,start,end,label\nb.mp4,5,3,tom\n", r"line 2: end 3 s is not after start 5 s"),
    ("video,start,end,label\nzzz.mp4,0,1,tom\n", r"line 2: video 'zzz.mp4' is not in features.h5"),
    ("Image_ID,Class\nframe1.jpg,0\n", r"tutorial's Image_ID,Class format, one class per frame; --multi-label reads video,start,end,label"),
])
def test_read_labels_multi_label_refuses_malformed_file(tmp_path, store, text, match):
    with pytest.raises(LabelsInvalid, match=match):
        read_labels(write(tmp_path, text), store, multi_label=True, video="b.mp4" if text.startswith("Image_ID") else None)


def test_read_labels_single_label_overlap_suggests_multi_label(tmp_path, store):
    path = write(tmp_path, "video,start,end,label\nb.mp4,0,5,tom\nb.mp4,3,7,jerry\n")
    with pytest.raises(LabelsInvalid, match=r"lines 2 and 3 overlap .*; make them meet end to start, or pass --multi-label if both"):
        read_labels(path, store)
    path = write(tmp_path, "video,time,label\nb.mp4,1,tom\nb.mp4,1.2,jerry\n")
    with pytest.raises(LabelsInvalid, match=r"two labels \('tom', 'jerry'\); keep one, or pass --multi-label"):
        read_labels(path, store)


def test_read_labels_joins_several_files(tmp_path, store):
    first = write(tmp_path, "video,start,end,label\nb.mp4,0,3,tom\nb.mp4,3,5,jerry\n", "labels.csv")
    todo = write(tmp_path, "video,start,end,label\nb.mp4,2,3,tom\nb.mp4,6,8,tom\n", "todo.csv")  # one class alone: fine
    frames = read_labels([first, todo], store)
    assert labelled(frames, "b.mp4") == {0.0: "tom", 1.0: "tom", 2.0: "tom", 3.0: "jerry", 4.0: "jerry", 6.0: "tom", 7.0: "tom"}
    assert len(frames) == 7  # the frame at 2 s, labelled by both files alike, once


def test_read_labels_several_files_that_disagree_or_hold_one_class(tmp_path, store):
    first = write(tmp_path, "video,start,end,label\nb.mp4,0,3,tom\nb.mp4,3,5,jerry\n", "labels.csv")
    todo = write(tmp_path, "video,start,end,label\nb.mp4,2,4,tom\n", "todo.csv")
    with pytest.raises(LabelsInvalid, match=r"the labels files disagree on the frame at 3 s of 'b.mp4' \(labels.csv 'jerry', "
                                            r"todo.csv 'tom'\); keep one label"):
        read_labels([first, todo], store)
    only = write(tmp_path, "video,start,end,label\nb.mp4,0,3,tom\n", "only.csv")
    with pytest.raises(LabelsInvalid, match=r"only.csv, todo.csv label 4 stored frames, all 'tom'"):
        read_labels([only, todo], store)


def test_read_labels_unfilled_todo_rows_are_refused_in_one_line(tmp_path, store):
    todo = write(tmp_path, "video,start,end,label\nb.mp4,0,2,\nb.mp4,4,6,tom\nb.mp4,7,9,\na.mp4,1,3,\n", "todo.csv")
    with pytest.raises(LabelsInvalid, match=r"^todo.csv lines 2, 4, 5: label is empty; fill them in \(one row per label, "
                                            r"splitting a span where it changes\) or delete those lines$"):
        read_labels(todo, store)


def test_read_labels_several_multi_label_files_union_per_frame(tmp_path, store):
    first = write(tmp_path, "video,start,end,label\nb.mp4,0,4,tom\nb.mp4,4,6,neither\n", "labels.csv")
    todo = write(tmp_path, "video,start,end,label\nb.mp4,2,4,jerry\nb.mp4,7,8,jerry\n", "todo.csv")
    frames = read_labels([first, todo], store, multi_label=True)
    assert sets(frames, "b.mp4") == {0.0: ("tom",), 1.0: ("tom",), 2.0: ("jerry", "tom"), 3.0: ("jerry", "tom"),
                                     4.0: (), 5.0: (), 7.0: ("jerry",)}
    clash = write(tmp_path, "video,start,end,label\nb.mp4,5,6,jerry\n", "clash.csv")
    with pytest.raises(LabelsInvalid, match=r"the labels files disagree on the frame at 5 s of 'b.mp4' \(labels.csv 'neither', "
                                            r"clash.csv 'jerry'\): 'neither' means no character is on screen"):
        read_labels([first, clash], store, multi_label=True)
