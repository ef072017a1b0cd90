"""Real faults under a real store: a full disk (a small tmpfs) and a read-only mount (issue 8, items 5, 6, 8).

Both need to mount file systems (root here and in CI); where that is not allowed the tests skip and say so.
"""

import os
import subprocess

import numpy as np
import pytest

from conftest import error_lines, write_video, run_cli as run
from featurestore import EmbeddingConfig, FeatureStore, embed_videos
from featurestore.errors import StoreFull, StoreUnwritable

TINY = ["--weights", "random", "--image-size", "32", "--batch-size", "4"]
CONFIG = {"model": "vgg16", "weights": "random:seed=0", "pooling": "avg", "image_size_px": 32, "n_features": 512}


def mount(*args: str) -> bool:
    return os.geteuid() == 0 and subprocess.run(["mount", *args], capture_output=True).returncode == 0


@pytest.fixture
def small_disk(tmp_path):
    """A real 1 MiB tmpfs mounted at tmp_path/disk."""
    disk = tmp_path / "disk"
    disk.mkdir()
    if not mount("-t", "tmpfs", "-o", "size=1m", "tmpfs", str(disk)):
        pytest.skip("mounting a tmpfs needs root: the full-disk test runs where the machine allows it")
    yield disk
    subprocess.run(["umount", "-l", str(disk)], check=False)


@pytest.fixture
def read_only_view(tmp_path):
    """Returns view(folder): a read-only bind mount of `folder` (chmod does not stop root)."""
    mounted = []

    def view(folder):
        target = tmp_path / f"read-only {len(mounted)}"
        target.mkdir()
        if not mount("--bind", str(folder), str(target)):
            pytest.skip("bind mounts need root: the read-only store test runs where the machine allows it")
        mounted.append(target)
        if not mount("-o", "remount,bind,ro", str(target)):
            pytest.skip("cannot remount read-only here")
        return target

    yield view
    for target in reversed(mounted):
        subprocess.run(["umount", "-l", str(target)], check=False)


def free_bytes(path) -> int:
    st = os.statvfs(path)
    return st.f_bavail * st.f_frsize


def fill(disk, leave_bytes: int):
    """Fill the disk with a file so that about `leave_bytes` stay free."""
    with open(disk / "filler", "wb") as fh:
        fh.write(b"\0" * max(0, free_bytes(disk) - leave_bytes))
    return disk / "filler"


@pytest.mark.slow
def test_disk_full_while_checkpointing_one_line_and_disk_as_before(tmp_path, small_disk, capsys):
    store = small_disk / "f.h5"
    kept = write_video(tmp_path / "kept.avi", 10, 30, fourcc="MJPG")
    assert run(["embed", kept, "--store", store, *TINY], capsys)[0] == 0
    kept_bytes = FeatureStore(store).shard_path("kept.avi").read_bytes()
    long = write_video(tmp_path / "long.avi", 10, 600, fourcc="MJPG")  # 60 samples x 2 KB, checkpointed 4 at a time
    filler = fill(small_disk, 48 * 1024)
    before = free_bytes(small_disk)
    code, out, err = run(["embed", long, "--store", store, *TINY], capsys)
    assert code == 1 and "Traceback" not in err
    [line] = error_lines(err)
    assert "the disk is full" in line and "'long.avi'" in line and "checkpoint" in line and "run again" in line
    assert free_bytes(small_disk) == before  # the run's checkpoint does not keep the disk full
    assert not list((small_disk / "f.h5.d").glob("*.part")) and not list(small_disk.rglob(".*tmp*"))
    assert FeatureStore(store).video_ids() == ["kept.avi"]
    assert FeatureStore(store).shard_path("kept.avi").read_bytes() == kept_bytes
    filler.unlink()
    code, out, err = run(["embed", long, "--store", store, *TINY], capsys)
    assert code == 0, err
    assert FeatureStore(store).load("long.avi")[1].shape == (60, 512)


def test_disk_full_while_writing_shard_one_line_and_store_unchanged(small_disk):
    fs = FeatureStore(small_disk / "f.h5", mode="a", config=CONFIG)
    t = np.arange(10.0)
    fs.put("a.mp4", requested_s=t, actual_s=t, features=np.ones((10, 512)), info={"sample_fps": 1.0, "duration_s": 10.0})
    index = (small_disk / "f.h5").read_bytes()
    t = np.arange(600.0)
    with pytest.raises(StoreFull) as caught:  # 1.2 MB of features on a 1 MiB disk
        fs.put("b.mp4", requested_s=t, actual_s=t, features=np.ones((600, 512)), info={"sample_fps": 1.0, "duration_s": 600.0})
    message = str(caught.value)
    assert "\n" not in message and "cannot write the shard of 'b.mp4': the disk is full" in message
    assert (small_disk / "f.h5").read_bytes() == index
    assert sorted(p.name for p in fs.shard_dir.iterdir()) == sorted([".lock", fs.shard_path("a.mp4").name])


@pytest.fixture
def scored_store(tmp_path):
    """Three 10 s videos embedded (stand-in-free: random VGG16 at 32 px) and a logreg model trained on them."""
    from classifiers.compare import compare_models

    d = tmp_path / "data"
    d.mkdir()
    rows = ["video,start,end,label"]
    for i in range(3):
        colours = [(20 * i, 40, 40)] * 50 + [(200, 120, 90 + 10 * i)] * 50
        write_video(d / f"ep{i}.avi", 10, 100, fourcc="MJPG", colours=colours)
        rows += [f"ep{i}.avi,0,5,dark", f"ep{i}.avi,5,10,bright"]
    (d / "labels.csv").write_text("\n".join(rows) + "\n")
    embed_videos([d / f"ep{i}.avi" for i in range(3)], d / "f.h5", config=EmbeddingConfig(weights="random", image_size_px=32))
    compare_models(d / "f.h5", d / "labels.csv", out_path=d / "best.joblib", models=["logreg"], n_splits=3, n_jobs=1)
    return d


def test_score_stored_video_on_read_only_store(scored_store, read_only_view, tmp_path, capsys):
    ro = read_only_view(scored_store)
    code, out, err = run(["score", ro / "ep1.avi", "--model", ro / "best.joblib", "--store", ro / "f.h5",
                          "--json", tmp_path / "r.json"], capsys)
    assert code == 0, err  # used to fail: "cannot write the store here (Read-only file system)"
    assert "ep1.avi" in out and (tmp_path / "r.json").exists()
    new = write_video(tmp_path / "new.avi", 10, 30, fourcc="MJPG")
    code, out, err = run(["embed", new, "--store", ro / "f.h5"], capsys)
    [line] = error_lines(err)
    assert code == 1 and "cannot write the store here (Read-only file system" in line and "Traceback" not in err
    assert "'new.avi' is not stored yet" in line and "copy f.h5 and f.h5.d/ together" in line, line
    code, out, err = run(["score", new, ro / "ep1.avi", "--model", ro / "best.joblib", "--store", ro / "f.h5"], capsys)
    [line] = error_lines(err)
    assert code == 1 and "read-only here" in line and "'new.avi' is not stored yet" in line and "ep1" not in line, line
    code, out, err = run(["embed", ro / "ep1.avi", "--faces", "--store", ro / "f.h5"], capsys)
    [line] = error_lines(err)  # it said 'ep1.avi' is not stored yet
    assert code == 1 and "'ep1.avi' has no faces stored yet: to add it" in line, line


def put_store(folder):
    """A store of one video put from Python, in `folder`."""
    folder.mkdir(exist_ok=True)
    fs = FeatureStore(folder / "f.h5", mode="a", config=CONFIG)
    t = np.arange(5.0)
    fs.put("a.mp4", requested_s=t, actual_s=t, features=np.ones((5, 512)), info={"sample_fps": 1.0, "duration_s": 5.0})
    return folder / "f.h5"


def test_repair_of_a_read_only_store_is_one_line_and_checking_works(tmp_path, read_only_view, capsys):
    ro = read_only_view(put_store(tmp_path / "data").parent) / "f.h5"
    code, out, err = run(["check-store", "--store", ro], capsys)
    assert code == 0 and "all intact" in out, err
    code, out, err = run(["check-store", "--repair", "--store", ro], capsys)
    assert "Traceback" not in err  # used to be a traceback: OSError: Read-only file system: '.../f.h5.d/.lock'
    [line] = error_lines(err)
    assert code == 1 and "read-only" in line and "Read-only file system" in line and "check-store --store" in line, line


def test_writes_to_a_read_only_store_say_what_to_do(tmp_path, read_only_view, capsys):
    ro = read_only_view(put_store(tmp_path / "data").parent) / "f.h5"
    with pytest.raises(StoreUnwritable) as caught:
        FeatureStore(ro, mode="a", config=CONFIG)
    message = str(caught.value)
    assert "\n" not in message and "read-only" in message and "copy f.h5 and f.h5.d/" in message, message


def test_a_write_protected_store_file_is_read_not_replaced(tmp_path, capsys):
    store = put_store(tmp_path / "data")
    store.chmod(0o444)  # the folder stays writable: a rename would replace the file (and did)
    inode = store.stat().st_ino
    assert FeatureStore(store).load("a.mp4")[1].shape == (5, 512)
    with pytest.raises(StoreUnwritable, match="write-protected") as caught:
        FeatureStore(store, mode="a", config=CONFIG)
    assert str(store) in str(caught.value) and "chmod u+w" in str(caught.value)
    code, out, err = run(["check-store", "--repair", "--store", store], capsys)
    [line] = error_lines(err)
    assert code == 1 and "write-protected" in line and "Traceback" not in err
    assert store.stat().st_ino == inode and store.stat().st_mode & 0o777 == 0o444


def test_a_store_in_a_folder_that_does_not_exist_says_so(tmp_path):
    with pytest.raises(StoreUnwritable, match=r"the folder .*missing does not exist\); create it or choose another --store"):
        FeatureStore(tmp_path / "missing" / "f.h5", mode="a", config=CONFIG)


def test_compare_models_refuses_an_output_in_a_read_only_folder_before_any_work(scored_store, read_only_view, capsys):
    ro = read_only_view(scored_store)
    code, out, err = run(["compare-models", "--store", ro / "f.h5", "-l", ro / "labels.csv", "--out", ro / "m.skops",
                          "--models", "logreg", "-k", "3"], capsys)
    [line] = [line for line in err.splitlines() if line.lower().startswith("error")]  # click's "Error: ..."
    assert code == 2 and "is not writable" in line and "m.skops" in line, err  # was exit 1 after the whole CV
    assert "fold" not in out
