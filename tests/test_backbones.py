"""Packaged backbones (issue 27): weights read with NumPy only, the Keras rebuilds against their original
frameworks' top-5, each on a tiny input, and the backbone in the config identity."""

import base64
import pickle

import cv2
import numpy as np
import pytest

from featurestore.embedding.backbones import BACKBONES, backbone_of_model, installed_backbones
from featurestore.embedding.config import EmbeddingConfig, identity_differences
from featurestore.embedding.torch_state import read_pickled_arrays, read_state_dict
from featurestore.errors import InvalidParameter, StoreMismatch, WeightsUnavailable

PACKAGED = [name for name, b in BACKBONES.items() if b.is_packaged]

#: What bench/reference_top5.py printed: each photo's top-5 ImageNet classes by the original framework (ndf's NumPy
#: SqueezeNet; efficientnet_lite_pytorch and torchvision on torch 2.14.1), the photo resized to 224 px (INTER_AREA).
REFERENCE_TOP5 = {
    "squeezenet": {"chelsea": [285, 282, 281, 287, 293], "coffee": [967, 968, 925, 504, 960],
                   "rocket": [733, 780, 840, 819, 657], "astronaut": [422, 402, 823, 542, 907]},
    "efficientnet-lite0": {"chelsea": [285, 282, 281, 287, 728], "coffee": [967, 968, 925, 504, 809],
                           "rocket": [540, 657, 517, 744, 812], "astronaut": [450, 560, 573, 422, 610]},
    "mobilenet-v2": {"chelsea": [285, 282, 281, 728, 287], "coffee": [967, 968, 504, 925, 809],
                     "rocket": [682, 540, 517, 733, 557], "astronaut": [450, 560, 518, 571, 907]},
}

#: torch.save({"a": torch.arange(12.).reshape(3, 4).t(), "b": torch.tensor(3), "c": nn.Parameter(torch.ones(2, 2))})
#: by torch 2.14.1, in the legacy format (_use_new_zipfile_serialization=False) and in the zip format.
LEGACY = (
    "gAKKCmz8nEb5IGqoUBkugAJN6QMugAJ9cQAoWBAAAABwcm90b2NvbF92ZXJzaW9ucQFN6QNYDQAAAGxpdHRsZV9lbmRpYW5xAohYCgAAAHR5"
    "cGVfc2l6ZXNxA31xBChYBQAAAHNob3J0cQVLAlgDAAAAaW50cQZLBFgEAAAAbG9uZ3EHSwR1dS6AAn1xAChYAQAAAGFxAWN0b3JjaC5fdXRp"
    "bHMKX3JlYnVpbGRfdGVuc29yX3YyCnECKChYBwAAAHN0b3JhZ2VxA2N0b3JjaApGbG9hdFN0b3JhZ2UKcQRYDgAAADk0MTM4MDg2NTY5NDU2"
    "cQVYAwAAAGNwdXEGSwxOdHEHUUsASwRLA4ZxCEsBSwSGcQmJY2NvbGxlY3Rpb25zCk9yZGVyZWREaWN0CnEKKVJxC3RxDFJxDVgBAAAAYnEO"
    "aAIoKGgDY3RvcmNoCkxvbmdTdG9yYWdlCnEPWA4AAAA5NDEzODA4NjU2OTU2OHEQaAZLAU50cRFRSwApKYloCilScRJ0cRNScRRYAQAAAGNx"
    "FWN0b3JjaC5fdXRpbHMKX3JlYnVpbGRfcGFyYW1ldGVyCnEWaAIoKGgDaARYDgAAADk0MTM4MDkxOTc2NDMycRdoBksETnRxGFFLAEsCSwKG"
    "cRlLAksBhnEaiWgKKVJxG3RxHFJxHYhoCilScR6HcR9ScSB1LoACXXEAKFgOAAAAOTQxMzgwODY1Njk0NTZxAVgOAAAAOTQxMzgwODY1Njk1"
    "NjhxAlgOAAAAOTQxMzgwOTE5NzY0MzJxA2UuDAAAAAAAAAAAAAAAAACAPwAAAEAAAEBAAACAQAAAoEAAAMBAAADgQAAAAEEAABBBAAAgQQAA"
    "MEEBAAAAAAAAAAMAAAAAAAAABAAAAAAAAAAAAIA/AACAPwAAgD8AAIA/"
)
ZIP = (
    "UEsDBAAACAgAAAAAAAAAAAAAAAAAAAAAAAAUAA4Ac3RyaWRlZF96aXAvZGF0YS5wa2xGQgoAWlpaWlpaWlpaWoACfXEAKFgBAAAAYXEBY3Rv"
    "cmNoLl91dGlscwpfcmVidWlsZF90ZW5zb3JfdjIKcQIoKFgHAAAAc3RvcmFnZXEDY3RvcmNoCkZsb2F0U3RvcmFnZQpxBFgBAAAAMHEFWAMA"
    "AABjcHVxBksMdHEHUUsASwRLA4ZxCEsBSwSGcQmJY2NvbGxlY3Rpb25zCk9yZGVyZWREaWN0CnEKKVJxC3RxDFJxDVgBAAAAYnEOaAIoKGgD"
    "Y3RvcmNoCkxvbmdTdG9yYWdlCnEPWAEAAAAxcRBoBksBdHERUUsAKSmJaAopUnESdHETUnEUWAEAAABjcRVjdG9yY2guX3V0aWxzCl9yZWJ1"
    "aWxkX3BhcmFtZXRlcgpxFmgCKChoA2gEWAEAAAAycRdoBksEdHEYUUsASwJLAoZxGUsCSwGGcRqJaAopUnEbdHEcUnEdiGgKKVJxHodxH1Jx"
    "IHUuUEsHCNendTVYAQAAWAEAAFBLAwQAAAgIAAAAAAAAAAAAAAAAAAAAAAAAGwAfAHN0cmlkZWRfemlwLy5mb3JtYXRfdmVyc2lvbkZCGwBa"
    "WlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWloxUEsHCLfv3IMBAAAAAQAAAFBLAwQAAAgIAAAAAAAAAAAAAAAAAAAAAAAAHgAzAHN0cmlkZWRf"
    "emlwLy5zdG9yYWdlX2FsaWdubWVudEZCLwBaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWjY0UEsHCD93"
    "cekCAAAAAgAAAFBLAwQAAAgIAAAAAAAAAAAAAAAAAAAAAAAAFQA7AHN0cmlkZWRfemlwL2J5dGVvcmRlckZCNwBaWlpaWlpaWlpaWlpaWlpa"
    "WlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpabGl0dGxlUEsHCIU94xkGAAAABgAAAFBLAwQAAAgIAAAAAAAAAAAAAAAA"
    "AAAAAAAAEgA6AHN0cmlkZWRfemlwL2RhdGEvMEZCNgBaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpa"
    "WlpaWloAAAAAAACAPwAAAEAAAEBAAACAQAAAoEAAAMBAAADgQAAAAEEAABBBAAAgQQAAMEFQSwcIeH1mPjAAAAAwAAAAUEsDBAAACAgAAAAA"
    "AAAAAAAAAAAAAAAAAAASABAAc3RyaWRlZF96aXAvZGF0YS8xRkIMAFpaWlpaWlpaWlpaWgMAAAAAAAAAUEsHCIrYresIAAAACAAAAFBLAwQA"
    "AAgIAAAAAAAAAAAAAAAAAAAAAAAAEgA4AHN0cmlkZWRfemlwL2RhdGEvMkZCNABaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpa"
    "WlpaWlpaWlpaWlpaWlpaWlpaAACAPwAAgD8AAIA/AACAP1BLBwhWFGjoEAAAABAAAABQSwMEAAAICAAAAAAAAAAAAAAAAAAAAAAAABMALwBz"
    "dHJpZGVkX3ppcC92ZXJzaW9uRkIrAFpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlozClBLBwjRnmdVAgAAAAIA"
    "AABQSwMEAAAICAAAAAAAAAAAAAAAAAAAAAAAACIALgBzdHJpZGVkX3ppcC8uZGF0YS9zZXJpYWxpemF0aW9uX2lkRkIqAFpaWlpaWlpaWlpa"
    "WlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWjA4NDk0ODg4NDc5NjUwNDg3MzUwMTM4MzYwNzQ3OTgwMDUyNDE5MDlQSwcIm76OZCgA"
    "AAAoAAAAUEsBAgAAAAAICAAAAAAAANendTVYAQAAWAEAABQAAAAAAAAAAAAAAAAAAAAAAHN0cmlkZWRfemlwL2RhdGEucGtsUEsBAgAAAAAI"
    "CAAAAAAAALfv3IMBAAAAAQAAABsAAAAAAAAAAAAAAAAAqAEAAHN0cmlkZWRfemlwLy5mb3JtYXRfdmVyc2lvblBLAQIAAAAACAgAAAAAAAA/"
    "d3HpAgAAAAIAAAAeAAAAAAAAAAAAAAAAABECAABzdHJpZGVkX3ppcC8uc3RvcmFnZV9hbGlnbm1lbnRQSwECAAAAAAgIAAAAAAAAhT3jGQYA"
    "AAAGAAAAFQAAAAAAAAAAAAAAAACSAgAAc3RyaWRlZF96aXAvYnl0ZW9yZGVyUEsBAgAAAAAICAAAAAAAAHh9Zj4wAAAAMAAAABIAAAAAAAAA"
    "AAAAAAAAFgMAAHN0cmlkZWRfemlwL2RhdGEvMFBLAQIAAAAACAgAAAAAAACK2K3rCAAAAAgAAAASAAAAAAAAAAAAAAAAAMADAABzdHJpZGVk"
    "X3ppcC9kYXRhLzFQSwECAAAAAAgIAAAAAAAAVhRo6BAAAAAQAAAAEgAAAAAAAAAAAAAAAAAYBAAAc3RyaWRlZF96aXAvZGF0YS8yUEsBAgAA"
    "AAAICAAAAAAAANGeZ1UCAAAAAgAAABMAAAAAAAAAAAAAAAAAoAQAAHN0cmlkZWRfemlwL3ZlcnNpb25QSwECAAAAAAgIAAAAAAAAm76OZCgA"
    "AAAoAAAAIgAAAAAAAAAAAAAAAAASBQAAc3RyaWRlZF96aXAvLmRhdGEvc2VyaWFsaXphdGlvbl9pZFBLBgYsAAAAAAAAAB4DLQAAAAAAAAAA"
    "AAkAAAAAAAAACQAAAAAAAABrAgAAAAAAALgFAAAAAAAAUEsGBwAAAAAjCAAAAAAAAAEAAABQSwUGAAAAAAkACQBrAgAAuAUAAAAA"
)


#: Backbones whose weights come with screentime's own dependencies (pyproject.toml): missing is a broken install.
CORE = ("squeezenet", "efficientnet-lite0")


def installed(name):
    if BACKBONES[name].weights_path() is None:
        message = f"{BACKBONES[name].package} is not installed: {BACKBONES[name].install}"
        if name in CORE:
            pytest.fail(message)
        pytest.skip(message)


@pytest.mark.parametrize("data", [LEGACY, ZIP], ids=["legacy", "zip"])
def test_state_dict_read_without_torch_in_either_format(tmp_path, data):
    path = tmp_path / "state.pth"
    path.write_bytes(base64.b64decode(data))
    state = read_state_dict(path)
    np.testing.assert_array_equal(state["a"], np.arange(12, dtype=np.float32).reshape(3, 4).T)  # a strided view
    assert state["a"].dtype == np.float32 and state["b"] == 3 and state["b"].dtype == np.int64
    np.testing.assert_array_equal(state["c"], np.ones((2, 2), np.float32))  # a Parameter: its data


def test_weights_files_that_would_run_code_are_refused(tmp_path):
    class Evil:
        def __reduce__(self):
            return (print, ("this ran",))

    path = tmp_path / "evil.pkl"
    path.write_bytes(pickle.dumps({"conv1": [Evil()]}))
    with pytest.raises(WeightsUnavailable, match="builtins.print is not allowed"):
        read_pickled_arrays(path)
    with pytest.raises(WeightsUnavailable, match="not a PyTorch state dict"):
        read_state_dict(path)


@pytest.mark.parametrize("name", PACKAGED)
def test_packaged_weights_are_the_checked_files(name):
    installed(name)
    from featurestore.embedding.backbones import file_sha256

    assert file_sha256(BACKBONES[name].imagenet_weights()) == BACKBONES[name].sha256
    assert EmbeddingConfig(backbone=name).identity()["weights"] == f"imagenet:sha256:{BACKBONES[name].sha256}"


@pytest.mark.parametrize("name", PACKAGED)
def test_keras_rebuild_gives_the_original_frameworks_top5(name):
    """The same five classes, in the same order, as the original framework on scikit-image's photos."""
    installed(name)
    data = pytest.importorskip("skimage.data", reason="scikit-image gives the photos: pip install -e '.[test]'")
    from featurestore.embedding.keras_build import build_backbone
    from featurestore.embedding.preprocess import preprocessor_for

    model = build_backbone(EmbeddingConfig(weights="imagenet", backbone=name), top=True)
    photos = list(REFERENCE_TOP5[name])
    frames = [cv2.cvtColor(getattr(data, photo)(), cv2.COLOR_RGB2BGR) for photo in photos]
    logits = np.asarray(model(preprocessor_for(BACKBONES[name], 224)(frames)))
    assert {p: np.argsort(-row)[:5].tolist() for p, row in zip(photos, logits)} == REFERENCE_TOP5[name]


@pytest.mark.parametrize("name, pooling", [*((n, "avg") for n in PACKAGED), ("squeezenet", "flatten")])
def test_each_backbone_embeds_a_tiny_input(name, pooling):
    installed(name)
    from featurestore.embedding.vgg16 import VGG16Embedder

    config = EmbeddingConfig(weights="imagenet", backbone=name, image_size_px=48, pooling=pooling)
    embedder = VGG16Embedder(config, batch_size=2)
    frames = [np.full((40, 64, 3), level, np.uint8) for level in (30, 200)]
    features = embedder.embed(embedder.preprocess(frames))
    assert features.shape == (2, config.n_features) and np.isfinite(features).all()
    assert config.n_features == BACKBONES[name].n_channels * (1 if pooling == "avg" else BACKBONES[name].map_size(48) ** 2)
    assert not np.allclose(features[0], features[1])


def test_random_weights_of_a_batch_norm_backbone_are_not_dead():
    from featurestore.embedding.vgg16 import VGG16Embedder

    embedder = VGG16Embedder(EmbeddingConfig(weights="random", backbone="efficientnet-lite0", image_size_px=32))
    rng = np.random.default_rng(0)
    features = embedder.embed(embedder.preprocess([rng.integers(0, 255, (32, 32, 3), dtype=np.uint8) for _ in range(2)]))
    assert np.abs(features).max() > 0


def test_identity_names_backbone_weights_and_preprocessing():
    for name in PACKAGED:
        installed(name)
    vgg, lite = EmbeddingConfig(weights="random"), EmbeddingConfig(weights="random", backbone="efficientnet-lite0")
    assert vgg.identity()["model"] == "vgg16" and lite.identity()["model"] == "efficientnet-lite0"
    assert identity_differences(vgg.identity(), lite.identity()) == [
        "model 'vgg16' vs 'efficientnet-lite0'", "n_features 512 vs 1280",
        "preprocess 'resize_area+vgg16.preprocess_input(rgb)' vs 'resize_area+(rgb-127)/128'"]
    for name in PACKAGED:
        config = EmbeddingConfig(backbone=name, pooling="max", image_size_px=96)
        assert EmbeddingConfig.from_identity(config.identity()) == config and backbone_of_model(config.identity()["model"])


def test_store_and_model_refuse_features_of_another_backbone(tmp_path, video_5s, stand_in):
    from classifiers.chain.persist import check_config
    from featurestore import FeatureStore
    from featurestore.pipeline import embed_videos

    installed("efficientnet-lite0")
    lite = EmbeddingConfig(backbone="efficientnet-lite0", image_size_px=32)
    embed_videos([video_5s], tmp_path / "f.h5", config=lite, make_embedder=stand_in)
    vgg = EmbeddingConfig(weights="random", image_size_px=32)
    with pytest.raises(StoreMismatch, match=r"holds features of efficientnet-lite0 imagenet avg 32 px, this run asked "
                                            r"for vgg16 random.*model 'efficientnet-lite0' vs 'vgg16'") as err:
        embed_videos([video_5s], tmp_path / "f.h5", config=vgg, make_embedder=stand_in, names=["again"])
    assert "\n" not in str(err.value)

    class Saved:  # what check_config reads of a saved model
        embedding_config, path = vgg.identity(), None

    with pytest.raises(StoreMismatch, match="model vs store: model 'vgg16' vs 'efficientnet-lite0'"):
        check_config(Saved(), FeatureStore(tmp_path / "f.h5").config)


def test_other_weights_in_the_package_are_refused(tmp_path, monkeypatch):
    installed("squeezenet")
    fake = tmp_path / "squeezenet_weights.pkl"
    fake.write_bytes(pickle.dumps({"conv1": [np.zeros(1)]}))
    monkeypatch.setattr(type(BACKBONES["squeezenet"]), "weights_path", lambda self: fake)
    with pytest.raises(WeightsUnavailable, match="is not the squeezenet weights file screentime was checked against"):
        EmbeddingConfig(backbone="squeezenet")


def test_int8_is_refused_where_it_keeps_too_little():
    from featurestore.embedding.openvino import check_int8_offered
    from featurestore.embedding.runtime import build_embedder
    from featurestore.errors import PrecisionUnsupported

    for name in PACKAGED:
        config = EmbeddingConfig(weights="random", backbone=name, precision="int8")
        with pytest.raises(PrecisionUnsupported, match=f"int8 is not offered for --backbone {name}.*cosine"):
            build_embedder.check(config)
    check_int8_offered(EmbeddingConfig(weights="random", precision="int8"))  # VGG16 keeps 0.9999


def test_unknown_backbone_is_a_usage_error():
    with pytest.raises(InvalidParameter, match="backbone.*resnet"):
        EmbeddingConfig(weights="random", backbone="resnet")


def test_installed_backbones_follow_the_fallback_order():
    names = installed_backbones()
    expected = [n for n in ("efficientnet-lite0", "squeezenet", "mobilenet-v2") if BACKBONES[n].weights_path() is not None]
    assert expected and names == expected


def test_converted_weights_are_cached_by_the_files_digest(tmp_path, monkeypatch):
    installed("squeezenet")
    from featurestore.embedding import keras_build, squeezenet

    monkeypatch.setenv("SCREENTIME_CACHE", str(tmp_path))
    path = BACKBONES["squeezenet"].imagenet_weights()
    first = keras_build.converted_weights("squeezenet", path)
    assert len(list((tmp_path / "backbones").glob("squeezenet-*.npz"))) == 1
    monkeypatch.setattr(squeezenet, "converted", lambda p: pytest.fail("converted again"))
    again = keras_build.converted_weights("squeezenet", path)
    assert first.keys() == again.keys()
    assert all(np.array_equal(a, b) for k in first for a, b in zip(first[k], again[k]))
