"""Nothing a user owns is overwritten (issue 23): every output of embed, score (and `Score.write`), compare-models
and suggest-labels is refused in one line, exit status 2, before any work, when it is an input of the call (a video,
the labels, the model, the store or anything in its folder) or another output, also through a symlink, '..' or
another case; and `score` without --store uses the model's training store, at the model's rate.

Each refusal runs in a fresh copy of a demo-like folder (`demo`) and checks that every file in it is byte-identical
afterwards and that nothing was added.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from pathlib import Path

import pytest

import test_score
from conftest import run_cli as run
from featurestore import EmbeddingConfig, embed_videos
from featurestore.errors import OutputRefused

RATE = 2.0  # samples per second the demo store is embedded at (not the default 1)


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    """A demo folder: videos/ep0.avi .. ep2.avi (12 s each, one colour a second: test_score's kind), labels.csv,
    the store features.h5 (+ features.h5.d/, embedded at 2 samples/s with random VGG16 at 32 px) and best.skops
    (logreg on the three videos, no per-video stages)."""
    from classifiers.compare import compare_models

    d = tmp_path_factory.mktemp("demo")
    (d / "videos").mkdir()
    episodes = test_score.labelled_episodes(d / "videos", 3, seconds=12, labels_path=d / "labels.csv")
    embed_videos(episodes, d / "features.h5", sample_fps=RATE,
                 config=EmbeddingConfig(weights="random", image_size_px=32))
    compare_models(d / "features.h5", d / "labels.csv", out_path=d / "best.skops", models=["logreg"], n_splits=3,
                   feature_norm="none", context_s=0)
    return d


@pytest.fixture
def folder(demo, tmp_path, monkeypatch):
    """A fresh copy of the demo folder, the working directory (paths as a user types them)."""
    copy = tmp_path / "demo"
    shutil.copytree(demo, copy, symlinks=True)
    monkeypatch.chdir(copy)
    return copy


def tree(folder: Path) -> dict[str, str]:
    """Every entry under `folder`: a file's SHA-256, a symlink's target, 'folder' for a folder."""
    out = {}
    for root, dirs, files in os.walk(folder):
        for name in dirs + files:
            p = Path(root, name)
            key = str(p.relative_to(folder))
            if p.is_symlink():
                out[key] = "-> " + os.readlink(p)
            elif p.is_dir():
                out[key] = "folder"
            else:
                out[key] = hashlib.sha256(p.read_bytes()).hexdigest()
    return out


def refused(argv, capsys, option: str, *expected: str) -> str:
    """Run the CLI in the current folder: exit 2, one error line naming `option` (and `expected`), no traceback,
    every file as it was. Returns stderr."""
    before = tree(Path.cwd())
    code, out, err = run(argv, capsys)
    assert code == 2, err
    errors = [line for line in err.splitlines() if line.lower().startswith("error:")]  # click's "Error: ..."
    assert len(errors) == 1 and f"Invalid value for {option}:" in errors[0], err
    assert "Traceback" not in err
    for text in expected:
        assert text in errors[0], err
    assert tree(Path.cwd()) == before
    return errors[0]


S = ["score", "videos/ep0.avi", "-m", "best.skops", "-s", "features.h5"]
C = ["compare-models", "-s", "features.h5", "-l", "labels.csv", "-m", "logreg", "-k", "3"]


@pytest.mark.parametrize("option, target, what", [
    ("--report", "videos/ep0.avi", "the video"),
    ("--plot", "videos/ep0.avi", "the video"),
    ("--json", "features.h5", "the feature store"),
    ("--label-studio", "features.h5", "the feature store"),
    ("--csv", "best.skops", "the model"),
    ("--json", "features.h5.d/r.json", "in the folder of the feature store"),
    ("--vtt", "features.h5.d", "in the folder of the feature store"),
    ("--srt", "features.h5.d/ep0.srt", "in the folder of the feature store"),
])
def test_score_refuses_an_output_on_its_inputs(folder, capsys, option, target, what):
    refused([*S, option, target], capsys, option, target, what)


def test_score_refuses_two_outputs_on_one_file(folder, capsys):
    refused([*S, "--json", "out.txt", "--csv", "out.txt"], capsys, "--csv", "out.txt is also where --json goes")
    refused([*S, "--label-studio", "tasks.json", "--report", "tasks.config.xml"], capsys, "--label-studio",
            "tasks.config.xml (the tasks' labelling config) is also where --report goes")


def test_score_writes_two_videos_of_one_file_name_to_two_subtitle_files(folder, capsys):
    """Two seasons' ep1.avi (`--ids path`, or --name s1/ep1.avi, s2/ep1.avi) were refused as sharing subs/ep1.avi.vtt."""
    code, _, err = run(["score", "videos/ep1.avi", "videos/ep2.avi", "--name", "s1/ep1.avi", "--name", "s2/ep1.avi",
                        "-m", "best.skops", "-s", "features.h5", "--vtt", "subs"], capsys)
    assert code == 0, err
    assert sorted(p.name for p in (folder / "subs").iterdir()) == ["s1_ep1.avi.vtt", "s2_ep1.avi.vtt"]
    for season, episode in (("s1", "ep1.avi"), ("s2", "ep2.avi")):  # --ids path: each stored under its path
        (folder / season).mkdir()
        shutil.copy(folder / "videos" / episode, folder / season / "ep.avi")
    code, _, err = run(["score", "s1/ep.avi", "s2/ep.avi", "--ids", "path", "-m", "best.skops", "-s", "features.h5",
                        "--vtt", "subs2"], capsys)
    assert code == 0, err
    assert sorted(p.name for p in (folder / "subs2").iterdir()) == ["s1_ep.avi.vtt", "s2_ep.avi.vtt"]


def test_symlinks_dotdot_and_case_variants_are_the_same_file(folder, capsys, monkeypatch):
    (folder / "link.html").symlink_to(folder / "videos" / "ep0.avi")
    (folder / "out").mkdir()
    refused([*S, "--report", "link.html"], capsys, "--report", "the video")
    refused([*S, "--json", "videos/../best.skops"], capsys, "--json", "the model")
    refused([*S, "--json", "out/../features.h5.d/x.json"], capsys, "--json", "in the folder of the feature store")
    refused([*C, "-o", "out/../labels.csv"], capsys, "--out", "the labels file")
    (folder / "hard.avi").hardlink_to(folder / "videos" / "ep0.avi")
    refused([*S, "--plot", "hard.avi"], capsys, "--plot", "the video")
    import featurestore.outputs as outputs

    # On a disk that ignores case (macOS, Windows) BEST.SKOPS is best.skops; this Linux disk keeps case, so say it does not
    monkeypatch.setattr(outputs, "ignores_case", lambda folder: True)
    refused([*S, "--csv", "BEST.SKOPS"], capsys, "--csv", "the model")
    refused([*S, "--json", "Out.json", "--csv", "OUT.JSON"], capsys, "--csv", "is also where --json goes")


def test_case_is_told_by_the_disk(tmp_path):
    from featurestore.outputs import ignores_case, same_file

    (tmp_path / "a.txt").write_text("a")
    assert ignores_case(tmp_path) == (tmp_path / "A.TXT").exists()
    assert same_file(tmp_path / "A.TXT", tmp_path / "a.txt") == (tmp_path / "A.TXT").exists()
    assert same_file(tmp_path / "x" / ".." / "a.txt", tmp_path / "a.txt")
    assert not same_file(tmp_path / "b.txt", tmp_path / "a.txt")


@pytest.mark.parametrize("argv, option, what", [
    (["-o", "labels.csv"], "--out", "the labels file"),
    (["--report", "labels.csv"], "--report", "the labels file"),
    (["-o", "features.h5"], "--out", "the feature store"),
    (["-o", "same.json", "--report", "same.json"], "--report", "is also where --out goes"),
])
def test_compare_models_refuses_an_output_on_its_inputs_or_the_other_output(folder, capsys, argv, option, what):
    refused([*C, *argv], capsys, option, what)


@pytest.mark.parametrize("argv, option, what", [
    (["-o", "labels.csv"], "--out", "the labels file"),
    (["-o", "best.skops"], "--out", "the model"),
    (["-o", "todo.csv", "--sheet", "todo.csv"], "--sheet", "is also where --out goes"),
    (["-o", "todo.csv", "--label-studio", "features.h5"], "--label-studio", "the feature store"),
])
def test_suggest_labels_refuses_an_output_on_its_inputs(folder, capsys, argv, option, what):
    refused(["suggest-labels", "-s", "features.h5", "-m", "best.skops", "-l", "labels.csv", "--budget-s", "4", *argv],
            capsys, option, what)


@pytest.mark.parametrize("argv, option", [
    ([*C, "-o", "shared.skops"], "--out"),
    ([*S, "--json", "shared.skops"], "--json"),
])
def test_a_write_protected_output_is_refused_not_replaced(folder, capsys, argv, option):
    """A model (or any output) made read-only by its owner (chmod a-w) is kept: refused before any work, in one line
    (a rename in a writable folder replaced it, whatever its mode, even as another user)."""
    shutil.copy(folder / "best.skops", folder / "shared.skops")
    (folder / "shared.skops").chmod(0o444)
    refused(argv, capsys, option, "shared.skops is write-protected (mode 444)", "chmod u+w")
    assert (folder / "shared.skops").stat().st_mode & 0o777 == 0o444


@pytest.mark.parametrize("argv, option", [
    ([*C, "-o", "videos"], "--out"),
    ([*C, "-o", "m.skops", "--report", "videos"], "--report"),
    (["suggest-labels", "-s", "features.h5", "-m", "best.skops", "-l", "labels.csv", "--budget-s", "4", "-o", "videos"],
     "--out"),
])
def test_an_output_that_is_a_folder_is_refused_before_any_work(folder, capsys, argv, option):
    refused(argv, capsys, option, "videos is a folder; give a file name")  # compare-models ran its CV, then failed


@pytest.mark.parametrize("argv, option", [
    ([*C, "-o", "no such folder/m.skops"], "--out"),
    ([*C, "-o", "m.skops", "--report", "no such folder/r.csv"], "--report"),
    (["cluster", "-s", "features.h5", "-o", "no such folder/c.csv"], "--out"),
])
def test_an_output_in_a_missing_folder_is_refused_before_any_work(folder, capsys, argv, option):
    refused(argv, capsys, option, "the folder no such folder does not exist")  # compare-models ran its CV first


def test_embed_refuses_a_store_on_a_video(folder, capsys):
    refused(["embed", "videos/ep0.avi", "--store", "videos/ep0.avi"], capsys, "--store", "the video")
    shutil.copy(folder / "videos" / "ep0.avi", folder / "features.h5.d" / "mine.avi")
    refused(["embed", "features.h5.d/mine.avi", "--store", "features.h5"], capsys, "--store", "has in its folder the video")


def test_python_api_refuses_an_output_on_its_inputs(folder):
    import screentime

    result = screentime.score(["videos/ep0.avi"], model="best.skops", store="features.h5")
    before = tree(folder)
    with pytest.raises(OutputRefused, match="json_path: videos/ep0.avi is the video"):
        result.write(json="videos/ep0.avi")
    with pytest.raises(OutputRefused, match="is the feature store"):
        result.write(csv="features.h5", report="r.html")
    with pytest.raises(OutputRefused, match="report_path: r.json is also where json_path goes"):
        result.write(json="r.json", report="r.json")
    with pytest.raises(OutputRefused, match="out_path: labels.csv is the labels file"):
        screentime.compare_models("features.h5", "labels.csv", out="labels.csv", models=["logreg"])
    assert tree(folder) == before
    assert result.write(json="videos/r.json") == [Path("videos/r.json")]  # beside the videos is fine
    assert result.write(json="videos/r.json") == [Path("videos/r.json")]  # and so is replacing an output


def test_score_without_store_uses_the_model_training_store_at_its_rate(demo, folder, tmp_path, capsys, monkeypatch):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    new = elsewhere / "new.avi"
    test_score.make_episode(new, seed=7, seconds=6)
    code, out, err = run(["score", folder / "videos" / "ep0.avi", "-m", folder / "best.skops", "--json", "r.json"], capsys)
    assert code == 0, err
    assert not (elsewhere / "features.h5").exists()  # the model's store (the demo's, where it was trained) was used
    [video] = json.loads((elsewhere / "r.json").read_text())["videos"]
    assert video["sample_fps"] == RATE and len(video["samples"]) == 24
    store = tmp_path / "new.h5"
    code, out, err = run(["score", new, "-m", folder / "best.skops", "-s", store, "--json", "r.json"], capsys)
    assert code == 0, err
    assert json.loads((elsewhere / "r.json").read_text())["videos"][0]["sample_fps"] == RATE  # embedded at the model's rate
    assert "trained at" not in err
    code, out, err = run(["score", new, "-m", folder / "best.skops", "-s", tmp_path / "other.h5", "--fps", "1"], capsys)
    assert code == 0, err
    assert "warning: new.avi: sampled at 1/s, best.skops was trained at 2/s" in " ".join(err.split())


def test_score_without_store_refuses_when_the_training_store_is_gone(demo, tmp_path, capsys, monkeypatch):
    work = tmp_path / "work"
    work.mkdir()
    shutil.copy(demo / "best.skops", work / "best.skops")
    shutil.copy(demo / "videos" / "ep0.avi", work / "ep0.avi")
    moved = tmp_path / "moved.h5"
    os.rename(demo / "features.h5", moved)
    monkeypatch.chdir(work)
    try:
        before = tree(work)
        code, out, err = run(["score", "ep0.avi", "-m", "best.skops", "--json", "r.json"], capsys)
    finally:
        os.rename(moved, demo / "features.h5")
    assert code == 1 and err.count("\n") == 1 and "Traceback" not in err
    assert err.startswith(f"error: best.skops was trained on the features in {demo / 'features.h5'} (sampled at 2/s), "
                          "which is not there; give --store")
    assert tree(work) == before
