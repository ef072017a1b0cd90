"""Malformed labels files, as a hostile user or a fuzzer writes them (issue 23): every one is refused by the library
as one `LabelsInvalid` naming the file and the place, and by the command line as one `error:` line, exit 1, no
traceback, nothing written. Silent drops are refused or counted in a warning; duplicate Label Studio annotations
are chosen by parsed time, then id as a number.

The store holds made-up features of 'ep1.mp4': 10 s of 25 fps video sampled at 2 per second (requested_s = 0,
0.5, ..., 9.5), so which samples get which label is known exactly.
"""

from __future__ import annotations

import codecs
import hashlib
import json
import random
import warnings

import numpy as np
import pytest

from classifiers.data import labels as labels_module
from classifiers.data.join import read_labels
from featurestore.errors import LabelsInvalid, LabelsWarning
from featurestore.store.store import FeatureStore

CONFIG = {"model": "vgg16", "weights": "random:seed=0", "pooling": "avg", "image_size_px": 224, "n_features": 4}
BIG = "1" + "0" * 400  # 10**400: an OverflowError once divided by a frame rate
HUGE = "7" * 5001  # over Python's 4300-digit limit for int(): a ValueError advising sys.set_int_max_str_digits


@pytest.fixture
def store(tmp_path):
    fs = FeatureStore(tmp_path / "features.h5", mode="a", config=CONFIG)
    t = np.arange(20) / 2.0
    rng = np.random.default_rng(0)
    fs.put("ep1.mp4", requested_s=t, actual_s=t, features=rng.normal(size=(20, 4)).astype(np.float32),
           info={"sample_fps": 2.0, "duration_s": 10.0, "fps": 25.0})
    return FeatureStore(tmp_path / "features.h5")


def annotation(ranges, ann_id=11, updated_at="2026-01-01T10:00:00Z", **fields):
    """One submitted annotation: ranges are (start_frame, end_frame, label), frames from 1."""
    result = [{"id": f"r{i}", "from_name": "characters", "to_name": "video", "type": "timelinelabels",
               "value": {"ranges": [{"start": s, "end": e}], "timelinelabels": [label]}} for i, (s, e, label) in enumerate(ranges)]
    return {"id": ann_id, "result": result, "was_cancelled": False, "created_at": updated_at, "updated_at": updated_at,
            **fields}


def task(annotations, task_id=1, **data):
    return {"id": task_id, "data": {"video": "/data/local-files/?d=ep1.mp4", "fps": 25, **data},
            "annotations": annotations}


def export(**changes) -> str:
    """A one-task export (tom frames 1-50, jerry 51-100) as JSON text, with `changes` made to its annotation."""
    ann = annotation([(1, 50, "tom"), (51, 100, "jerry")])
    ann.update(changes)
    return json.dumps([task([ann])])


def with_range(**rng) -> str:
    doc = json.loads(export())
    doc[0]["annotations"][0]["result"][0]["value"]["ranges"][0].update(rng)
    return json.dumps(doc)


CVAT = """<?xml version="1.0" encoding="utf-8"?>
<annotations>
  <version>1.1</version>
  <meta>
    <task><id>7</id><name>ep1</name><size>250</size><mode>interpolation</mode><start_frame>0</start_frame>
      <stop_frame>249</stop_frame><frame_filter></frame_filter>
      <labels><label><name>tom</name></label><label><name>jerry</name></label></labels></task>
    <source>ep1.mp4</source>
  </meta>
  <track id="0" label="tom" source="manual">
    <box frame="0" outside="0" keyframe="1" xtl="1" ytl="1" xbr="9" ybr="9"></box>
    <box frame="50" outside="1" keyframe="1" xtl="1" ytl="1" xbr="9" ybr="9"></box>
  </track>
  <track id="1" label="jerry" source="manual">
    <box frame="100" outside="0" keyframe="1" xtl="1" ytl="1" xbr="9" ybr="9"></box>
    <box frame="150" outside="1" keyframe="1" xtl="1" ytl="1" xbr="9" ybr="9"></box>
  </track>
</annotations>
"""
CSV = "video,start,end,label\nep1.mp4,0,2,tom\nep1.mp4,2,4,jerry\n"

CASES = [
    # CVAT: numbers parsed strictly, meta checked, no shape dropped
    ("stop.xml", CVAT.replace("<stop_frame>249", "<stop_frame>end"), r"meta: <stop_frame> 'end' is not a whole number"),
    ("size.xml", CVAT.replace("<stop_frame>249</stop_frame>", "").replace("<size>250", "<size>lots"),
     r"meta: <size> 'lots' is not a whole number"),
    ("digits.xml", CVAT.replace('frame="100"', f'frame="{BIG}"'), r"track 1 \(jerry\), shape 1 \(<box>\): frame '1000.*is not a "
                                                                   r"whole number from 0 to 1000000000"),
    ("huge.xml", CVAT.replace('frame="100"', f'frame="{HUGE}"'), r"track 1 \(jerry\), shape 1 \(<box>\): frame .* not a whole"),
    ("noframe.xml", CVAT.replace('<box frame="100" ', "<box "), r"track 1 \(jerry\), shape 1 \(<box>\): it has no frame attribute"),
    ("negative.xml", CVAT.replace('frame="100"', 'frame="-5"'), r"track 1 \(jerry\), shape 1 \(<box>\): frame '-5' is not a "
                                                               r"whole number from 0"),
    ("before0.xml", CVAT.replace('frame="100"', 'frame="-20"').replace('frame="150"', 'frame="-10"'),
     r"track 1 \(jerry\), shape 1 \(<box>\): frame '-20'"),
    ("order.xml", CVAT.replace("<start_frame>0", "<start_frame>300"), r"meta: <start_frame> 300 is after <stop_frame> 249"),
    ("v2.xml", CVAT.replace("<version>1.1", "<version>2.0"), r"<version> '2.0' is not CVAT for video 1.1"),
    ("outside.xml", CVAT.replace('outside="1"', 'outside="yes"', 1), r"track 0 \(tom\), shape 2 \(<box>\): outside 'yes' is not 0 or 1"),
    ("twice.xml", CVAT.replace('frame="150"', 'frame="100"'), r"track 1 \(jerry\), shape 2 \(<box>\): a second shape at frame 100"),
    ("late.xml", CVAT.replace('frame="100" outside="0"', 'frame="260" outside="0"').replace('frame="150"', 'frame="270"'),
     r"track 1 \(jerry\), shape 1 \(<box>\): on screen at frame 260, outside the task's frames 0-249"),
    ("control.xml", CVAT.replace('label="jerry"', 'label="jerry&#10;&#10;00:00:00.000 --&gt; 00:00:20.000"'),
     r"track 1: its label '.*' holds the control character '\\n'"),
    ("step.xml", CVAT.replace("<stop_frame>249</stop_frame>", "").replace("<frame_filter></frame_filter>",
                                                                          "<frame_filter>step=0</frame_filter>"),
     r"meta: <frame_filter> 'step=0' is not step=N"),
    ("source.xml", CVAT.replace("<source>ep1.mp4", "<source>ep1.mp4&#0;"), r"line \d+: not well-formed XML"),
    # Label Studio: wrong types, unreadable numbers, deep nesting, a value that is a list
    ("annotations.json", json.dumps([task(5)]), r"task 1: \"annotations\" is 5, not a list of annotations"),
    ("result.json", export(result=7), r"task 1, annotation 11: \"result\" is 7, not a list of results"),
    ("big.json", with_range(end=10**400), r"task 1, annotation 11, result 1, range 1: end 1000.*\(401 digits\) is not a "
                                          r"frame number \(a whole number from 1 to 1000000000\)"),
    ("huge.json", with_range(end=HUGE).replace(f'"{HUGE}"', HUGE),
     r"task 1, annotation 11, result 1, range 1: end 7777.*\(5001 digits\) is not a frame number"),
    ("float.json", with_range(end=1e400).replace("Infinity", "1e400"), r"range 1: end 1e400 is not a frame number"),
    ("nan.json", json.dumps([task([annotation([(1, 5, "tom")])], fps=float("nan"))]), r"task 1: fps NaN is not a frame rate"),
    ("bool.json", json.dumps([task([annotation([(1, 5, "tom")])], fps=True)]), r"task 1: fps True is not a frame rate"),
    ("half.json", with_range(start=1.5), r"range 1: start 1.5 is not a frame number"),
    ("deep.json", "[" * 100_000 + "]" * 100_000, r"^deep.json is nested more than 64 levels deep"),
    ("deepvalue.json", export().replace('"tom"', "[" * 5000 + '"tom"' + "]" * 5000), r"nested more than 64 levels deep"),
    ("listvalue.json", json.dumps([task([{"id": 11, "result": [{"type": "timelinelabels", "value": [
        {"ranges": [{"start": 1, "end": 50}], "timelinelabels": ["tom"]}]}]}])]),
     r"task 1, annotation 11, result 1: its value is \[\{'ranges'.*, not an object"),
    ("item.json", json.dumps([task([5])]), r"task 1, annotation #1: 5 is not an annotation"),
    ("resultitem.json", export(result=[7]), r"task 1, annotation 11, result 1: 7 is not a result"),
    ("rangeitem.json", with_range().replace('{"start": 1, "end": 50}', "3"), r"result 1, range 1: 3 is not a range"),
    ("label.json", export().replace('"tom"', "5"), r"result 1: a label 5 is not text"),
    ("newline.json", export().replace('"tom"', json.dumps("tom\n\n00:00:00.000 --> 00:00:20.000\nINJECTED")),
     r"result 1: a label .* holds the control character '\\n'"),
    ("cancel.json", export(was_cancelled="no"), r"task 1, annotation 11: was_cancelled 'no' is not true or false"),
    ("when.json", json.dumps([task([annotation([(1, 5, "tom")], ann_id=1, updated_at="yesterday"),
                                    annotation([(1, 5, "jerry")], ann_id=2)])]),
     r"task 1, annotation 1: updated_at 'yesterday' is not an ISO 8601 time"),
    ("object.json", '{"tasks": 5}', r"^object.json is JSON but not a Label Studio export"),
    ("url.json", json.dumps([task([annotation([(1, 5, "tom")])], video="http://[bad/ep1.mp4")]),
     r"task 1: its data names no video"),
    ("surrogate.json", export().replace("ep1.mp4", "ep1\\ud800.mp4"), r"task 1: its video 'ep1\\ud800.mp4' holds the control"),
    # CSV: strict numbers, one line per record, text only
    ("underscore.csv", "video,start,end,label\nep1.mp4,8_4,9,tom\n", r"line 2: start '8_4' is not a number of seconds"),
    ("arabic.csv", "video,start,end,label\nep1.mp4,١,2,tom\n", r"line 2: start '١' is not a number of seconds"),
    ("long.csv", f"video,start,end,label\nep1.mp4,{HUGE},2,tom\n", r"line 2: start '7777.* is 5001 characters long, too long"),
    ("clock.csv", f"video,start,end,label\nep1.mp4,0,{'9' * 5001}:00,tom\n", r"line 2: end .* too long for a time"),
    ("inf.csv", "video,start,end,label\nep1.mp4,0,1e400,tom\n", r"line 2: end '1e400' is not a number of seconds"),
    ("nan.csv", "video,start,end,label\nep1.mp4,nan,2,tom\n", r"line 2: start 'nan' is not a number of seconds"),
    ("far.csv", "video,start,end,label\nep1.mp4,0,999999:00:00,tom\n", r"line 2: end '999999:00:00' is more than 1e\+07 s"),
    ("quoted.csv", 'video,start,end,label\nep1.mp4,0,2,"tom\n\n00:00:00.000 --> 00:00:20.000\nINJECTED"\n',
     r"line 2: label 'tom\\n\\n00:00:00.000 -->.*holds the control character '\\n'"),
    ("cell.csv", "video,start,end,label\nep1.mp4,0,2," + "x" * 200_000 + "\n", r"line 2: not a readable CSV record \(field larger"),
    ("nul.csv", "video,start,end,label\nep1.mp4,0,2,to\x00m\n", r"line 2: not text \(it holds NUL bytes"),
    ("utf16.csv", CSV.encode("utf-16-le"), r"line 1: not text \(it holds NUL bytes: a binary file, or UTF-16 without a byte"),
    ("png.csv", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)), r"not text|not UTF-8"),
    ("frame.csv", f"Image_ID,Class\nframe{HUGE}.jpg,1\n", r"line 2: Image_ID 'frame7777.* is not like frame12.jpg"),
    ("class.csv", f"Image_ID,Class\nframe1.jpg,{HUGE}\n", r"line 2: Class '7777.* is not one of 0..2"),
    ("empty.csv", "", r"^empty.csv is empty"),
    ("bom.csv", codecs.BOM_UTF8 + b"  \n\n", r"^bom.csv is empty"),
    ("header.csv", "\x1b[31mvideo\x1b[0m,x\n", r"line 1: header '\\x1b\[31mvideo\\x1b\[0m,x' lacks column"),
]


def write(tmp_path, name, content):
    path = tmp_path / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    return path


def snapshot(folder) -> dict:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.mark.parametrize("name, content, match", CASES, ids=[c[0] for c in CASES])
def test_malformed_labels_are_one_labels_invalid_naming_file_and_place(tmp_path, store, name, content, match):
    path = write(tmp_path, name, content)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(LabelsInvalid, match=match) as err:
            read_labels(path, store, video="ep1.mp4" if name in ("frame.csv", "class.csv") else None,
                        multi_label=name.endswith(".xml"))
    message = str(err.value)
    assert message.startswith(name) and "\n" not in message and len(message) < 600
    assert "set_int_max_str_digits" not in message and "Traceback" not in message


@pytest.mark.parametrize("name, content, match", CASES, ids=[c[0] for c in CASES])
def test_cli_prints_malformed_labels_as_one_error_line_and_writes_nothing(tmp_path, store, capsys, monkeypatch, name,
                                                                          content, match):
    from conftest import error_lines, run_cli

    monkeypatch.chdir(tmp_path)
    path = write(tmp_path, name, content)
    before = snapshot(tmp_path)
    extra = ["--video", "ep1.mp4"] if name in ("frame.csv", "class.csv") else []
    code, out, err = run_cli(["compare-models", "--labels", path, "--store", "features.h5", "--out", "best.skops",
                              "--report", "board.csv", *extra, *(["--multi-label"] if name.endswith(".xml") else [])], capsys)
    errors = error_lines(err)
    assert code == 1 and len(errors) == 1 and name in errors[0], err
    assert "Traceback" not in err and all(line.startswith(("error:", "warning:")) for line in err.splitlines() if line.strip())
    assert snapshot(tmp_path) == before


def test_labels_files_over_the_size_limit_are_refused_before_reading(tmp_path, store, monkeypatch):
    monkeypatch.setattr(labels_module, "MAX_FILE_BYTES", 1000)
    path = write(tmp_path, "big.csv", CSV + "ep1.mp4,4,5,tom\n" * 100)
    with pytest.raises(LabelsInvalid, match=r"big.csv is 0 MiB, more than a labels file can be"):
        read_labels(path, store)


def test_utf32_with_a_bom_and_unicode_names_are_read(tmp_path, store):
    path = write(tmp_path, "utf32.csv", codecs.BOM_UTF32_LE + CSV.replace("tom", "トム").encode("utf-32-le"))
    frames = read_labels(path, store)
    assert frames.label.tolist() == ["トム"] * 4 + ["jerry"] * 4


def test_cvat_version_1_0_and_no_version_are_read_with_a_warning(tmp_path, store):
    for name, text in (("v10.xml", CVAT.replace("<version>1.1", "<version>1.0")),
                       ("none.xml", CVAT.replace("<version>1.1</version>", ""))):
        with pytest.warns(LabelsWarning, match=rf"{name} has (<version> 1.0|no <version>); read as CVAT for video 1.1"):
            frames = read_labels(write(tmp_path, name, text), store, multi_label=True)
        assert len(frames) == 20


def pick(tmp_path, annotations):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        table = labels_module.parse_labels(write(tmp_path, "pick.json", json.dumps([task(annotations)])))
    return {r.label for r in table.rows}


@pytest.mark.parametrize("older, newer", [
    ({"ann_id": 9}, {"ann_id": 10}),  # equal times: the larger id as a number (as text, "9" > "10")
    ({"ann_id": "9"}, {"ann_id": "10"}),
    ({"updated_at": "2026-01-01T10:00:00Z"}, {"updated_at": "2026-01-01T10:00:00.500000Z"}),  # as text, 'Z' > '.'
    ({"updated_at": "2026-01-01T11:00:00+02:00"}, {"updated_at": "2026-01-01T10:00:00Z"}),  # 09:00 UTC is earlier
    ({"updated_at": "2026-01-01T10:00:00.25"}, {"updated_at": "2026-01-01T10:00:00.250001+00:00"}),  # naive is UTC
])
def test_the_latest_annotation_is_chosen_by_parsed_time_then_id_as_a_number(tmp_path, older, newer):
    a = annotation([(1, 50, "tom")], **{"ann_id": 1, **older})
    b = annotation([(1, 50, "jerry")], **{"ann_id": 1, **newer})
    assert pick(tmp_path, [a, b]) == {"jerry"} and pick(tmp_path, [b, a]) == {"jerry"}


def test_what_label_studio_does_not_read_is_counted_in_a_warning(tmp_path, store):
    ann = annotation([(1, 50, "tom"), (51, 100, "jerry")])
    ann["result"].append({"type": "videorectangle", "value": {"sequence": [], "labels": ["tom"]}})
    doc = [task([ann]), task([], task_id=2), task(None, task_id=3)]
    with pytest.warns(LabelsWarning) as record:
        read_labels(write(tmp_path, "counted.json", json.dumps(doc)), store)
    said = " ".join(str(w.message) for w in record)
    assert "2 of 3 tasks have no submitted annotation" in said
    assert "1 results of other controls than timelinelabels (videorectangle: 1) were not read" in said


def mutations(text: str, rng: random.Random, n: int) -> list[str]:
    """`n` damaged copies of `text`: cut, bytes flipped, a run deleted or repeated, a number made huge or odd."""
    out = []
    for _ in range(n):
        t, how = text, rng.randrange(6)
        i, j = sorted(rng.randrange(len(t) + 1) for _ in range(2))
        if how == 0:
            t = t[:i]
        elif how == 1:
            t = t[:i] + rng.choice("\x00\n\"<>[]{},:;-0123456789e.\ufeff\u2028\x85é") + t[i + 1:]
        elif how == 2:
            t = t[:i] + t[j:]
        elif how == 3:
            t = t[:i] + t[i:j] * rng.randrange(2, 5) + t[j:]
        elif how == 4:
            t = t.replace(rng.choice(["50", "100", "25", "249", "0", "2"]), rng.choice([BIG, "-1", "1.5", "8_4", "NaN", "1e400",
                                                                                  '"x"', "null", "[]", "{}", "true"]), 1)
        else:
            t = t.replace(rng.choice(['"tom"', "tom", "ep1.mp4", '"annotations"', '"value"', "track", "frame"]),
                          rng.choice(['"jer\\nry"', "", "5", "[1]", "\u202etom", "x" * 300]), 1)
        out.append(t)
    return out


@pytest.mark.parametrize("name, text", [("fuzz.json", export()), ("fuzz.xml", CVAT), ("fuzz.csv", CSV)])
def test_damaged_files_give_a_table_or_labels_invalid_and_nothing_else(tmp_path, store, name, text):
    rng = random.Random(name)
    for i, damaged in enumerate(mutations(text, rng, 150)):
        path = write(tmp_path, name, damaged)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                read_labels(path, store, multi_label=name.endswith(".xml"))
            except LabelsInvalid as err:
                assert "\n" not in str(err) and str(err).startswith(name), (i, damaged, err)


def test_a_name_in_another_unicode_normalisation_matches_the_stored_video(tmp_path):
    fs = FeatureStore(tmp_path / "accents.h5", mode="a", config=CONFIG)
    t = np.arange(20) / 2.0
    fs.put("\u00e9pisode.mp4", requested_s=t, actual_s=t, features=np.zeros((20, 4), np.float32),  # 'é' as one character
           info={"sample_fps": 2.0, "duration_s": 10.0, "fps": 25.0})
    path = write(tmp_path, "nfd.csv", "video,start,end,label\ne\u0301pisode.mp4,0,2,tom\ne\u0301pisode.mp4,2,4,jerry\n")
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # one name in Unicode's two forms: nothing a user could write otherwise
        frames = read_labels(path, FeatureStore(tmp_path / "accents.h5"))
    assert set(frames.video_id) == {"\u00e9pisode.mp4"} and len(frames) == 8
