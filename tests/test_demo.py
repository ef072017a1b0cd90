"""`python cli.py demo --quick`: the README's main job runs end to end and shows the truth beside the result."""

import json
import re
import shlex

import pytest

from conftest import run_cli as run


@pytest.mark.slow
def test_demo_quick_runs_end_to_end(tmp_path, capsys, monkeypatch):
    """Offline, without cached ImageNet weights: pretrained features of a packaged backbone (issue 27), said in
    one line, every output written, and the printed next command works as printed."""
    import featurestore.embedding.auto as auto

    monkeypatch.setenv("COLUMNS", "80")
    monkeypatch.setattr(auto, "imagenet_weights_path", lambda: None)
    monkeypatch.setattr(auto, "imagenet_reachable", lambda: (False, "Name or service not known"))
    from featurestore.embedding.vgg16 import VGG16Embedder

    original_init = VGG16Embedder.__init__

    def no_download(self, config, *args, **kwargs):
        assert config.backbone != "vgg16", "the demo tried to download the ImageNet weights"
        original_init(self, config, *args, **kwargs)

    monkeypatch.setattr(VGG16Embedder, "__init__", no_download)
    demo_dir = tmp_path / "demo"
    code, out, err = run(["demo", "--out", str(demo_dir), "--quick"], capsys)
    assert code == 0, err
    assert "predicted vs true screen time" in out and "test_0.mp4" in out
    # multi-label (issue 11): each character's time, their time together and the time with neither; time
    # together counts for both, so jerry + tom - together + neither is the 20 s video
    predicted = {name: float(x) for name, x in
                 re.findall(r"│ (jerry|tom|together|neither)\s+│\s+([\d.]+) │\s+[\d.]+ │\s+[+-]", out)}
    assert set(predicted) == {"jerry", "tom", "together", "neither"}
    assert abs(predicted["jerry"] + predicted["tom"] - predicted["together"] + predicted["neither"] - 20.0) < 0.2
    assert "not in the Keras cache" in err and "using efficientnet-lite0" in err  # the weights used are announced
    assert "RANDOM" not in err

    store = demo_dir / "features-efficientnet-lite0-imagenet-96px.h5"
    for path in (demo_dir / "best.skops", demo_dir / "labels.csv", store, demo_dir / "result.json",
                 demo_dir / "segments.csv", demo_dir / "timeline.png", demo_dir / "report.html"):
        assert path.is_file() and str(path) in out, path
    assert "test_0.mp4" in (demo_dir / "report.html").read_text() and "data:image/jpeg" in (demo_dir / "report.html").read_text()
    assert (demo_dir / "videos" / "test_0.vtt").read_text().startswith("WEBVTT")
    result = json.loads((demo_dir / "result.json").read_text())
    assert result["videos"][0]["video"] == "test_0.mp4" and result["model"]["multi_label"] is True
    assert "--multi-label" in out  # the printed compare-models command reads the demo's overlapping labels

    [score_line] = [line.strip() for line in out.splitlines() if line.strip().startswith("screentime score ")]
    code, out, err = run(shlex.split(score_line)[1:], capsys)
    assert code == 0, err
    assert json.loads(out)["videos"][0]["screen_time_s"] == pytest.approx(
        json.loads((demo_dir / "result.json").read_text())["videos"][0]["screen_time_s"])


def asked_of(monkeypatch, tmp_path, name: str, **options) -> dict:
    """The keyword arguments `cartoons.demo.run_demo(tmp_path, **options)` passes to its step `name` (stopped there)."""
    import cartoons.demo as demo

    asked = {}

    def stop(*args, **kwargs):
        asked.update(kwargs)
        raise RuntimeError("stop here")

    monkeypatch.setattr(demo, name, stop)
    with pytest.raises(RuntimeError, match="stop here"):
        demo.run_demo(tmp_path, **options)
    return asked


@pytest.mark.parametrize("seed", [None, 7])
def test_run_demo_draws_its_cartoons_from_its_seed(tmp_path, monkeypatch, seed):
    """bench/demo_seeds.py judges the demo on other cartoons than its own: run_demo(seed=N); 0 is the demo's."""
    asked = asked_of(monkeypatch, tmp_path, "make_dataset", **({} if seed is None else {"seed": seed}))
    assert asked["seed"] == (0 if seed is None else seed)


def test_run_demo_trains_on_longer_cartoons_with_standardized_features(tmp_path, monkeypatch):
    """The demo's settings (docs/backbones.md, "The demo's numbers, over seeds"): N_TRAIN labelled cartoons twice as
    long as the held-out ones, compare-models with FEATURE_NORM; --quick keeps them short and few."""
    import cartoons.demo as demo

    asked = asked_of(monkeypatch, tmp_path, "make_dataset")
    assert (asked["n_train"], asked["duration_s"], asked["train_duration_s"]) == (demo.N_TRAIN, 60.0, 120.0) == (4, 60.0, 120.0)
    asked = asked_of(monkeypatch, tmp_path, "make_dataset", quick=True)
    assert asked["train_duration_s"] == asked["duration_s"] == 20.0 and asked["n_train"] == 2

    monkeypatch.setattr(demo, "make_dataset", lambda *a, **k: ([], []))
    monkeypatch.setattr(demo, "write_interval_labels", lambda path, *a, **k: path)
    monkeypatch.setattr(demo, "demo_embedder", lambda *a, **k: type("E", (), {"config": demo.EmbeddingConfig(weights="random"), "device": "cpu"})())
    monkeypatch.setattr(demo, "embed_videos", lambda *a, **k: None)
    assert asked_of(monkeypatch, tmp_path, "compare_models")["feature_norm"] == demo.FEATURE_NORM == "standardize"
    assert asked_of(monkeypatch, tmp_path, "compare_models", quick=True)["feature_norm"] == "auto"


def test_held_out_cartoon_does_not_depend_on_the_training_length(tmp_path):
    """Longer labelled cartoons leave the held-out one (and so the demo's truth) exactly as it was."""
    from cartoons.synthetic import make_dataset, true_presence

    _, [short] = make_dataset(tmp_path / "a", n_train=1, n_test=1, duration_s=6.0, seed=3, shared=True, size=(64, 48))
    [train], [long] = make_dataset(tmp_path / "b", n_train=1, n_test=1, duration_s=6.0, seed=3, shared=True, size=(64, 48),
                                   train_duration_s=12.0)
    assert train.duration_s == 12.0 and long.duration_s == 6.0
    assert [(s.start_s, s.end_s, s.label) for s in long.shots] == [(s.start_s, s.end_s, s.label) for s in short.shots]
    assert true_presence(long) == true_presence(short)
    assert (tmp_path / "a" / "test_0.mp4").read_bytes() == (tmp_path / "b" / "test_0.mp4").read_bytes()


def test_demo_store_is_named_by_its_pooling_when_not_avg(tmp_path):
    """bench/demo_seeds.py --pooling max must not reuse (or be refused by) an average-pooled store of the same folder."""
    from cartoons.demo import demo_store_path
    from featurestore.embedding.config import EmbeddingConfig

    avg = demo_store_path(tmp_path, "features", EmbeddingConfig(weights="random", image_size_px=32), 32)
    peak = demo_store_path(tmp_path, "features", EmbeddingConfig(weights="random", image_size_px=32, pooling="max"), 32)
    assert avg.name == "features-vgg16-random-32px.h5" and peak.name == "features-vgg16-random-32px-max.h5"


def test_quick_gives_tiny_settings_only_for_what_is_not_given(tmp_path, monkeypatch, capsys):
    """`demo --quick --train-videos 3 --duration-s 30` asked for 3 videos of 30 s and got QUICK's 2 of 20 s: what the
    command line gives wins over --quick, for the cartoons and the faces alike."""
    import cartoons.demo_faces as demo_faces

    asked = asked_of(monkeypatch, tmp_path, "make_dataset", quick=True, n_train=3, duration_s=30.0)
    assert (asked["n_train"], asked["duration_s"], asked["n_test"]) == (3, 30.0, 1)
    seen = {}

    def stop(*args, **kwargs):
        seen.update(kwargs)
        raise RuntimeError("stop here")

    monkeypatch.setattr(demo_faces, "make_actor_dataset", stop)
    with pytest.raises(RuntimeError, match="stop here"):
        run(["demo", "--faces", "--quick", "--train-videos", "4", "--out", str(tmp_path / "f")], capsys)
    assert (seen["n_train"], seen["duration_s"]) == (4, 20.0)
