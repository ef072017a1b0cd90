"""`python cli.py embed`: bad input gives one line on stderr, exit 1, and leaves the store as it was."""

import hashlib
from pathlib import Path

import h5py
import pytest

from conftest import error_lines, write_video, run_cli as run
from featurestore import FeatureStore

TINY = ["--weights", "random", "--image-size", "32", "--batch-size", "4"]


def store_digest(store: Path) -> str:
    h = hashlib.sha256()
    for p in sorted([store, *store.with_name(store.name + ".d").glob("*.h5")]):
        h.update(p.name.encode() + p.read_bytes())
    return h.hexdigest()


@pytest.fixture
def store_with_one(tmp_path, capsys):
    video = write_video(tmp_path / "kept.avi", 10, 30, fourcc="MJPG")
    store = tmp_path / "f.h5"
    code, _, err = run(["embed", str(video), "--store", str(store), *TINY], capsys)
    assert code == 0, err
    return store


def bad_inputs(tmp_path: Path) -> dict[str, Path]:
    (tmp_path / "a folder.mp4").mkdir()
    (tmp_path / "empty.mp4").write_bytes(b"")
    (tmp_path / "notes.mp4").write_text("this is a text file, not a video\n" * 50)
    (tmp_path / "picture.mp4").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(200))
    good = write_video(tmp_path / "whole.mp4", 10, 100)
    data = good.read_bytes()
    (tmp_path / "cut.mp4").write_bytes(data[: len(data) // 3])  # moov atom lost: unreadable
    return {
        "no such file": tmp_path / "missing.mp4",
        "is a directory": tmp_path / "a folder.mp4",
        "is empty": tmp_path / "empty.mp4",
        "not a readable video": tmp_path / "notes.mp4",
        "PNG image": tmp_path / "picture.mp4",
        "not a readable video ": tmp_path / "cut.mp4",
    }


def test_cli_embed_bad_inputs_one_line_and_store_untouched(tmp_path, store_with_one, capsys):
    before = store_digest(store_with_one)
    for problem, path in bad_inputs(tmp_path).items():
        code, out, err = run(["embed", str(path), "--store", str(store_with_one), *TINY], capsys)
        assert code == 1, (problem, err)
        lines = error_lines(err)
        assert len(lines) == 1 and str(path) in lines[0] and problem.strip() in lines[0], (problem, err)
        assert "Traceback" not in err
        assert store_digest(store_with_one) == before


def test_cli_embed_a_folder_takes_the_videos_directly_in_it(tmp_path, capsys):
    season = tmp_path / "season 1"
    (season / "extras").mkdir(parents=True)
    for i, n in enumerate((10, 2, 1)):
        write_video(season / f"ep{n}.avi", 10, 20 + 10 * i, fourcc="MJPG")
    write_video(season / "extras" / "trailer.avi", 10, 20, fourcc="MJPG")  # in a subfolder: not taken
    (season / "notes.txt").write_text("not a video\n")
    (season / "._ep1.avi").write_bytes(b"\x00\x05\x16\x07" + bytes(200))  # macOS metadata beside a copied file
    (season / "poster.PNG").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(100))
    single = write_video(tmp_path / "pilot.avi", 10, 20, fourcc="MJPG")
    store = tmp_path / "f.h5"
    code, out, err = run(["embed", str(single), str(season), "--store", str(store), *TINY], capsys)
    assert code == 0, err
    assert FeatureStore(store).video_ids() == ["ep1.avi", "ep10.avi", "ep2.avi", "pilot.avi"]
    rows = [line.split()[0] for line in out.splitlines() if line.strip().startswith(("ep", "pilot"))]
    assert rows == ["pilot.avi", "ep1.avi", "ep2.avi", "ep10.avi"]  # the order given, folders in natural order
    code, out, err = run(["embed", str(season / "extras"), str(season), "--store", str(store), *TINY, "--name", "x"],
                         capsys)
    assert code == 2 and "1 name for 4 videos" in err


def test_cli_embed_truncated_avi_warns_and_keeps_what_was_read(tmp_path, capsys):
    good = write_video(tmp_path / "whole.avi", 10, 100, fourcc="MJPG")
    data = good.read_bytes()
    cut = tmp_path / "cut.avi"
    cut.write_bytes(data[: len(data) * 4 // 10])
    code, out, err = run(["embed", str(cut), "--store", str(tmp_path / "f.h5"), *TINY], capsys)
    assert code == 0, err
    assert "cut.avi: decoding stopped at" in err and "of 10.0 s" in err
    info = FeatureStore(tmp_path / "f.h5").info("cut.avi")
    assert info["is_complete"] is False and 2 <= info["n_samples"] <= 4


def test_cli_embed_damaged_middle_steps_over_it(tmp_path, capsys):
    good = write_video(tmp_path / "whole.avi", 10, 100, fourcc="MJPG")
    data = bytearray(good.read_bytes())
    mid, n = len(data) // 2, len(data) // 10
    data[mid:mid + n] = bytes(n)
    damaged = tmp_path / "damaged.avi"
    damaged.write_bytes(bytes(data))
    code, out, err = run(["embed", str(damaged), "--store", str(tmp_path / "f.h5"), *TINY], capsys)
    assert code == 0, err
    assert "damaged.avi" in err and "warning" in err
    assert FeatureStore(tmp_path / "f.h5").info("damaged.avi")["n_samples"] >= 8  # frames after the damage were read


def test_cli_embed_not_a_store(tmp_path, capsys):
    video = write_video(tmp_path / "v.avi", 10, 20, fourcc="MJPG")
    store = tmp_path / "thesis.h5"
    store.write_text("my thesis, not a store")
    code, _, err = run(["embed", str(video), "--store", str(store), *TINY], capsys)
    assert code == 1 and len(error_lines(err)) == 1 and "thesis.h5" in err and "not a screentime store" in err
    assert store.read_text() == "my thesis, not a store"


def test_cli_embed_unwritable_store(tmp_path, capsys):
    video = write_video(tmp_path / "v.avi", 10, 20, fourcc="MJPG")
    (tmp_path / "file").write_text("x")
    code, _, err = run(["embed", str(video), "--store", str(tmp_path / "file" / "f.h5"), *TINY], capsys)
    assert code == 1 and len(error_lines(err)) == 1 and "cannot write" in err


def test_cli_embed_other_config_refused(tmp_path, store_with_one, capsys):
    video = write_video(tmp_path / "v.avi", 10, 20, fourcc="MJPG")
    before = store_digest(store_with_one)
    code, _, err = run(["embed", str(video), "--store", str(store_with_one), "--weights", "random",
                        "--image-size", "64"], capsys)
    assert code == 1 and "image_size_px 32 vs 64" in err and "use another --store" in err
    assert store_digest(store_with_one) == before


def test_cli_embed_twice_says_stored_and_names_work(tmp_path, capsys):
    video = write_video(tmp_path / "Tom & Jerry ü.avi", 10, 25, fourcc="MJPG")
    store = tmp_path / "f.h5"
    argv = ["embed", str(video), "--store", str(store), "--name", "season 1/../ep 1", *TINY]
    code, out, err = run(argv, capsys)
    assert code == 0 and "new" in out
    code, out, err = run(argv, capsys)
    assert code == 0 and "no decoding, no inference" in out.replace("\n", " ")
    assert FeatureStore(store).video_ids() == ["season 1/../ep 1"]
    with h5py.File(store) as f:
        assert f["videos"]["season 1%2F..%2Fep 1"]["features"].shape == (3, 512)


def test_cli_embed_help_explains_options(capsys):
    code, out, _ = run(["embed", "--help"], capsys)
    assert code == 0
    for option in ("--store", "--fps", "--weights", "--pooling", "--batch-size", "--name", "--replace", "--image-size"):
        assert option in out


def test_cli_embed_rejects_unknown_pooling(tmp_path, capsys):
    video = write_video(tmp_path / "v.avi", 10, 20, fourcc="MJPG")
    code, _, err = run(["embed", str(video), "--pooling", "mean", "--store", str(tmp_path / "f.h5")], capsys)
    assert code == 2 and "mean" in err
    assert not (tmp_path / "f.h5").exists()


def test_cli_embed_unreadable_first_video_creates_no_store(tmp_path, capsys):
    notes = tmp_path / "notes.mp4"
    notes.write_text("a text file, not a video\n" * 50)
    store = tmp_path / "f.h5"
    code, _, err = run(["embed", str(notes), "--store", str(store), "--image-size", "64"], capsys)
    assert code == 1 and len(error_lines(err)) == 1 and "notes.mp4" in err
    assert not store.exists() and not (tmp_path / "f.h5.d").exists()
    video = write_video(tmp_path / "v.avi", 10, 20, fourcc="MJPG")
    code, _, err = run(["embed", str(video), "--store", str(store), *TINY], capsys)  # other settings: not refused
    assert code == 0, err


def test_cli_embed_uses_the_store_settings_when_none_are_given(tmp_path, store_with_one, capsys):
    video = write_video(tmp_path / "v.avi", 10, 20, fourcc="MJPG")
    code, out, err = run(["embed", str(video), "--store", str(store_with_one)], capsys)  # no --weights/--image-size
    assert code == 0, err
    assert "not pretrained" in err  # the store's random weights, said so
    fs = FeatureStore(store_with_one)
    assert fs.video_ids() == ["kept.avi", "v.avi"] and fs.config["image_size_px"] == 32


def test_cli_embed_seasons_of_the_same_file_names_by_path(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    for season, n in (("season1", 20), ("season2", 30)):
        (tmp_path / season).mkdir()
        write_video(tmp_path / season / "ep1.avi", 10, n, fourcc="MJPG")
    code, _, err = run(["embed", "season1", "season2", "--store", "f.h5", *TINY], capsys)
    assert code == 1 and "--ids path" in error_lines(err)[0] and not Path("f.h5").exists()
    code, _, err = run(["embed", "season1", "./season2/", "--store", "f.h5", "--ids", "path", *TINY], capsys)
    assert code == 0, err
    store = FeatureStore("f.h5")
    assert store.video_ids() == ["season1/ep1.avi", "season2/ep1.avi"]
    assert [len(store.load(v)[0]) for v in store.video_ids()] == [2, 3]
    code, _, err = run(["embed", "season1", "--store", "f.h5", "--ids", "folder", *TINY], capsys)
    assert code == 2 and "'folder' is not one of 'name', 'path'" in err, err


def test_video_ids_name_or_path_as_given():
    from featurestore.errors import InvalidParameter
    from featurestore.video.paths import video_ids

    paths = ["./s1/ep1.mp4", Path("s2") / "x" / ".." / "ep1.mp4", "/data/s3/ep1.mp4"]
    assert video_ids(paths) == ["ep1.mp4"] * 3
    assert video_ids(paths, "path") == ["s1/ep1.mp4", "s2/ep1.mp4", "/data/s3/ep1.mp4"]
    with pytest.raises(InvalidParameter, match="ids"):
        video_ids(paths, "stem")
