"""Train and serve from one config (issue 16): every identity key survives embed -> compare-models -> save -> score,
a store or model that differs in any key is refused in one line, and the store and files are read once."""

import io
import json
import zipfile

import numpy as np
import pytest

from conftest import run_cli, write_video
from featurestore import EmbeddingConfig, FeatureStore, embed_videos
from featurestore.embedding.config import IDENTITY_KEYS, config_identity, identity_differences
from featurestore.errors import NotEmbedded, StoreMismatch
from test_score import labelled_episodes, make_episode

BF16 = EmbeddingConfig(weights="random", image_size_px=32, precision="bfloat16")


@pytest.fixture(scope="module")
def bf16(tmp_path_factory):
    """Three labelled colour episodes embedded in bfloat16 (by the stand-in embedder), a model, a held-out one."""
    from classifiers.compare import compare_models
    from conftest import TinyEmbedder

    d = tmp_path_factory.mktemp("bf16")
    episodes = labelled_episodes(d, 3, seconds=20)
    make_episode(d / "new.avi", seed=9, seconds=20)
    embed_videos(episodes, d / "f.h5", config=BF16, make_embedder=TinyEmbedder)
    compare_models(d / "f.h5", d / "labels.csv", out_path=d / "m.skops", models=["logreg"], n_splits=3)
    return d


def test_a_bfloat16_model_scores_into_its_training_store(bf16):
    from classifiers.chain.persist import load_model
    from classifiers.score import embedding_config_for, score_videos
    from conftest import TinyEmbedder

    saved = load_model(bf16 / "m.skops")
    assert saved.embedding_config["precision"] == "bfloat16"
    assert embedding_config_for(saved).identity() == BF16.identity()
    result = score_videos([bf16 / "new.avi"], model_path=bf16 / "m.skops", store_path=bf16 / "f.h5",
                          make_embedder=TinyEmbedder)
    assert result.videos[0].video_id == "new.avi" and "new.avi" in FeatureStore(bf16 / "f.h5")
    score_videos([bf16 / "new.avi"], model_path=bf16 / "m.skops", store_path=bf16 / "fresh.h5", make_embedder=TinyEmbedder)
    assert config_identity(FeatureStore(bf16 / "fresh.h5").config)["precision"] == "bfloat16"  # not float32


@pytest.mark.parametrize("key, value", [("model", "resnet50"), ("weights", "imagenet"), ("pooling", "max"),
                                        ("image_size_px", 64), ("n_features", 256), ("preprocess", "other"),
                                        ("precision", "float32")])
def test_a_model_is_refused_against_a_store_differing_in_any_identity_key(bf16, key, value):
    from classifiers.chain.persist import check_config, load_model

    saved = load_model(bf16 / "m.skops")
    store_config = {**saved.embedding_config, key: value}
    if key == "precision":
        store_config.pop("precision")  # a float32 store made before the key existed says nothing
    with pytest.raises(StoreMismatch, match=rf"model vs store: {key} "):
        check_config(saved, store_config, store_path="other.h5")


def test_the_cli_refuses_a_float32_store_for_a_bfloat16_model_in_one_line(bf16, tmp_path, capsys):
    f32 = EmbeddingConfig(weights="random", image_size_px=32)
    write_video(tmp_path / "v.avi", 10, 30, fourcc="MJPG")
    from conftest import TinyEmbedder

    embed_videos([tmp_path / "v.avi"], tmp_path / "f32.h5", config=f32, make_embedder=TinyEmbedder)
    code, out, err = run_cli(["score", tmp_path / "v.avi", "--model", bf16 / "m.skops", "--store", tmp_path / "f32.h5"],
                             capsys)
    assert code == 1 and err.count("\n") == 1 and "precision 'bfloat16' vs 'float32'" in err


def test_every_identity_key_survives_a_round_trip(tmp_path):
    weights = tmp_path / "w.weights.h5"
    weights.write_bytes(b"not really weights, but a file with a digest")
    for config in (EmbeddingConfig(weights="random"), BF16, EmbeddingConfig(weights="imagenet", pooling="flatten"),
                   EmbeddingConfig(weights=str(weights), pooling="max", image_size_px=64)):
        again = EmbeddingConfig.from_identity(config.identity(), weights_path=config.weights_path)
        assert again.identity() == config.identity() and not identity_differences(config.identity(), again.identity())
    assert set(config_identity({})) == set(IDENTITY_KEYS)


def test_each_file_is_probed_once_per_embed(tmp_path, monkeypatch, stand_in):
    import featurestore.pipeline
    import featurestore.video.pyav as pyav

    calls = []
    real = pyav.probe

    def counting(path):
        calls.append(str(path))
        return real(path)

    monkeypatch.setattr(pyav, "probe", counting)
    monkeypatch.setattr(featurestore.pipeline, "probe", counting)
    paths = [write_video(tmp_path / f"v{i}.avi", 10, 100, fourcc="MJPG") for i in range(2)]
    embed_videos(paths, tmp_path / "f.h5", config=EmbeddingConfig(weights="random", image_size_px=32),
                 make_embedder=stand_in, workers=0, min_split_s=1.0)
    assert sorted(calls) == sorted(str(p) for p in paths)


def test_score_opens_the_store_once(bf16, monkeypatch):
    from classifiers.score import score_videos

    opened = []
    real = FeatureStore.__init__

    def counting(self, *args, **kwargs):
        opened.append(args[0] if args else kwargs.get("path"))
        real(self, *args, **kwargs)

    monkeypatch.setattr(FeatureStore, "__init__", counting)
    score_videos([bf16 / "ep0.avi", bf16 / "ep1.avi"], model_path=bf16 / "m.skops", store_path=bf16 / "f.h5")
    assert len(opened) == 1


def test_videos_flags_features_that_fail_their_checksum_when_asked(tmp_path, stand_in):
    embed_videos([write_video(tmp_path / "v.avi", 10, 50, fourcc="MJPG")], tmp_path / "f.h5",
                 config=EmbeddingConfig(weights="random", image_size_px=32), make_embedder=stand_in)
    store = FeatureStore(tmp_path / "f.h5")
    import h5py

    with h5py.File(store.shard_path("v.avi"), "r+") as f:
        f["video/features"][0, 0] += 1.0
    assert store.videos().loc["v.avi", "problem"] == ""  # the description alone is intact
    assert "checksum" in store.videos(verify=True).loc["v.avi", "problem"]


def test_not_embedded_lists_stored_ids_with_an_ellipsis(tmp_path):
    config = EmbeddingConfig(weights="random", image_size_px=32).identity()
    store = FeatureStore(tmp_path / "f.h5", mode="a", config=config)
    for i in range(7):
        store.put(f"v{i}.mp4", requested_s=[0.0], actual_s=[0.0], features=np.zeros((1, 512)),
                  info={"sample_fps": 1.0, "duration_s": 1.0})
    with pytest.raises(NotEmbedded, match=r"'v4.mp4', \.\.\.\)"):
        store.read("other.mp4")


def test_a_model_file_naming_the_classes_where_they_were_still_loads(bf16, tmp_path):
    """Model files written before issue 16 moved classifiers.registry.ReduceDims & co. keep loading."""
    from classifiers.chain.modelfile import MOVED_TYPES, dump_model_file, load_model_file
    from classifiers.chain.estimators import MultiLabelClassifier
    from classifiers.selection.registry import build_model

    X, y = np.random.default_rng(0).normal(size=(40, 300)), np.tile([0, 1], 20)
    model = MultiLabelClassifier(estimator=build_model("mlp")).fit(X, np.column_stack([y, 1 - y]))
    dump_model_file({"pipeline": model}, tmp_path / "new.skops")
    back = {now: was for was, now in MOVED_TYPES.items()}

    def rename(node):  # every class to where it was before the move
        if isinstance(node, dict):
            was = back.get(f"{node.get('__module__')}.{node.get('__class__')}")
            if was:
                node["__module__"], node["__class__"] = was.rsplit(".", 1)
            for value in node.values():
                rename(value)
        elif isinstance(node, list):
            for value in node:
                rename(value)

    with zipfile.ZipFile(tmp_path / "new.skops") as z:
        schema = json.loads(z.read("schema.json"))
        rename(schema)
        out = io.BytesIO()
        with zipfile.ZipFile(out, "w") as w:
            for item in z.infolist():
                w.writestr(item, json.dumps(schema) if item.filename == "schema.json" else z.read(item.filename))
    text = json.dumps(schema)
    assert "classifiers.registry" in text and "classifiers.multilabel" in text and "classifiers.chain" not in text
    old = out.getvalue()
    (tmp_path / "old.skops").write_bytes(old)
    loaded = load_model_file(tmp_path / "old.skops")["pipeline"]
    np.testing.assert_array_equal(loaded.predict_proba(X), model.predict_proba(X))


@pytest.mark.parametrize("prog", ["screentime", "python cli.py"])
def test_messages_name_the_command_as_the_user_runs_it(tmp_path, capsys, prog):
    write_video(tmp_path / "v.avi", 10, 30, fourcc="MJPG")
    code, out, err = run_cli(["score", tmp_path / "v.avi", "--model", tmp_path / "none.skops"], capsys, prog_name=prog)
    assert code == 1 and f"`{prog} compare-models --out" in err
    code, out, err = run_cli(["check-store", "--store", tmp_path / "nothing.h5"], capsys, prog_name=prog)
    assert code == 1


@pytest.mark.parametrize("argv, option", [
    (["score", "v.avi", "--smooth", "wobble"], "--smooth"),
    (["score", "v.avi", "--fps", "-1"], "--fps"),
    (["suggest-labels", "--budget-s", "1", "--out", "t.csv"], "--budget-s"),
    (["compare-models", "-l", "l.csv", "--context-s", "soon"], "--context-s"),
    (["compare-models", "-l", "l.csv", "--none-label", "nobody"], "--none-label"),
    (["compare-models", "-l", "l.csv", "--report", "r.txt"], "--report"),
])
def test_library_refusals_are_usage_errors_naming_the_option(tmp_path, capsys, monkeypatch, argv, option):
    monkeypatch.chdir(tmp_path)
    code, out, err = run_cli(argv, capsys)
    assert code == 2 and f"Invalid value for {option}:" in err and "Traceback" not in err


def test_features_of_another_network_are_scored_from_the_store(tmp_path, stand_in):
    """A store of features made elsewhere (e.g. by another network) trains and scores; only new videos need VGG16."""
    from classifiers.compare import compare_models
    from classifiers.score import score_videos
    from test_score import labelled_episodes
    from featurestore.errors import WeightsUnavailable

    config = {**EmbeddingConfig(weights="random", image_size_px=32).identity(), "weights": "squeezenet1.1-imagenet"}
    paths = labelled_episodes(tmp_path, 3, seconds=20)
    embed_videos(paths, tmp_path / "vgg.h5", config=EmbeddingConfig(weights="random", image_size_px=32),
                 make_embedder=stand_in)
    source, foreign = FeatureStore(tmp_path / "vgg.h5"), FeatureStore(tmp_path / "f.h5", mode="a", config=config)
    for p in paths:
        v = source.read(p.name)
        foreign.put(p.name, requested_s=v.requested_s, actual_s=v.actual_s, features=v.features,
                    info={k: x for k, x in v.info.items() if k not in ("video_id", "n_samples")})
    compare_models(tmp_path / "f.h5", tmp_path / "labels.csv", out_path=tmp_path / "m.skops", models=["logreg"],
                   n_splits=3)
    result = score_videos(paths[:2], model_path=tmp_path / "m.skops", store_path=tmp_path / "f.h5")
    assert [v.video_id for v in result.videos] == ["ep0.avi", "ep1.avi"]
    new = write_video(tmp_path / "new.avi", 10, 30, fourcc="MJPG")
    with pytest.raises(WeightsUnavailable):
        score_videos([new], model_path=tmp_path / "m.skops", store_path=tmp_path / "f.h5")
