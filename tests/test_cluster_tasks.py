"""`cluster --label-studio` (issue 25): a Label Studio task per cluster (its thumbnails as one grid image, a name to
pick or type), exported back as labels: exactly the per-face labels (or intervals) the same names in clusters.csv
give; the export read strictly. The faces are test_clusters' composed ones: every label is known."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ElementTree

import numpy as np
import pytest

from conftest import run_cli
from face_helpers import face_table
from test_clusters import _people_of_clusters, composed_tables, real_store, store_with_sources

from classifiers.cluster import cluster_store
from classifiers.data.face_dataset import label_store_faces
from classifiers.data.join import StoreGrids, join_labels
from classifiers.data.labels import parse_labels
from featurestore.errors import LabelsInvalid
from featurestore.store.store import FeatureStore


@pytest.fixture()
def tasks(tmp_path):
    """The composed videos (sources found: thumbnails), clustered with --label-studio tasks.json."""
    tables, store = store_with_sources(tmp_path)
    cluster_store(tmp_path / "f.h5", tmp_path / "clusters.csv", faces=True, label_studio_path=tmp_path / "tasks.json")
    return tmp_path, tables, store, json.loads((tmp_path / "tasks.json").read_text())


def annotated(task: dict, choice: str | None = None, text: str | None = None, **annotation) -> dict:
    """The task as Label Studio exports it once named: a choice and/or a typed name."""
    result = []
    if choice is not None:
        result.append({"id": "c", "from_name": "name", "to_name": "grid", "type": "choices",
                       "value": {"choices": [choice]}})
    if text is not None:
        result.append({"id": "t", "from_name": "new_name", "to_name": "grid", "type": "textarea",
                       "value": {"text": [text]}})
    return {**task, "id": int(task["data"]["cluster"]) if task["data"]["cluster"].isdigit() else 99,
            "annotations": [{"id": 1, "result": result, "was_cancelled": False, **annotation}]}


def named_export(tmp_path, tasks, plan: dict) -> tuple:
    """Export tasks.json named by `plan` (frozenset of people -> (choice, text)); clusters.csv named the same way
    (the name an export gives: the text, else the choice). Returns (export path, clusters.csv path)."""
    found = _people_of_clusters(tmp_path, composed_tables())
    exported, rows = [], ["cluster,name"]
    for task in tasks:
        people = frozenset(found[task["data"]["cluster"]])
        choice, text = plan.get(people, (None, None))
        exported.append(annotated(task, choice, text) if (choice, text) != (None, None) else task)
        rows.append(f"{task['data']['cluster']},{text or choice or ''}")
    (tmp_path / "export.json").write_text(json.dumps(exported))
    (tmp_path / "clusters.csv").write_text("\n".join(rows) + "\n")
    return tmp_path / "export.json", tmp_path / "clusters.csv"


PLAN = {frozenset({"alice"}): ("alice", None), frozenset({"profile"}): (None, "alice"),  # merged by name
        frozenset({"bob"}): ("unknown", "bob"),  # the typed name wins
        frozenset({"carol", "dave"}): ("carol", ""), frozenset({"twin"}): ("unknown", None),  # not in the cast
        frozenset({"eve"}): (None, "")}  # submitted empty: left out; twin2: never annotated, left out


def test_tasks_named_in_label_studio_give_the_face_labels_of_clusters_csv(tasks):
    tmp_path, tables, store, written = tasks
    assert [t["data"]["cluster"] for t in written] == ["1", "2", "3", "4", "5", "6", "blurred"]
    assert all(t["data"]["mode"] == "faces" and t["data"]["image"].startswith("/data/local-files/?d=")
               for t in written)
    members = sum(len(t["data"]["members"]) for t in written)
    assert members == len((tmp_path / "clusters.members.csv").read_text().splitlines()) - 1
    export, csv_path = named_export(tmp_path, written, PLAN)
    from_export, actors_export = label_store_faces(store, [export])
    from_csv, actors_csv = label_store_faces(store, [csv_path])
    assert actors_export == actors_csv == ["alice", "bob", "carol"]
    assert sorted(from_export) == sorted(from_csv)
    for video_id, v in from_csv.items():
        w = from_export[video_id]
        assert w.label.tolist() == v.label.tolist() and w.labelled.tolist() == v.labelled.tolist()
        assert w.actors_at == v.actors_at
    given = {x for v in from_csv.values() for x in v.label.tolist()}
    assert given == {"alice", "bob", "carol", "unknown", ""}  # the plan's unknown and left-out faces are there
    a = from_export["a.mp4"]
    assert a.label[:12:2].tolist() == ["alice"] * 6  # alice's front and profile: one name
    # a frame command is told to add --faces
    with pytest.raises(LabelsInvalid, match="export.json names clusters of faces.*--faces"):
        parse_labels(export)


def test_tasks_carry_grids_predictions_and_a_config_label_studio_reads(tmp_path, capsys):
    import cv2

    tables, _ = store_with_sources(tmp_path)
    (tmp_path / "known.csv").write_text("video,track,label\na.mp4,0,alice\na.mp4,1,bob\n")
    code, out, err = run_cli(["cluster", "--faces", "--store", tmp_path / "f.h5", "-l", tmp_path / "known.csv",
                              "-o", tmp_path / "c.csv", "--label-studio", tmp_path / "t.json",
                              "--url-prefix", "https://media.example.org/grids/"], capsys)
    assert code == 0, err
    assert "wrote" in out and "t.config.xml" in out and "or in Label Studio" in out
    tasks = json.loads((tmp_path / "t.json").read_text())
    suggested = [t for t in tasks if t["data"]["suggested"]]
    assert sorted(t["data"]["suggested"] for t in suggested) == ["alice", "bob"]
    for t in suggested:
        (prediction,) = t["predictions"]
        assert prediction["result"][0]["value"] == {"choices": [t["data"]["suggested"]]}
        assert 0 < prediction["score"] <= 1
    assert all("predictions" not in t for t in tasks if not t["data"]["suggested"])
    config = ElementTree.fromstring((tmp_path / "t.config.xml").read_text())
    assert [c.get("value") for c in config.iter("Choice")] == ["alice", "bob", "unknown"]
    assert config.find("Image").get("value") == "$image" and config.find("TextArea").get("name") == "new_name"
    for t in tasks:
        assert t["data"]["image"] == f"https://media.example.org/grids/cluster-{t['data']['cluster']}.jpg"
        grid = cv2.imread(str(tmp_path / "t.images" / f"cluster-{t['data']['cluster']}.jpg"))
        shown = min(4, len({m[-1] for m in t["data"]["members"]}))  # a thumbnail per track, 4 to a row
        assert grid is not None and grid.shape[1] == 96 * shown
    code, _, err = run_cli(["cluster", "--faces", "--store", tmp_path / "f.h5", "-o", tmp_path / "d.csv",
                            "--label-studio", tmp_path / "known.csv"], capsys)
    assert code == 2 and ".json" in err


def test_shot_tasks_read_back_as_the_intervals_of_clusters_csv(tmp_path):
    rng = np.random.default_rng(0)
    scene = {"x": np.abs(rng.normal(size=4)), "y": np.abs(rng.normal(size=4))}
    feats = [np.array([scene[s] + rng.normal(0, 0.01, 4) for s in script], np.float32)
             for script in ("xxxxyyyyxxxx", "yyyxxx")]
    real_store(tmp_path / "f.h5", [face_table("one.mp4", 12, [], cuts_s=[4.0, 8.0]), face_table("two.mp4", 6, [], cuts_s=[3.0])],
               features=feats)
    cluster_store(tmp_path / "f.h5", tmp_path / "scenes.csv", label_studio_path=tmp_path / "scenes.json", thumbnails=False)
    tasks = json.loads((tmp_path / "scenes.json").read_text())
    assert {t["data"]["mode"] for t in tasks} == {"frames"} and len(tasks) == 2
    config = ElementTree.fromstring((tmp_path / "scenes.config.xml").read_text())
    assert config.find("Choices") is None and config.find("TextArea") is not None  # no names known yet
    exported = [annotated(tasks[0], text="kitchen"), annotated(tasks[1], text="garden")]
    (tmp_path / "export.json").write_text(json.dumps(exported))
    (tmp_path / "scenes.csv").write_text(f"cluster,name\n{tasks[0]['data']['cluster']},kitchen\n"
                                         f"{tasks[1]['data']['cluster']},garden\n")
    grids = StoreGrids(FeatureStore(tmp_path / "f.h5"))
    a = join_labels(parse_labels(tmp_path / "export.json"), grids)
    b = join_labels(parse_labels(tmp_path / "scenes.csv"), grids)
    assert a[["video_id", "row", "label"]].values.tolist() == b[["video_id", "row", "label"]].values.tolist()
    assert len(a) == 18


@pytest.mark.parametrize("change, message", [
    (lambda t: t[0]["data"].update(members=5), "task 1: members 5 is not a list of rows"),
    (lambda t: t[0]["data"]["members"][1].pop(), "task 1, member 2: .* is not a row \\[video, time_s"),
    (lambda t: t[0]["data"]["members"][0].__setitem__(1, "0.5"), "task 1, member 1: time_s '0.5' is not a number"),
    (lambda t: t[0]["data"]["members"][0].__setitem__(6, 1.5), "task 1, member 1: track 1.5 is not a whole number"),
    (lambda t: t[1]["data"].update(mode="frames"), "task 2: mode 'frames' is not 'faces' as in the tasks before it"),
    (lambda t: t[0]["annotations"][0]["result"][0]["value"].update(choices="alice"),
     "task 1, annotation 1, result 1: value.choices 'alice' is not a list of names"),
    (lambda t: t[0]["annotations"][0]["result"][0]["value"].update(choices=["alice", "bob"]),
     "task 1, annotation 1: 2 names .* for one cluster"),
    (lambda t: t[0]["annotations"][0].update(result=7), "task 1, annotation 1: \"result\" is 7"),
    (lambda t: t[1]["annotations"][0]["result"][0]["value"].update(choices=["Alice"]),
     ": names 'Alice' and 'alice' differ only in case"),
    (lambda t: t[1]["annotations"][0]["result"][0]["value"].update(choices=["bo\nb"]),
     "task 2, annotation 1, result 1: name 'bo\\\\nb' holds the control character"),
    (lambda t: t.append({**t[0], "id": 7, "data": {**t[0]["data"], "members": t[1]["data"]["members"]}}),
     "tasks 1 and 7 both hold cluster 1, with other members"),
    (lambda t: t.append({**t[0], "id": 7, "annotations": [{"result": [{"from_name": "new_name", "type": "textarea",
                                                                      "value": {"text": ["zed"]}}]}]}),
     "tasks 1 and 7 name cluster 1 twice"),
    (lambda t: t.append({"data": {"video": "x.mp4"}}), "task #3: not a task of `cluster --label-studio`"),
])
def test_a_wrong_export_is_refused_in_one_line_naming_the_place(tasks, change, message, capsys):
    tmp_path, _, store, written = tasks
    exported = [annotated(written[0], "alice"), annotated(written[1], "bob")]
    change(exported)
    (tmp_path / "export.json").write_text(json.dumps(exported))
    with pytest.raises(LabelsInvalid, match=f"^export.json {message}" if message[0] != ":" else f"^export.json{message}"):
        label_store_faces(store, [tmp_path / "export.json"])
    code, _, err = run_cli(["compare-models", "--faces", "--store", tmp_path / "f.h5", "-l", tmp_path / "export.json",
                            "--out", tmp_path / "m.skops"], capsys)
    assert code == 1 and err.count("\n") == 1 and err.startswith("error: ") and "Traceback" not in err


def test_a_task_imported_twice_is_one_cluster_and_unnamed_tasks_leave_clusters_out(tasks):
    tmp_path, _, store, written = tasks
    twice = [annotated(written[0], "alice"), {**written[0], "id": 9}, annotated(written[1], text="bob"), *written[2:]]
    (tmp_path / "export.json").write_text(json.dumps(twice))
    videos, actors = label_store_faces(store, [tmp_path / "export.json"])
    assert actors == sorted({"alice", "bob"})
    assert sum(int((v.label != "").sum()) for v in videos.values()) == sum(
        len(t["data"]["members"]) for t in written[:2])
    (tmp_path / "export.json").write_text(json.dumps(written))  # imported, never named
    with pytest.raises(LabelsInvalid, match="export.json names no cluster; name clusters in Label Studio"):
        label_store_faces(store, [tmp_path / "export.json"])


def test_naming_the_blurred_task_in_label_studio_warns_as_in_clusters_csv(tasks):
    """The bin's task shows a grid of small, blurred faces that looks like junk; picked `unknown` there, every face
    of it (eve's and an untracked one) is trained as unknown: said as for clusters.csv."""
    from classifiers.data.clusters import read_cluster_names

    tmp_path, _, _, written = tasks
    exported = [annotated(t, "unknown") if t["data"]["cluster"] == "blurred" else t for t in written]
    path = tmp_path / "export.json"
    path.write_text(json.dumps(exported))
    with pytest.warns(Warning, match=r"export.json the blurred task: names the whole blurred bin 'unknown'"):
        read_cluster_names(path, path.read_text())
