"""Long work shows a progress bar: compare-models (frames and --faces), suggest-labels and cluster report each step
(`featurestore.progress.step`), the CV's fits counted in this process as workers finish them; the bars go to stderr
and never into the results on stdout."""

from __future__ import annotations

import re

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression

from cartoons.synthetic_faces import FaceWorld, make_face_videos, write_interval_labels
from classifiers.cluster import cluster_store
from classifiers.compare import compare_models
from classifiers.selection.pool import run_folds
from classifiers.suggest import suggest_labels
from featurestore.store.store import FeatureStore
from test_compare import Broken, make_scene_store, run_cli


class Recorder:
    """A `featurestore.progress.Progress` that keeps each step: [what, total, units advanced, finished]."""

    def __init__(self):
        self.steps: list[list] = []

    def start(self, what, total, n_done=0):
        assert not self.steps or self.steps[-1][3], f"{what!r} started inside {self.steps[-1][0]!r}"
        self.steps.append([what, total, n_done, False])

    def advance(self, n):
        assert not self.steps[-1][3]
        self.steps[-1][2] += n

    def finish(self):
        self.steps[-1][3] = True

    def named(self, text: str) -> list[list]:
        return [s for s in self.steps if text in s[0]]


@pytest.mark.parametrize("n_jobs", [1, 2])  # in this process, and in loky workers (counted here as each ends)
def test_run_folds_counts_every_fit_also_of_a_failing_model(n_jobs):
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(60, 3)), np.tile(["a", "b"], 30)
    folds = [(np.arange(0, 40), np.arange(40, 60)), (np.arange(20, 60), np.arange(0, 20)), (np.arange(30), np.arange(30, 60))]
    counted = []
    runs = run_folds({"logreg": LogisticRegression(), "broken": Broken()}, X, y, folds, n_jobs=n_jobs, on_fit=counted.append)
    assert isinstance(runs["broken"], str) and len(runs["logreg"]) == 3
    assert counted == [1] * 6  # 2 models x 3 folds, the broken one's skipped folds too


def test_compare_models_shows_reading_every_cross_validation_and_the_final_model(tmp_path):
    store, labels = make_scene_store(tmp_path, 4, n_frames=60, informative=True)
    progress = Recorder()
    compare_models(store, labels, out_path=tmp_path / "m.skops", models=["logreg", "mlp"], n_splits=2, n_jobs=1,
                   feature_norm="auto", context_s=0, progress=progress)
    assert all(finished for *_, finished in progress.steps)
    assert progress.steps[0][0].startswith("reading") and progress.steps[0][2] == 4  # the 4 labelled videos
    cvs = progress.named("CV ")
    assert len(cvs) == 3  # two normalisations tried with logreg, then both models on the chosen one
    assert [s[1] for s in cvs] == [2 * 1 * 2, 2 * 1 * 2, 2 * 2 * 2]  # fits and held-out folds: models x folds, twice
    assert all(s[2] == s[1] for s in cvs)
    assert progress.steps[-2][0].startswith("final model") and progress.steps[-2][2] == 2
    assert progress.steps[-1][:3] == ["writing m.skops", 1, 1]


def test_compare_models_bars_go_to_stderr_and_stdout_keeps_the_tables(tmp_path, capsys):
    store, labels = make_scene_store(tmp_path, 4, n_frames=60, informative=True)
    code, out, err = run_cli(["compare-models", "-s", str(store), "-l", str(labels), "-m", "logreg", "-k", "2", "-j", "1",
                              "--feature-norm", "none", "--context-s", "0", "-o", str(tmp_path / "m.skops")], capsys)
    assert code == 0, err
    assert "━" not in out and "CV " not in out and "per class" in out  # the tables, no bar
    assert "CV logreg (none, context 0 s)" in err and "4/4" in err  # not a terminal: each step once, as it ended
    assert "final model" in err and "writing m.skops" in err
    assert err.count("\n") == err.strip().count("\n") + 1 == 4  # a line each, no blank one
    counts = [tuple(map(int, m)) for m in re.findall(r"(\d+)/(\d+)", err)]
    assert len(counts) == 4 and all(done == total > 0 for done, total in counts)  # each step ended full, never 0/0


def test_suggest_labels_shows_the_fold_models_fits_and_each_video_measured(tmp_path):
    store, labels = make_scene_store(tmp_path, 4, n_frames=60, informative=True)
    compare_models(store, labels, out_path=tmp_path / "m.skops", models=["logreg"], n_splits=2, n_jobs=1,
                   feature_norm="none", context_s=0)
    progress = Recorder()
    suggest_labels(store, tmp_path / "m.skops", 20.0, labels_paths=[labels], n_folds=2, n_jobs=1, progress=progress)
    [fits] = progress.named("fold models")
    assert fits[1:] == [2, 2, True]
    [measured] = progress.named("measuring")
    assert measured[1:] == [4, 4, True]


def test_cluster_shows_reading_clustering_and_thumbnails(tmp_path):
    store, _ = make_scene_store(tmp_path, 3, n_frames=60)
    progress = Recorder()
    cluster_store(store, tmp_path / "clusters.csv", progress=progress)
    assert [s[0].split(" ")[0] for s in progress.steps] == ["reading", "each", "clustering", "thumbnails", "writing"]
    assert progress.steps[0][1:] == [3, 3, True]


@pytest.fixture(scope="module")
def faces(tmp_path_factory):
    d = tmp_path_factory.mktemp("faces")
    videos = make_face_videos(FaceWorld.make(seed=5), 3, seed=5, duration_s=40.0)
    store = FeatureStore(d / "faces.h5", mode="a", config={"model": "stand-in", "n_features": 4})
    for v in videos:  # as bench/faces_scale.py stores them
        t = v.table.sample_times_s
        store.put(v.video_id, requested_s=t, actual_s=t, features=np.zeros((len(t), 4), np.float32),
                  info={"sample_fps": 1.0, "duration_s": 40.0, "fps": 25.0})
        store.put_faces(v.video_id, v.table)
    return d, d / "faces.h5", write_interval_labels(d / "labels.csv", videos)


def test_compare_models_faces_shows_assignment_fits_unknown_thresholds_and_the_final_model(faces):
    d, store, labels = faces
    progress = Recorder()
    compare_models(store, labels, out_path=d / "faces.skops", models=["logreg"], n_splits=3, n_jobs=1, faces=True,
                   progress=progress)
    names = [s[0].split(" ")[0] for s in progress.steps]
    assert names == ["reading", "assigning", "CV", "CV:", "held-out", "final", "writing"], progress.steps
    assert all(finished for *_, finished in progress.steps)
    fits = progress.steps[2]
    assert fits[1] == fits[2] > 3  # the 3 outer folds and the inner ones of the unknown threshold
    assert progress.steps[3][2] == progress.steps[3][1] == fits[1]  # each fold's thresholds or held-out scoring
    assert progress.steps[-2][2] == progress.steps[-2][1]


def test_cluster_faces_shows_the_face_tables_read(faces):
    d, store, _ = faces
    progress = Recorder()
    cluster_store(store, d / "clusters.csv", faces=True, thumbnails=False, progress=progress)
    assert progress.steps[0][0] == "reading the face tables" and progress.steps[0][1:] == [3, 3, True]
    assert progress.named("clustering")[0][2] == 3


def test_the_python_api_shows_the_steps_only_when_asked(tmp_path, capsys):
    import screentime

    store, labels = make_scene_store(tmp_path, 4, n_frames=60, informative=True)
    kwargs = dict(out=tmp_path / "m.skops", models="logreg", folds=2, n_jobs=1, feature_norm="none", context_s=0)
    screentime.compare_models(store, labels, **kwargs)
    assert capsys.readouterr().err == ""
    screentime.compare_models(store, labels, progress=True, **kwargs)
    assert "CV logreg" in capsys.readouterr().err
    screentime.cluster(store, out=tmp_path / "c.csv", progress=True)
    assert "thumbnails" in capsys.readouterr().err


def test_two_stage_clustering_counts_each_videos_first_stage(monkeypatch):
    import classifiers.clusters.linkage as linkage

    monkeypatch.setattr(linkage, "MAX_ONE_STAGE", 10)  # 30 points in 3 videos: each video alone, then together
    points = np.random.default_rng(0).normal(size=(30, 4))
    counted = []
    linkage.agglomerate(points, 0.5, groups=np.repeat(["a", "b", "c"], 10), on_group=counted.append)
    assert counted == [1, 1, 1]


def test_a_one_unit_step_its_block_did_not_count_ends_1_of_1_and_notebooks_see_bars_as_they_run():
    import io

    from rich.console import Console

    from classifiers.output.progress import StepBars
    from featurestore.progress import step

    console = Console(file=io.StringIO(), force_terminal=False, width=100)
    with StepBars(console) as bars:
        with step(bars, "held-out distances", 1):
            pass  # work done in one go, nothing counted
        with step(bars, "reading the labelled videos", None):
            pass  # all read before: nothing to show
    assert "1/1" in console.file.getvalue() and "0/0" not in console.file.getvalue()
    assert "reading the labelled videos" not in console.file.getvalue()
    notebook = Console(file=io.StringIO(), force_terminal=False, force_jupyter=True)
    assert StepBars(notebook)._live and not StepBars(console)._live
