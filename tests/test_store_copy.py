"""FeatureStore.put_copy: a stored video's features under a new id, copied by HDF5 once their checksums pass."""

import h5py
import numpy as np
import pytest

from featurestore.errors import NotEmbedded, VideoDamaged
from featurestore.store.store import FeatureStore

CONFIG = {"model": "vgg16", "weights": "random:seed=0", "pooling": "avg", "image_size_px": 32, "n_features": 4}


def stored(tmp_path, n=300):
    fs = FeatureStore(tmp_path / "f.h5", mode="a", config=CONFIG)
    t = np.arange(n) / 2.0
    rng = np.random.default_rng(0)
    fs.put("a.mp4", requested_s=t, actual_s=t + 0.01, features=rng.normal(size=(n, 4)).astype(np.float32),
           info={"sample_fps": 2.0, "duration_s": n / 2.0, "fingerprint": "x"})
    return fs


def test_put_copy_is_bit_identical_checked_and_carries_the_checksum(tmp_path):
    fs = stored(tmp_path)
    n = fs.put_copy("b.mp4", "a.mp4", lambda info: {**info, "copied_from": "a.mp4"})
    assert n == 300
    reader = FeatureStore(tmp_path / "f.h5")
    a, b = reader.read("a.mp4"), reader.read("b.mp4")  # read() verifies both checksums
    for name in ("requested_s", "actual_s", "features"):
        np.testing.assert_array_equal(getattr(b, name), getattr(a, name))
        assert getattr(b, name).dtype == getattr(a, name).dtype
    assert b.info["copied_from"] == "a.mp4" and b.info["video_id"] == "b.mp4" and b.info["n_samples"] == 300
    assert b.info["fingerprint"] == "x" and a.info["video_id"] == "a.mp4"
    with h5py.File(reader.shard_path("a.mp4")) as fa, h5py.File(reader.shard_path("b.mp4")) as fb:
        assert fb["video"].attrs["arrays_sha256"] == fa["video"].attrs["arrays_sha256"]
        assert fb["video"].attrs["meta_sha256"] != fa["video"].attrs["meta_sha256"]
        assert fb["video/features"].chunks == fa["video/features"].chunks
    assert reader.verify().is_intact


def test_put_copy_of_a_damaged_source_raises_and_publishes_nothing(tmp_path):
    fs = stored(tmp_path)
    with h5py.File(fs.shard_path("a.mp4"), "r+") as f:  # one value changed on disk, the checksum left as it was
        f["video/features"][5, 1] += 1.0
    with pytest.raises(VideoDamaged):
        fs.put_copy("b.mp4", "a.mp4", dict)
    with pytest.raises(NotEmbedded):
        fs.put_copy("c.mp4", "gone.mp4", dict)
    assert fs.video_ids() == ["a.mp4"]
    assert sorted(p.name for p in fs.shard_dir.iterdir() if p.suffix == ".h5") == [fs.shard_path("a.mp4").name]


def test_put_copy_refuses_a_read_only_store(tmp_path):
    stored(tmp_path)
    with pytest.raises(ValueError, match="read-only"):
        FeatureStore(tmp_path / "f.h5").put_copy("b.mp4", "a.mp4", dict)


def test_finding_a_copy_source_reads_the_index_once(tmp_path, monkeypatch):
    """ContentIndex reads every video's description from one read of the index (one read per video made a copy
    cost O(n²) in a store of n videos: 3.2 s against 0.06 s for a re-run at 301 videos)."""
    from featurestore.reuse import ContentIndex
    from featurestore.store.index import StoreIndex

    fs = stored(tmp_path, n=3)
    t = np.arange(3.0)
    for k in range(5):
        fs.put(f"v{k}.mp4", requested_s=t, actual_s=t, features=np.zeros((3, 4), np.float32),
               info={"sample_fps": 1.0, "duration_s": 3.0, "fingerprint": f"fp{k}"})
    with h5py.File(fs.shard_path("v3.mp4"), "r+") as f:  # a damaged description: left out, not fatal
        f["video"].attrs["info"] = "{}"
    reads = []
    real = StoreIndex.links
    monkeypatch.setattr(StoreIndex, "links", lambda self: reads.append(1) or real(self))
    copies = ContentIndex(FeatureStore(tmp_path / "f.h5"))
    assert copies.find("fp2", 1.0) == "v2.mp4" and copies.find("x", 2.0) == "a.mp4"
    assert copies.find("fp3", 1.0) is None and copies.find("fp2", 2.0) is None
    assert len(reads) == 1


def test_the_index_records_each_shards_content_so_a_copy_opens_no_shard_to_find_its_source(tmp_path, monkeypatch):
    from featurestore.reuse import ContentIndex
    from featurestore.store import contents

    fs = stored(tmp_path, n=3)
    t = np.arange(3.0)
    for k in range(4):
        fs.put(f"v{k}.mp4", requested_s=t, actual_s=t, features=np.zeros((3, 4), np.float32),
               info={"sample_fps": 1.0, "duration_s": 3.0, "fingerprint": f"fp{k}"})
    opened = []
    real = contents.read_header
    monkeypatch.setattr(contents, "read_header", lambda path: opened.append(path) or real(path))
    copies = ContentIndex(FeatureStore(tmp_path / "f.h5"))
    assert copies.find("fp2", 1.0) == "v2.mp4" and copies.find("x", 2.0) == "a.mp4" and copies.find("fp9", 1.0) is None
    assert opened == []
    # replaced under the same id (the same shard name), with other content: the entry follows the shard
    fs.put("v2.mp4", requested_s=t, actual_s=t, features=np.ones((3, 4), np.float32),
           info={"sample_fps": 1.0, "duration_s": 3.0, "fingerprint": "new"})
    opened.clear()  # the write itself read the new shard's description, to record it
    copies = ContentIndex(FeatureStore(tmp_path / "f.h5"))
    assert copies.find("fp2", 1.0) is None and copies.find("new", 1.0) == "v2.mp4" and opened == []
    # an index written before the record existed: every shard is read, the same answers
    with h5py.File(tmp_path / "f.h5", "r+") as f:
        del f[contents.DATASET]
    copies = ContentIndex(FeatureStore(tmp_path / "f.h5"))
    assert copies.find("fp1", 1.0) == "v1.mp4" and copies.find("new", 1.0) == "v2.mp4" and len(opened) == 5
    # a shard changed on disk after the record: read again, not trusted
    fs.put("v5.mp4", requested_s=t, actual_s=t, features=np.zeros((3, 4), np.float32),
           info={"sample_fps": 1.0, "duration_s": 3.0, "fingerprint": "fp5"})  # this write records every shard again
    opened.clear()
    with h5py.File(fs.shard_path("v1.mp4"), "r+") as f:
        f["video"].attrs["info"] = "{}"
    copies = ContentIndex(FeatureStore(tmp_path / "f.h5"))
    assert copies.find("fp1", 1.0) is None and copies.find("fp5", 1.0) == "v5.mp4" and len(opened) == 1
