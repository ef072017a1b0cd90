"""VGG16Embedder: weights from files (Keras 3 and Keras 2 layouts), offline ImageNet, preprocessing."""

import numpy as np
import pytest

from featurestore.embedding.config import EmbeddingConfig, n_features_for
from featurestore.embedding.vgg16 import VGG16Embedder
from featurestore.errors import WeightsUnavailable


@pytest.fixture(scope="module")
def random_embedder():
    return VGG16Embedder(EmbeddingConfig(weights="random", image_size_px=32))


def frames(n=3):
    rng = np.random.default_rng(0)
    return [rng.integers(0, 255, (48, 64, 3), dtype=np.uint8) for _ in range(n)]


def test_n_features_per_pooling():
    assert n_features_for("avg", 224) == 512
    assert n_features_for("max", 224) == 512
    assert n_features_for("flatten", 224) == 25088
    with pytest.raises(ValueError, match="at least 32"):
        n_features_for("avg", 16)


def test_preprocess_is_vgg16_caffe_on_rgb(random_embedder):
    frame = np.zeros((48, 64, 3), np.uint8)
    frame[:] = (10, 20, 30)  # BGR
    x = random_embedder.preprocess([frame])
    assert x.shape == (1, 32, 32, 3) and x.dtype == np.float32
    # preprocess_input(RGB) gives BGR minus the ImageNet means
    np.testing.assert_allclose(x[0, 0, 0], [10 - 103.939, 20 - 116.779, 30 - 123.68], atol=1e-3)


def test_weights_file_keras3_layout_loads(tmp_path, random_embedder):
    path = tmp_path / "vgg.weights.h5"
    random_embedder.model.save_weights(str(path))
    other = VGG16Embedder(EmbeddingConfig(weights=str(path), image_size_px=32))
    batch = random_embedder.preprocess(frames())
    np.testing.assert_allclose(other.embed(batch), random_embedder.embed(batch), rtol=1e-5, atol=1e-6)
    assert other.config.identity()["weights"].startswith("sha256:")


def test_weights_file_keras2_layout_loads(tmp_path, random_embedder):
    import h5py
    from keras.src.legacy.saving import legacy_h5_format

    path = tmp_path / "vgg16_keras2.h5"
    with h5py.File(path, "w") as f:
        legacy_h5_format.save_weights_to_hdf5_group(f, random_embedder.model)
    other = VGG16Embedder(EmbeddingConfig(weights=str(path), image_size_px=32))
    batch = random_embedder.preprocess(frames())
    np.testing.assert_allclose(other.embed(batch), random_embedder.embed(batch), rtol=1e-5, atol=1e-6)


def test_weights_file_that_is_not_vgg16_is_refused(tmp_path):
    path = tmp_path / "junk.weights.h5"
    path.write_bytes(b"not weights at all")
    with pytest.raises(WeightsUnavailable, match="junk.weights.h5"):
        VGG16Embedder(EmbeddingConfig(weights=str(path), image_size_px=32))


def test_weights_missing_file_is_refused(tmp_path):
    with pytest.raises(WeightsUnavailable, match="no such weights file"):
        EmbeddingConfig(weights=str(tmp_path / "nope.h5"))


def test_imagenet_offline_says_to_pass_weights_file(monkeypatch):
    from keras.src.utils import file_utils

    def offline(*args, **kwargs):  # what Keras raises with no network
        raise Exception("URL fetch failure on https://storage.googleapis.com/x.h5: None -- [Errno -3] Temporary failure")

    monkeypatch.setattr(file_utils, "get_file", offline)
    with pytest.raises(WeightsUnavailable, match="--weights FILE"):
        VGG16Embedder(EmbeddingConfig(weights="imagenet", image_size_px=32))
