"""The store's pandas tables (`FeatureStore.to_pandas`, `FeatureStore.videos`), typed alike with rows or without, so
that an empty store's tables concatenate and join as a full one's do."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    import pandas as pd

#: `FeatureStore.videos()`'s columns from each video's description, with their dtypes.
VIDEO_COLUMNS = {"duration_s": "float64", "n_samples": "int64", "sample_fps": "float64", "frame_count": "int64",
                 "fps": "float64", "width": "int64", "height": "int64", "source_path": "str", "embedded_at": "str",
                 "decoder": "str"}  # 'h264 + bwdif': interlaced frames were deinterlaced (featurestore.video.fields)


def features_frame(videos: list, n_features: int) -> pd.DataFrame:
    """One row per sample of `videos` (VideoFeatures), indexed by (video: str, time_s: float64, the frame's
    presentation time): requested_s (float64, s), then f0 ... f{n_features-1} (float32).

    Empties `videos` as it copies them into one array (a video's features are let go once copied), so memory peaks
    at about the table's size, not three times it (each video, its own frame, then their concatenation)."""
    import pandas as pd

    columns = [f"f{i}" for i in range(n_features)]
    if videos:
        d = videos[0].features.shape[1]
        n = sum(len(v.actual_s) for v in videos)
        data = np.empty((n, d), np.float32)
        requested, actual, ids, row = np.empty(n), np.empty(n), [], 0
        while videos:
            v = videos.pop(0)
            k = len(v.actual_s)
            data[row:row + k] = v.features
            requested[row:row + k], actual[row:row + k] = v.requested_s, v.actual_s
            ids += [v.video_id] * k
            row += k
            del v
        df = pd.DataFrame(data, columns=[f"f{i}" for i in range(d)], copy=False)
        df.insert(0, "requested_s", requested)
        df.index = pd.MultiIndex.from_arrays([ids, actual], names=["video", "time_s"])
        return df
    df = pd.DataFrame(np.zeros((0, n_features), np.float32), columns=columns)
    df.insert(0, "requested_s", np.zeros(0, np.float64))
    df.index = pd.MultiIndex.from_arrays([pd.Index([], dtype="str"), pd.Index([], dtype="float64")],
                                         names=["video", "time_s"])
    return df


def videos_frame(rows: list[tuple[str, dict, str]], config: dict) -> pd.DataFrame:
    """One row per (video id, info, problem) of `rows`, indexed by video: the `VIDEO_COLUMNS` from its info, its
    problem ('' when intact), then the store's `config` as config_<key>."""
    import pandas as pd

    records = [{"video": video_id, **{k: info.get(k, "" if k == "decoder" else None) for k in VIDEO_COLUMNS},
                "problem": problem}
               for video_id, info, problem in rows]
    df = pd.DataFrame(records, columns=["video", *VIDEO_COLUMNS, "problem"]).set_index("video")
    if not rows:
        df = df.astype({**VIDEO_COLUMNS, "problem": "str"})
        df.index = df.index.astype("str")
    for key, value in config.items():
        df[f"config_{key}"] = value
    return df
