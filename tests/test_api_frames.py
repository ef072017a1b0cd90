"""The tables a data scientist reads from Python (issue 26): typed alike with rows or without, keyed so that they
join one another, and a store read while another process removes videos."""

import dataclasses
import warnings
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from face_helpers import Face, face_table, near, people
from faces_fake import random_table
from featurestore import FeatureStore
from featurestore.store.shards import read_header

N = 8
CONFIG = {"model": "vgg16", "weights": "random:seed=0", "pooling": "avg", "image_size_px": 32, "n_features": N}
FACES = {"detector": "fake", "min_score": 0.5}


def put(fs, video_id, n=12, faces=True, seed=0):
    t = np.arange(n, dtype=np.float64)
    table = random_table(video_id, t + 0.01, seed=seed, config=FACES) if faces else None
    fs.put(video_id, requested_s=t, actual_s=t + 0.01, features=np.random.default_rng(seed).random((n, N)),
           info={"sample_fps": 1.0, "duration_s": float(n), "fps": 25.0, "frame_count": 25 * n, "width": 64,
                 "height": 48, "source_path": f"/v/{video_id}", "embedded_at": "2026-01-01"}, faces=table)


def dtypes(df):
    return dict(df.dtypes), list(df.index.names), [df.index.get_level_values(i).dtype for i in range(df.index.nlevels)]


def test_an_empty_stores_tables_are_typed_as_a_full_ones(tmp_path):
    """An empty store's (or an empty selection's) tables had object columns and index levels: `concat` with a full
    one turned float32 features into objects, and a join on (video, time_s) compared strings with floats."""
    full = FeatureStore(tmp_path / "full.h5", mode="a", config=CONFIG)
    put(full, "a.mp4")
    empty = FeatureStore(tmp_path / "empty.h5", mode="a", config=CONFIG)
    assert len(empty.to_pandas()) == 0 and dtypes(empty.to_pandas()) == dtypes(full.to_pandas())
    faces, none = full.to_pandas(faces=True), empty.to_pandas(faces=True)
    assert len(none) == 0 and dtypes(none[[c for c in faces if not c.startswith("e")]]) == dtypes(
        faces[[c for c in faces if not c.startswith("e")]])
    assert len(empty.videos()) == 0 and dtypes(empty.videos()) == dtypes(full.videos())
    both = pd.concat([empty.to_pandas(), full.to_pandas()])
    assert (both.dtypes.iloc[1:] == np.float32).all() and both["requested_s"].dtype == np.float64


def test_a_video_removed_by_another_process_while_reading_is_left_out(tmp_path):
    """A reader lists the videos, then reads each: one removed meanwhile by a writer raised NotEmbedded from
    `to_pandas()` and `to_pandas(faces=True)`, and `videos()` gave it a row with a missing shard as its problem."""
    writer = FeatureStore(tmp_path / "f.h5", mode="a", config=CONFIG)
    for i, name in enumerate(("a.mp4", "b.mp4", "c.mp4")):
        put(writer, name, seed=i)
    reader = FeatureStore(tmp_path / "f.h5")
    listed = reader.video_ids()
    reader.video_ids = reader.face_video_ids = lambda: listed  # the listing taken before the writer's change
    writer.remove("b.mp4")
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # nothing damaged: no warning either
        frames = reader.to_pandas(), reader.to_pandas(faces=True), reader.videos()
    for frame in frames:
        assert sorted(set(frame.index.get_level_values("video"))) == ["a.mp4", "c.mp4"]
    assert (frames[2]["problem"] == "").all()
    with pytest.raises(Exception, match="has no video 'b.mp4'"):  # asked for by id: still refused
        reader.to_pandas(["b.mp4"])


def _face_score(faces):
    from classifiers.chain.face_time import summarize_faces
    from screentime.results import Score

    table = face_table("v.mp4", 3, faces)
    labels = np.zeros(len(faces), int)
    video = summarize_faces("v.mp4", table, labels, np.ones((len(faces), 1)), ["alice"], duration_s=3.0, sample_fps=1.0)
    return Score(SimpleNamespace(videos=[video], classes=["alice"], total_screen_time_s=video.screen_time_s))


def test_a_face_scores_tables_are_typed_alike_with_faces_or_without():
    """A video with no face gave a faces frame and a segments frame of object columns (and index), and a videos
    frame whose raw_training_distance (None for face models) was an object column instead of NaN."""
    alice, = people(1, seed=3)
    full_score = _face_score([Face(0.0, near(alice, 0)), Face(1.0, near(alice, 1))])
    full, empty_score = full_score.faces_to_pandas(), _face_score([])
    empty = empty_score.faces_to_pandas()
    assert len(full) == 2 and len(empty) == 0 and dtypes(empty) == dtypes(full)
    segments, none = full_score.to_pandas().segments, empty_score.to_pandas().segments
    assert len(segments) == 1 and len(none) == 0 and dtypes(none) == dtypes(segments)
    assert full.index.get_level_values("face").dtype == np.int32  # as the store's faces
    videos = empty_score.to_pandas().videos
    assert videos["training_distance"].dtype == np.float64 and videos["raw_training_distance"].dtype == np.float64
    assert videos["unlike_training"].isna().all() and len(videos[videos["unlike_training"]]) == 0  # was None: a mask
    # of None raised ValueError; now NA (the model cannot tell) selects nothing, as False does


def test_cluster_members_join_the_stores_faces_on_video_time_and_face(tmp_path):
    """Two faces in one sample: (video, time_s) alone cannot tell which member is which stored face, and
    members_to_pandas had no `face`; now each member finds its own row of `to_pandas(faces=True)`."""
    import screentime

    fs = FeatureStore(tmp_path / "f.h5", mode="a", config=CONFIG)
    for i, name in enumerate(("a.mp4", "b.mp4")):
        put(fs, name, n=20, seed=i)
    clusters = screentime.cluster(tmp_path / "f.h5", out=tmp_path / "clusters.csv", faces=True)
    members = clusters.members_to_pandas()
    stored = fs.to_pandas(faces=True)
    assert members["face"].dtype == np.int32 and members["cluster"].dtype == members["video"].dtype
    assert members.groupby(["video", "time_s"]).size().max() > 1  # the case (video, time_s) cannot key
    joined = members.merge(stored.reset_index(), on=["video", "time_s", "face"], suffixes=("", "_store"))
    assert len(joined) == len(members) == len(stored)
    for v in ("a.mp4", "b.mp4"):
        w, h = fs.faces(v).frame_size
        j = joined[joined["video"] == v]
        assert np.allclose(j["x"] / w, j["x_store"], atol=1e-6) and np.allclose(j["h"] / h, j["h_store"], atol=1e-6)
    assert list(pd.read_csv(tmp_path / "clusters.members.csv").columns) == [
        "cluster", "video", "time_s", "x", "y", "w", "h", "track"]  # the file is unchanged


def test_faces_join_the_samples_on_the_grid_at_29_97_fps_and_with_a_held_frame(tmp_path):
    """docs/score.md#from-python: `samples` is indexed by the grid, `faces_to_pandas()` (as the store) by the frame's
    presentation time. At 29.97 fps these differ, and a frame held over samples 1-3 repeats its time_s: the faces'
    `requested_s` (new) is their sample's grid time, one per sample, so each face joins exactly its sample."""
    from classifiers.chain.face_time import summarize_faces
    from screentime.results import Score

    alice, bob = people(2, seed=6)
    faces = [Face(0.0, near(alice, 0))] + [Face(0.968, near(p, s)) for s in (1, 2, 3) for p in (alice, bob)]
    table = face_table("ntsc.mp4", 5, faces)
    table = dataclasses.replace(table, sample_times_s=np.array([0.0, 0.968, 0.968, 0.968, 3.971]),
                                face=np.array([0, 0, 1, 0, 1, 0, 1], np.int32))  # as embed numbers them per sample
    video = summarize_faces("ntsc.mp4", table, np.zeros(7, int), np.ones((7, 1)), ["alice"], duration_s=5.0,
                            sample_fps=1.0)
    score = Score(SimpleNamespace(videos=[video], classes=["alice"], total_screen_time_s=video.screen_time_s))
    samples, faces = score.to_pandas().samples, score.faces_to_pandas()
    assert samples.index.get_level_values("time_s").tolist() == [0.0, 1.0, 2.0, 3.0, 4.0]  # the grid
    assert faces["requested_s"].tolist() == [0.0, 1.0, 1.0, 2.0, 2.0, 3.0, 3.0]
    joined = faces.reset_index().merge(samples.reset_index(), left_on=["video", "requested_s"],
                                       right_on=["video", "time_s"], suffixes=("", "_sample"))
    assert len(joined) == len(faces) == 7 and (joined["time_s"] == joined["actual_s"]).all()
    fs = FeatureStore(tmp_path / "f.h5", mode="a", config=CONFIG)  # the store's features, joined as documented
    fs.put("ntsc.mp4", requested_s=np.arange(5.0), actual_s=table.sample_times_s, features=np.ones((5, N)),
           info={"sample_fps": 1.0, "duration_s": 5.0})
    X = fs.to_pandas().reset_index().drop(columns="time_s")
    with_features = samples.join(X.rename(columns={"requested_s": "time_s"}).set_index(["video", "time_s"]))
    assert len(with_features) == 5 and with_features["f0"].notna().all()
    assert samples.join(fs.to_pandas())["f0"].notna().sum() == 1  # the index join: only 0.0 is on both clocks


def test_a_stored_videos_reprs_fit_a_line_in_a_notebook(tmp_path):
    """`fs.read(v)` and `fs.faces(v)` printed every feature and descriptor (thousands of characters)."""
    fs = FeatureStore(tmp_path / "f.h5", mode="a", config=CONFIG)
    put(fs, "a.mp4", n=300)
    video, faces = repr(fs.read("a.mp4")), repr(fs.faces("a.mp4"))
    assert len(video) < 120 and "'a.mp4'" in video and "300 samples x 8 features" in video
    assert len(faces) < 160 and "'a.mp4'" in faces and f"{len(fs.faces('a.mp4'))} faces in 300 samples" in faces


def test_one_video_id_is_taken_as_one_not_as_its_letters(tmp_path):
    """`fs.to_pandas("a.mp4")` said the store had no video 'a'."""
    fs = FeatureStore(tmp_path / "f.h5", mode="a", config=CONFIG)
    put(fs, "a.mp4")
    put(fs, "b.mp4", seed=1)
    assert fs.to_pandas("a.mp4").equals(fs.to_pandas(["a.mp4"]))
    assert fs.to_pandas("a.mp4", faces=True).equals(fs.to_pandas(["a.mp4"], faces=True))


def test_an_embed_results_repr_is_one_line():
    """It printed every report's fields (a screenful for a folder of videos)."""
    from pathlib import Path

    from featurestore.runners.work import EmbedReport
    from screentime.results import EmbedResult

    reports = [EmbedReport(video_id=f"v{i}.mp4", path=f"/v/v{i}.mp4", status="stored", n_samples=20, duration_s=20.0)
               for i in range(30)]
    assert repr(EmbedResult(reports, Path("f.h5"))) == (
        "<EmbedResult of 30 videos into f.h5: stored 30; .to_pandas() for the table>")


def test_putting_videos_without_a_fingerprint_does_not_read_every_shard_again(tmp_path, monkeypatch):
    """Videos put from Python carry no fingerprint; the index's contents cache left them out, so each put read
    the description of every stored shard again: n puts cost n² shard opens (400 puts: 41 s, 10x the first 100)."""
    import featurestore.store.contents as contents

    fs = FeatureStore(tmp_path / "f.h5", mode="a", config=CONFIG)
    for i in range(6):
        put(fs, f"v{i}.mp4", faces=False, seed=i)
    reads = []
    monkeypatch.setattr(contents, "read_header", lambda path: reads.append(path) or read_header(path))
    put(fs, "v6.mp4", faces=False)
    assert len(reads) <= 1  # the new shard's own description at most
    assert fs.contents() == {}  # no fingerprint: nothing a copy could be matched by



def test_a_comparisons_repr_is_one_line():
    """It printed the whole ComparisonResult: the leaderboard, CV plan, thresholds... (4,700 characters)."""
    from pathlib import Path

    from screentime.results import Comparison

    board = pd.DataFrame({"rank": [1, 2], "model": ["logreg", "svm"], "macro_f1": [0.8741, 0.5]})
    result = SimpleNamespace(leaderboard=board, best_name="logreg", metric="macro_f1", model_path=Path("m.skops"),
                             thresholds={"tom": 0.5}, cv=object())
    assert repr(Comparison(result)) == ("<Comparison of 2 models: best logreg (macro_f1 0.874), saved to m.skops; "
                                        ".to_pandas() for the leaderboard>")


def test_cluster_refuses_an_empty_list_of_videos_rather_than_clustering_all(tmp_path):
    """`videos=[v for v in ids if ...]` that came out empty clustered every stored video, as None does."""
    import screentime
    from featurestore.errors import InvalidParameter

    fs = FeatureStore(tmp_path / "f.h5", mode="a", config=CONFIG)
    put(fs, "a.mp4", faces=False)
    with pytest.raises(InvalidParameter, match="videos: is empty"):
        screentime.cluster(tmp_path / "f.h5", out=tmp_path / "c.csv", videos=[])
    assert not (tmp_path / "c.csv").exists()
