"""Keras backends: JAX and torch give TensorFlow's features (cosine >= 0.99999) and say so in the provenance; bfloat16 is
part of the store's config and refused, in one line, where the device has no bfloat16 arithmetic."""

import json
import os
import subprocess
import sys

import numpy as np
import pytest

from cli import main
from conftest import ROOT, error_lines, write_video
from featurestore import EmbeddingConfig, FeatureStore, embed_videos
from featurestore.embedding.backend import import_keras
from featurestore.embedding.vgg16 import VGG16Embedder
from featurestore.embedding.cpu import native_bfloat16
from featurestore.embedding.config import describe_config
from featurestore.errors import BackendUnavailable, StoreMismatch

TINY = EmbeddingConfig(weights="random", pooling="avg", image_size_px=32)

OTHER_BACKEND_RUN = """
import json, sys
sys.path.insert(0, {root!r})
from featurestore import EmbeddingConfig, FeatureStore, embed_videos
[report] = embed_videos([{video!r}], {store!r}, config=EmbeddingConfig(weights="random", image_size_px=32),
                        batch_size=4, workers=0)
info = FeatureStore({store!r}).info(report.video_id)
print(json.dumps({{"backend": report.backend, "device": report.device, "info": info}}))
"""


def cosine(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return (a * b).sum(1) / np.linalg.norm(a, axis=1) / np.linalg.norm(b, axis=1)


@pytest.mark.slow
@pytest.mark.parametrize("backend", ["jax", "torch"])
def test_other_backends_give_tensorflows_features(tmp_path, backend):
    pytest.importorskip(backend)  # CI installs JAX; torch where it is installed
    video = write_video(tmp_path / "v.avi", 10, 60, fourcc="MJPG", colours=[(i * 7 % 255, 90, 255 - i * 3) for i in range(60)])
    embed_videos([video], tmp_path / "tf.h5", config=TINY, batch_size=4, workers=0)
    env = dict(os.environ, KERAS_BACKEND=backend, JAX_PLATFORMS="cpu", CUDA_VISIBLE_DEVICES="")
    other = tmp_path / f"{backend}.h5"
    run = subprocess.run([sys.executable, "-c", OTHER_BACKEND_RUN.format(root=str(ROOT), video=str(video), store=str(other))],
                         capture_output=True, text=True, env=env, timeout=600)
    assert run.returncode == 0, run.stderr[-2000:]
    result = json.loads(run.stdout.strip().splitlines()[-1])
    assert result["backend"] == backend and result["device"] == "CPU"
    assert result["info"]["keras_backend"] == backend and result["info"]["versions"][backend]
    tf_features = FeatureStore(tmp_path / "tf.h5").load("v.avi")[1]
    other_features = FeatureStore(other).load("v.avi")[1]
    assert tf_features.shape == other_features.shape == (6, 512)
    assert cosine(tf_features, other_features).min() >= 0.99999
    assert FeatureStore(tmp_path / "tf.h5").info("v.avi")["keras_backend"] == "tensorflow"


def test_bfloat16_is_part_of_the_store_config(tmp_path, video_5s):
    bf16 = EmbeddingConfig(weights="random", image_size_px=32, precision="bfloat16")
    assert bf16.identity()["precision"] == "bfloat16" and "precision" not in TINY.identity()
    assert describe_config(bf16.identity()).endswith("32 px bfloat16")
    embed_videos([video_5s], tmp_path / "f.h5", config=TINY, batch_size=4, workers=0)
    with pytest.raises(StoreMismatch, match="precision 'float32' vs 'bfloat16'"):
        embed_videos([video_5s], tmp_path / "f.h5", config=bf16, workers=0)


def test_bfloat16_features_are_close_to_float32():
    rng = np.random.default_rng(0)
    frames = [rng.integers(0, 255, (48, 64, 3), dtype=np.uint8) for _ in range(4)]
    exact = VGG16Embedder(TINY)
    bf16 = VGG16Embedder(EmbeddingConfig(weights="random", image_size_px=32, precision="bfloat16"),
                         allow_emulated_bfloat16=True)  # this CPU only emulates it: fine for checking numbers
    a, b = exact.embed(exact.preprocess(frames)), bf16.embed(bf16.preprocess(frames))
    assert b.dtype == np.float32 and cosine(a, b).min() > 0.999


def test_cli_bfloat16_on_a_cpu_that_would_emulate_it_is_refused_in_one_line(tmp_path, capsys, monkeypatch):
    import featurestore.embedding.cpu as cpu

    monkeypatch.setattr(cpu, "cpu_flags", lambda: frozenset({"sse4_2", "avx2", "fma"}))  # a CPU without bfloat16 units
    video = write_video(tmp_path / "v.avi", 10, 20, fourcc="MJPG")
    with pytest.raises(SystemExit) as exit_info:
        main(["embed", str(video), "--store", str(tmp_path / "f.h5"), "--weights", "random", "--image-size", "32",
              "--precision", "bfloat16"])
    err = capsys.readouterr().err
    errors = error_lines(err)
    assert exit_info.value.code == 1 and len(errors) == 1 and "Traceback" not in err
    assert all(line.startswith(("warning:", "error:")) for line in err.strip().splitlines())  # before any progress bar
    assert "--precision bfloat16 needs bfloat16 in hardware" in errors[0] and "would only emulate it" in errors[0]
    assert "use --precision float32" in errors[0] and not (tmp_path / "f.h5").exists()


@pytest.mark.skipif(not native_bfloat16(), reason="this CPU has no bfloat16 units (AVX-512 BF16, AMX)")
def test_cli_bfloat16_on_a_cpu_that_has_it_embeds_and_says_so(tmp_path, capsys):
    video = write_video(tmp_path / "v.avi", 10, 20, fourcc="MJPG")
    with pytest.raises(SystemExit) as exit_info:
        main(["embed", str(video), "--store", str(tmp_path / "f.h5"), "--weights", "random", "--image-size", "32",
              "--precision", "bfloat16"])
    out = capsys.readouterr().out
    assert exit_info.value.code == 0 and "bfloat16" in out
    store = FeatureStore(tmp_path / "f.h5")
    assert store.config["precision"] == "bfloat16" and store.info("v.avi")["precision"] == "bfloat16"


def test_unknown_keras_backend_is_refused(monkeypatch):
    monkeypatch.setenv("KERAS_BACKEND", "theano")
    with pytest.raises(BackendUnavailable, match="KERAS_BACKEND='theano' is not one screentime supports"):
        import_keras()
