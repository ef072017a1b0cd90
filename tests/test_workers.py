"""Decoding worker processes feeding one model: the store equals a sequential run's (a long video split into
time ranges included), decode modes are recorded like the sample rate, and kill -9 loses nothing."""

import os
import queue
import signal
import subprocess
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pytest

from conftest import ROOT, TinyEmbedder, alive, assert_same_store, bframe_film, write_video
from featurestore import EmbeddingConfig, FeatureStore, embed_videos
from featurestore.errors import EmbedWarning, StoreMismatch

TINY = EmbeddingConfig(weights="random", pooling="avg", image_size_px=32)


@pytest.fixture(scope="module")
def videos(tmp_path_factory):
    """An H.264 file with B-frames and a keyframe every 0.6 s (12 s), and two OpenCV files (5.5 s, 3 s)."""
    folder = tmp_path_factory.mktemp("videos")
    h264 = bframe_film(folder / "film.mp4")
    return [h264, write_video(folder / "grey.mp4", 10, 55), write_video(folder / "short.avi", 10, 30, fourcc="MJPG")]


def test_workers_split_one_film_into_ranges_and_store_what_a_sequential_run_stores(tmp_path, videos):
    seq = embed_videos(videos, tmp_path / "seq.h5", config=TINY, make_embedder=TinyEmbedder, batch_size=4,
                       sample_fps=2.0, workers=0)
    par = embed_videos(videos, tmp_path / "par.h5", config=TINY, make_embedder=TinyEmbedder, batch_size=4,
                       sample_fps=2.0, workers=2, min_split_s=1.0)
    assert [r.n_samples for r in par] == [r.n_samples for r in seq] == [24, 11, 6]
    assert_same_store(tmp_path / "seq.h5", tmp_path / "par.h5")
    [film] = embed_videos(videos[:1], tmp_path / "film.h5", config=TINY, make_embedder=TinyEmbedder, batch_size=4,
                          sample_fps=2.0, workers=2, min_split_s=1.0)
    assert film.n_ranges > 1 and seq[0].n_ranges == 1  # the idle worker took half of the film
    np.testing.assert_array_equal(FeatureStore(tmp_path / "film.h5").load("film.mp4")[1],
                                  FeatureStore(tmp_path / "seq.h5").load("film.mp4")[1])
    assert FeatureStore(tmp_path / "film.h5").info("film.mp4")["frame_count"] == 300


@pytest.mark.slow
def test_workers_with_real_vgg16_give_the_sequential_features(tmp_path, videos):
    embed_videos(videos[:2], tmp_path / "seq.h5", config=TINY, batch_size=4, sample_fps=2.0, workers=0)
    embed_videos(videos[:2], tmp_path / "par.h5", config=TINY, batch_size=4, sample_fps=2.0, workers=2, min_split_s=1.0)
    assert_same_store(tmp_path / "seq.h5", tmp_path / "par.h5")


def test_decode_mode_is_recorded_and_changing_it_needs_replace(tmp_path, videos):
    store = tmp_path / "f.h5"
    [fast] = embed_videos(videos[:1], store, config=TINY, make_embedder=TinyEmbedder, decode="fast", workers=0)
    info = FeatureStore(store).info("film.mp4")
    assert info["decode"] == "fast" and info["frames_decoded"] < info["frame_count"] == 300
    with warnings.catch_warnings():
        warnings.simplefilter("error", EmbedWarning)  # stored by fast mode's rule of now: nothing to say
        [again] = embed_videos(videos[:1], store, config=TINY, make_embedder=TinyEmbedder, workers=0)  # as stored
    assert again.status == "stored"
    with pytest.raises(StoreMismatch, match="--decode fast, this run asks for --decode exact"):
        embed_videos(videos[:1], store, config=TINY, make_embedder=TinyEmbedder, decode="exact", workers=0)
    [replaced] = embed_videos(videos[:1], store, config=TINY, make_embedder=TinyEmbedder, decode="exact",
                              replace=True, workers=0)
    assert replaced.status == "replaced" and FeatureStore(store).info("film.mp4")["decode"] == "exact"


def children_of(pid: int) -> list[int]:
    kids = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            kids.append(int(stat.parent.name))
    return kids


@pytest.mark.slow
def test_kill_9_during_a_multi_worker_embed_loses_nothing_and_the_rerun_resumes(tmp_path):
    videos = [write_video(tmp_path / f"v{i}.avi", 10, 1200, fourcc="MJPG") for i in range(2)]  # 2 x 240 samples
    store = tmp_path / "f.h5"
    argv = [sys.executable, str(ROOT / "cli.py"), "embed", *map(str, videos), "--store", str(store), "--weights",
            "random", "--image-size", "32", "--batch-size", "4", "--fps", "2", "--workers", "2"]
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT)
    deadline = time.time() + 180
    while len(list(tmp_path.glob("f.h5.d/*.part/chunk-*.npz"))) < 6 and time.time() < deadline and proc.poll() is None:
        time.sleep(0.05)
    assert proc.poll() is None, "the run ended before it could be interrupted"
    workers = children_of(proc.pid)
    os.kill(proc.pid, signal.SIGKILL)
    proc.communicate()
    time.sleep(1.0)
    assert workers and not any(alive(pid) for pid in workers), "decoding processes outlived the killed command"
    assert not store.exists()  # nothing half-published (no store until it holds a video)
    rerun = subprocess.run(argv, capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert rerun.returncode == 0, rerun.stderr
    assert "resumed" in rerun.stdout
    embed_videos(videos, tmp_path / "clean.h5", config=TINY, batch_size=4, sample_fps=2.0, workers=0)
    assert_same_store(tmp_path / "clean.h5", store)


class RecordingProgress:
    def __init__(self):
        self.starts, self.advanced, self.finished = [], 0, 0

    def start(self, video_id, total, n_done=0):
        self.starts.append((video_id, total, n_done))

    def advance(self, n):
        self.advanced += n

    def finish(self):
        self.finished += 1


def test_one_progress_bar_for_the_whole_collection(tmp_path, videos):
    progress = RecordingProgress()
    reports = embed_videos(videos, tmp_path / "f.h5", config=TINY, make_embedder=TinyEmbedder, batch_size=4,
                           sample_fps=2.0, workers=2, min_split_s=1.0, progress=progress)
    assert progress.starts == [("3 videos", 24 + 11 + 6, 0)] and progress.finished == 1
    assert progress.advanced == sum(r.n_samples for r in reports) == 41


def test_a_copy_draws_no_bar_and_a_bar_drawn_later_starts_past_what_was_copied(tmp_path, videos):
    import shutil

    store = tmp_path / "c.h5"
    embed_videos(videos[1:2], store, config=TINY, make_embedder=TinyEmbedder, sample_fps=2.0, workers=0)
    copy = shutil.copyfile(videos[1], tmp_path / "grey copy.mp4")
    progress = RecordingProgress()
    [report] = embed_videos([copy], store, config=TINY, make_embedder=TinyEmbedder, sample_fps=2.0, workers=0,
                            progress=progress)
    assert report.status == "copied" and (progress.starts, progress.advanced, progress.finished) == ([], 0, 0)
    again = shutil.copyfile(videos[1], tmp_path / "grey again.mp4")
    progress = RecordingProgress()
    reports = embed_videos([again, videos[2]], store, config=TINY, make_embedder=TinyEmbedder, sample_fps=2.0,
                           workers=0, progress=progress)
    assert [r.status for r in reports] == ["copied", "new"]
    # a copy is not probed (its length unknown): it counts one sample in the bar's total, done when the bar starts
    assert progress.starts == [("2 videos", 1 + 6, 1)] and progress.advanced == 6 and progress.finished == 1


def test_decode_hw_without_nvdec_warns_once_and_decodes_in_software(tmp_path, videos):
    with pytest.warns(Warning) as caught:
        reports = embed_videos(videos[:2], tmp_path / "hw.h5", config=TINY, make_embedder=TinyEmbedder, decode="hw",
                               workers=0)
    hw_warnings = [w for w in caught if "--decode hw" in str(w.message)]
    if not hw_warnings and "cuda" in FeatureStore(tmp_path / "hw.h5").info("film.mp4")["decoder"]:
        pytest.skip("NVDEC works here")
    assert len(hw_warnings) == 1 and "decoded in software" in str(hw_warnings[0].message)
    assert [r.decode for r in reports] == ["hw", "hw"]
    embed_videos(videos[:2], tmp_path / "exact.h5", config=TINY, make_embedder=TinyEmbedder, workers=0)
    hw, exact = FeatureStore(tmp_path / "hw.h5"), FeatureStore(tmp_path / "exact.h5")
    for video_id in ("film.mp4", "grey.mp4"):
        np.testing.assert_array_equal(hw.load(video_id)[1], exact.load(video_id)[1])


def test_a_script_without_a_main_guard_is_told_so_not_that_the_video_crashes_ffmpeg(tmp_path):
    """Decoding processes are spawned, which runs the calling script again: unguarded, each one exits at once with
    Python's error. That is said in one line naming the guard, not blamed on the video (issue: fe-docs)."""
    video = write_video(tmp_path / "grey.mp4", 10, 30)
    script = tmp_path / "unguarded.py"
    script.write_text(
        "import sys\n"
        f"sys.path[:0] = [{str(ROOT)!r}, {str(ROOT / 'tests')!r}]\n"
        "from conftest import TinyEmbedder\n"
        "from featurestore import EmbeddingConfig, embed_videos\n"
        f"embed_videos([{str(video)!r}], {str(tmp_path / 'f.h5')!r}, make_embedder=TinyEmbedder, workers=1,\n"
        "             config=EmbeddingConfig(weights='random', pooling='avg', image_size_px=32))\n")
    run = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, cwd=tmp_path, timeout=300)
    last = run.stderr.strip().splitlines()[-1]
    assert run.returncode != 0
    assert "WorkersUnstartable" in last and 'if __name__ == "__main__":' in last and "workers=0" in last, last
    assert "may crash FFmpeg" not in run.stderr


def test_a_worker_that_had_decoded_and_then_exited_with_an_error_status_is_restarted_not_blamed_on_the_script():
    """Only a process that exits before sending anything is taken for an unguarded script (WorkersUnstartable); one
    that had sent samples and then exited with status 1 is restarted like a crashed one."""
    from featurestore.errors import WorkersUnstartable
    from featurestore.runners.workers import DecodePool

    class Gone:
        exitcode = 1

        def is_alive(self):
            return False

    restarted = []
    pool = DecodePool.__new__(DecodePool)
    pool.busy, pool._heard, pool._workers = {0: "job a", 1: "job b"}, set(), [Gone(), Gone()]
    pool._results = queue.Queue()
    pool._start_worker = restarted.append
    pool._results.put(("samples", 1, 7, ()))
    assert pool.get(timeout=1.0)[1] == 1
    del pool.busy[0]  # slot 0 is not busy: only slot 1 is looked at
    assert pool.dead_slots() == [1] and restarted == [1]
    pool.busy = {0: "job a"}
    pool._results.put(("samples", 0, 8, ()))  # not read yet: slot 0 may have started after all
    assert pool.dead_slots() == [0] and restarted == [1, 0]
    pool.get(timeout=1.0)
    pool._heard.clear()  # its restart (mocked here) forgets what the dead process sent
    with pytest.raises(WorkersUnstartable):
        pool.dead_slots()


def test_a_video_stored_by_fast_modes_first_rule_is_named_when_met_again():
    """`--decode fast` once skipped every B-frame (damaged frames after a skipped reference B-frame); a video it
    stored so (its decoder without '(skip ...)') is named, with what to do, when a run finds it stored."""
    from featurestore.runners.work import EmbedReport

    info = {"n_samples": 3, "duration_s": 3.0, "decode": "fast"}
    with pytest.warns(EmbedWarning, match="film.mp4: stored with --decode fast when it skipped every B-frame.*--replace"):
        EmbedReport.stored("film.mp4", "film.mp4", {**info, "decoder": "h264"})
    with warnings.catch_warnings():
        warnings.simplefilter("error", EmbedWarning)
        EmbedReport.stored("film.mp4", "film.mp4", {**info, "decoder": "h264 (skip nonref)"})
        EmbedReport.stored("film.mp4", "film.mp4", {**info, "decode": "exact", "decoder": "h264"})
