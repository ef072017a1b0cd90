"""Labels for faces (issue 24): intervals -> whose each face is (one face, one track, then an assignment under a first
model), boxes from Label Studio and CVAT matched by overlap, names per track."""

from __future__ import annotations

import json

import numpy as np
import pytest

from classifiers.chain.face_decide import UNKNOWN
from classifiers.data.face_boxes import _ls_box
from classifiers.data.face_dataset import load_labelled_faces
from face_helpers import Face, face_table, hand_store, near, people, write_csv
from featurestore.errors import LabelsInvalid, NotEmbedded
from featurestore.faces.boxes import box_iou as iou

ALICE, BOB, EXTRA = people(3, seed=1)


def labels_of(data, video_id="v.mp4"):
    v = data.videos[video_id]
    return {(float(t), int(f)): (str(lab), str(how)) for t, f, lab, how in zip(v.table.time_s, v.table.face, v.label, v.how)}


def test_assignment_of_a_two_face_second_gives_each_actor_their_face(tmp_path):
    """Sample 2 holds bob's face first and alice's second, both labelled: the first model (trained on the single
    faces of samples 0, 1 and 5) assigns each to its actor; at sample 3 alice's face beside an extra's is hers and
    the extra's is unknown; at sample 4 ('neither') the extra's face is unknown."""
    faces = [Face(0, near(ALICE, 1), 0), Face(1, near(BOB, 2), 1), Face(2, near(BOB, 3), 2), Face(2, near(ALICE, 4), 3),
             Face(3, near(EXTRA, 5), 4), Face(3, near(ALICE, 6), 5), Face(4, near(EXTRA, 7), 6), Face(5, near(BOB, 8), 7)]
    store = hand_store(face_table("v.mp4", 6, faces))
    labels = write_csv(tmp_path / "l.csv", "video,start,end,label", [
        "v.mp4,0,1,alice", "v.mp4,1,2,bob", "v.mp4,2,3,alice", "v.mp4,2,3,bob", "v.mp4,3,4,alice", "v.mp4,4,5,neither",
        "v.mp4,5,6,bob"])
    data = load_labelled_faces(store, labels)
    got = labels_of(data)
    assert got[(2.0, 0)] == ("bob", "assigned") and got[(2.0, 1)] == ("alice", "assigned")
    assert got[(3.0, 0)] == (UNKNOWN, "leftover") and got[(3.0, 1)] == ("alice", "assigned")
    assert got[(4.0, 0)] == (UNKNOWN, "none")
    assert got[(0.0, 0)] == ("alice", "single") and got[(5.0, 0)] == ("bob", "single")
    assert data.actors == ["alice", "bob"]
    assert data.counts["assigned"] == 3 and data.counts["leftover"] == 1 and data.counts["none"] == 1
    assert sorted(data.y.tolist()) == sorted(["alice", "bob", "bob", "alice", UNKNOWN, "alice", UNKNOWN, "bob"])


def test_an_actor_shown_twice_in_a_labelled_second_is_not_taught_as_unknown(tmp_path):
    """A split screen in a labelled video: alice twice at 2 s (descriptors 0.3 apart), labelled alice. The copy was
    left over as an example of unknown people -- alice's own face taught as nobody's; it is left out (a copy, or a
    look-alike: the labels cannot tell). An extra beside her at 3 s stays unknown."""
    copy_a, copy_b = near(ALICE, 4), near(ALICE, 5)
    assert np.linalg.norm(copy_a - copy_b) < 0.4
    faces = [Face(0, near(ALICE, 1), 0), Face(1, near(BOB, 2), 1), Face(2, copy_a, 2), Face(2, copy_b, 3),
             Face(3, near(EXTRA, 6), 4), Face(3, near(ALICE, 7), 5)]
    store = hand_store(face_table("v.mp4", 4, faces))
    labels = write_csv(tmp_path / "l.csv", "video,start,end,label",
                       ["v.mp4,0,1,alice", "v.mp4,1,2,bob", "v.mp4,2,4,alice"])
    got = labels_of(load_labelled_faces(store, labels))
    assert sorted([got[(2.0, 0)], got[(2.0, 1)]]) == [("", ""), ("alice", "assigned")]
    assert got[(3.0, 0)] == (UNKNOWN, "leftover") and got[(3.0, 1)] == ("alice", "assigned")


def test_one_track_spanning_an_interval_labels_its_faces_and_a_missed_actor_is_counted(tmp_path):
    """alice is labelled 0-3 s and her track is the only one there; bob is labelled at 1 s but his face was missed:
    the face at 1 s (one face, two actors) is alice's by her track, and bob's missing face is counted."""
    faces = [Face(0, near(ALICE, 1), 7), Face(1, near(ALICE, 2), 7), Face(2, near(ALICE, 3), 7), Face(3, near(BOB, 4), 8)]
    store = hand_store(face_table("v.mp4", 4, faces))
    labels = write_csv(tmp_path / "l.csv", "video,start,end,label",
                       ["v.mp4,0,3,alice", "v.mp4,1,2,bob", "v.mp4,3,4,bob"])
    data = load_labelled_faces(store, labels)
    got = labels_of(data)
    assert got[(1.0, 0)] == ("alice", "track")
    assert data.counts["missed"] == 1


def test_one_actor_written_two_ways_is_refused_for_faces_and_frames(tmp_path):
    """`Jolie` in one video and `jolie ` in another are two actors to the classifiers: the CV then tested each on a
    video where the other had been trained, with warnings about folds and nothing about the names."""
    from classifiers.data.labels import parse_label_files

    faces = [Face(0, near(ALICE, 1), 0), Face(1, near(BOB, 2), 1), Face(2, near(ALICE, 3), 2)]
    store = hand_store(face_table("v.mp4", 3, faces))
    labels = write_csv(tmp_path / "l.csv", "video,start,end,label", ["v.mp4,0,1,Jolie", "v.mp4,1,2,bob", "v.mp4,2,3,jolie "])
    with pytest.raises(LabelsInvalid, match=r"l\.csv: .*'Jolie' and 'jolie'"):
        load_labelled_faces(store, labels)
    with pytest.raises(LabelsInvalid, match=r"are one name written 2 ways"):
        parse_label_files([labels])
    parse_label_files([write_csv(tmp_path / "ok.csv", "video,start,end,label", ["v.mp4,0,1,Jolie", "v.mp4,2,3,Jolie"])])


@pytest.mark.parametrize("called", ["unknown", "Unknown", "UNKNOWN"])
def test_an_actor_named_unknown_is_refused(tmp_path, called):
    store = hand_store(face_table("v.mp4", 2, [Face(0, ALICE), Face(1, BOB)]))
    labels = write_csv(tmp_path / "l.csv", "video,start,end,label", [f"v.mp4,0,1,{called}", "v.mp4,1,2,bob"])
    with pytest.raises(LabelsInvalid, match=f"'{called}' is what screentime calls"):
        load_labelled_faces(store, labels)


def test_a_labelled_video_without_stored_faces_says_embed_faces(tmp_path):
    store = hand_store(face_table("v.mp4", 2, [Face(0, ALICE), Face(1, BOB)]))
    store.has_faces = lambda video_id: False
    labels = write_csv(tmp_path / "l.csv", "video,start,end,label", ["v.mp4,0,1,alice", "v.mp4,1,2,bob"])
    with pytest.raises(NotEmbedded, match="embed --faces"):
        load_labelled_faces(store, labels)


def test_label_studio_keyframes_follow_label_studios_interpolation():
    """Enabled keyframes interpolate up to the next keyframe's frame; a disabled one is the last frame shown; after
    the last enabled keyframe the box stays until framesCount."""
    keys = [{"frame": 1, "enabled": True, "x": 0.0, "y": 0.0, "width": 0.2, "height": 0.2},
            {"frame": 11, "enabled": False, "x": 0.5, "y": 0.0, "width": 0.2, "height": 0.2},
            {"frame": 21, "enabled": True, "x": 0.1, "y": 0.1, "width": 0.1, "height": 0.1}]
    assert _ls_box(keys, 30, 6)[0] == pytest.approx(0.25)
    assert _ls_box(keys, 30, 11)[0] == pytest.approx(0.5)
    assert _ls_box(keys, 30, 12) is None and _ls_box(keys, 30, 20) is None
    assert _ls_box(keys, 30, 30)[0] == pytest.approx(0.1) and _ls_box(keys, 30, 31) is None


def test_a_label_studio_box_on_one_frame_is_shown_on_that_frame():
    """A box drawn on one frame with its lifespan toggled off (one disabled keyframe), and a disabled keyframe after
    another, show their box on their own frame, as Label Studio does (a keyframe is in its lifespan on its frame);
    before, both were read as no box, so the face the user boxed at a sampled second became an unknown person."""
    one = [{"frame": 26, "enabled": False, "x": 0.1, "y": 0.1, "width": 0.2, "height": 0.3}]
    assert _ls_box(one, 750, 26) == pytest.approx([0.1, 0.1, 0.2, 0.3])
    assert _ls_box(one, 750, 25) is None and _ls_box(one, 750, 27) is None
    two = [{"frame": 1, "enabled": False, "x": 0.0, "y": 0.0, "width": 0.2, "height": 0.2},
           {"frame": 51, "enabled": False, "x": 0.5, "y": 0.0, "width": 0.2, "height": 0.2}]
    assert _ls_box(two, 750, 51)[0] == pytest.approx(0.5) and _ls_box(two, 750, 1)[0] == pytest.approx(0.0)
    assert _ls_box(two, 750, 26) is None and _ls_box(two, 750, 52) is None


def test_label_studio_video_rectangles_name_the_faces_they_overlap(tmp_path):
    """alice's box (frames 1-31 at 10 fps: 0-3 s) and bob's (the whole video) over three faces at 0 s: each named by
    overlap, the extra's face unknown; at 4 s alice's box is gone, so the face there is unknown."""
    alice_box, bob_box, extra_box = (0.10, 0.10, 0.20, 0.30), (0.60, 0.10, 0.20, 0.30), (0.40, 0.60, 0.10, 0.15)
    faces = [Face(0, ALICE, 0, (0.11, 0.12, 0.18, 0.28)), Face(0, BOB, 1, bob_box), Face(0, EXTRA, 2, extra_box),
             Face(4, ALICE, 0, alice_box), Face(4, BOB, 1, (0.62, 0.1, 0.2, 0.3))]
    store = hand_store(face_table("v.mp4", 6, faces))

    def key(frame, box, enabled=True):
        return {"frame": frame, "enabled": enabled, "rotation": 0, "time": frame / 10,
                **{k: 100 * v for k, v in zip(("x", "y", "width", "height"), box)}}

    export = [{"id": 3, "data": {"video": "/data/upload/1/0a1b2c3d-v.mp4", "fps": 10}, "annotations": [{"id": 1, "result": [
        {"id": "a", "type": "videorectangle", "value": {"framesCount": 60, "duration": 6.0, "labels": ["alice"],
                                                        "sequence": [key(1, alice_box), key(31, alice_box, False)]}},
        {"id": "b", "type": "videorectangle", "value": {"framesCount": 60, "duration": 6.0, "labels": ["bob"],
                                                        "sequence": [key(1, bob_box)]}}]}]}]
    path = tmp_path / "export.json"
    path.write_text(json.dumps(export))
    data = load_labelled_faces(store, path)
    got = labels_of(data)
    assert got[(0.0, 0)] == ("alice", "box") and got[(0.0, 1)] == ("bob", "box") and got[(0.0, 2)] == (UNKNOWN, "leftover")
    assert got[(4.0, 0)] == (UNKNOWN, "leftover") and got[(4.0, 1)] == ("bob", "box")
    v = data.videos["v.mp4"]
    assert v.actors_at[3] == ("alice", "bob") and v.actors_at[4] == ("bob",)
    assert v.missed == 7  # no face for alice at 1, 2, 3 s, nor for bob at 1, 2, 3, 5 s


#: A CVAT for video 1.1 task of v.mp4 (640x360, frames 0-49) labelling alice and bob, before its tracks.
CVAT_META = """<?xml version="1.0" encoding="utf-8"?>
<annotations><version>1.1</version>
<meta><task><id>1</id><size>50</size><mode>interpolation</mode><start_frame>0</start_frame><stop_frame>49</stop_frame>
<labels><label><name>alice</name></label><label><name>bob</name></label></labels>
<original_size><width>640</width><height>360</height></original_size></task><source>v.mp4</source></meta>
"""


def test_cvat_boxes_name_the_faces_they_overlap(tmp_path):
    """CVAT for video 1.1, 10 fps: alice's box from frame 0 until frame 20 (outside there), bob's throughout."""
    faces = [Face(0, ALICE, 0, (0.1, 0.1, 0.2, 0.3)), Face(0, BOB, 1, (0.6, 0.1, 0.2, 0.3)),
             Face(3, ALICE, 0, (0.1, 0.1, 0.2, 0.3))]
    store = hand_store(face_table("v.mp4", 5, faces), fps=10.0)
    xml = CVAT_META + """<track id="0" label="alice" source="manual">
<box frame="0" outside="0" occluded="0" keyframe="1" xtl="64" ytl="36" xbr="192" ybr="144" z_order="0"/>
<box frame="20" outside="1" occluded="0" keyframe="1" xtl="64" ytl="36" xbr="192" ybr="144" z_order="0"/></track>
<track id="1" label="bob" source="manual">
<box frame="0" outside="0" occluded="0" keyframe="1" xtl="384" ytl="36" xbr="512" ybr="144" z_order="0"/></track>
</annotations>"""
    path = tmp_path / "cvat.xml"
    path.write_text(xml)
    got = labels_of(load_labelled_faces(store, path))
    assert got[(0.0, 0)] == ("alice", "box") and got[(0.0, 1)] == ("bob", "box")
    assert got[(3.0, 0)] == (UNKNOWN, "leftover")  # alice's box is outside from 2 s


def test_track_names_label_their_tracks_and_the_samples_they_fully_name(tmp_path):
    faces = [Face(0, ALICE, 0), Face(1, ALICE, 0), Face(1, EXTRA, 1), Face(2, BOB, 2), Face(3, BOB, 3)]
    store = hand_store(face_table("v.mp4", 4, faces))
    names = write_csv(tmp_path / "names.csv", "video,track,label", ["v.mp4,0,alice", "v.mp4,1,unknown", "v.mp4,3,bob"])
    data = load_labelled_faces(store, names)
    got = labels_of(data)
    assert got[(1.0, 0)] == ("alice", "named") and got[(1.0, 1)] == (UNKNOWN, "named") and got[(2.0, 0)] == ("", "")
    v = data.videos["v.mp4"]
    assert v.labelled.tolist() == [True, True, False, True]
    assert v.actors_at[1] == ("alice",)


def test_a_track_number_the_video_does_not_hold_is_refused_naming_where_track_numbers_come_from(tmp_path):
    """clusters.members.csv numbers tracks across videos (61-77 for a third video), the store per video (0-16): a user
    who copies its track column into video,track,label must be told, not have the row label nothing in silence."""
    faces = [Face(0, ALICE, 0), Face(1, ALICE, 0), Face(1, EXTRA, 1), Face(2, BOB, 2), Face(3, BOB, 3)]
    store = hand_store(face_table("v.mp4", 4, faces))
    names = write_csv(tmp_path / "names.csv", "video,track,label", ["v.mp4,0,alice", "v.mp4,61,bob"])
    with pytest.raises(LabelsInvalid, match=r"names.csv line 3: 'v.mp4' has no stored track 61 \(its tracks: 0-3\).*"
                                            r"clusters.members.csv"):
        load_labelled_faces(store, names)


def test_two_files_that_disagree_on_a_face_are_refused(tmp_path):
    store = hand_store(face_table("v.mp4", 2, [Face(0, ALICE, 0), Face(1, BOB, 1)]))
    a = write_csv(tmp_path / "a.csv", "video,track,label", ["v.mp4,0,alice", "v.mp4,1,bob"])
    b = write_csv(tmp_path / "b.csv", "video,track,label", ["v.mp4,0,bob", "v.mp4,1,alice"])
    with pytest.raises(LabelsInvalid, match="disagree on the face at 0 s"):
        load_labelled_faces(store, [a, b])


def test_iou_of_boxes():
    a = np.array([[0, 0, 2, 2]])
    assert iou(a, np.array([[1, 1, 2, 2], [0, 0, 2, 2], [5, 5, 1, 1]]))[0].tolist() == pytest.approx([1 / 7, 1.0, 0.0])


def test_a_utf16_labels_file_with_a_bom_names_the_faces_as_its_utf8_copy(tmp_path):
    """Face labels files are read as frames' are (`classifiers.data.labels.read_labels_text`): UTF-16 with a BOM too."""
    import codecs

    faces = [Face(0, ALICE, 0), Face(1, ALICE, 0), Face(1, EXTRA, 1), Face(2, BOB, 2), Face(3, BOB, 3)]
    store = hand_store(face_table("v.mp4", 4, faces))
    utf8 = write_csv(tmp_path / "names.csv", "video,track,label", ["v.mp4,0,alice", "v.mp4,1,unknown", "v.mp4,3,bob"])
    utf16 = tmp_path / "names16.csv"
    utf16.write_bytes(codecs.BOM_UTF16_LE + utf8.read_text(encoding="utf-8").encode("utf-16-le"))
    assert labels_of(load_labelled_faces(store, utf16)) == labels_of(load_labelled_faces(store, utf8))


def test_track_names_read_as_frames_labels_are_semicolons_and_an_unreadable_record_in_one_line(tmp_path):
    """A track-names file goes through the one CSV record reader (`classifiers.data.csv_records`): a spreadsheet's
    ';' file names the same faces, and a record csv cannot read (a cell over its 128 KiB limit) is one line naming
    the file and the line."""
    faces = [Face(0, ALICE, 0), Face(1, ALICE, 0), Face(2, BOB, 2), Face(3, BOB, 3)]
    store = hand_store(face_table("v.mp4", 4, faces))
    commas = write_csv(tmp_path / "names.csv", "video,track,label", ["v.mp4,0,alice", "v.mp4,2,bob"])
    semis = write_csv(tmp_path / "names_semi.csv", "video;track;label", ["v.mp4;0;alice", "v.mp4;2;bob"])
    assert labels_of(load_labelled_faces(store, semis)) == labels_of(load_labelled_faces(store, commas))
    broken = write_csv(tmp_path / "broken.csv", "video,track,label", ["v.mp4,0,alice", 'v.mp4,2,"' + "b" * 140_000 + '"'])
    with pytest.raises(LabelsInvalid, match=r"broken.csv line 3: not a readable CSV record") as err:
        load_labelled_faces(store, broken)
    assert "\n" not in str(err.value)


def test_a_face_labels_file_over_the_size_limit_is_refused_as_a_frame_one_is(tmp_path, monkeypatch):
    from classifiers.data import labels as labels_module

    monkeypatch.setattr(labels_module, "MAX_FILE_BYTES", 1000)
    store = hand_store(face_table("v.mp4", 4, [Face(0, ALICE, 0), Face(3, BOB, 3)]))
    names = write_csv(tmp_path / "names.csv", "video,track,label", ["v.mp4,0,alice", "v.mp4,3,bob"] * 60)
    with pytest.raises(LabelsInvalid, match=r"names.csv is 0 MiB, more than a labels file can be") as faces:
        load_labelled_faces(store, names)
    with pytest.raises(LabelsInvalid) as frames:
        labels_module.parse_labels(names)
    assert str(faces.value) == str(frames.value) and "\n" not in str(faces.value)


def test_cvat_boxes_label_only_the_task_frames_of_a_task_that_starts_later(tmp_path):
    """A CVAT task over frames 20-49 of a 10 fps video (its start_frame 20) says nothing about 0-2 s: the faces there
    get no label and those samples are not labelled (before, every sample from 0 s was read as annotated, so the
    actors' faces before the task were trained as unknown people)."""
    faces = [Face(0, ALICE, 0, (0.1, 0.1, 0.2, 0.3)), Face(1, BOB, 1, (0.6, 0.1, 0.2, 0.3)),
             Face(3, ALICE, 2, (0.1, 0.1, 0.2, 0.3)), Face(4, BOB, 3, (0.6, 0.1, 0.2, 0.3))]
    store = hand_store(face_table("v.mp4", 5, faces), fps=10.0)
    xml = """<?xml version="1.0" encoding="utf-8"?>
<annotations><version>1.1</version>
<meta><task><id>1</id><size>30</size><mode>interpolation</mode><start_frame>20</start_frame><stop_frame>49</stop_frame>
<labels><label><name>alice</name></label></labels>
<original_size><width>640</width><height>360</height></original_size></task><source>v.mp4</source></meta>
<track id="0" label="alice" source="manual">
<box frame="20" outside="0" occluded="0" keyframe="1" xtl="64" ytl="36" xbr="192" ybr="144" z_order="0"/></track>
</annotations>"""
    path = tmp_path / "cvat.xml"
    path.write_text(xml)
    data = load_labelled_faces(store, path)
    got = labels_of(data)
    assert got[(0.0, 0)] == ("", "") and got[(1.0, 0)] == ("", "")
    assert got[(3.0, 0)] == ("alice", "box") and got[(4.0, 0)] == (UNKNOWN, "leftover")
    assert data.videos["v.mp4"].labelled.tolist() == [False, False, True, True, True]


def test_faces_named_unknown_are_counted_as_unknown_people_in_the_summary(tmp_path):
    """compare-models --faces printed '0 unknown people' after training on clusters (or tracks) named unknown: the count
    added only the faces left over and those of the none label."""
    from types import SimpleNamespace

    from classifiers.output.face_console import face_label_lines

    faces = [Face(0, ALICE, 0), Face(1, ALICE, 0), Face(1, EXTRA, 1), Face(2, EXTRA, 1), Face(3, BOB, 3)]
    store = hand_store(face_table("v.mp4", 4, faces))
    names = write_csv(tmp_path / "names.csv", "video,track,label", ["v.mp4,0,alice", "v.mp4,1,unknown", "v.mp4,3,bob"])
    data = load_labelled_faces(store, names)
    assert data.counts["unknown"] == 2
    line = face_label_lines(SimpleNamespace(label_counts=data.counts, min_quality=0.0))[0]
    assert "5 by track names, 0 by named clusters; 2 of them unknown people (0 left over, 0 where no actor is labelled, 2 named unknown)" in line


def _ls_task(task_id, video, box_label_frames, frames_count, duration_s, fps=None):
    """A Label Studio task of VideoRectangle + Labels: per (label, box, first frame, last frame), one region shown
    from its first keyframe to its last (disabled: the box ends there), as the editor exports it."""
    results = []
    for k, (label, box, first, last) in enumerate(box_label_frames):
        seq = [{"frame": f, "enabled": f != last, "rotation": 0, "time": f / (fps or 24),
                **{c: 100 * v for c, v in zip(("x", "y", "width", "height"), box)}} for f in (first, last)]
        results.append({"id": f"r{task_id}{k}", "from_name": "label", "to_name": "video", "type": "videorectangle",
                        "origin": "manual", "value": {"framesCount": frames_count, "duration": duration_s,
                                                      "sequence": seq, "labels": [label]}})
    data = {"video": f"/data/upload/1/0a1b2c3d-{video}", **({"fps": fps} if fps else {})}
    return {"id": task_id, "data": data, "annotations": [{"id": task_id, "result": results, "was_cancelled": False}]}


def test_label_studio_boxes_numbered_at_its_default_24_fps_are_read_at_24_with_a_warning(tmp_path):
    """A project whose <Video> has no frameRate numbers a 25 fps video's frames at 24 (framesCount 240 for its 10 s)
    and the task has no fps: the boxes were read at the store's 25, drifting 0.4 s by the 10th second, so alice's
    box (frames 193-216 at 24 fps: 8-9 s) missed her face at 8 s, which became an unknown person."""
    faces = [Face(t, ALICE, 0, (0.1, 0.1, 0.2, 0.3)) for t in range(10)] + [Face(9, EXTRA, 1, (0.6, 0.1, 0.2, 0.3))]
    store = hand_store(face_table("v.mp4", 10, faces), fps=25.0)
    export = [_ls_task(1, "v.mp4", [("alice", (0.1, 0.1, 0.2, 0.3), 193, 216)], 240, 10.0)]
    path = tmp_path / "export.json"
    path.write_text(json.dumps(export))
    with pytest.warns(Warning, match=r"counted 240 frames in 10 s \(24 frames/s\), not the 25 of the stored video"):
        data = load_labelled_faces(store, path)
    got = labels_of(data)
    assert got[(8.0, 0)] == ("alice", "box") and got[(7.0, 0)] == (UNKNOWN, "leftover")
    assert got[(9.0, 0)] == (UNKNOWN, "leftover")


def test_label_studio_boxes_of_two_tasks_are_each_read_at_their_own_fps(tmp_path):
    """Two tasks, a 10 fps video and a 20 fps one: each task's boxes at its own rate (before, every box was read at
    the last task's rate, the variable a closure held)."""
    a = [Face(t, ALICE, 0, (0.1, 0.1, 0.2, 0.3)) for t in range(4)] + [Face(3, EXTRA, 1, (0.6, 0.1, 0.2, 0.3))]
    b = [Face(t, BOB, 0, (0.1, 0.1, 0.2, 0.3)) for t in range(4)]
    store = hand_store(face_table("a.mp4", 4, a), face_table("b.mp4", 4, b), fps=10.0)
    store.videos["b.mp4"].info["fps"] = 20.0
    box = (0.1, 0.1, 0.2, 0.3)
    export = [_ls_task(1, "a.mp4", [("alice", box, 21, 30)], 40, 4.0, fps=10),  # 2-3 s at 10 fps
              _ls_task(2, "b.mp4", [("bob", box, 1, 80)], 80, 4.0, fps=20)]
    path = tmp_path / "export.json"
    path.write_text(json.dumps(export))
    got = labels_of(load_labelled_faces(store, path), "a.mp4")
    assert got[(2.0, 0)] == ("alice", "box") and got[(1.0, 0)] == (UNKNOWN, "leftover")


def test_a_label_studio_box_task_whose_fps_is_no_number_is_refused_in_one_line(tmp_path):
    store = hand_store(face_table("v.mp4", 2, [Face(0, ALICE, 0), Face(1, BOB, 1)]))
    task = _ls_task(4, "v.mp4", [("alice", (0.1, 0.1, 0.2, 0.3), 1, 10)], 50, 2.0)
    task["data"]["fps"] = "twenty-five"
    path = tmp_path / "export.json"
    path.write_text(json.dumps([task]))
    with pytest.raises(LabelsInvalid, match="export.json task 4: fps"):  # was a ValueError from float()
        load_labelled_faces(store, path)


def test_label_studio_boxes_come_from_the_latest_annotation_by_time_then_by_id_as_a_number(tmp_path):
    """Two annotations of one task: 10 (alice's box) after 9 (bob's) at the same second, and a reviewer's 12 written
    with a fraction of a second after 11's whole second. The box reader compared ids and times as text ('9' > '10';
    '...:00Z' > '...:00.5Z') and took the older annotation, as the timeline reader does not."""
    store = hand_store(face_table("v.mp4", 2, [Face(0, ALICE, 0, (0.1, 0.1, 0.2, 0.3)),
                                               Face(1, BOB, 1, (0.6, 0.1, 0.2, 0.3))]), fps=10.0)

    def annotation(ann_id, label, at):
        task = _ls_task(1, "v.mp4", [(label, (0.1, 0.1, 0.2, 0.3), 1, 20)], 20, 2.0, fps=10)
        return {**task["annotations"][0], "id": ann_id, "updated_at": at}

    for newer, older in (((10, "alice", "2026-12-06T10:00:00Z"), (9, "bob", "2026-12-06T10:00:00Z")),
                         ((12, "alice", "2026-12-06T10:00:00.500Z"), (11, "bob", "2026-12-06T10:00:00Z"))):
        task = _ls_task(1, "v.mp4", [], 20, 2.0, fps=10)
        task["annotations"] = [annotation(*older), annotation(*newer)]
        path = tmp_path / "export.json"
        path.write_text(json.dumps([task]))
        got = labels_of(load_labelled_faces(store, path))
        assert got[(0.0, 0)] == ("alice", "box"), newer


CVAT_HEAD = CVAT_META + """<track id="0" label="alice" source="manual">
<box frame="0" outside="0" occluded="0" keyframe="1" xtl="64" ytl="36" xbr="192" ybr="144" z_order="0"/></track>
"""


def test_cvat_ellipses_beside_boxes_name_the_faces_they_frame(tmp_path):
    """A face drawn as an ellipse (CVAT's tool for round things) in a file with boxes: its track was skipped in
    silence, so bob's face became an unknown person and bob was never on screen; now its bounding box names it."""
    faces = [Face(0, ALICE, 0, (0.1, 0.1, 0.2, 0.3)), Face(0, BOB, 1, (0.6, 0.1, 0.2, 0.3))]
    store = hand_store(face_table("v.mp4", 5, faces), fps=10.0)
    path = tmp_path / "cvat.xml"
    path.write_text(CVAT_HEAD + """<track id="1" label="bob" source="manual">
<ellipse frame="0" outside="0" occluded="0" keyframe="1" cx="448" cy="90" rx="64" ry="54" z_order="0"/></track>
</annotations>""")
    data = load_labelled_faces(store, path)
    got = labels_of(data)
    assert got[(0.0, 0)] == ("alice", "box") and got[(0.0, 1)] == ("bob", "box")
    assert data.videos["v.mp4"].actors_at[0] == ("alice", "bob")


def test_a_cvat_track_of_points_in_a_box_file_is_refused_in_one_line(tmp_path):
    store = hand_store(face_table("v.mp4", 5, [Face(0, ALICE, 0, (0.1, 0.1, 0.2, 0.3)), Face(1, BOB, 1)]), fps=10.0)
    path = tmp_path / "cvat.xml"
    path.write_text(CVAT_HEAD + """<track id="1" label="bob" source="manual">
<points frame="0" outside="0" occluded="0" keyframe="1" points="448.0,90.0" z_order="0"/></track>
</annotations>""")
    with pytest.raises(LabelsInvalid, match=r"cvat.xml track 1 \(bob\): its <points> shapes give no box"):
        load_labelled_faces(store, path)


def test_track_names_read_cells_as_suggest_labels_writes_them_and_unknown_in_any_case(tmp_path):
    """tracks.csv of suggest-labels writes a video id a spreadsheet would run with a leading quote ('-take.mp4), and
    a person types Unknown: the video was not found, and 'Unknown' became an actor of the cast (clusters.csv reads any
    case of unknown as unknown). Names written two ways, or with a control character, are refused in one line."""
    faces = [Face(0, ALICE, 0), Face(1, ALICE, 0), Face(1, EXTRA, 1), Face(2, BOB, 2)]
    store = hand_store(face_table("-take.mp4", 3, faces))
    names = write_csv(tmp_path / "tracks.csv", "video,track,label,start_s,end_s,guess",
                      ["'-take.mp4,0,alice,0,2,alice", "'-take.mp4,1,Unknown,1,2,unknown", "'-take.mp4,2,bob,2,3,bob"])
    data = load_labelled_faces(store, names)
    assert data.actors == ["alice", "bob"]
    assert labels_of(data, "-take.mp4")[(1.0, 1)] == (UNKNOWN, "named")
    for rows, said in ((["'-take.mp4,0,alice", "'-take.mp4,2,Alice"], "written 2 ways"),
                       (["'-take.mp4,0,al\x07ice", "'-take.mp4,2,bob"], "tracks.csv line 2: .*control character")):
        bad = write_csv(tmp_path / "tracks.csv", "video,track,label", rows)
        with pytest.raises(LabelsInvalid, match=said):
            load_labelled_faces(store, bad)


def test_face_only_label_files_given_to_a_frame_command_say_to_add_faces(tmp_path):
    """compare-models without --faces: a track-names CSV was refused for lacking start,end and a Label Studio export of
    boxes for having no TimelineLabels ('label the timeline'), as clusters.csv of faces says instead: use --faces."""
    from classifiers.data.labels import parse_labels

    names = write_csv(tmp_path / "tracks.csv", "video,track,label,start_s,end_s,guess", ["v.mp4,0,alice,0,2,alice"])
    with pytest.raises(LabelsInvalid, match=r"tracks.csv names stored face tracks .*use it with --faces"):
        parse_labels(names)
    boxes = tmp_path / "boxes.json"
    boxes.write_text(json.dumps([_ls_task(1, "v.mp4", [("alice", (0.1, 0.1, 0.2, 0.3), 1, 10)], 20, 2.0, fps=10)]))
    with pytest.raises(LabelsInvalid, match=r"boxes.json has no timelinelabels result but 1 videorectangle boxes, .*--faces"):
        parse_labels(boxes)


def test_a_tracks_csv_not_named_yet_is_refused_listing_its_empty_rows(tmp_path):
    """suggest-labels' tracks.csv passed before its label column is filled: every empty row in one line, with what to
    do (it said 'needs a video, a track number (>= 0) and a label' for the first row only)."""
    store = hand_store(face_table("v.mp4", 3, [Face(0, ALICE, 0), Face(1, EXTRA, 1), Face(2, BOB, 2)]))
    names = write_csv(tmp_path / "tracks.csv", "video,track,label,start_s,end_s,guess",
                      ["v.mp4,0,,0,1,alice", "v.mp4,1,alice,1,2,unknown", "v.mp4,2,,2,3,bob"])
    with pytest.raises(LabelsInvalid, match=r"tracks.csv lines 2, 4: label is empty; name each track .* or delete"):
        load_labelled_faces(store, names)


def test_one_actor_spelt_two_ways_in_two_files_is_refused(tmp_path):
    """clusters.csv says obama, a tracks.csv named later says Obama: they became two actors of the cast, each with
    part of his faces (and his screen time split between them)."""
    store = hand_store(face_table("v.mp4", 3, [Face(0, ALICE, 0), Face(1, EXTRA, 1), Face(2, ALICE, 2)]))
    a = write_csv(tmp_path / "a.csv", "video,track,label", ["v.mp4,0,alice", "v.mp4,1,unknown"])
    b = write_csv(tmp_path / "b.csv", "video,track,label", ["v.mp4,2,Alice"])
    with pytest.raises(LabelsInvalid, match=r"a.csv and b.csv: actor 'Alice' and 'alice' are one name written 2 ways"):
        load_labelled_faces(store, [a, b])


def test_face_labels_apply_at_the_time_of_the_frame_the_face_was_found_in(tmp_path):
    """At 29.97 fps the sample at 5 s shows the frame presented at 4.972 s -- before a cut at 5 s, whose label a
    user types as 5. Frame labels apply to the grid (docs/labels.md); a face belongs to its frame, so face labels
    apply at that frame's time: alice [0, 5), bob [5, 11) name the sample at 5 s's face alice's, as it is. By the grid
    it was named bob's, and the track rule broke on the boundary sample (real slideshows: CV face accuracy 0.79)."""
    import dataclasses

    fps = 30000 / 1001
    shown = np.floor(np.arange(12) * fps + 1e-9) / fps  # each sample's frame: the last one presented by k s
    faces = [Face(k, near(ALICE if shown[k] < 5.0 else BOB, k), 0 if shown[k] < 5.0 else 1) for k in range(12)]
    table = face_table("v.mp4", 12, faces)
    table = dataclasses.replace(table, sample_times_s=shown, time_s=shown[np.asarray(table.time_s, int)])
    labels = write_csv(tmp_path / "l.csv", "video,start,end,label", ["v.mp4,0,5,alice", "v.mp4,5,11,bob"])
    data = load_labelled_faces(hand_store(table, fps=fps), labels)
    named = dict(zip(np.round(data.time_s, 3).tolist(), data.y.tolist()))
    assert [named.get(round(float(t), 3)) for t in shown] == ["alice"] * 6 + ["bob"] * 6


def test_labels_read_each_videos_info_and_faces_once(tmp_path):
    """A season of labels looks a video's grid up per labelled sample: the store is asked once per video, not per
    sample (each `info` of a real store opens its shard)."""
    from cartoons.synthetic_faces import FaceWorld, SyntheticFaceStore, make_face_videos, write_interval_labels

    videos = make_face_videos(FaceWorld.make(seed=4), 3, seed=4, duration_s=60.0)
    calls = {"info": 0, "faces": 0}

    class Counting(SyntheticFaceStore):
        def info(self, video_id):
            calls["info"] += 1
            return super().info(video_id)

        def faces(self, video_id):
            calls["faces"] += 1
            return super().faces(video_id)

    data = load_labelled_faces(Counting(videos), [write_interval_labels(tmp_path / "l.csv", videos)])
    assert data.counts["labelled_samples"] > 100
    assert calls == {"info": 3, "faces": 3}
