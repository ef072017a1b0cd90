"""`embed --ray`: tasks on a local Ray cluster (one per module, it is slow to start) give the store a plain run
gives; kill -9 of the command loses nothing, leaves no Ray process behind, and the rerun resumes."""

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from cli import main
from conftest import ROOT, alive, assert_same_store, bframe_film, error_lines, write_video
from featurestore import EmbeddingConfig, embed_videos

pytestmark = pytest.mark.slow  # system tests: real processes killed, a local Ray cluster

TINY = EmbeddingConfig(weights="random", pooling="avg", image_size_px=32)


@pytest.fixture(scope="module")
def ray_cluster():
    ray = pytest.importorskip("ray")
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, object_store_memory=200 * 2**20,
             logging_level="error")
    yield ray
    ray.shutdown()


@pytest.fixture(scope="module")
def clips(tmp_path_factory):
    folder = tmp_path_factory.mktemp("clips")
    h264 = bframe_film(folder / "film.mp4")
    return [h264, write_video(folder / "grey.mp4", 10, 55)]


def test_ray_tasks_store_what_a_plain_run_stores(tmp_path, ray_cluster, clips):
    reports = embed_videos(clips, tmp_path / "ray.h5", config=TINY, batch_size=4, sample_fps=2.0, ray="local",
                           min_split_s=3.0)
    assert reports[0].n_ranges > 1  # the film went out as several tasks
    assert "CPU" in reports[0].device and reports[0].backend == "tensorflow"
    embed_videos(clips, tmp_path / "plain.h5", config=TINY, batch_size=4, sample_fps=2.0, workers=0)
    assert_same_store(tmp_path / "ray.h5", tmp_path / "plain.h5")
    [again] = embed_videos(clips[:1], tmp_path / "ray.h5", config=TINY, sample_fps=2.0, ray="local")
    assert again.status == "stored"


def ray_processes_of(_pid: int) -> list[int]:
    """Processes of a local cluster started by a `cli.py embed --ray local` (they carry its owner mark)."""
    found = []
    for environ in Path("/proc").glob("[0-9]*/environ"):
        try:
            if b"SCREENTIME_RAY_OWNER=" in environ.read_bytes() and int(environ.parent.name) != os.getpid():
                found.append(int(environ.parent.name))
        except OSError:
            continue
    return found


def test_kill_9_during_a_ray_run_leaves_no_cluster_and_the_rerun_resumes(tmp_path, ray_cluster):
    # One 200 s video at 2 samples/s on a local cluster held to 2 CPUs (whatever the machine has) is 4 ranges of
    # 100 samples in two rounds: the first checkpoint lands a whole round (seconds) before the video can be published,
    # so the kill below always falls while the video is half done.
    [video] = [write_video(tmp_path / "long.avi", 10, 2000, fourcc="MJPG")]
    store = tmp_path / "f.h5"
    argv = [sys.executable, str(ROOT / "cli.py"), "embed", str(video), "--store", str(store), "--weights",
            "random", "--image-size", "32", "--batch-size", "4", "--fps", "2", "--ray", "local"]
    env = {**os.environ, "RAY_OVERRIDE_RESOURCES": '{"CPU": 2}'}
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT, env=env)
    deadline = time.time() + 240
    while not list(tmp_path.glob("f.h5.d/*.part/chunk-*.npz")) and time.time() < deadline and proc.poll() is None:
        time.sleep(0.05)
    assert proc.poll() is None, "the run ended before it could be interrupted"
    marked = ray_processes_of(proc.pid)
    assert marked, "the command's Ray processes carry no owner mark: the check below would see nothing"
    os.kill(proc.pid, signal.SIGKILL)
    proc.communicate()
    time.sleep(3.0)
    assert not ray_processes_of(proc.pid), "the killed command's Ray cluster outlived it"
    assert not [pid for pid in marked if alive(pid)], "a Ray process of the killed command lives on"
    assert not store.exists()  # no store until it holds a video
    rerun = subprocess.run(argv, capture_output=True, text=True, cwd=ROOT, timeout=600, env=env)
    assert rerun.returncode == 0, rerun.stderr[-2000:]
    assert re.search(r"long\.avi +resumed +400 ", rerun.stdout), rerun.stdout
    time.sleep(1.0)
    assert not ray_processes_of(0), "the command's local Ray cluster outlived it"
    embed_videos([video], tmp_path / "plain.h5", config=TINY, batch_size=4, sample_fps=2.0, workers=0)
    assert_same_store(tmp_path / "plain.h5", store)


def test_cli_ray_without_ray_says_how_to_install(tmp_path, capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "ray", None)  # import ray now fails as if it were not installed
    video = write_video(tmp_path / "v.avi", 10, 20, fourcc="MJPG")
    with pytest.raises(SystemExit) as exit_info:
        main(["embed", str(video), "--store", str(tmp_path / "f.h5"), "--weights", "random", "--image-size", "32",
              "--ray", "auto"])
    err = capsys.readouterr().err
    assert exit_info.value.code == 1
    assert error_lines(err) == [
        "error: --ray needs Ray, which is not installed: pip install -e '.[ray]'"]
