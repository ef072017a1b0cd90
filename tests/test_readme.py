"""README.md promises that other programs and users rely on, checked against what the code does."""

import re

import numpy as np

from conftest import ROOT
from featurestore.store.store import FeatureStore

CONFIG = {"model": "vgg16", "weights": "random:seed=0", "pooling": "avg", "image_size_px": 32, "n_features": 4,
          "preprocess": "resize_area+vgg16.preprocess_input(rgb)"}


def test_readme_lists_the_columns_of_fs_videos(tmp_path):
    store = FeatureStore(tmp_path / "f.h5", mode="a", config=CONFIG)
    t = np.arange(3.0)
    store.put("a.mp4", requested_s=t, actual_s=t, features=np.zeros((3, 4), np.float32),
              info={"sample_fps": 1.0, "duration_s": 3.0, "fps": 10.0, "frame_count": 30, "width": 64, "height": 48,
                    "source_path": "/videos/a.mp4", "embedded_at": "2026-01-01T00:00:00+00:00"})
    df = FeatureStore(tmp_path / "f.h5").videos()
    readme = (ROOT / "README.md").read_text()
    block = readme[readme.index("fs.videos()"):readme.index("t, X = fs.load")]
    prose = {"unless", "the", "video", "is", "damaged", "and", "store", "s", "config"}  # README's words, not columns
    documented = [w for w in re.findall(r"[a-z_]+", block.split("indexed by video:")[1]) if w not in prose]
    assert df.index.name == "video" and documented == list(df.columns)
