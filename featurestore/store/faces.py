"""The face table of a video in its shard: written with the video's features, checksummed, self-describing.

A video's faces (`featurestore.faces.FaceTable`) live in its shard, beside its features, as the group
`/video/faces`, one dataset per FaceTable column (rows in sample order: by time_s, then face; the samples of a frame
held on screen share its time_s, each numbering its faces from 0 again)::

    /video/faces/time_s          (n,) float64, s       the sample's presentation time (one of sample_times_s)
    /video/faces/face            (n,) int32            the face's index within its sample (0: highest score)
    /video/faces/box             (n, 4) float32        x, y, w, h, fractions of the frame's width and height
    /video/faces/landmarks       (n, 6, 2) float32     keypoints (eyes, nose, mouth, ears) as x, y, fractions
    /video/faces/score           (n,) float32          detector confidence in [0, 1]
    /video/faces/size_px         (n,) float32, px      box height in the video's pixels
    /video/faces/sharpness       (n,) float32          variance of the Laplacian of the aligned grey crop
    /video/faces/quality         (n,) float32          in [0, 1], from size, sharpness and score
    /video/faces/shot            (n,) int32            the shot (between cuts) of the sample: 0, 1, ...
    /video/faces/track           (n,) int32            the face's track in the video (never across a cut); -1: none
    /video/faces/embedding       (n, d) float32        the face descriptor
    /video/faces/sample_times_s  (m,) float64, s       every sampled time, with faces or without
    /video/faces/cuts_s          (k,) float64, s       cut times; shot j spans [cuts_s[j-1], cuts_s[j])
    /video/faces attrs           screentime_faces=1, video_id, config (JSON: the face config's identity),
                                 frame_size (width, height px), n_faces, n_samples, embedding_dim,
                                 units (JSON: column -> unit), arrays_sha256, meta_sha256

Times are the video's clock, the samples' presentation times (`/video/actual_s`). The index links each video
with faces as `/faces/<key>` to this group and records the store's one face config (attribute `faces_config`).
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import TYPE_CHECKING

import h5py
import numpy as np

from featurestore.errors import NotEmbedded, StoreCorrupt, StoreMismatch, arg, command
from featurestore.faces.table import COLUMNS, DTYPES, KEY_COLUMNS, FaceTable, column_shape

from .shards import FACES, ShardDamaged, read_shard, shard_file, write_shard

if TYPE_CHECKING:
    import pandas as pd

FACES_FORMAT = 1

#: What each column's numbers mean, stored with the table for plain h5py readers.
UNITS = {"time_s": "s (the video's clock)", "face": "index within the sample, by descending score",
         "box": "x, y, w, h as fractions of the frame's width and height", "landmarks": "x, y as fractions",
         "score": "detector confidence, 0-1", "size_px": "px (box height)", "sharpness": "variance of the Laplacian",
         "quality": "0-1", "shot": "index", "track": "index, -1: none", "embedding": "descriptor",
         "sample_times_s": "s", "cuts_s": "s", "frame_size": "px (width, height)"}


def checked_columns(table: FaceTable) -> dict[str, np.ndarray]:
    """The table's columns, sample times and cuts in their stored dtypes; ValueError if they do not fit together."""
    n = len(table.time_s)
    arrays = {name: np.ascontiguousarray(getattr(table, name), dtype=DTYPES[name]) for name in COLUMNS}
    dim = arrays["embedding"].shape[1] if arrays["embedding"].ndim == 2 else -1
    for name in COLUMNS:
        expected = (n, *column_shape(name, dim))
        if arrays[name].shape != expected:
            raise ValueError(f"face table of {table.video_id!r}: column {name} has shape {arrays[name].shape}, "
                             f"expected {expected}")
    arrays["sample_times_s"] = np.ascontiguousarray(table.sample_times_s, dtype="<f8")
    arrays["cuts_s"] = np.ascontiguousarray(table.cuts_s, dtype="<f8")
    if arrays["sample_times_s"].ndim != 1 or arrays["cuts_s"].ndim != 1:
        raise ValueError(f"face table of {table.video_id!r}: sample_times_s and cuts_s must be 1-d")
    if n and not np.isin(arrays["time_s"], arrays["sample_times_s"]).all():
        raise ValueError(f"face table of {table.video_id!r}: a face's time_s is not one of its sample_times_s")
    if n > 1 and not rows_in_sample_order(arrays["time_s"], arrays["face"], arrays["sample_times_s"]):
        raise ValueError(f"face table of {table.video_id!r}: rows are not in sample order (time_s, then face, "
                         "at most one run of faces per sample)")
    if len(table.frame_size) != 2 or min(int(v) for v in table.frame_size) < 1:
        raise ValueError(f"face table of {table.video_id!r}: frame_size must be (width, height) px, got {table.frame_size}")
    return arrays


def rows_in_sample_order(time_s: np.ndarray, face: np.ndarray, sample_times_s: np.ndarray) -> bool:
    """Whether rows go sample by sample: `time_s` never decreases, and where it stays the same `face` rises (one
    sample's faces) or starts again at 0 (the next sample of a frame held on screen: variable frame rate) -- no
    more often than `sample_times_s` holds that time."""
    same = time_s[1:] == time_s[:-1]
    if not (np.all(time_s[1:] >= time_s[:-1]) and np.all(~same | (face[1:] > face[:-1]) | (face[1:] == 0))):
        return False
    runs = time_s[np.r_[True, ~same | (face[1:] <= face[:-1])]]  # the time of each sample's first face
    times, n_runs = np.unique(runs, return_counts=True)
    held, n_held = np.unique(sample_times_s, return_counts=True)
    at = np.minimum(np.searchsorted(held, times), len(held) - 1)
    return bool(np.all((held[at] == times) & (n_runs <= n_held[at])))


def arrays_digest(arrays: dict[str, np.ndarray]) -> str:
    """'sha256:<hex>' of the columns, then sample_times_s and cuts_s (their stored bytes, C order)."""
    digest = hashlib.sha256()
    for name in (*COLUMNS, "sample_times_s", "cuts_s"):
        digest.update(np.ascontiguousarray(arrays[name]).data)
    return "sha256:" + digest.hexdigest()


def _meta(video_id: str, config_json: str, frame_size, n_faces: int, n_samples: int, dim: int) -> str:
    return json.dumps({"video_id": video_id, "config": config_json, "frame_size": [int(v) for v in frame_size],
                       "n_faces": int(n_faces), "n_samples": int(n_samples), "embedding_dim": int(dim)}, sort_keys=True)


def write_faces(video: h5py.Group, table: FaceTable, arrays: dict[str, np.ndarray]) -> None:
    """Add the face table to a shard's `/video` group being built (`arrays`: from `checked_columns`)."""
    g = video.create_group(FACES)
    for name, array in arrays.items():
        chunks = None
        if array.ndim >= 1 and len(array) > 256:
            chunks = (256, *array.shape[1:])
        g.create_dataset(name, data=array, chunks=chunks)
    config_json = json.dumps(table.config, sort_keys=True)
    n, dim = len(arrays["time_s"]), arrays["embedding"].shape[1]
    g.attrs["screentime_faces"] = FACES_FORMAT
    g.attrs["video_id"] = table.video_id
    g.attrs["config"] = config_json
    g.attrs["frame_size"] = np.array([int(v) for v in table.frame_size], np.int64)
    g.attrs["n_faces"] = n
    g.attrs["n_samples"] = len(arrays["sample_times_s"])
    g.attrs["embedding_dim"] = dim
    g.attrs["units"] = json.dumps(UNITS, sort_keys=True)
    g.attrs["arrays_sha256"] = arrays_digest(arrays)
    meta = _meta(table.video_id, config_json, table.frame_size, n, len(arrays["sample_times_s"]), dim)
    g.attrs["meta_sha256"] = "sha256:" + hashlib.sha256(meta.encode("utf-8")).hexdigest()


def _attrs(g: h5py.Group) -> tuple[str, dict, tuple[int, int], int, int, int]:
    """(video_id, config, frame_size, n_faces, n_samples, embedding_dim), checked against meta_sha256."""
    a = g.attrs
    video_id, config_json = str(a["video_id"]), str(a["config"])
    frame_size = tuple(int(v) for v in a["frame_size"])
    n, m, dim = int(a["n_faces"]), int(a["n_samples"]), int(a["embedding_dim"])
    meta = _meta(video_id, config_json, frame_size, n, m, dim)
    if "sha256:" + hashlib.sha256(meta.encode("utf-8")).hexdigest() != a["meta_sha256"]:
        raise ShardDamaged("its face table's description fails its checksum")
    return video_id, json.loads(config_json), frame_size, n, m, dim


def _face_group(f: h5py.File) -> h5py.Group:
    """The face table's group in an open shard; ShardDamaged if it has none."""
    if FACES not in f["video"]:
        raise ShardDamaged("it holds no face table")
    return f["video"][FACES]


def read_faces_config(path: Path) -> dict:
    """The face config (identity) of the face table in shard `path`, checked; ShardDamaged if it has none."""
    with shard_file(path, "its face table is unreadable") as f:
        return _attrs(_face_group(f))[1]


def read_faces(path: Path) -> FaceTable:
    """The face table in shard `path`, verified against its checksums; ShardDamaged if it has none or it changed."""
    with shard_file(path, "its face table is unreadable") as f:
        g = _face_group(f)
        video_id, config, frame_size, n, m, dim = _attrs(g)
        arrays = {name: g[name][()] for name in (*COLUMNS, "sample_times_s", "cuts_s")}
        expected = str(g.attrs["arrays_sha256"])
    shapes_ok = (len(arrays["sample_times_s"]) == m and arrays["embedding"].shape == (n, dim)
                 and all(len(arrays[name]) == n for name in COLUMNS))
    if not shapes_ok:
        raise ShardDamaged("its face table's arrays disagree with its description")
    if arrays_digest(arrays) != expected:
        raise ShardDamaged("its face table fails its checksum (changed on disk)")
    return FaceTable(video_id, config, arrays.pop("sample_times_s"), arrays.pop("cuts_s"), frame_size, **arrays)


def differing_keys(stored: dict, asked: dict) -> set[str]:
    """The keys whose values differ between two face configs (identities), missing keys included."""
    return {k for k in set(stored) | set(asked) if stored.get(k) != asked.get(k)}


def config_differences(stored: dict, asked: dict, *, sep: str = " -> ", show=repr) -> list[str]:
    """'key: stored -> asked' (`sep` between the two, each value as `show` gives it) for every setting of two face
    configs (identities) that differs; of the libraries (and weight files), only those that differ:
    'libraries: numpy 2.4.6 -> 2.5.0, tensorflow (none) -> 2.21.0'."""
    return [f"{k}: {_changed(stored.get(k), asked.get(k), sep, show)}" for k in sorted(differing_keys(stored, asked))]


def _changed(stored, asked, sep: str, show) -> str:
    if not (isinstance(stored, dict) and isinstance(asked, dict)):
        return f"{'(none)' if stored is None else show(stored)}{sep}{'(none)' if asked is None else show(asked)}"
    return ", ".join(f"{n} {stored.get(n, '(none)')}{sep}{asked.get(n, '(none)')}"
                     for n in sorted(differing_keys(stored, asked)))


def faces_frame(tables: list[FaceTable]) -> pd.DataFrame:
    """One row per face of `tables`, indexed by (video, time_s, face): x, y, w, h, score, size_px, sharpness,
    quality, shot, track, then e0 ... e{d-1}, the embedding (float32)."""
    import pandas as pd

    names = ["video", "time_s", "face"]
    base = ["x", "y", "w", "h", *(name for name, shape in COLUMNS.items() if shape == () and name not in KEY_COLUMNS)]
    frames = []
    for t in tables:
        df = pd.DataFrame(t.embedding, columns=[f"e{i}" for i in range(t.embedding.shape[1])])
        for i, name in enumerate(base[:4]):
            df.insert(i, name, t.box[:, i])
        for i, name in enumerate(base[4:], start=4):
            df.insert(i, name, getattr(t, name))
        df.index = pd.MultiIndex.from_arrays([[t.video_id] * len(t), t.time_s, t.face], names=names)
        frames.append(df)
    if not frames:  # typed as a table with rows is (no embedding columns: their number is unknown)
        return pd.DataFrame({name: np.zeros(0, DTYPES["box" if name in ("x", "y", "w", "h") else name]) for name in base},
                            index=pd.MultiIndex.from_arrays([pd.Index([], dtype="str"), np.zeros(0, DTYPES["time_s"]),
                                                             np.zeros(0, DTYPES["face"])], names=names))
    return pd.concat(frames)


class StoreFaces:
    """The face tables of a `FeatureStore` (a mixin of it): one per video at most, all of one face config."""

    def has_faces(self, video_id: str) -> bool:
        """Whether the faces of `video_id` are stored (`embed --faces`)."""
        return video_id in self.index.read_faces()[1]

    def face_video_ids(self) -> list[str]:
        """Ids of the videos whose faces are stored, sorted."""
        return sorted(self.index.read_faces()[1])

    def faces(self, video_id: str) -> FaceTable:
        """The faces of `video_id`, verified against their checksums.

        Raises NotEmbedded (naming `embed --faces`) if its faces are not stored, VideoDamaged (a StoreCorrupt)
        if they changed on disk.
        """
        if not self.has_faces(video_id):
            self.shard_path(video_id)  # NotEmbedded when the video itself is not stored
            raise NotEmbedded(f"{self.path}: holds no faces of {video_id!r}; add them with "
                              f"`{command(f'embed VIDEO --faces --store {arg(self.path)}')}`")
        return self._from_shard(video_id, read_faces)

    def faces_to_pandas(self, video_ids: str | list[str] | None = None) -> pd.DataFrame:
        """One row per stored face, indexed by (video, time_s, face); `store.to_pandas(faces=True)`.

        Columns: x, y, w, h (the box, fractions of the frame's width and height), score, size_px, sharpness,
        quality, shot, track, then e0 ... e{d-1}, the face descriptor (float32), so `df.filter(regex="^e[0-9]+$")`
        is a matrix for scikit-learn. Without `video_ids`: every video whose faces are stored (damaged ones left
        out with a warning); a video asked for without stored faces raises NotEmbedded.
        """
        video_ids = [video_ids] if isinstance(video_ids, str) else video_ids  # one id, not its letters
        tables, skipped = [], []
        for video_id in video_ids if video_ids is not None else self.face_video_ids():
            table = self._read_or_skip(self.faces, video_id, video_ids, skipped)
            if table is not None:
                tables.append(table)
        self._warn_skipped(skipped)
        return faces_frame(tables)

    def face_config(self) -> dict | None:
        """The face config (identity) of the faces this store holds; None while it holds none."""
        config, faced = self.index.read_faces() if self.path.exists() else (None, set())
        return config if faced else None

    def check_faces_config(self, identity: dict) -> None:
        """Raise StoreMismatch if the store holds faces of another face config than `identity`."""
        config, faced = self.index.read_faces() if self.path.exists() else (None, set())
        self._refuse_faces_config(identity, faced, config)

    def _refuse_faces_config(self, identity: dict, faced: set, config: dict | None) -> None:
        if faced and config != identity:
            videos = "1 video" if len(faced) == 1 else f"{len(faced)} videos"
            differ = differing_keys(config or {}, identity)
            advice = "use another --store"
            if differ <= {"min_score", "min_size_px"}:  # what embed's --face-* options set
                advice += ", or leave out the --face-* options to use the store's"
            elif differ == {"libraries"}:  # the face packages were upgraded (or one is missing)
                advice += ", or install the versions the store's faces were found with"
            raise StoreMismatch(f"{self.path}: holds the faces of {videos} made with other face settings "
                                f"({'; '.join(config_differences(config or {}, identity))}); {advice}")

    def put_faces(self, video_id: str, table: FaceTable) -> None:
        """Store the faces of a stored video, replacing any it had; its features stay as they are (bit for bit).

        `table.sample_times_s` must be the video's stored sample times (`read(video_id).actual_s`).

        Raises
        ------
        NotEmbedded
            The video's features are not stored.
        VideoDamaged, StoreMismatch, StoreFull, StoreUnwritable
        """
        if self.mode != "a":
            raise ValueError("store was opened read-only; open it with mode='a' to write")
        self.check_faces_config(table.config)
        for _ in range(3):
            shard = self.shard_path(video_id)  # NotEmbedded
            try:
                header, requested_s, actual_s, features = read_shard(shard)
            except ShardDamaged as err:
                raise self._damaged(video_id, str(err)) from None
            extra = self._faces_writer(video_id, table, actual_s)
            if self._publish(video_id, lambda tmp: write_shard(tmp, video_id, requested_s=requested_s, actual_s=actual_s,
                                                               features=features, info=header.info,
                                                               config=header.config, extra=extra),
                             table.config, expect=shard.name):
                return
        raise StoreCorrupt(f"{self.path}: video {video_id!r} kept changing while its faces were stored; run again")

    def _faces_writer(self, video_id: str, table: FaceTable, actual_s: np.ndarray):
        """What adds `table` to the shard of `video_id` being written; ValueError if it is not that video's."""
        if table.video_id != video_id:
            raise ValueError(f"the face table is of {table.video_id!r}, not {video_id!r}")
        arrays = checked_columns(table)
        if not np.array_equal(arrays["sample_times_s"], actual_s):
            raise ValueError(f"the face table's sample times ({len(table.sample_times_s)}) are not those of {video_id!r} "
                             f"({len(actual_s)} samples)")
        return lambda group: write_faces(group, table, arrays)

