"""FeatureStore: layout readable with plain h5py, ids that are hard to key, config and foreign-file checks."""

import h5py
import numpy as np
import pandas as pd
import pytest

from featurestore.errors import NotEmbedded, StoreCorrupt, StoreMismatch, StoreUnwritable
from featurestore.store.store import FeatureStore
from featurestore.store.index import video_id_from_key, video_key

CONFIG = {"model": "vgg16", "weights": "random:seed=0", "pooling": "avg", "image_size_px": 32, "n_features": 4}


def put(fs, video_id, n=3, value=1.0, sample_fps=1.0):
    t = np.arange(n) / sample_fps
    fs.put(video_id, requested_s=t, actual_s=t + 0.01, features=np.full((n, 4), value),
           info={"sample_fps": sample_fps, "duration_s": n / sample_fps})


@pytest.mark.parametrize("video_id", ["ep1.mp4", "Tom and Jerry.mp4", "ünï cödé.mkv", "a/b.mp4", "../up.mp4", ".", "..", "50%/x"])
def test_video_key_round_trips_and_is_hdf5_safe(video_id):
    key = video_key(video_id)
    assert "/" not in key and key not in (".", "..")
    assert video_id_from_key(key) == video_id


def test_store_put_and_load_round_trip(tmp_path):
    fs = FeatureStore(tmp_path / "f.h5", mode="a", config=CONFIG)
    put(fs, "ep 1/../ü.mp4", n=3, value=2.0)
    put(fs, "..", n=5)
    reader = FeatureStore(tmp_path / "f.h5")
    assert reader.video_ids() == ["..", "ep 1/../ü.mp4"]
    t, X = reader.load("ep 1/../ü.mp4")
    np.testing.assert_allclose(t, [0.01, 1.01, 2.01])
    assert X.dtype == np.float32 and X.shape == (3, 4) and (X == 2.0).all()
    v = reader.read("..")
    np.testing.assert_allclose(v.requested_s, np.arange(5.0))
    assert v.info["n_samples"] == 5 and v.info["sample_fps"] == 1.0


def test_store_layout_readable_with_plain_h5py(tmp_path):
    fs = FeatureStore(tmp_path / "f.h5", mode="a", config=CONFIG)
    put(fs, "ep2.mkv", n=4, value=3.0)
    with h5py.File(tmp_path / "f.h5", "r") as f:
        assert f.attrs["screentime_store"] == 1
        assert "n_features" in f.attrs["config"]
        g = f["videos/ep2.mkv"]
        assert g["features"].shape == (4, 4) and g["features"].dtype == np.float32
        np.testing.assert_allclose(g["actual_s"][:], np.arange(4) + 0.01)
        np.testing.assert_allclose(g["requested_s"][:], np.arange(4.0))
        assert g.attrs["sample_fps"] == 1.0 and g.attrs["video_id"] == "ep2.mkv"


def test_store_videos_and_to_pandas(tmp_path):
    fs = FeatureStore(tmp_path / "f.h5", mode="a", config=CONFIG)
    put(fs, "a.mp4", n=2)
    put(fs, "b.mp4", n=3, sample_fps=2.0)
    table = fs.videos()
    assert list(table.index) == ["a.mp4", "b.mp4"]
    assert table.loc["b.mp4", "duration_s"] == 1.5 and table.loc["b.mp4", "n_samples"] == 3
    assert (table["config_pooling"] == "avg").all()
    df = fs.to_pandas()
    assert df.shape == (5, 5) and df.index.names == ["video", "time_s"]
    assert df.loc[("b.mp4", 0.51), "requested_s"] == 0.5
    assert isinstance(df.index, pd.MultiIndex)


def test_to_pandas_memory_peaks_near_the_table(tmp_path):
    """to_pandas of a collection held each video, each video's own frame and their concatenation at once (3.1x the
    table: 1.1 GB for 50 hours of 512-d features); one array filled video by video stays near 2x (traced), and the
    table is the same, row for row."""
    import tracemalloc

    config = {**CONFIG, "n_features": 256}
    fs = FeatureStore(tmp_path / "f.h5", mode="a", config=config)
    rng = np.random.default_rng(0)
    for v in range(8):
        t = np.arange(1000.0) + v
        fs.put(f"v{v}.mp4", requested_s=t, actual_s=t + 0.01, features=rng.normal(0, 1, (1000, 256)).astype(np.float32),
               info={"sample_fps": 1.0, "duration_s": 1000.0})
    fs = FeatureStore(tmp_path / "f.h5")
    tracemalloc.start()
    try:
        df = fs.to_pandas()
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    table = 8 * 1000 * 256 * 4
    assert peak < 2.4 * table, peak / table
    assert df.shape == (8000, 257) and df["f0"].dtype == np.float32 and df["requested_s"].dtype == np.float64
    expected = pd.concat([pd.DataFrame(fs.load(v)[1], columns=[f"f{i}" for i in range(256)]) for v in fs.video_ids()])
    np.testing.assert_array_equal(df.iloc[:, 1:].to_numpy(), expected.to_numpy())
    assert df.index[1000] == ("v1.mp4", 1.01) and df.loc[("v7.mp4", 7.01), "requested_s"] == 7.0


def test_store_put_replaces_and_deletes_old_shard(tmp_path):
    fs = FeatureStore(tmp_path / "f.h5", mode="a", config=CONFIG)
    put(fs, "a.mp4", n=2, value=1.0)
    put(fs, "a.mp4", n=3, value=5.0)
    assert fs.load("a.mp4")[1].shape == (3, 4) and (fs.load("a.mp4")[1] == 5.0).all()
    assert len(list(fs.shard_dir.glob("*.h5"))) == 1


def test_store_missing_video_raises_not_embedded(tmp_path):
    fs = FeatureStore(tmp_path / "f.h5", mode="a", config=CONFIG)
    put(fs, "a.mp4")
    with pytest.raises(NotEmbedded, match="'b.mp4'"):
        fs.load("b.mp4")
    with pytest.raises(KeyError):  # library users may catch the built-in
        fs.load("b.mp4")


def test_store_refuses_other_config(tmp_path):
    put(FeatureStore(tmp_path / "f.h5", mode="a", config=CONFIG), "a.mp4")  # a store holding a video keeps its config
    with pytest.raises(StoreMismatch, match="image_size_px 32 vs 224"):
        FeatureStore(tmp_path / "f.h5", mode="a", config={**CONFIG, "image_size_px": 224})


@pytest.mark.parametrize("content", [b"hello, not a store\n", b""])
def test_store_refuses_foreign_file_and_leaves_it_untouched(tmp_path, content):
    path = tmp_path / "notes.h5"
    path.write_bytes(content)
    with pytest.raises(StoreCorrupt, match="not a screentime store"):
        FeatureStore(path, mode="a", config=CONFIG)
    assert path.read_bytes() == content


def test_store_refuses_hdf5_file_of_another_tool(tmp_path):
    path = tmp_path / "other.h5"
    with h5py.File(path, "w") as f:
        f["x"] = np.arange(3)
    with pytest.raises(StoreCorrupt, match="no 'screentime_store' attribute"):
        FeatureStore(path)


def test_store_missing_file_in_read_mode(tmp_path):
    with pytest.raises(StoreCorrupt, match="no such store"):
        FeatureStore(tmp_path / "nope.h5")


def test_store_unwritable_location(tmp_path):
    blocker = tmp_path / "file.txt"
    blocker.write_text("x")
    with pytest.raises(StoreUnwritable, match="cannot write"):
        FeatureStore(blocker / "f.h5", mode="a", config=CONFIG)


def test_store_removes_orphan_shards_of_killed_writers(tmp_path):
    fs = FeatureStore(tmp_path / "f.h5", mode="a", config=CONFIG)
    put(fs, "a.mp4")
    orphan = fs.shard_dir / "deadbeefdeadbeef-00000000.h5"
    orphan.write_bytes(b"half")
    put(fs, "b.mp4")
    assert not orphan.exists() and fs.video_ids() == ["a.mp4", "b.mp4"]


def test_a_store_object_sees_what_another_wrote_and_reads_each_index_revision_once(tmp_path, monkeypatch):
    from featurestore.store.index import StoreIndex

    a = FeatureStore(tmp_path / "f.h5", mode="a", config=CONFIG)
    b = FeatureStore(tmp_path / "f.h5", mode="a", config=CONFIG)
    put(a, "one.mp4")
    reads = []
    real = StoreIndex._read_links
    monkeypatch.setattr(StoreIndex, "_read_links", lambda self, f: reads.append(self) or real(self, f))
    assert a.video_ids() == ["one.mp4"] and a.video_ids() == ["one.mp4"] and reads.count(a.index) == 1
    put(b, "two.mp4")  # a new revision of the index, written by another store object
    assert a.video_ids() == ["one.mp4", "two.mp4"] and a.video_ids() and reads.count(a.index) == 2
    b.remove("one.mp4")
    assert a.video_ids() == ["two.mp4"] and "one.mp4" not in a and reads.count(a.index) == 3


def test_an_unchanged_index_is_not_reopened_and_every_cached_read_follows_a_new_revision(tmp_path, monkeypatch):
    from featurestore.store import index as index_module

    a = FeatureStore(tmp_path / "f.h5", mode="a", config=CONFIG)
    b = FeatureStore(tmp_path / "f.h5", mode="a", config=CONFIG)
    put(a, "one.mp4")
    opened = []
    real_open = index_module.h5py.File
    monkeypatch.setattr(index_module.h5py, "File", lambda path, mode="r", **k: opened.append(path) or real_open(path, mode, **k))
    assert a.video_ids() == ["one.mp4"]
    n = len(opened)
    assert a.video_ids() == ["one.mp4"] and a.index.read_faces() == (None, set()) and len(opened) == n + 1
    assert a.video_ids() == ["one.mp4"] and len(opened) == n + 1  # links and faces: the file is not opened again
    put(b, "two.mp4")  # another object's revision: a's cached faces and links both follow it
    assert a.index.read_faces() == (None, set())
    assert a.video_ids() == ["one.mp4", "two.mp4"]


def test_an_index_rewritten_in_place_by_another_program_is_read_again(tmp_path):
    import shutil

    a = FeatureStore(tmp_path / "f.h5", mode="a", config=CONFIG)
    put(a, "one.mp4")
    shutil.copyfile(tmp_path / "f.h5", tmp_path / "backup.h5")
    put(a, "two.mp4")
    assert a.video_ids() == ["one.mp4", "two.mp4"]
    shutil.copyfile(tmp_path / "backup.h5", tmp_path / "f.h5")  # the same inode, other bytes
    assert a.video_ids() == FeatureStore(tmp_path / "f.h5").video_ids() == ["one.mp4"]


def test_store_objects_hold_a_bounded_number_of_index_files_and_still_read_right_beyond_it(tmp_path, monkeypatch):
    from featurestore.store import index as index_module

    monkeypatch.setattr(index_module, "MAX_HELD", index_module._Held.count + 2)
    stores = []
    for k in range(5):
        store = FeatureStore(tmp_path / f"s{k}.h5", mode="a", config=CONFIG)
        put(store, f"v{k}.mp4")
        stores.append(store)
    assert [s.video_ids() for s in stores] == [[f"v{k}.mp4"] for k in range(5)]
    assert sum(s.index._held is not None for s in stores) == 2  # the rest read their index each time
    put(FeatureStore(tmp_path / "s4.h5", mode="a", config=CONFIG), "w.mp4")
    assert stores[4].video_ids() == ["v4.mp4", "w.mp4"]
