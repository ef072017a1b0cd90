"""Store integrity (issue 8): a moved store keeps its videos, damage is refused and isolated, a lost index is
rebuilt by `check-store --repair`, and leftovers of killed runs are removed only when proven dead."""

import fcntl
import os
import shutil

import h5py
import numpy as np
import pytest

from featurestore import FeatureStore
from featurestore.errors import StoreCorrupt
from featurestore.store.integrity import repair_store, verify_store
from featurestore.store.layout import video_stem
from conftest import run_cli as run

N = 512
CONFIG = {"model": "vgg16", "weights": "random:seed=0", "pooling": "avg", "image_size_px": 32, "n_features": N}


def put(fs, video_id, n=60, seed=0):
    """Store `n` samples at 1/s of random features (seeded); returns the features."""
    X = np.random.default_rng(seed).normal(size=(n, N)).astype(np.float32)
    t = np.arange(n, dtype=np.float64)
    fs.put(video_id, requested_s=t, actual_s=t + 0.01, features=X,
           info={"sample_fps": 1.0, "duration_s": float(n), "fingerprint": f"fp-{video_id}"})
    return X


def flip_middle(path, n_bytes=16):
    data = bytearray(path.read_bytes())
    mid = len(data) // 2
    data[mid:mid + n_bytes] = bytes(b ^ 0xFF for b in data[mid:mid + n_bytes])
    path.write_bytes(bytes(data))


@pytest.fixture
def three(tmp_path):
    """A store f.h5 with videos a, b, c (60 samples of seeded random features each)."""
    fs = FeatureStore(tmp_path / "f.h5", mode="a", config=CONFIG)
    features = {v: put(fs, v, seed=i) for i, v in enumerate(["a.mp4", "b.mp4", "c.mp4"])}
    return fs, features


def test_store_renamed_or_copied_keeps_every_video(tmp_path, three):
    fs, features = three
    shard_a = fs.shard_path("a.mp4").read_bytes()
    os.rename(tmp_path / "f.h5", tmp_path / "y.h5")
    os.rename(tmp_path / "f.h5.d", tmp_path / "y.h5.d")
    moved = FeatureStore(tmp_path / "y.h5")
    np.testing.assert_array_equal(moved.load("a.mp4")[1], features["a.mp4"])  # reads before any write
    put(FeatureStore(tmp_path / "y.h5", mode="a", config=CONFIG), "d.mp4", seed=9)  # used to delete a, b and c
    after = FeatureStore(tmp_path / "y.h5")
    assert after.video_ids() == ["a.mp4", "b.mp4", "c.mp4", "d.mp4"]
    assert after.shard_path("a.mp4").read_bytes() == shard_a
    with h5py.File(tmp_path / "y.h5") as f:  # links rewritten by the write: plain h5py follows them again
        np.testing.assert_array_equal(f["videos/b.mp4/features"][:], features["b.mp4"])
    elsewhere = tmp_path / "other machine"
    elsewhere.mkdir()
    shutil.copy(tmp_path / "y.h5", elsewhere / "z.h5")
    shutil.copytree(tmp_path / "y.h5.d", elsewhere / "z.h5.d")
    np.testing.assert_array_equal(FeatureStore(elsewhere / "z.h5").load("c.mp4")[1], features["c.mp4"])
    check = verify_store(elsewhere / "z.h5")
    assert check.is_intact and check.stale_links
    repair_store(elsewhere / "z.h5")
    assert not verify_store(elsewhere / "z.h5").stale_links


def test_flipped_bytes_are_refused_naming_the_video(tmp_path, three, capsys):
    fs, features = three
    flip_middle(fs.shard_path("b.mp4"))
    with pytest.raises(StoreCorrupt, match=r"video 'b.mp4' is damaged \(its features fail their checksum"):
        fs.load("b.mp4")
    np.testing.assert_array_equal(fs.load("a.mp4")[1], features["a.mp4"])
    assert fs.problem("b.mp4") and fs.problem("c.mp4") is None
    check = fs.verify()
    assert not check.is_intact and [(v.video_id, v.problem is not None) for v in check.videos] == [
        ("a.mp4", False), ("b.mp4", True), ("c.mp4", False)]
    code, out, err = run(["check-store", "--store", tmp_path / "f.h5"], capsys)
    assert code == 1, err
    assert [line for line in out.splitlines() if line.startswith("damaged")] == [
        f"damaged: 'b.mp4' (shard {fs.shard_path('b.mp4').name}): its features fail their checksum (changed on disk)"]
    assert "3 videos, 2 intact, 1 damaged" in out


def test_compare_models_refuses_damaged_labelled_video_in_one_line(tmp_path, three, capsys):
    fs, _ = three
    labels = tmp_path / "labels.csv"
    labels.write_text("video,start,end,label\n" + "".join(f"{v},0,30,x\n{v},30,60,y\n" for v in ["a.mp4", "b.mp4", "c.mp4"]))
    flip_middle(fs.shard_path("c.mp4"))
    code, out, err = run(["compare-models", "--store", tmp_path / "f.h5", "--labels", labels, "--models", "logreg",
                          "--out", tmp_path / "m.joblib", "--jobs", "1"], capsys)
    assert code == 1 and err.count("\n") == 1 and "'c.mp4' is damaged" in err and "Traceback" not in err
    assert not (tmp_path / "m.joblib").exists()


def test_truncated_shard_leaves_other_videos_usable(tmp_path, three):
    fs, features = three
    shard = fs.shard_path("b.mp4")
    shard.write_bytes(shard.read_bytes()[: shard.stat().st_size // 3])
    table = fs.videos()  # used to raise
    assert list(table.index) == ["a.mp4", "b.mp4", "c.mp4"]
    assert table.loc["a.mp4", "problem"] == "" and table.loc["a.mp4", "n_samples"] == 60
    assert table.loc["b.mp4", "problem"].startswith("unreadable")
    with pytest.raises(StoreCorrupt, match="'b.mp4' is damaged"):
        fs.info("b.mp4")
    with pytest.warns(UserWarning, match="left out 1 damaged videos \\('b.mp4'\\)"):
        df = fs.to_pandas()
    assert sorted(set(df.index.get_level_values("video"))) == ["a.mp4", "c.mp4"]
    np.testing.assert_array_equal(fs.load("c.mp4")[1], features["c.mp4"])


def test_check_store_repair_rebuilds_truncated_index_bit_identical(tmp_path, three, capsys):
    fs, features = three
    shards = {v: fs.shard_path(v).read_bytes() for v in features}
    damaged_name = fs.shard_path("c.mp4").name
    flip_middle(fs.shard_path("c.mp4"))
    index = tmp_path / "f.h5"
    index.write_bytes(index.read_bytes()[:700])
    with pytest.raises(StoreCorrupt, match="store index is damaged .*check-store --store .* --repair"):
        FeatureStore(index)
    code, out, err = run(["check-store", "--store", index], capsys)
    assert code == 1 and "rebuilds it from the 3 shards found (2 intact)" in out
    code, out, err = run(["check-store", "--store", index, "--repair"], capsys)
    assert code == 0, err
    assert "rebuilt the index from the 2 intact shards" in out and f"left out 'c.mp4' of shard {damaged_name}" in out
    assert "2 videos, all intact" in out
    repaired = FeatureStore(index)
    assert repaired.video_ids() == ["a.mp4", "b.mp4"] and repaired.config == CONFIG
    for v in ("a.mp4", "b.mp4"):
        np.testing.assert_array_equal(repaired.load(v)[1], features[v])
        assert repaired.shard_path(v).read_bytes() == shards[v]
    assert (tmp_path / "f.h5.d" / "damaged" / damaged_name).exists()  # kept aside, not deleted
    put(FeatureStore(index, mode="a", config=CONFIG), "c.mp4", seed=2)  # the store is writable again
    assert FeatureStore(index).video_ids() == ["a.mp4", "b.mp4", "c.mp4"]


def test_check_store_repair_with_missing_index_and_intact_store(tmp_path, three, capsys):
    fs, features = three
    (tmp_path / "f.h5").unlink()
    with pytest.raises(StoreCorrupt, match="index is missing but f.h5.d/ holds 3 video shards"):
        FeatureStore(tmp_path / "f.h5")
    code, out, _ = run(["check-store", "--store", tmp_path / "f.h5", "--repair"], capsys)
    assert code == 0 and "3 videos, all intact" in out
    code, out, _ = run(["check-store", "--store", tmp_path / "f.h5"], capsys)
    assert code == 0 and out.strip().splitlines() == [f"{tmp_path / 'f.h5'}: 3 videos, all intact"]


def test_check_store_repair_drops_damaged_video_from_readable_index(tmp_path, three, capsys):
    fs, features = three
    flip_middle(fs.shard_path("a.mp4"))
    code, out, _ = run(["check-store", "--store", tmp_path / "f.h5", "--repair"], capsys)
    assert code == 0 and "left out 'a.mp4' (its features fail their checksum" in out
    assert FeatureStore(tmp_path / "f.h5").video_ids() == ["b.mp4", "c.mp4"]
    assert FeatureStore(tmp_path / "f.h5").repair().is_intact and fs.verify().is_intact


def test_check_store_refuses_foreign_file_untouched(tmp_path, capsys):
    thesis = tmp_path / "thesis.h5"
    thesis.write_text("my thesis")
    for argv in (["check-store", "--store", thesis], ["check-store", "--store", thesis, "--repair"]):
        code, _, err = run(argv, capsys)
        assert code == 1 and err.count("\n") == 1 and "not a screentime store" in err
    assert thesis.read_text() == "my thesis"


def test_killed_writer_leftovers_are_swept_only_when_dead(tmp_path, three):
    """What kill -9 leaves at each step (state built by hand) is removed by the next write; live work is kept."""
    fs, features = three
    d = fs.shard_dir
    # a checkpoint folder half deleted by a kill during clean-up (its meta.json already gone)
    half = d / (video_stem("gone.mp4") + ".part")
    half.mkdir()
    (half / "chunk-000001.npz").write_bytes(b"x" * 100)
    # a checkpoint of a video that was published before the kill
    spent = d / (video_stem("a.mp4") + ".part")
    spent.mkdir()
    (spent / "meta.json").write_text(f'{{"video_id": "a.mp4", "fingerprint": "fp-a.mp4", "sample_fps": 1.0, "config": {__import__("json").dumps(CONFIG)}}}')
    # a checkpoint that can be resumed, and one whose video is being embedded by a live process right now
    resumable = d / (video_stem("todo.mp4") + ".part")
    resumable.mkdir()
    (resumable / "meta.json").write_text(f'{{"video_id": "todo.mp4", "fingerprint": "x", "sample_fps": 1.0, "config": {__import__("json").dumps(CONFIG)}}}')
    busy = d / (video_stem("busy.mp4") + ".part")
    busy.mkdir()
    busy_lock = os.open(d / (video_stem("busy.mp4") + ".lock"), os.O_RDWR | os.O_CREAT)
    fcntl.flock(busy_lock, fcntl.LOCK_EX)
    # a half-written shard of a killed writer, its lock file, a stale per-video lock, a trash folder, an index copy
    (d / ".dead-00000000.h5.tmp").write_bytes(b"half a shard")
    (d / ".dead-00000000.h5.lock").write_bytes(b"")
    (d / (video_stem("old.mp4") + ".lock")).write_bytes(b"")
    (d / ".x.part.trash-1234").mkdir()
    (tmp_path / ".f.h5.tmp-1-abc").write_bytes(b"half an index")
    check = verify_store(tmp_path / "f.h5")
    assert check.is_intact and len(check.leftovers) == 6  # the dead shard and its lock count once
    try:
        put(FeatureStore(tmp_path / "f.h5", mode="a", config=CONFIG), "d.mp4", seed=5)
        left = sorted(p.name for p in d.iterdir()) + sorted(p.name for p in tmp_path.glob(".f.h5*"))
        assert left == sorted([".lock", resumable.name, busy.name, video_stem("busy.mp4") + ".lock"]
                              + [FeatureStore(tmp_path / "f.h5").shard_path(v).name for v in ["a.mp4", "b.mp4", "c.mp4", "d.mp4"]])
    finally:
        os.close(busy_lock)


def test_shard_published_but_not_indexed_is_adopted_not_deleted(tmp_path, three):
    """kill -9 between publishing a shard and writing the index: the next write puts the video in the index."""
    fs, features = three
    other = FeatureStore(tmp_path / "g.h5", mode="a", config=CONFIG)
    x = put(other, "x.mp4", seed=7)
    shutil.copy(other.shard_path("x.mp4"), fs.shard_dir / other.shard_path("x.mp4").name)
    put(FeatureStore(tmp_path / "f.h5", mode="a", config=CONFIG), "d.mp4", seed=5)
    after = FeatureStore(tmp_path / "f.h5")
    assert after.video_ids() == ["a.mp4", "b.mp4", "c.mp4", "d.mp4", "x.mp4"]
    np.testing.assert_array_equal(after.load("x.mp4")[1], x)


def test_remove_killed_midway_never_resurrects_nor_loses(tmp_path, three):
    fs, features = three
    shard = fs.shard_path("b.mp4")
    (shard.parent / f".{shard.name}.removed").touch()  # killed after marking, before the new index: b stays
    put(FeatureStore(tmp_path / "f.h5", mode="a", config=CONFIG), "d.mp4", seed=5)
    np.testing.assert_array_equal(FeatureStore(tmp_path / "f.h5").load("b.mp4")[1], features["b.mp4"])
    assert not list(fs.shard_dir.glob("*removed*"))
    shard = fs.shard_path("c.mp4")
    (shard.parent / f".{shard.name}.removed").touch()
    index = FeatureStore(tmp_path / "f.h5", mode="a", config=CONFIG)
    with index.lock():  # killed after the new index, before deleting the shard: c must not come back
        links = index._links()
        del links["c.mp4"]
        index.write_index(links)
    put(FeatureStore(tmp_path / "f.h5", mode="a", config=CONFIG), "e.mp4", seed=6)
    assert FeatureStore(tmp_path / "f.h5").video_ids() == ["a.mp4", "b.mp4", "d.mp4", "e.mp4"]
    assert not shard.exists() and not list(fs.shard_dir.glob("*removed*"))


def test_a_shard_missing_or_not_hdf5_is_damaged_in_its_own_words(tmp_path):
    """Every shard reader says how a shard is damaged in one ShardDamaged (`shards.shard_file`), never an OSError."""
    from featurestore.store.faces import read_faces, read_faces_config
    from featurestore.store.shards import ShardDamaged, read_header, read_shard

    junk = tmp_path / "junk.h5"
    junk.write_bytes(b"not HDF5")
    for read in (read_header, read_shard, read_faces, read_faces_config):
        with pytest.raises(ShardDamaged, match="^its shard file is missing$"):
            read(tmp_path / "gone.h5")
        unreadable = "its face table is unreadable" if read.__name__.startswith("read_faces") else "unreadable"
        with pytest.raises(ShardDamaged, match=f"^{unreadable}: "):
            read(junk)
