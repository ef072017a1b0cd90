"""`embed --faces` and `score --faces` where the machine misbehaves (issue 24): a full disk while a video is being
published, a run killed or interrupted between publishing a new store's first video and indexing it, a store of
other face settings than a face model's. The analyser is tests/faces_fake.py's (coloured rectangles are faces)."""

import errno
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from conftest import ROOT, assert_same_store, error_lines
from faces_fake import make_fake_analyser, write_face_video
from featurestore import FeatureStore, embed_videos
from featurestore.embedding.config import EmbeddingConfig
from featurestore.errors import StoreFull, StoreMismatch, VideoUnreadable
from featurestore.faces.config import FaceConfig
from featurestore.store.integrity import repair_store
from test_embed_faces import assert_same_faces
from test_store_faces import flip_dataset, store  # noqa: F401 -- a fixture

TINY = EmbeddingConfig(weights="random", image_size_px=32)
FACES = FaceConfig(min_score=0.1, min_size_px=10.0)


def embed(paths, store, stand_in, *, faces=FACES, **kwargs):
    return embed_videos(paths, store, config=TINY, make_embedder=stand_in, faces=faces,
                        make_face_analyser=make_fake_analyser, workers=0, batch_size=4, **kwargs)


@pytest.fixture
def people(tmp_path):
    path = tmp_path / "people.avi"
    write_face_video(path, 8, seed=3)
    return path


@pytest.mark.parametrize("stored_first", [False, True], ids=["new video", "faces added"])
def test_disk_full_while_publishing_removes_the_runs_checkpoint(tmp_path, people, stand_in, monkeypatch, stored_first):
    store = tmp_path / "f.h5"
    if stored_first:
        embed([people], store, stand_in, faces=None)

    def full(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr("featurestore.store.store.write_shard", full)  # the checkpoint fitted, the shard does not
    monkeypatch.setattr("featurestore.store.faces.write_shard", full)
    with pytest.raises(StoreFull, match="the checkpoints of this run .* were removed"):
        embed([people], store, stand_in)
    assert not list(tmp_path.glob("f.h5.d/*.part")), "the message says the checkpoint was removed"
    monkeypatch.undo()
    [report] = embed([people], store, stand_in)
    assert report.n_faces == len(FeatureStore(store).faces("people.avi")) > 0


FIRST = textwrap.dedent("""
    import os, signal, sys
    sys.path[:0] = [{root!r}, {tests!r}]
    from conftest import TinyEmbedder
    from faces_fake import make_fake_analyser
    from featurestore import embed_videos
    from featurestore.embedding.config import EmbeddingConfig
    from featurestore.faces.config import FaceConfig
    from featurestore.store.layout import StoreFiles

    signal.signal(signal.SIGINT, signal.default_int_handler)  # Ctrl-C as a terminal's, though started where it is ignored
    if {signal!r}:
        write_index = StoreFiles.write_index

        def killed(self, links, faced=None):  # the first video's shard is published; its index not yet written
            if links:
                os.kill(os.getpid(), getattr(signal, {signal!r}))
            return write_index(self, links, faced)

        StoreFiles.write_index = killed
    [report] = embed_videos([{video!r}], {store!r}, config=EmbeddingConfig(weights="random", image_size_px=32),
                            batch_size=4, make_embedder=TinyEmbedder, faces=FaceConfig(min_score=0.1, min_size_px=10.0),
                            make_face_analyser=make_fake_analyser, workers=0)
    print("done", report.status, flush=True)
""")


@pytest.mark.slow
@pytest.mark.parametrize("signal", ["SIGKILL", "SIGINT"])
def test_a_run_stopped_before_a_new_stores_first_video_is_indexed_resumes(tmp_path, people, signal):
    """kill -9 or Ctrl-C between publishing a new store's first shard and writing its index left a shard without
    an index: every later command refused the store (`check-store --repair` first). Now the rerun resumes."""
    def run(store, kill=""):
        script = FIRST.format(root=str(ROOT), tests=str(ROOT / "tests"), video=str(people), store=str(store), signal=kill)
        return subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300)

    stopped = run(tmp_path / "f.h5", signal)
    assert stopped.returncode != 0 and "done" not in stopped.stdout, stopped.stderr
    assert list(tmp_path.glob("f.h5.d/*.h5")), "the kill came after the shard was published"
    for store in (tmp_path / "f.h5", tmp_path / "once.h5"):
        rerun = run(store)
        assert rerun.returncode == 0 and "done" in rerun.stdout, rerun.stderr
    assert_same_store(tmp_path / "f.h5", tmp_path / "once.h5")
    assert_same_faces(tmp_path / "f.h5", tmp_path / "once.h5")
    assert len(list(tmp_path.glob("f.h5.d/*.h5"))) == 1 and not list(tmp_path.glob("f.h5.d/*.part"))


def faces_store(path, videos, face_config: FaceConfig):
    """A real store of `videos`' synthetic faces, said to be found with `face_config` (zero frame features)."""
    import dataclasses

    import numpy as np

    store = FeatureStore(path, mode="a", config=TINY.identity())
    for v in videos:
        t = v.table.sample_times_s
        store.put(v.video_id, requested_s=t, actual_s=t, features=np.zeros((len(t), 512), np.float32),
                  info={"sample_fps": 1.0, "duration_s": v.duration_s, "fps": 25.0})
        store.put_faces(v.video_id, dataclasses.replace(v.table, config=face_config.identity()))


def trained_face_model(tmp_path, faces, *, n_more: int = 0) -> list:
    """m.skops: a logreg face model of 3 synthetic videos (20 s) stored in f.h5 with the face config `faces`;
    returns `n_more` other videos of the same people, not stored."""
    from cartoons.synthetic_faces import FaceWorld, make_face_videos, write_interval_labels
    from classifiers.compare_faces import compare_face_models

    videos = make_face_videos(FaceWorld.make(seed=21), 3 + n_more, seed=21, duration_s=20.0)
    faces_store(tmp_path / "f.h5", videos[:3], faces)
    compare_face_models(tmp_path / "f.h5", write_interval_labels(tmp_path / "l.csv", videos[:3]),
                        out_path=tmp_path / "m.skops", models=["logreg"], n_splits=3, n_jobs=1)
    return videos[3:]


def score_a_new_video(tmp_path, store_path, capsys) -> tuple[int, list[str], str]:
    """`score --faces new.avi --model m.skops --store STORE` of a new 4 s video: (exit code, error lines, stderr)."""
    from conftest import run_cli

    new = tmp_path / "new.avi"
    write_face_video(new, 4, seed=5)
    code, _, err = run_cli(["score", "--faces", str(new), "--model", str(tmp_path / "m.skops"), "--store", str(store_path)],
                           capsys)
    return code, error_lines(err), err


def test_score_faces_into_a_store_of_other_face_settings_says_what_to_do(tmp_path, capsys):
    """score --faces has no --face-* options: a store whose faces were found with other settings than the model's
    was refused with embed's advice, 'leave out the --face-* options'. It names the model and what to do."""
    videos = trained_face_model(tmp_path, FACES, n_more=1)
    faces_store(tmp_path / "other.h5", videos, FaceConfig(min_score=0.7, min_size_px=10.0))
    code, errors, err = score_a_new_video(tmp_path, tmp_path / "other.h5", capsys)
    assert code == 1 and len(errors) == 1 and "Traceback" not in err, err
    assert "m.skops" in errors[0] and "min_score" in errors[0] and "another --store" in errors[0], errors[0]
    assert "--face-" not in errors[0], errors[0]
    assert not list(tmp_path.glob("other.h5.d/*.part"))


REPAIR_KILLED = textwrap.dedent("""
    import os, signal, sys
    sys.path[:0] = [{root!r}]
    from featurestore.store.layout import StoreFiles
    StoreFiles.write_index = lambda self, links, faced=None: os.kill(os.getpid(), signal.SIGKILL)
    from featurestore import repair_store
    repair_store({store!r})
""")


@pytest.mark.slow
def test_kill_9_while_repair_drops_a_damaged_face_table_loses_no_features(store):
    """check-store --repair moved the shard whose face table it dropped into damaged/ before the index stopped
    naming it: killed in between, the video's shard was missing and its features unreadable."""
    fs, tables, features = store
    flip_dataset(fs.shard_path("a.mp4"), "embedding")
    killed = subprocess.run([sys.executable, "-c", REPAIR_KILLED.format(root=str(ROOT), store=str(fs.path))],
                            capture_output=True, text=True, timeout=120)
    assert killed.returncode == -9, killed.stderr
    np.testing.assert_array_equal(FeatureStore(fs.path).load("a.mp4")[1], features["a.mp4"])
    check = repair_store(fs.path)
    assert check.is_intact, [v.problem for v in check.damaged]
    repaired = FeatureStore(fs.path)
    assert not repaired.has_faces("a.mp4") and repaired.face_video_ids() == ["b.mp4"]
    for video_id in ("a.mp4", "b.mp4", "c.mp4"):
        np.testing.assert_array_equal(repaired.load(video_id)[1], features[video_id])


def test_repair_of_a_lost_shard_put_back_without_faces_does_not_claim_them(store):
    """The index names a.mp4's faces and a shard that is gone; its newer shard, without faces, is not indexed (a
    writer killed before indexing it). Repair put that shard back but kept the index's claim to its faces: the
    repaired store was damaged ('the index names its faces, its shard holds none') and said so after the repair."""
    fs, tables, features = store
    index = fs.path.read_bytes()
    old = fs.shard_path("a.mp4")
    v = fs.read("a.mp4")
    fs.put("a.mp4", requested_s=v.requested_s, actual_s=v.actual_s, features=v.features, info=v.info)  # no faces
    fs.path.write_bytes(index)
    assert not old.exists()
    check = repair_store(fs.path)
    assert check.is_intact, [v.problem for v in check.damaged]
    repaired = FeatureStore(fs.path)
    assert repaired.face_video_ids() == ["b.mp4"]
    np.testing.assert_array_equal(repaired.load("a.mp4")[1], features["a.mp4"])


def test_faces_of_other_library_versions_are_refused_saying_so(tmp_path, people, stand_in, monkeypatch):
    """A face store made before `pip install -U numpy` (or without ai-edge-litert) refused `embed --faces` with
    'use another --store, or leave out the --face-* options to use the store's', though no option was given and
    leaving them out changes nothing. It names the libraries that changed and what to do."""
    import featurestore.faces.config as face_config

    store = tmp_path / "f.h5"
    embed([people], store, stand_in)
    versions = dict(face_config._library_versions())
    monkeypatch.setattr(face_config, "_library_versions", lambda: {**versions, "numpy": "9.9.9"})
    with pytest.raises(StoreMismatch) as caught:
        embed([people], store, stand_in, names=["again.avi"])
    message = str(caught.value)
    assert "--face-" not in message and "\n" not in message, message
    assert f"numpy {versions['numpy']} -> 9.9.9" in message and "another --store" in message, message
    assert "dlib" not in message, message  # only what changed


def test_score_faces_with_other_face_libraries_than_the_models_refuses_before_any_work(tmp_path, capsys, monkeypatch):
    """score --faces of a new video after the face libraries changed decoded and analysed the whole video, stored
    its faces, then refused them, saying to 'embed the video with the model's face settings into another store',
    which cannot help. It refuses before any work, naming the libraries."""
    import featurestore.faces.config as face_config
    trained_face_model(tmp_path, FaceConfig())
    versions = dict(face_config._library_versions())
    monkeypatch.setattr(face_config, "_library_versions", lambda: {**versions, "numpy": "9.9.9"})
    monkeypatch.setattr("featurestore.faces.analyser.build_face_analyser", make_fake_analyser)
    code, errors, err = score_a_new_video(tmp_path, tmp_path / "new.h5", capsys)
    assert code == 1 and len(errors) == 1 and "Traceback" not in err, err
    assert "m.skops" in errors[0] and f"numpy {versions['numpy']} vs 9.9.9" in errors[0], errors[0]
    assert "into another store" not in errors[0], errors[0]
    assert not (tmp_path / "new.h5").exists() and not (tmp_path / "new.h5.d").exists()  # nothing decoded or stored


def test_embed_faces_of_videos_all_stored_says_so_after_a_library_upgrade(tmp_path, people, stand_in, monkeypatch):
    """After `pip install -U numpy`, embed --faces of videos whose faces are all stored has nothing to compute: it
    says they are stored (it refused the store); a new video is still refused, naming the libraries."""
    import featurestore.faces.config as face_config

    store = tmp_path / "f.h5"
    first = embed([people], store, stand_in)
    versions = dict(face_config._library_versions())
    monkeypatch.setattr(face_config, "_library_versions", lambda: {**versions, "numpy": "9.9.9"})
    again = embed([people], store, stand_in)
    assert [r.status for r in again] == ["stored"] and again[0].n_faces == first[0].n_faces
    with pytest.raises(StoreMismatch, match="9.9.9"):
        embed([people], store, stand_in, names=["again.avi"])


def test_score_faces_of_a_changed_file_or_at_another_rate_is_refused_not_scored_from_stale_faces(tmp_path):
    """A video stored with its faces, then the file under that name changed (a re-render, another episode saved over
    it), or `--fps` asking for another rate: score --faces scored the stored faces of the old content at the stored
    rate, saying nothing (frame models refuse both). Now both are refused as embed refuses them; the file as stored
    is scored."""
    import dataclasses

    from classifiers.score_faces import score_face_videos
    from featurestore.video.paths import fingerprint

    [other] = trained_face_model(tmp_path, FACES, n_more=1)
    clip = tmp_path / "clip.avi"
    write_face_video(clip, 4, seed=5)
    store = FeatureStore(tmp_path / "f.h5", mode="a", config=TINY.identity())
    t = other.table.sample_times_s
    store.put("clip.avi", requested_s=t, actual_s=t, features=np.zeros((len(t), 512), np.float32),
              info={"sample_fps": 1.0, "duration_s": other.duration_s, "fps": 25.0, "fingerprint": fingerprint(clip)})
    store.put_faces("clip.avi", dataclasses.replace(other.table, video_id="clip.avi", config=FACES.identity()))
    kwargs = {"model_path": tmp_path / "m.skops", "store_path": tmp_path / "f.h5"}
    assert score_face_videos([clip], **kwargs).videos[0].sample_fps == 1.0
    with pytest.raises(StoreMismatch, match="at 1.0 samples/s"):
        score_face_videos([clip], sample_fps=2.0, **kwargs)
    write_face_video(clip, 4, seed=6)
    with pytest.raises(StoreMismatch, match="other content"):
        score_face_videos([clip], **kwargs)
    clip.unlink()  # the file gone: its stored faces are scored, at their rate only
    assert score_face_videos([clip], **kwargs).videos[0].sample_fps == 1.0
    with pytest.raises(VideoUnreadable, match="drop --fps"):
        score_face_videos([clip], sample_fps=2.0, **kwargs)
    clip.symlink_to(tmp_path / "gone.avi")  # a link to a file gone: gone too, not a traceback
    assert score_face_videos([clip], **kwargs).videos[0].sample_fps == 1.0
