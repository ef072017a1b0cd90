"""Inference at the hardware's speed (issue 17): int8 by NNCF on OpenVINO, OpenVINO float32, precisions kept apart,
resume and embed-once per precision, and everything else working where OpenVINO is not installed."""

import sys

import numpy as np
import pytest

from conftest import error_lines, run_cli, write_video
from featurestore import EmbeddingConfig, FeatureStore, embed_videos
from featurestore.embedding.config import CALIBRATION
from featurestore.errors import RuntimeUnavailable

pytest.importorskip("openvino")
pytest.importorskip("nncf")

TINY = ["--weights", "random", "--image-size", "32"]
F32 = EmbeddingConfig(weights="random", image_size_px=32)
INT8 = EmbeddingConfig(weights="random", image_size_px=32, precision="int8")


def one_error(err: str) -> bool:
    """One `error:` line, and nothing but `warning:` lines beside it (no progress bar, no traceback)."""
    lines = err.strip().splitlines()
    return len(error_lines(err)) == 1 and all(l.startswith(("warning:", "error:")) for l in lines)


def cosine(a, b):
    return np.sum(a * b, axis=1) / np.linalg.norm(a, axis=1) / np.linalg.norm(b, axis=1)


@pytest.fixture(autouse=True)
def cache(tmp_path_factory, monkeypatch):
    """One OpenVINO cache for the module's tests (building a network is the slow part)."""
    folder = tmp_path_factory.getbasetemp() / "ov-cache"
    monkeypatch.setenv("SCREENTIME_CACHE", str(folder))
    return folder


@pytest.fixture(scope="module")
def clip(tmp_path_factory):
    from cartoons.synthetic import make_video

    d = tmp_path_factory.mktemp("runtimes")
    make_video(d / "cartoon.avi", duration_s=12, seed=4)
    return d / "cartoon.avi"


def test_int8_features_are_close_to_float32_and_the_same_on_every_build(clip, tmp_path, monkeypatch):
    embed_videos([clip], tmp_path / "f32.h5", config=F32, workers=0)
    embed_videos([clip], tmp_path / "int8.h5", config=INT8, workers=0)
    monkeypatch.setenv("SCREENTIME_CACHE", str(tmp_path / "empty-cache"))  # converted and quantised again
    embed_videos([clip], tmp_path / "again.h5", config=INT8, workers=0)
    f32, int8, again = (FeatureStore(tmp_path / f"{n}.h5").load("cartoon.avi")[1] for n in ("f32", "int8", "again"))
    assert cosine(f32, int8).min() >= 0.999
    np.testing.assert_array_equal(int8, again)  # same config, same features: the calibration is fixed
    store = FeatureStore(tmp_path / "int8.h5")
    assert store.config["precision"] == "int8" and store.config["calibration"] == CALIBRATION
    info = store.info("cartoon.avi")
    assert info["runtime"].startswith("openvino ") and info["calibration_sha256"].startswith("sha256:")
    assert info["precision"] == "int8" and "openvino" in info["versions"] and info["keras_backend"] == "openvino"


def test_openvino_float32_gives_kerass_features(clip, tmp_path):
    embed_videos([clip], tmp_path / "keras.h5", config=F32, workers=0)
    embed_videos([clip], tmp_path / "ov.h5", config=EmbeddingConfig(weights="random", image_size_px=32, runtime="openvino"),
                 workers=0)
    a, b = (FeatureStore(tmp_path / f"{n}.h5").load("cartoon.avi")[1] for n in ("keras", "ov"))
    assert cosine(a, b).min() >= 0.99999
    assert FeatureStore(tmp_path / "ov.h5").config == FeatureStore(tmp_path / "keras.h5").config  # one identity


def test_precisions_are_never_mixed_in_one_store(clip, tmp_path, capsys):
    code, _, _ = run_cli(["embed", clip, "--store", tmp_path / "f.h5", *TINY], capsys)
    assert code == 0
    code, out, err = run_cli(["embed", clip, "--store", tmp_path / "f.h5", *TINY, "--precision", "int8", "--name", "b"],
                             capsys)
    assert code == 1 and "precision 'float32' vs 'int8'" in err and one_error(err)
    code, out, err = run_cli(["embed", clip, "--store", tmp_path / "f.h5", *TINY, "--precision", "int8",
                              "--runtime", "keras"], capsys)
    assert code == 2 and "Invalid value for --runtime" in err


def test_an_interrupted_int8_embed_resumes_and_a_stored_one_costs_nothing(clip, tmp_path, monkeypatch):
    from featurestore.embedding.openvino import OpenVINOEmbedder
    from featurestore.video.pyav import AvVideoReader

    embed_videos([clip], tmp_path / "whole.h5", config=INT8, workers=0, batch_size=4)
    real, calls = OpenVINOEmbedder.embed, []

    def interrupted(self, batch):
        calls.append(len(batch))
        if len(calls) > 1:
            raise KeyboardInterrupt
        return real(self, batch)

    monkeypatch.setattr(OpenVINOEmbedder, "embed", interrupted)
    with pytest.raises(KeyboardInterrupt):
        embed_videos([clip], tmp_path / "f.h5", config=INT8, workers=0, batch_size=4)
    monkeypatch.setattr(OpenVINOEmbedder, "embed", real)
    [report] = embed_videos([clip], tmp_path / "f.h5", config=INT8, workers=0, batch_size=4)
    assert report.status == "resumed" and report.n_embedded == report.n_samples - 4
    np.testing.assert_array_equal(FeatureStore(tmp_path / "f.h5").load("cartoon.avi")[1],
                                  FeatureStore(tmp_path / "whole.h5").load("cartoon.avi")[1])
    monkeypatch.setattr(AvVideoReader, "sample", lambda *a, **k: pytest.fail("a stored video was decoded again"))
    monkeypatch.setattr(OpenVINOEmbedder, "__init__", lambda *a, **k: pytest.fail("a network was built for nothing"))
    [again] = embed_videos([clip], tmp_path / "f.h5", config=INT8, workers=0)
    assert again.status == "stored"


def test_an_int8_model_scores_new_videos_on_openvino(clip, tmp_path, capsys):
    from classifiers.chain.persist import save_model
    from classifiers.chain.smoothing import Smoother
    from classifiers.score import score_videos
    from classifiers.selection.registry import build_model

    embed_videos([clip], tmp_path / "f.h5", config=INT8, workers=0)
    store = FeatureStore(tmp_path / "f.h5")
    X = store.load("cartoon.avi")[1]
    y = np.array(["a", "b"] * (len(X) // 2) + ["a"] * (len(X) % 2))
    save_model(tmp_path / "m.skops", pipeline=build_model("logreg").fit(X, y), classes=["a", "b"],
               embedding_config=store.config, smoother=Smoother())
    other = write_video(tmp_path / "other.avi", 10, 40, fourcc="MJPG")
    result = score_videos([other], model_path=tmp_path / "m.skops", store_path=tmp_path / "f.h5")
    assert result.embed_reports[0].runtime.startswith("openvino") and store.info("other.avi")["precision"] == "int8"


def test_without_openvino_int8_is_one_line_and_the_rest_works(clip, tmp_path, capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "openvino", None)  # import openvino raises ImportError
    monkeypatch.setitem(sys.modules, "nncf", None)
    code, out, err = run_cli(["embed", clip, "--store", tmp_path / "f.h5", *TINY, "--precision", "int8"], capsys)
    assert code == 1 and "needs OpenVINO, which is not installed: pip install -e '.[openvino]'" in err
    assert one_error(err) and not (tmp_path / "f.h5").exists()
    with pytest.raises(RuntimeUnavailable):
        from featurestore.embedding.openvino import import_openvino

        import_openvino()
    code, out, err = run_cli(["embed", clip, "--store", tmp_path / "f.h5", *TINY], capsys)
    assert code == 0 and FeatureStore(tmp_path / "f.h5").config["n_features"] == 512


def test_the_calibration_frames_are_fixed():
    from featurestore.embedding.calibration import N_FRAMES, calibration_frames, digest
    from featurestore.embedding.preprocess import VGG16Preprocessor

    a, b = calibration_frames(), calibration_frames()
    assert len(a) == N_FRAMES and all(np.array_equal(x, y) for x, y in zip(a, b))
    assert len({x.shape for x in a}) > 10  # crops of many sizes, of natural photographs
    uniform = [x for x in a if (x == x[0, 0]).all()]  # and synthetic frames (issue 27): pure black, white, primaries
    assert {tuple(x[0, 0]) for x in uniform} >= {(0, 0, 0), (255, 255, 255), (0, 0, 255)}
    pre = VGG16Preprocessor(32)
    assert digest(pre(a)) == digest(pre(b))
