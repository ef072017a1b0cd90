"""`embed --faces` and `score --faces` where the machine misbehaves (issue 24): a full disk while a video is being
published, a run killed or interrupted between publishing a new store's first video and indexing it, a store of
other face settings than a face model's. The analyser is tests/faces_fake.py's (coloured rectangles are faces)."""

import errno

import pytest

from faces_fake import make_fake_analyser, write_face_video
from featurestore import FeatureStore, embed_videos
from featurestore.embedding.config import EmbeddingConfig
from featurestore.errors import StoreFull
from featurestore.faces.config import FaceConfig

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
