"""Face tables in the store (issue 24): put and read back bit for bit, plain h5py and pandas read them, one face
config per store, checksums that check-store verifies, and removal, replacement and repair that keep them right."""

import json

import h5py
import numpy as np
import pytest

from conftest import run_cli as run
from faces_fake import random_table
from featurestore import FeatureStore
from featurestore.errors import NotEmbedded, StoreMismatch, VideoDamaged
from featurestore.faces.table import COLUMNS
from featurestore.store.integrity import repair_store, verify_store

N = 512
CONFIG = {"model": "vgg16", "weights": "random:seed=0", "pooling": "avg", "image_size_px": 32, "n_features": N}
FACES = {"detector": "fake", "min_score": 0.5}


def put(fs, video_id, n=40, seed=0, faces=None):
    """Store `n` samples at 1/s of seeded random features (times t + 0.01); returns (features, actual_s)."""
    X = np.random.default_rng(seed).normal(size=(n, N)).astype(np.float32)
    t = np.arange(n, dtype=np.float64)
    fs.put(video_id, requested_s=t, actual_s=t + 0.01, features=X, faces=faces,
           info={"sample_fps": 1.0, "duration_s": float(n), "fingerprint": f"fp-{video_id}"})
    return X, t + 0.01


def assert_same_table(a, b):
    assert (a.video_id, a.config, tuple(a.frame_size)) == (b.video_id, b.config, tuple(b.frame_size))
    for name in (*COLUMNS, "sample_times_s", "cuts_s"):
        x, y = getattr(a, name), getattr(b, name)
        assert x.dtype == y.dtype and x.shape == y.shape, name
        np.testing.assert_array_equal(x, y, err_msg=name)


@pytest.fixture
def store(tmp_path):
    """f.h5 with a.mp4 (faces stored with its features), b.mp4 (faces added later) and c.mp4 (no faces)."""
    fs = FeatureStore(tmp_path / "f.h5", mode="a", config=CONFIG)
    t = np.arange(40.0) + 0.01
    tables = {"a.mp4": random_table("a.mp4", t, seed=1, config=FACES), "b.mp4": random_table("b.mp4", t, seed=2, config=FACES)}
    features = {"a.mp4": put(fs, "a.mp4", seed=0, faces=tables["a.mp4"])[0], "b.mp4": put(fs, "b.mp4", seed=1)[0],
                "c.mp4": put(fs, "c.mp4", seed=2)[0]}
    fs.put_faces("b.mp4", tables["b.mp4"])
    return fs, tables, features


def test_faces_round_trip_bit_exact_and_features_untouched(store):
    fs, tables, features = store
    assert [fs.has_faces(v) for v in ("a.mp4", "b.mp4", "c.mp4")] == [True, True, False]
    assert fs.face_video_ids() == ["a.mp4", "b.mp4"]
    for video_id, table in tables.items():
        assert_same_table(fs.faces(video_id), table)
    for video_id, X in features.items():  # the faces-only write kept b's features bit for bit
        np.testing.assert_array_equal(fs.load(video_id)[1], X)
    assert len(list(fs.shard_dir.glob("*.h5"))) == 3  # b's replaced shard is gone
    again = FeatureStore(fs.path)  # a fresh reader sees the same
    assert_same_table(again.faces("b.mp4"), tables["b.mp4"])
    assert verify_store(fs.path).is_intact


def test_plain_h5py_reads_the_face_tables(store):
    fs, tables, _ = store
    with h5py.File(fs.path) as f:
        assert json.loads(f.attrs["faces_config"]) == FACES
        assert sorted(f["faces"]) == ["a.mp4", "b.mp4"]
        g = f["faces/b.mp4"]
        assert set(COLUMNS) | {"sample_times_s", "cuts_s"} == set(g)
        np.testing.assert_array_equal(g["embedding"][:], tables["b.mp4"].embedding)
        np.testing.assert_array_equal(g["box"][:], tables["b.mp4"].box)
        assert g.attrs["video_id"] == "b.mp4" and json.loads(g.attrs["config"]) == FACES
        assert list(g.attrs["frame_size"]) == [640, 360] and "fractions" in json.loads(g.attrs["units"])["box"]
        assert "faces" in f["videos/b.mp4"] and "faces" not in f["videos/c.mp4"]  # the same group, from the video


def test_to_pandas_faces_one_row_per_face(store):
    fs, tables, _ = store
    df = fs.to_pandas(faces=True)
    n = len(tables["a.mp4"]) + len(tables["b.mp4"])
    assert len(df) == n and df.index.names == ["video", "time_s", "face"]
    assert list(df.columns[:10]) == ["x", "y", "w", "h", "score", "size_px", "sharpness", "quality", "shot", "track"]
    assert list(df.columns[10:]) == [f"e{i}" for i in range(128)]
    b = df.loc["b.mp4"]
    t = tables["b.mp4"]
    np.testing.assert_array_equal(b.index.get_level_values("time_s"), t.time_s)
    np.testing.assert_array_equal(b[["x", "y", "w", "h"]].to_numpy(), t.box)
    np.testing.assert_array_equal(b.filter(regex=r"^e\d+$").to_numpy(), t.embedding)
    np.testing.assert_array_equal(b["track"].to_numpy(), t.track)
    assert len(fs.to_pandas(["b.mp4"], faces=True)) == len(t)
    with pytest.raises(NotEmbedded, match=r"no faces of 'c.mp4'.*embed VIDEO --faces"):
        fs.to_pandas(["c.mp4"], faces=True)
    assert len(fs.to_pandas()) == 120  # the frames' table is as before


def test_faces_of_unknown_or_faceless_video_raise_not_embedded(store):
    fs, _, _ = store
    with pytest.raises(NotEmbedded, match=r"holds no faces of 'c.mp4'; add them with `screentime embed VIDEO --faces"):
        fs.faces("c.mp4")
    with pytest.raises(NotEmbedded, match="has no video 'x.mp4'"):
        fs.faces("x.mp4")


def test_a_second_face_config_is_refused_naming_what_differs(store):
    fs, tables, _ = store
    other = random_table("c.mp4", np.arange(40.0) + 0.01, config={**FACES, "min_score": 0.7})
    with pytest.raises(StoreMismatch, match=r"other face settings \(min_score: 0.5 -> 0.7\)"):
        fs.put_faces("c.mp4", other)
    with pytest.raises(StoreMismatch, match="min_score"):
        fs.check_faces_config(other.config)
    assert not fs.has_faces("c.mp4")
    fs.remove("a.mp4")
    fs.put("b.mp4", requested_s=np.arange(3.0), actual_s=np.arange(3.0), features=np.zeros((3, N)),
           info={"sample_fps": 1.0, "duration_s": 3.0})  # replaced without faces
    assert fs.face_video_ids() == []
    fs.put_faces("c.mp4", other)  # a store without faces takes the next config
    assert fs.face_video_ids() == ["c.mp4"] and fs.faces("c.mp4").config["min_score"] == 0.7


def test_remove_removes_a_videos_faces(store):
    fs, _, _ = store
    shard = fs.shard_path("a.mp4")
    fs.remove("a.mp4")
    assert not shard.exists() and fs.face_video_ids() == ["b.mp4"]
    with pytest.raises(NotEmbedded):
        fs.faces("a.mp4")
    with h5py.File(fs.path) as f:
        assert sorted(f["faces"]) == ["b.mp4"]


def test_put_faces_refuses_a_table_of_other_samples(store):
    fs, _, _ = store
    with pytest.raises(ValueError, match="sample times"):
        fs.put_faces("c.mp4", random_table("c.mp4", np.arange(39.0) + 0.01, config=FACES))
    with pytest.raises(ValueError, match="not 'c.mp4'"):
        fs.put_faces("c.mp4", random_table("a.mp4", np.arange(40.0) + 0.01, config=FACES))
    with pytest.raises(NotEmbedded):
        fs.put_faces("x.mp4", random_table("x.mp4", np.arange(40.0) + 0.01, config=FACES))


def flip_dataset(shard, name):
    """Flip the first bytes of /video/faces/<name> in the file (a contiguous dataset)."""
    with h5py.File(shard, "r") as f:
        offset = f[f"video/faces/{name}"].id.get_offset()
    data = bytearray(shard.read_bytes())
    data[offset:offset + 8] = bytes(b ^ 0xFF for b in data[offset:offset + 8])
    shard.write_bytes(bytes(data))


def test_check_store_flags_a_damaged_face_table_and_repair_keeps_the_features(tmp_path, store, capsys):
    fs, tables, features = store
    flip_dataset(fs.shard_path("b.mp4"), "embedding")
    with pytest.raises(VideoDamaged, match=r"'b.mp4' is damaged \(its face table fails its checksum"):
        fs.faces("b.mp4")
    np.testing.assert_array_equal(fs.load("b.mp4")[1], features["b.mp4"])  # its features still read
    check = verify_store(fs.path)
    assert [(v.video_id, v.faces_only) for v in check.damaged] == [("b.mp4", True)]
    code, out, _ = run(["check-store", "--store", fs.path], capsys)
    assert code == 1 and "damaged: 'b.mp4'" in out and "its face table fails its checksum" in out
    code, out, _ = run(["check-store", "--store", fs.path, "--repair"], capsys)
    assert code == 0 and "dropped the faces of 'b.mp4'" in out, out
    fs = FeatureStore(fs.path)
    assert fs.face_video_ids() == ["a.mp4"] and fs.video_ids() == ["a.mp4", "b.mp4", "c.mp4"]
    np.testing.assert_array_equal(fs.load("b.mp4")[1], features["b.mp4"])
    assert_same_table(fs.faces("a.mp4"), tables["a.mp4"])
    assert verify_store(fs.path).is_intact


def test_repair_rebuilds_a_lost_index_with_the_faces(store):
    fs, tables, _ = store
    fs.path.unlink()
    check = repair_store(fs.path)
    assert check.is_intact, check.actions
    fs = FeatureStore(fs.path)
    assert fs.face_video_ids() == ["a.mp4", "b.mp4"]
    for video_id, table in tables.items():
        assert_same_table(fs.faces(video_id), table)


def test_a_shard_published_with_faces_but_not_indexed_is_adopted_with_them(store):
    fs, tables, _ = store
    b = fs.shard_path("b.mp4")
    with h5py.File(fs.path) as f:
        links = {k: f["videos"].get(k, getlink=True).filename.split("/")[-1] for k in f["videos"]}
    del links["b.mp4"]
    fs.faces_config = FACES
    fs.write_index(links, {"a.mp4"})  # as if killed between the rename and the index
    assert fs.video_ids() == ["a.mp4", "c.mp4"] and b.exists()
    put(fs, "d.mp4", seed=3)  # the next write puts it back, faces included
    assert fs.face_video_ids() == ["a.mp4", "b.mp4"]
    assert_same_table(fs.faces("b.mp4"), tables["b.mp4"])


def test_the_face_columns_are_listed_once_and_every_place_agrees():
    """table.COLUMNS is the one list: the FaceTable's fields, a frame's (FrameFaces, checkpoints), the stored dtypes."""
    import dataclasses

    from featurestore.faces.analyser import FrameFaces
    from featurestore.faces.table import DTYPES, FRAME_COLUMNS, FaceTable
    from featurestore.runners.faces import FIELDS
    from featurestore.store.faces import UNITS

    assert [f.name for f in dataclasses.fields(FaceTable)][5:] == list(COLUMNS)
    assert [f.name for f in dataclasses.fields(FrameFaces)] == list(FRAME_COLUMNS) == list(FIELDS)
    assert FRAME_COLUMNS == ("box", "landmarks", "score", "size_px", "sharpness", "quality", "embedding")
    assert DTYPES == {"time_s": "<f8", "face": "<i4", "box": "<f4", "landmarks": "<f4", "score": "<f4", "size_px": "<f4",
                      "sharpness": "<f4", "quality": "<f4", "shot": "<i4", "track": "<i4", "embedding": "<f4"}
    assert set(COLUMNS) <= set(UNITS)


def test_a_frame_held_over_samples_with_two_faces_is_stored_and_read_back(tmp_path):
    """Variable frame rate: samples 1-3 show one held frame (one presentation time) with alice and bob, so the rows
    go (0.96, 0), (0.96, 1), (0.96, 0), ... -- each sample's faces numbered from 0 again. The store refused such a
    table ('rows are not sorted by (time_s, face)') and embed --faces crashed with a traceback."""
    from faces_fake import DIM
    from featurestore.faces.analyser import FrameFaces
    from featurestore.faces.tracks import assemble

    def two_faces():
        rng = np.random.default_rng(0)
        boxes = np.array([[0.2, 0.4, 0.1, 0.1], [0.6, 0.4, 0.1, 0.1]], np.float32)
        return FrameFaces(box=boxes, landmarks=np.zeros((2, 6, 2), np.float32), score=np.array([0.9, 0.8], np.float32),
                          size_px=np.full(2, 36.0, np.float32), sharpness=np.full(2, 50.0, np.float32),
                          quality=np.full(2, 0.8, np.float32), embedding=rng.normal(size=(2, DIM)).astype(np.float32))

    shown = np.array([0.0, 0.96, 0.96, 0.96])
    table = assemble("v.mp4", FACES, shown, [two_faces() for _ in shown], [], (640, 360))
    fs = FeatureStore(tmp_path / "f.h5", mode="a", config=CONFIG)
    fs.put("v.mp4", requested_s=np.arange(4.0), actual_s=shown, features=np.zeros((4, N), np.float32), faces=table,
           info={"sample_fps": 1.0, "duration_s": 4.0, "fingerprint": "fp-v"})
    back = FeatureStore(tmp_path / "f.h5").faces("v.mp4")
    assert_same_table(table, back)
    assert back.sample.tolist() == [0, 0, 1, 1, 2, 2, 3, 3] and back.face.tolist() == [0, 1] * 4
    from classifiers.chain.face_time import faces_samples

    with pytest.warns(DeprecationWarning, match="table.sample"):  # the call docs/store.md named before
        assert faces_samples(back).tolist() == back.sample.tolist()


def test_rows_restarting_more_often_than_their_time_was_sampled_are_refused():
    """Two faces numbered 0 at a time sampled once are not two samples of a held frame: refused, as FaceTable.sample
    would put both in one sample without a word."""
    from featurestore.store.faces import rows_in_sample_order

    once, thrice = np.array([0.0, 0.96, 2.0]), np.array([0.0, 0.96, 0.96, 0.96])
    t, face = np.array([0.96, 0.96, 0.96]), np.array([0, 0, 1])
    assert not rows_in_sample_order(t, face, once) and rows_in_sample_order(t, face, thrice)
    assert not rows_in_sample_order(np.array([0.96, 0.5]), np.array([0, 0]), thrice)  # time going back

