"""The Label Studio round trip against a real Label Studio: score -> suggest-labels --label-studio -> label -> export ->
compare-models.

Label Studio (its own virtualenv; `.ci/run` makes one) is named by SCREENTIME_LABEL_STUDIO, the path of its
`label-studio` executable. It is started on 127.0.0.1 at a free port with SQLite and its data in a temp folder, the
user and its API token made by its own `--username/--password/--user-token` options, and stopped at the end whatever
happens. Label Studio's prediction validation is switched on (its feature flag, as an environment variable), so an
import of tasks it finds wrong is refused: a task with an unknown label is, ours are not. The episodes are those of
test_score: each second one character's colour, so the labels a labeller submits are known.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
import warnings
from pathlib import Path

import numpy as np
import pytest

from classifiers.chain.persist import load_model
from classifiers.data.dataset import load_labelled_videos
from conftest import run_cli as run, write_labels
from featurestore import EmbeddingConfig, FeatureStore, embed_videos
from test_score import interval_rows, make_episode

pytestmark = pytest.mark.slow

TOKEN = "screentime0roundtrip0token"
VALIDATE_PREDICTIONS = "fflag_feat_utc_210_prediction_validation_15082025"  # Label Studio's flag: refuse bad predictions
STARTUP_S = 240


def label_studio_executable() -> str:
    path = os.environ.get("SCREENTIME_LABEL_STUDIO")
    if path and (shutil.which(path) or Path(path).is_file()):
        return path
    reason = ("SCREENTIME_LABEL_STUDIO does not name a label-studio executable (python3 -m venv /tmp/ls-venv && "
              "/tmp/ls-venv/bin/pip install label-studio, then SCREENTIME_LABEL_STUDIO=/tmp/ls-venv/bin/label-studio)")
    if os.environ.get("CI"):
        pytest.fail(f"CI must run the Label Studio round trip: {reason}")
    pytest.skip(reason)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class LabelStudio:
    """A Label Studio server of this test: its REST API with the user's token."""

    def __init__(self, url: str):
        self.url = url

    def call(self, method: str, path: str, body=None):
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(self.url + path, data=data, method=method,
                                         headers={"Authorization": f"Token {TOKEN}", "Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=60) as response:
            raw = response.read()
            return json.loads(raw) if raw.strip()[:1] in (b"{", b"[") else raw

    def refuses(self, method: str, path: str, body) -> str:
        """The error Label Studio answers (4xx), or '' if it accepted."""
        try:
            self.call(method, path, body)
        except urllib.error.HTTPError as err:
            return f"{err.code} {err.read().decode(errors='replace')}"
        return ""


@pytest.fixture(scope="module")
def label_studio(tmp_path_factory):
    executable = label_studio_executable()
    data_dir = tmp_path_factory.mktemp("label-studio")
    port = free_port()
    env = {**os.environ, "LABEL_STUDIO_BASE_DATA_DIR": str(data_dir), "LOCAL_FILES_SERVING_ENABLED": "true",
           "LOCAL_FILES_DOCUMENT_ROOT": "/", "LATEST_VERSION_CHECK": "false", VALIDATE_PREDICTIONS: "true",
           "DJANGO_DB": "sqlite"}
    log = (data_dir / "server.log").open("w")
    server = subprocess.Popen([executable, "start", "--no-browser", "--internal-host", "127.0.0.1", "--port", str(port),
                               "--data-dir", str(data_dir), "--username", "labeller@example.org", "--password", "roundtrip1",
                               "--user-token", TOKEN, "--enable-legacy-api-token", "--log-level", "WARNING"],
                              stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, env=env, start_new_session=True)
    try:
        ls = LabelStudio(f"http://127.0.0.1:{port}")
        deadline = time.monotonic() + STARTUP_S
        while True:
            if server.poll() is not None:
                pytest.fail(f"label-studio exited ({server.returncode}): {(data_dir / 'server.log').read_text()[-2000:]}")
            try:
                ls.call("GET", "/api/projects")
                break
            except (urllib.error.URLError, ConnectionError, OSError):
                if time.monotonic() > deadline:
                    pytest.fail(f"label-studio not ready after {STARTUP_S} s: {(data_dir / 'server.log').read_text()[-2000:]}")
                time.sleep(1)
        yield ls
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()
        log.close()


@pytest.fixture(scope="module")
def first_model(tmp_path_factory):
    """Two labelled episodes and two new ones, embedded (random VGG16, 32 px); a logreg model of the labelled two."""
    from classifiers.compare import compare_models

    d = tmp_path_factory.mktemp("roundtrip")
    (d / "videos").mkdir()
    truth = {f"ep{i}.avi": make_episode(d / "videos" / f"ep{i}.avi", seed=40 + i, seconds=20) for i in range(4)}
    rows = interval_rows("ep0.avi", truth["ep0.avi"]) + interval_rows("ep1.avi", truth["ep1.avi"])
    write_labels(d / "labels.csv", rows)
    embed_videos([d / "videos" / name for name in truth], d / "f.h5", config=EmbeddingConfig(weights="random", image_size_px=32))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        compare_models(d / "f.h5", d / "labels.csv", out_path=d / "best.skops", models=["logreg"], n_splits=2, n_jobs=1)
    return d, truth


def labelled_regions(task: dict, truth: dict) -> list[dict]:
    """What a labeller submits for a task: its predicted ranges, each second labelled with the truth (merged runs)."""
    fps = task["data"]["fps"]
    labels = truth[task["data"]["video_id"]]
    frames = sorted({f for r in task["predictions"][0]["result"] for rng in r["value"]["ranges"]
                     for f in range(rng["start"], rng["end"] + 1)})
    runs: list[list] = []
    for f in frames:
        label = labels[int((f - 1) / fps)]  # frame f (from 1) is on screen over [(f - 1) / fps, f / fps)
        if runs and runs[-1][2] == label and runs[-1][1] == f - 1:
            runs[-1][1] = f
        else:
            runs.append([f, f, label])
    return [{"from_name": "characters", "to_name": "video", "type": "timelinelabels",
             "value": {"ranges": [{"start": a, "end": b}], "timelinelabels": [label]}} for a, b, label in runs]


def test_label_studio_round_trip_trains_compare_models(label_studio, first_model, capsys):
    d, truth = first_model
    code, out, err = run(["score", d / "videos" / "ep2.avi", d / "videos" / "ep3.avi", "--model", d / "best.skops",
                          "--store", d / "f.h5", "--label-studio", d / "scored.json"], capsys)
    assert code == 0, err
    scored = label_studio.call("POST", "/api/projects", {"title": "screentime scored",
                                                         "label_config": (d / "scored.config.xml").read_text()})
    imported = label_studio.call("POST", f"/api/projects/{scored['id']}/import", json.loads((d / "scored.json").read_text()))
    assert imported["task_count"] == 2 and imported["prediction_count"] == 2
    tasks_path = d / "tasks.json"
    code, out, err = run(["suggest-labels", "--store", d / "f.h5", "--model", d / "best.skops", "--budget-s", "16",
                          "--labels", d / "labels.csv", "--jobs", "1", "--label-studio", tasks_path, "ep2.avi", "ep3.avi"],
                         capsys)
    assert code == 0, err
    tasks = json.loads(tasks_path.read_text())
    assert tasks and {t["data"]["video_id"] for t in tasks} <= {"ep2.avi", "ep3.avi"}
    config = (d / "tasks.config.xml").read_text()
    project = label_studio.call("POST", "/api/projects", {"title": "screentime round trip", "label_config": config})
    # the videos are served by a Local storage on their folder, at the URLs the tasks give
    label_studio.call("POST", "/api/storages/localfiles", {"project": project["id"], "title": "videos",
                                                           "path": str(d / "videos"), "use_blob_urls": False})
    video = label_studio.call("GET", tasks[0]["data"]["video"])
    assert video == (d / "videos" / tasks[0]["data"]["video_id"]).read_bytes()
    # Label Studio's own validation refuses a prediction it finds wrong, and takes ours
    bad = json.loads(json.dumps(tasks[:1]))
    bad[0]["predictions"][0]["result"][0]["value"]["timelinelabels"] = ["spike"]
    assert "spike" in label_studio.refuses("POST", f"/api/projects/{project['id']}/import", bad)
    imported = label_studio.call("POST", f"/api/projects/{project['id']}/import", tasks)
    assert imported["task_count"] == len(tasks) and imported["prediction_count"] == len(tasks)
    listed = label_studio.call("GET", f"/api/tasks?project={project['id']}&page_size=100")["tasks"]
    for task in listed:  # the labeller corrects each prediction and submits
        (ours,) = [t for t in tasks if t["data"]["video_id"] == task["data"]["video_id"]]
        label_studio.call("POST", f"/api/tasks/{task['id']}/annotations", {"result": labelled_regions(ours, truth)})
    exported = label_studio.call("GET", f"/api/projects/{project['id']}/export?exportType=JSON")
    export_path = d / "export.json"
    export_path.write_bytes(exported if isinstance(exported, bytes) else json.dumps(exported).encode())
    # the export joins exactly as the same labels typed as seconds
    seconds = ["video,start,end,label"]
    for task in tasks:
        for region in labelled_regions(task, truth):
            (rng,) = region["value"]["ranges"]
            fps = task["data"]["fps"]
            seconds.append(f"{task['data']['video_id']},{(rng['start'] - 1) / fps:g},{rng['end'] / fps:g},"
                           f"{region['value']['timelinelabels'][0]}")
    (d / "seconds.csv").write_text("\n".join(seconds) + "\n")
    store = FeatureStore(d / "f.h5")
    a, b = load_labelled_videos(store, [export_path]), load_labelled_videos(store, [d / "seconds.csv"])
    assert list(a.video_ids) == list(b.video_ids) and len(a.y) > 0
    np.testing.assert_array_equal(a.rows, b.rows)
    np.testing.assert_array_equal(a.y, b.y)
    # and trains compare-models with the first labels
    code, out, err = run(["compare-models", "-l", d / "labels.csv", "-l", export_path, "--store", d / "f.h5", "-m", "logreg",
                          "-k", "2", "-j", "1", "--out", d / "best2.skops"], capsys)
    assert code == 0, err
    assert {t["data"]["video_id"] for t in tasks} <= set(load_model(d / "best2.skops").training_videos)


def test_cluster_tasks_named_in_label_studio_give_the_labels_of_clusters_csv(label_studio, tmp_path, capsys):
    """cluster --faces --label-studio -> a project with its config, the grids served by a Local storage, the tasks
    imported (their suggestions validated as predictions), each cluster named through the API (a choice, a typed
    name, unknown, none) -> the export gives exactly the per-face labels the same names in clusters.csv give."""
    from classifiers.data.face_dataset import label_store_faces
    from test_clusters import _people_of_clusters, store_with_sources

    tables, store = store_with_sources(tmp_path)
    (tmp_path / "known.csv").write_text("video,track,label\na.mp4,0,alice\na.mp4,1,bob\n")
    code, out, err = run(["cluster", "--faces", "--store", tmp_path / "f.h5", "-l", tmp_path / "known.csv",
                          "-o", tmp_path / "clusters.csv", "--label-studio", tmp_path / "tasks.json"], capsys)
    assert code == 0, err
    tasks = json.loads((tmp_path / "tasks.json").read_text())
    project = label_studio.call("POST", "/api/projects", {"title": "screentime clusters",
                                                         "label_config": (tmp_path / "tasks.config.xml").read_text()})
    label_studio.call("POST", "/api/storages/localfiles", {"project": project["id"], "title": "grids",
                                                           "path": str(tmp_path / "tasks.images"), "use_blob_urls": False})
    assert label_studio.call("GET", tasks[0]["data"]["image"]) == (tmp_path / "tasks.images" / "cluster-1.jpg").read_bytes()
    suggested = [t for t in tasks if t.get("predictions")]
    assert sorted(t["data"]["suggested"] for t in suggested) == ["alice", "bob"]
    bad = json.loads(json.dumps(suggested[:1]))
    bad[0]["predictions"][0]["result"][0]["value"]["choices"] = ["spike"]
    assert "spike" in label_studio.refuses("POST", f"/api/projects/{project['id']}/import", bad)
    imported = label_studio.call("POST", f"/api/projects/{project['id']}/import", tasks)
    assert imported["task_count"] == len(tasks) and imported["prediction_count"] == len(suggested)
    found = _people_of_clusters(tmp_path, tables)
    plan = {frozenset({"alice"}): ("alice", None), frozenset({"profile"}): (None, "alice"), frozenset({"bob"}): ("bob", None),
            frozenset({"carol", "dave"}): (None, "carol"), frozenset({"twin"}): ("unknown", None)}  # twin2, eve: none
    rows = ["cluster,name"]
    for task in label_studio.call("GET", f"/api/tasks?project={project['id']}&page_size=100")["tasks"]:
        choice, text = plan.get(frozenset(found[task["data"]["cluster"]]), (None, None))
        rows.append(f"{task['data']['cluster']},{text or choice or ''}")
        result = ([{"from_name": "name", "to_name": "grid", "type": "choices", "value": {"choices": [choice]}}]
                  if choice else []) + ([{"from_name": "new_name", "to_name": "grid", "type": "textarea",
                                          "value": {"text": [text]}}] if text else [])
        if result:
            label_studio.call("POST", f"/api/tasks/{task['id']}/annotations", {"result": result})
    exported = label_studio.call("GET", f"/api/projects/{project['id']}/export?exportType=JSON")
    (tmp_path / "export.json").write_bytes(exported if isinstance(exported, bytes) else json.dumps(exported).encode())
    (tmp_path / "clusters.csv").write_text("\n".join(rows) + "\n")
    from_export, actors = label_store_faces(store, [tmp_path / "export.json"])
    from_csv, actors_csv = label_store_faces(store, [tmp_path / "clusters.csv"])
    assert actors == actors_csv == ["alice", "bob", "carol"] and sorted(from_export) == sorted(from_csv)
    for video_id, v in from_csv.items():
        w = from_export[video_id]
        assert w.label.tolist() == v.label.tolist() and w.labelled.tolist() == v.labelled.tolist()
        assert w.actors_at == v.actors_at
