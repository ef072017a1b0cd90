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


# Video names as paths: the store keys videos by id (the file name unless --name); the file a name gives here tells
# which stored video it is (its content fingerprint), and where it was embedded from tells one folder from another.

def content_store(tmp_path, files: dict):
    """A store of `files` (video_id -> file under tmp_path/videos, written with its own bytes), each 10 s at 1/s."""
    import numpy as np

    from featurestore.store.store import FeatureStore
    from featurestore.video.paths import fingerprint
    from test_labels import CONFIG

    store = FeatureStore(tmp_path / "features.h5", mode="a", config=CONFIG)
    for video_id, relative in files.items():
        path = tmp_path / "videos" / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(relative.encode() * 100)
        t = np.arange(10.0)
        store.put(video_id, requested_s=t, actual_s=t, features=np.zeros((10, 4), np.float32),
                  info={"sample_fps": 1.0, "duration_s": 10.0, "source_path": str(path), "fingerprint": fingerprint(path)})
    return FeatureStore(tmp_path / "features.h5")


def test_one_file_name_in_two_folders_is_told_apart_by_where_each_was_embedded_from(tmp_path, monkeypatch):
    store = content_store(tmp_path, {"ep1.mp4": "season1/ep1.mp4", "s2/ep1.mp4": "season2/ep1.mp4", "b.mp4": "b.mp4"})
    text = "video,start,end,label\nseason1/ep1.mp4,0,5,x\nseason2/ep1.mp4,0,5,y\nb.mp4,0,5,y\nb.mp4,5,10,x\n"
    for cwd in (tmp_path / "videos", tmp_path):  # the files here (their content decides), or not (their folders do)
        monkeypatch.chdir(cwd)
        with pytest.warns(UserWarning, match="matched 2 video names to stored ids by file name"):
            frames = read_labels(write(tmp_path, text), store)
        assert labelled(frames, "ep1.mp4")[0.0] == "x" and labelled(frames, "s2/ep1.mp4")[0.0] == "y"
    other_machine = text.replace("season1/", "/Users/anna/show/season1/").replace("season2/", "D:\\show\\season2\\")
    with pytest.warns(UserWarning, match="matched 2 video names to stored ids by file name"):
        frames = read_labels(write(tmp_path, other_machine), store)
    assert labelled(frames, "ep1.mp4")[0.0] == "x" and labelled(frames, "s2/ep1.mp4")[0.0] == "y"
    with pytest.raises(LabelsInvalid, match=r"video 'other/ep1.mkv' could be any of ep1.mp4 \(from .*season1/ep1.mp4\), "
                                            r"s2/ep1.mp4 \(from .*season2/ep1.mp4\)"):
        read_labels(write(tmp_path, "video,start,end,label\nother/ep1.mkv,0,5,x\n"), store)


def test_a_name_whose_file_here_holds_other_content_is_refused(tmp_path, monkeypatch):
    store = content_store(tmp_path, {"ep1.mp4": "season1/ep1.mp4", "b.mp4": "b.mp4"})
    (tmp_path / "videos" / "season2").mkdir()
    (tmp_path / "videos" / "season2" / "ep1.mp4").write_bytes(b"season two's first episode")  # never embedded
    monkeypatch.chdir(tmp_path / "videos")
    text = "video,start,end,label\nb.mp4,0,5,x\nseason2/ep1.mp4,0,5,y\n"
    with pytest.raises(LabelsInvalid, match=r"labels.csv line 3: video 'season2/ep1.mp4' is not ep1.mp4 \(from "
                                            r".*season1/ep1.mp4\) of features.h5: the file holds other content; embed it"):
        read_labels(write(tmp_path, text), store)
    store = content_store(tmp_path, {"s2e1": "season2/ep1.mp4"})  # now embedded, under a --name of its own
    with pytest.warns(UserWarning, match=r"by the content of the file it names .*: 'season2/ep1.mp4' -> 's2e1'"):
        frames = read_labels(write(tmp_path, text), store)
    assert labelled(frames, "s2e1")[0.0] == "y"
    (tmp_path / "videos" / "b.mkv").write_bytes(b"b.mp4, transcoded")  # matched by stem: the same clock, not refused
    with pytest.warns(UserWarning, match=r"'b.mkv' -> 'b.mp4'"):
        read_labels(write(tmp_path, "video,start,end,label\nb.mkv,0,5,x\nb.mkv,5,10,y\n"), store)


def test_a_video_renamed_or_linked_after_embedding_is_found_by_its_content(tmp_path, monkeypatch):
    store = content_store(tmp_path, {"ep2.mp4": "ep2.mp4", "b.mp4": "b.mp4"})
    videos = tmp_path / "videos"
    (videos / "ep2.mp4").rename(videos / "episode 2.mp4")
    (videos / "latest.mp4").symlink_to(videos / "b.mp4")
    monkeypatch.chdir(videos)
    text = "video,start,end,label\nepisode 2.mp4,0,5,x\nepisode 2.mp4,5,10,y\nlatest.mp4,0,5,y\n"
    with pytest.warns(UserWarning, match=r"matched 2 video names to stored ids by the content of the file they name "
                                         r"\(renamed, moved or linked since embedding\): 'episode 2.mp4' -> 'ep2.mp4', "
                                         r"'latest.mp4' -> 'b.mp4'"):
        frames = read_labels(write(tmp_path, text), store)
    assert labelled(frames, "ep2.mp4")[6.0] == "y" and labelled(frames, "b.mp4")[0.0] == "y"
    (tmp_path / "elsewhere").mkdir()
    monkeypatch.chdir(tmp_path / "elsewhere")
    with pytest.warns(UserWarning, match=r"by the content of the file they name"):  # from the labels file's folder
        frames = read_labels(write(videos, text), store)
    assert labelled(frames, "ep2.mp4")[6.0] == "y" and labelled(frames, "b.mp4")[0.0] == "y"
    (videos / "episode 2.mp4").write_bytes(b"re-encoded since")
    with pytest.raises(LabelsInvalid, match=r"line 2: video 'episode 2.mp4' is not in features.h5"):
        read_labels(write(videos, text), store)


@pytest.mark.parametrize("label", ["together", "Together"])
def test_a_character_called_together_is_refused_with_multi_label(tmp_path, store, label):
    # score's and compare-models' tables show the time characters share the screen as 'together'
    text = f"video,start,end,label\nb.mp4,0,4,tom\nb.mp4,2,6,{label}\nb.mp4,6,10,neither\n"
    with pytest.raises(LabelsInvalid, match=rf"labels.csv line 3: a character called '{label}' would be mistaken for the "
                                            r"time characters share the screen"):
        read_labels(write(tmp_path, text), store, multi_label=True)
    text = f"video,start,end,label\nb.mp4,0,4,tom\nb.mp4,4,6,{label}\n"  # one class per frame: no such table
    assert labelled(read_labels(write(tmp_path, text), store), "b.mp4")[5.0] == label


def test_a_file_without_its_header_or_with_it_twice_says_so(tmp_path, store):
    with pytest.raises(LabelsInvalid, match=r"labels.csv: its first line 'a.mp4,0,1,x' is a row, not a header; add the "
                                            r"header line video,start,end,label"):
        read_labels(write(tmp_path, "a.mp4,0,1,x\na.mp4,1,2,y\n"), store)
    pasted = "video,start,end,label\na.mp4,0,1,x\n"
    with pytest.raises(LabelsInvalid, match=r"labels.csv line 4 repeats the header line 1 \(two files pasted together\?\)"):
        read_labels(write(tmp_path, pasted + "\n" + pasted.replace("x", "y").replace("0,1", "1,2")), store)


def test_paths_typed_on_windows_name_their_files(tmp_path, store):
    text = "video,start,end,label\nC:\\Users\\me\\Videos\\a.mp4,0,1,x\nC:\\Users\\me\\Videos\\a.mp4,1,2,y\n"
    with pytest.warns(UserWarning, match=r"matched 1 video name to stored ids by file name: 'C:.*Videos.*a.mp4' -> 'a.mp4'"):
        frames = read_labels(write(tmp_path, text), store)
    assert labelled(frames, "a.mp4") == {0.0: "x", 0.5: "x", 1.0: "y", 1.5: "y"}


def test_every_video_name_the_store_lacks_is_named_in_one_line(tmp_path, store):
    text = "video,start,end,label\na.mp4,0,5,x\nep9.mp4,0,5,y\nep9.mp4,5,9,x\nep10.mp4,0,5,y\nep11.mp4,0,5,y\n"
    with pytest.raises(LabelsInvalid, match=r"labels.csv line 3: video 'ep9.mp4' is not in features.h5 .*; embed it "
                                            r"first or fix the name; 2 more video names fail too: 'ep10.mp4' \(line 5\), "
                                            r"'ep11.mp4' \(line 6\)$"):
        read_labels(write(tmp_path, text), store)


def test_decimal_commas_where_semicolons_separate_as_european_spreadsheets_write(tmp_path, store):
    text = "sep=;\nvideo;start;end;label\na.mp4;0;1,5;x\na.mp4;1,5;0:00:02,5;y\nb.mp4;0;3;y\nb.mp4;3;4;x\n"
    frames = read_labels(write(tmp_path, text), store)
    assert labelled(frames, "a.mp4") == {0.0: "x", 0.5: "x", 1.0: "x", 1.5: "y", 2.0: "y"}
    tabs = read_labels(write(tmp_path, "video\tstart\tend\tlabel\na.mp4\t0\t0,5\tx\na.mp4\t0,5\t1\ty\n"), store)
    assert labelled(tabs, "a.mp4") == {0.0: "x", 0.5: "y"}
    with pytest.raises(LabelsInvalid, match=r"labels.csv lines 2 and 3: times with a decimal comma and with a decimal "
                                            r"point; write every time one way"):
        read_labels(write(tmp_path, "video;start;end;label\na.mp4;0;1,5;x\na.mp4;1.5;2;y\n"), store)
    with pytest.raises(LabelsInvalid, match=r"line 2: end '1.000,5' has a comma and a point; write seconds with one "
                                            r"decimal mark and no thousands mark"):
        read_labels(write(tmp_path, "video;start;end;label\na.mp4;0;1.000,5;x\n"), store)


def test_a_name_with_a_comma_with_multi_label_says_how_to_write_it(tmp_path, store):
    text = 'video,start,end,label\nb.mp4,0,4,tom\nb.mp4,2,6,"O\'Brien, Conan"\nb.mp4,6,10,neither\n'
    with pytest.raises(LabelsInvalid, match=r"line 3: label \"O'Brien, Conan\" names several characters; .*, or, for one "
                                            r"name \(O'Brien, Conan\), write it without the ','$"):
        read_labels(write(tmp_path, text), store, multi_label=True)
    text = text.replace("tom", "O'Brien").replace('"O\'Brien, Conan"', "Zoë").replace("2,6", "6,8").replace("6,10", "8,10")
    assert set(read_labels(write(tmp_path, text), store, multi_label=True).labels) == {("O'Brien",), ("Zoë",), ()}


def test_an_interval_between_two_samples_is_named_not_dropped_silently(tmp_path, store):
    # 'b.mp4' is sampled every second: 2.2-2.8 s holds no sample
    path = write(tmp_path, "video,start,end,label\nb.mp4,0,2,x\nb.mp4,2.2,2.8,y\nb.mp4,3,5,y\n")
    with pytest.warns(UserWarning, match=r"labels.csv: 1 interval holds no stored sample \(shorter than the sampling "
                                         r"interval\), so it labels nothing: line 3 \(2.2-2.8 s; 'b.mp4' sampled every 1 s\)"):
        frames = read_labels(path, store)
    assert labelled(frames, "b.mp4") == {0.0: "x", 1.0: "x", 3.0: "y", 4.0: "y"}


@pytest.mark.parametrize("row, column", [("a.mp4,,1,x", "start"), ("a.mp4,0, ,x", "end"), ("a.mp4,0", "end")])
def test_an_empty_time_is_called_empty(tmp_path, store, row, column):
    with pytest.raises(LabelsInvalid, match=rf"labels.csv line 2: {column} is empty; fill it in or delete the line"):
        read_labels(write(tmp_path, f"video,start,end,label\n{row}\na.mp4,1,2,y\n"), store)


def test_a_tab_separated_thousand_is_refused_not_read_as_one_second(tmp_path, store):
    with pytest.raises(LabelsInvalid, match=r"line 2: \w+ '1,000' may be a thousands mark or a decimal comma"):
        read_labels(write(tmp_path, "video\tstart\tend\tlabel\na.mp4\t0\t1,000\tx\na.mp4\t1,000\t2,500\ty\n"), store)


def test_every_reader_of_a_labels_file_looks_for_its_paths_beside_it_too(tmp_path, monkeypatch):
    """suggest-labels' labelled time resolves a path as compare-models does: the file beside the labels decides."""
    from classifiers.data.join import StoreGrids, labelled_time
    from classifiers.data.labels import parse_label_files

    store = content_store(tmp_path, {"ep1.mp4": "season1/ep1.mp4", "s2e1": "season2/ep1.mp4"})
    (tmp_path / "elsewhere").mkdir()
    monkeypatch.chdir(tmp_path / "elsewhere")
    path = write(tmp_path / "videos", "video,start,end,label\nseason2/ep1.mp4,0,5,x\nseason2/ep1.mp4,5,10,y\n")
    with pytest.warns(UserWarning):
        assert sorted(set(read_labels(path, store).video_id)) == ["s2e1"]
        assert list(labelled_time(parse_label_files([path]), StoreGrids(store))) == ["s2e1"]


def test_face_labels_in_excels_sep_line_csv(tmp_path):
    from classifiers.data.face_dataset import load_labelled_faces
    from face_helpers import Face, face_table, hand_store, people

    alice, bob = people(2, seed=1)
    store = hand_store(face_table("v.mp4", 2, [Face(0, alice), Face(1, bob)]))
    tables = []
    for name, text in (("plain.csv", "video;start;end;label\nv.mp4;0;1;alice\nv.mp4;1;2;bob\n"),
                       ("excel.csv", "sep=;\nvideo;start;end;label\nv.mp4;0;1;alice\nv.mp4;1;2;bob\n")):
        (tmp_path / name).write_text(text)
        tables.append(load_labelled_faces(store, tmp_path / name))
    assert repr(tables[0]) == repr(tables[1])
