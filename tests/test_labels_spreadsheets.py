"""Labels files as spreadsheets and people really write them (issue: labels as made): Excel's `sep=;` line, a
header whose notes hold the other delimiter, a column named twice, times with a unit, names in two Unicode forms,
points past a video's end, and the same file name in two folders.

The store is `tests/test_labels.py`'s: made-up features of 10 s videos ('a.mp4' sampled at 2/s, 'b.mp4' at 1/s).
"""

from __future__ import annotations

import pytest

from classifiers.data.join import read_labels
from classifiers.data.timecode import parse_time
from featurestore.errors import LabelsInvalid

from test_labels import labelled, make_store, write


@pytest.fixture
def store(tmp_path):
    return make_store(tmp_path, {"a.mp4": 2.0, "b.mp4": 1.0})


def test_excels_sep_line_names_the_delimiter_and_line_numbers_stay_the_files(tmp_path, store):
    frames = read_labels(write(tmp_path, "sep=;\r\nvideo;start;end;label\r\na.mp4;0;1;x\r\na.mp4;1;2;y\r\n"), store)
    assert labelled(frames, "a.mp4") == {0.0: "x", 0.5: "x", 1.0: "y", 1.5: "y"}
    with pytest.raises(LabelsInvalid, match=r"labels.csv line 4: start 'soon'"):
        read_labels(write(tmp_path, '"sep=;"\nvideo;start;end;label\na.mp4;0;1;x\na.mp4;soon;2;y\n'), store)


def test_the_delimiter_is_the_one_that_splits_the_header_most(tmp_path, store):
    # a European spreadsheet's notes column whose title holds a comma
    text = "video;start;end;label;notes, more\na.mp4;0;1;x;fine, I think\na.mp4;1;2;y;\n"
    frames = read_labels(write(tmp_path, text), store)
    assert labelled(frames, "a.mp4") == {0.0: "x", 0.5: "x", 1.0: "y", 1.5: "y"}


@pytest.mark.parametrize("header", ["video,start,end,label,label", "Label,video,start,end,label "])
def test_a_column_named_twice_is_refused_not_guessed(tmp_path, store, header):
    with pytest.raises(LabelsInvalid, match=r"labels.csv line 2: the header has a column label 2 times \(columns [14] "
                                            r"and 5\); rename or delete all but one"):
        read_labels(write(tmp_path, f"\n{header}\na.mp4,0,1,x,y\na.mp4,1,2,y,x\n"), store)


def test_points_no_sample_is_near_are_named_by_line_and_time(tmp_path, store):
    # 1:00 typed for 0:01 (a minute, not a second) on a 10 s video; 'b.mp4' is sampled at 1/s
    path = write(tmp_path, "video,time,label\nb.mp4,0,x\nb.mp4,1:00,y\nb.mp4,2,y\nb.mp4,3,x\n")
    with pytest.warns(UserWarning, match=r"1 of 4 labelled points in labels.csv are not within half a sampling interval "
                                         r"of a stored frame \(past the video's end, or between samples\) and were "
                                         r"ignored: line 3 \(60 s; 'b.mp4' is 10.0 s long\)"):
        frames = read_labels(path, store)
    assert labelled(frames, "b.mp4") == {0.0: "x", 2.0: "y", 3.0: "x"}


def test_names_in_unicodes_two_forms_are_one_name(tmp_path):
    # macOS writes file names decomposed ('e' + U+0308); a spreadsheet typed on Linux or Windows writes 'ë' composed
    decomposed, composed = "Zoe\u0308", "Zo\u00eb"
    store = make_store(tmp_path, {f"{decomposed}.mp4": 1.0, "b.mp4": 1.0})
    write(tmp_path, f"video,start,end,label\n{composed}.mp4,0,5,{composed}\n{composed}.mp4,5,10,jerry\n", "one.csv")
    write(tmp_path, f"video,start,end,label\nb.mp4,0,5,{decomposed}\nb.mp4,5,10,jerry\n", "two.csv")
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the same name: nothing to warn about
        frames = read_labels([tmp_path / "one.csv", tmp_path / "two.csv"], store)
    assert labelled(frames, f"{decomposed}.mp4")[0.0] == composed == labelled(frames, "b.mp4")[0.0]
    assert set(frames.label) == {"jerry", composed}


@pytest.mark.parametrize("text, expected", [("65s", 65.0), ("12.5 s", 12.5), ("0S", 0.0), (" 3s ", 3.0)])
def test_seconds_may_carry_their_unit(text, expected):
    assert parse_time(text) == expected


@pytest.mark.parametrize("text", ["s", "1m", "1m05s", "-1s", "1:05s", "ss", "12,5s"])
def test_other_units_are_refused(text):
    with pytest.raises(ValueError):
        parse_time(text)
