"""Crash safety and concurrency with real processes: kill -9 at any moment, two writers on one store."""

import os
import signal
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest

from conftest import ROOT, write_video
from featurestore import FeatureStore

pytestmark = pytest.mark.slow  # system tests: real processes, killed at any moment

CONFIG = {"model": "vgg16", "weights": "random:seed=0", "pooling": "avg", "image_size_px": 32, "n_features": 512}
TINY = ["--weights", "random", "--image-size", "32", "--batch-size", "2"]

WRITER = textwrap.dedent("""
    import sys, numpy as np
    sys.path.insert(0, {root!r})
    from featurestore.store.store import FeatureStore
    fs = FeatureStore({store!r}, mode="a", config={config!r})
    i = 0
    while True:
        n = 50 + i % 200
        fs.put(f"w{{i}}", requested_s=np.arange(n, dtype=float), actual_s=np.arange(n, dtype=float),
               features=np.full((n, 512), i, np.float32), info={{"sample_fps": 1.0, "duration_s": float(n)}})
        print(i, flush=True)
        i += 1
""")


def shard_bytes(fs: FeatureStore, video_id: str) -> bytes:
    """The bytes of the shard file that holds `video_id`."""
    return fs.shard_path(video_id).read_bytes()


def test_kill_9_while_writing_never_harms_stored_videos(tmp_path):
    store = tmp_path / "f.h5"
    fs = FeatureStore(store, mode="a", config=CONFIG)
    keep = np.random.default_rng(1).normal(size=(30, 512)).astype(np.float32)
    fs.put("keep.mp4", requested_s=np.arange(30.0), actual_s=np.arange(30.0) + 0.02, features=keep,
           info={"sample_fps": 1.0, "duration_s": 30.0})
    keep_bytes = shard_bytes(fs, "keep.mp4")
    script = WRITER.format(root=str(ROOT), store=str(store), config=CONFIG)
    rng = np.random.default_rng(0)
    for attempt in range(8):
        proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
        assert proc.stdout.readline().strip() == "0", "the writer did not start"  # it is writing now
        time.sleep(float(rng.uniform(0.0, 0.3)))
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        after = FeatureStore(store)  # opens cleanly
        assert shard_bytes(after, "keep.mp4") == keep_bytes
        np.testing.assert_array_equal(after.load("keep.mp4")[1], keep)
        for video_id in after.video_ids():  # every indexed video is whole
            t, X = after.load(video_id)
            assert len(t) == len(X) and (video_id == "keep.mp4" or (X == int(video_id[1:])).all())
    FeatureStore(store, mode="a", config=CONFIG).put(
        "after.mp4", requested_s=[0.0], actual_s=[0.0], features=np.zeros((1, 512)), info={"sample_fps": 1.0, "duration_s": 1.0})
    assert "after.mp4" in FeatureStore(store)


def cli(*args: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, str(ROOT / "cli.py"), *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, cwd=ROOT)


def test_kill_9_during_embed_then_rerun_resumes(tmp_path):
    store = tmp_path / "f.h5"
    kept = write_video(tmp_path / "kept.avi", 10, 30, fourcc="MJPG")
    assert cli("embed", str(kept), "--store", str(store), *TINY).wait() == 0
    kept_bytes = shard_bytes(FeatureStore(store), "kept.avi")
    long = write_video(tmp_path / "long.avi", 10, 1800, fourcc="MJPG")  # 180 samples: the kill falls well before the end
    proc = cli("embed", str(long), "--store", str(store), *TINY)
    deadline = time.time() + 120
    while not len(list(tmp_path.glob("f.h5.d/*.part/chunk-00000[3-9].npz"))) and time.time() < deadline:
        time.sleep(0.05)
    assert proc.poll() is None, "the run ended before it could be interrupted"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    fs = FeatureStore(store)
    assert fs.video_ids() == ["kept.avi"] and shard_bytes(fs, "kept.avi") == kept_bytes
    rerun = cli("embed", str(long), "--store", str(store), *TINY)
    out, err = rerun.communicate(timeout=300)
    assert rerun.returncode == 0, err
    assert "resumed" in out
    fs = FeatureStore(store)
    t, X = fs.load("long.avi")
    np.testing.assert_allclose(t, np.arange(180.0), atol=1e-3)
    assert shard_bytes(fs, "kept.avi") == kept_bytes


def test_two_embed_processes_on_one_store(tmp_path):
    store = tmp_path / "f.h5"
    videos = [write_video(tmp_path / f"v{i}.avi", 10, 80, fourcc="MJPG") for i in range(3)]
    a = cli("embed", str(videos[0]), str(videos[1]), "--store", str(store), *TINY)
    b = cli("embed", str(videos[1]), str(videos[2]), "--store", str(store), *TINY)
    (_, err_a), (_, err_b) = a.communicate(timeout=300), b.communicate(timeout=300)
    assert a.returncode == 0 and b.returncode == 0, (err_a, err_b)
    fs = FeatureStore(store)
    assert fs.video_ids() == ["v0.avi", "v1.avi", "v2.avi"]
    for video_id in fs.video_ids():
        assert fs.load(video_id)[1].shape == (8, 512)
    assert len(list((tmp_path / "f.h5.d").glob("*.h5"))) == 3


REMOVER = textwrap.dedent("""
    import sys, numpy as np
    sys.path.insert(0, {root!r})
    from featurestore.store.store import FeatureStore
    fs = FeatureStore({store!r}, mode="a", config={config!r})
    i = 0
    while True:
        n = 20 + i % 100
        fs.put(f"r{{i % 4}}", requested_s=np.arange(n, dtype=float), actual_s=np.arange(n, dtype=float),
               features=np.full((n, 512), i, np.float32), info={{"sample_fps": 1.0, "duration_s": float(n)}})
        fs.remove(f"r{{(i + 2) % 4}}") if f"r{{(i + 2) % 4}}" in fs else None
        print(i, flush=True)
        i += 1
""")


def test_kill_9_while_replacing_and_removing_leaves_every_indexed_video_whole(tmp_path):
    from featurestore import verify_store

    store = tmp_path / "f.h5"
    FeatureStore(store, mode="a", config=CONFIG).put("keep.mp4", requested_s=[0.0], actual_s=[0.0],
                                                     features=np.ones((1, 512)), info={"sample_fps": 1.0, "duration_s": 1.0})
    rng = np.random.default_rng(3)
    for attempt in range(6):
        proc = subprocess.Popen([sys.executable, "-c", REMOVER.format(root=str(ROOT), store=str(store), config=CONFIG)],
                                stdout=subprocess.PIPE, text=True)
        assert proc.stdout.readline().strip() == "0", "the writer did not start"  # it is writing now
        time.sleep(float(rng.uniform(0.0, 0.3)))
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        check = verify_store(store)
        assert check.is_intact, [(v.video_id, v.problem) for v in check.damaged]
        fs = FeatureStore(store)
        for video_id in fs.video_ids():
            X = fs.load(video_id)[1]
            assert video_id == "keep.mp4" or (X == X[0, 0]).all()
