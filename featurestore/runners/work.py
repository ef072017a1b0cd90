"""One video on its way into the store: samples gathered in any order from parallel decoders (or Ray tasks),
checkpointed as they come, and published whole once every sample up to the end of the video is there -- with
`embed --faces`, the samples' faces with them (or, for a video stored without faces, its faces alone).

`VideoWork` is the only writer of a video's checkpoint and, when it is embedded, of its shard (a byte-identical
copy is put by the pipeline); the processes that decode never touch the store.
"""

from __future__ import annotations

import time
import warnings
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from featurestore.errors import EmbedWarning, StoreFull, StoreMismatch, StoreUnwritable, VideoUnreadable
from featurestore.files import is_disk_full
from featurestore.provenance import library_versions
from featurestore.store.checkpoint import Checkpoint
from featurestore.store.layout import checkpoint_name
from featurestore.video.clock import n_samples_until
from featurestore.video.fields import DEINTERLACER
from featurestore.video.pyav import SKIP_FRAME
from featurestore.video.reader import VideoInfo

from .faces import CutFinder, FaceAnalysis, face_table, pack_faces, unpack_faces

#: Recorded with each video (the Keras backend's own libraries are added per run).
EMBED_LIBRARIES = ("numpy", "opencv-python-headless", "av", "h5py", "keras")


@dataclass
class EmbedReport:
    """Outcome for one video: status is 'new' (embedded now), 'resumed', 'replaced', 'copied' (features taken
    from a byte-identical video stored under another id), 'faces' (a stored video's faces found now) or 'stored'
    (nothing to do). `n_faces`: faces stored for it (None: its faces were not asked for)."""

    video_id: str
    path: str
    status: str
    n_samples: int
    duration_s: float
    wall_s: float = 0.0
    n_embedded: int = 0  # samples that went through the network in this run
    device: str = ""
    warning: str = ""
    backend: str = ""
    decode: str = ""
    n_ranges: int = 0  # time ranges decoded separately (in parallel) in this run
    runtime: str = ""  # 'keras', 'openvino 2026.4.1'
    precision: str = ""
    n_faces: int | None = None

    @classmethod
    def stored(cls, video_id: str, path, info: dict, n_faces: int | None = None) -> "EmbedReport":
        """The report of a video found in the store (nothing done), from its stored `info`; warns where `--decode
        fast` stored it by its first rule (every B-frame skipped: frames after a skipped reference one damaged)."""
        if info.get("decode") == "fast" and "(skip" not in str(info.get("decoder", "")):
            warnings.warn(f"{path}: stored with --decode fast when it skipped every B-frame, which damaged the frames "
                          "after them in x264's and x265's usual output; embed it again with --replace", EmbedWarning,
                          stacklevel=2)
        return cls(video_id, str(path), "stored", info["n_samples"], info["duration_s"], decode=info.get("decode", "exact"),
                   precision=info.get("precision", "float32"), n_faces=n_faces)

    @property
    def frames_per_s(self) -> float:
        """Sampled frames embedded per second of wall time in this run (not the video's frame rate)."""
        return self.n_embedded / self.wall_s if self.wall_s > 0 else 0.0


@dataclass
class RangeEnd:
    """What a decoder reports when it stops: where, whether at the end of the video, and what it saw."""

    next_index: int
    reached_end: bool
    end_s: float | None
    n_decode_errors: int = 0
    frames_decoded: int = 0
    decoder: str = ""
    hw_error: str = ""
    deinterlace_error: str = ""  # why interlaced frames were left as decoded ('' if none were)


def checkpoint_for(store, video_id: str, fingerprint: str, config, sample_fps: float, decode: str,
                   faces: FaceAnalysis | None = None, faces_only: bool = False) -> Checkpoint:
    """The checkpoint of one video's embedding, valid only for this content, config, rate and decode mode (and
    face config; a pass for the faces alone has checkpoints of its own)."""
    meta = {"video_id": video_id, "fingerprint": fingerprint, "config": config.identity(), "sample_fps": sample_fps}
    if decode != "exact":
        meta["decode"] = decode
        meta["skip_frame"] = SKIP_FRAME[decode]  # fast mode once skipped every B-frame: its chunks are not resumed
    meta["fields"] = DEINTERLACER  # interlaced frames deinterlaced: no checkpoint from before that (any mode) resumes
    if faces is not None:
        meta["faces"] = faces.identity
        if faces_only:
            meta["pass"] = "faces"
    return Checkpoint(store.shard_dir / checkpoint_name(video_id), meta)


@dataclass(eq=False)
class VideoWork:
    """Samples of one video collected so far, its checkpoint, and what is still to decode.

    Parameters
    ----------
    info : VideoInfo
        The container's numbers (estimates until the decoders reach the end).
    faces : FaceAnalysis or None
        Find the samples' faces too; with status 'faces' only them (the video's features are stored already).
    """

    store: object
    video_id: str
    path: Path
    fingerprint: str
    config: object  # EmbeddingConfig
    sample_fps: float
    decode: str
    status: str
    info: VideoInfo
    faces: FaceAnalysis | None = None
    parts: list = field(default_factory=list)  # (index, requested_s, actual_s, features, n_frames, faces or None)
    done: set = field(default_factory=set)
    end_index: int | None = None
    end_s: float | None = None
    n_decode_errors: int = 0
    n_embedded: int = 0
    decoders: set = field(default_factory=set)
    hw_error: str = ""  # why NVDEC could not decode this video (software did)
    deinterlace_error: str = ""  # why its interlaced frames were stored as decoded (woven fields)
    published: bool = False
    n_ranges: int = 0  # decoding jobs started for it in this run (time ranges decoded separately)
    in_flight: int = 0  # samples decoded but not yet embedded
    started_s: float = field(default_factory=time.perf_counter)
    cuts_s: np.ndarray | None = None  # the video's cut times, once found (faces only)
    cut_finder: CutFinder | None = None

    def __post_init__(self) -> None:
        self.faces_only = self.status == "faces"
        self.checkpoint = checkpoint_for(self.store, self.video_id, self.fingerprint, self.config, self.sample_fps,
                                         self.decode, self.faces, self.faces_only)
        state = self.checkpoint.load_state()
        faces = None if self.faces is None or state is None else unpack_faces(state.faces) if state.faces else []
        if faces is not None and len(faces) != len(state.index):  # never written so: start again
            self.checkpoint.clear()
            state = None
        if state is not None:
            keep = np.unique(state.index, return_index=True)[1]
            faces = None if faces is None else [faces[k] for k in keep]
            self.parts.append((*(np.asarray(a)[keep] for a in (state.index, state.requested_s, state.actual_s,
                                                                state.features, state.n_frames)), faces))
            self.done.update(int(k) for k in state.index)
            self.end_index, self.end_s, self.n_decode_errors = state.end_index, state.end_s, state.n_decode_errors
            self.cuts_s = state.cuts_s
            if self.status == "new" and len(state.index):
                self.status = "resumed"

    @property
    def n_features(self) -> int:
        """Values per sample this work embeds (0 for a pass that finds faces alone)."""
        return 0 if self.faces_only else self.config.n_features

    def find_cuts(self) -> None:
        """Start finding the video's cuts in the background, unless they are checkpointed (faces only)."""
        if self.faces is not None and self.cuts_s is None and self.cut_finder is None:
            self.cut_finder = CutFinder(self.path)

    # -- planning --------------------------------------------------------------------------------
    @property
    def estimated_total(self) -> int:
        """Samples the video will have: exact once a decoder reached its end, else the container's estimate."""
        if self.end_index is not None:
            return self.end_index
        estimate = self.info.duration_estimate_s
        guess = int(np.ceil(estimate * self.sample_fps - 1e-9)) if estimate > 0 else 0
        return max(guess, max(self.done, default=-1) + 1, 1)

    def missing_ranges(self) -> list[tuple[int, int | None]]:
        """[start, stop) ranges of samples not yet embedded; the last one is open (None) until the end is known."""
        ranges, start = [], None
        last = self.end_index if self.end_index is not None else max(self.done, default=-1) + 1
        for k in range(last):
            if k not in self.done and start is None:
                start = k
            elif k in self.done and start is not None:
                ranges.append((start, k))
                start = None
        if start is not None:
            ranges.append((start, last))
        if self.end_index is None:
            ranges.append((last, None))
        return ranges

    @property
    def is_complete(self) -> bool:
        # the count first: this runs after every batch, and the scan is as long as the video
        return (self.end_index is not None and len(self.done) >= self.end_index
                and all(k in self.done for k in range(self.end_index)))

    # -- collecting ------------------------------------------------------------------------------
    def add(self, index, requested_s, actual_s, n_frames, features, faces=None) -> None:
        """Keep embedded samples (any order), with their faces (a FrameFaces each), and checkpoint them durably.
        `features` None: none (a pass for the faces alone)."""
        index = np.asarray(index, np.int64)
        first = np.zeros(len(index), bool)
        first[np.unique(index, return_index=True)[1]] = True
        new = first & np.array([int(k) not in self.done for k in index], bool)
        if not new.any():
            return
        if features is None:
            features = np.zeros((len(index), 0), np.float32)
        arrays = tuple(np.asarray(a)[new] for a in (index, requested_s, actual_s, features, n_frames))
        kept = None if self.faces is None else [f for f, is_new in zip(faces, new) if is_new]
        self._checkpoint(arrays[1], arrays[2], arrays[3], index=arrays[0], n_frames=arrays[4],
                         faces=None if kept is None else pack_faces(kept, self.faces.dim), cuts_s=self._new_cuts())
        self.parts.append((*arrays, kept))
        self.done.update(int(k) for k in arrays[0])
        self.n_embedded += int(new.sum())

    def range_ended(self, end: RangeEnd) -> None:
        """Record a decoder's stop; at the end of the video this fixes the number of samples (checkpointed)."""
        if end.decoder:
            self.decoders.add(end.decoder)
        if end.hw_error:
            self.hw_error = end.hw_error
        self.deinterlace_error = self.deinterlace_error or end.deinterlace_error
        errors = end.n_decode_errors
        if end.reached_end:
            k = n_samples_until(end.end_s, self.sample_fps) if end.end_s is not None else end.next_index
            if self.end_index is None or k < self.end_index:
                self.end_index, self.end_s = k, end.end_s
        if end.reached_end or errors:
            empty = np.zeros((0,), np.float64)
            self._checkpoint(empty, empty, np.zeros((0, self.n_features), np.float32), index=np.zeros(0, np.int64),
                             end_index=self.end_index if end.reached_end else None, end_s=self.end_s,
                             n_decode_errors=errors, cuts_s=self._new_cuts())
        self.n_decode_errors += errors

    def _new_cuts(self) -> np.ndarray | None:
        """The cuts found since the last checkpoint (checkpointed with the next chunk), else None."""
        if self.cut_finder is not None and self.cut_finder.is_done and self.cuts_s is None:
            self.cuts_s = self.cut_finder.result()
            return self.cuts_s
        return None

    def _checkpoint(self, *arrays, **extra) -> None:
        """Checkpoint durably; a failed write becomes one line (StoreFull when the disk is full)."""
        try:
            self.checkpoint.append(*arrays, **extra)
        except OSError as err:
            if is_disk_full(err):
                raise StoreFull(f"{self.store.path}: the disk is full") from None
            raise StoreUnwritable(f"{self.store.path}: cannot write the checkpoint of {self.video_id!r} "
                                  f"({err.strerror or err}: {err.filename or self.checkpoint.path})") from None

    # -- publishing ------------------------------------------------------------------------------
    def publish(self, device: str, backend: str, runtime: str = "", calibration: str = "") -> EmbedReport:
        """Write the complete video to the store (atomically), clear its checkpoint; returns its report."""
        wall_s = time.perf_counter() - self.started_s
        if not self.parts or self.end_index == 0:
            self.checkpoint.clear()
            raise VideoUnreadable(f"{self.path}: no frame could be decoded")
        index, requested, actual, features, n_frames = (np.concatenate([p[i] for p in self.parts]) for i in range(5))
        order = np.argsort(index, kind="stable")
        keep = order[index[order] < self.end_index]
        requested, actual, features, n_frames = requested[keep], actual[keep], features[keep], n_frames[keep]
        faces = None if self.faces is None else [f for p in self.parts for f in p[5]]
        faces = None if faces is None else [faces[k] for k in keep]
        if self.faces_only:
            return self._publish_faces(actual, faces, wall_s)
        duration_s = max(self.end_s or 0.0, float(actual[-1]))
        warning = ""
        expected_s = self.info.duration_estimate_s
        if expected_s > 0 and duration_s < expected_s - max(1.0, 2.0 / self.sample_fps):
            warning = (f"{self.path}: decoding stopped at {duration_s:.1f} s of {expected_s:.1f} s (truncated or corrupt "
                       f"file?); stored the {len(requested)} samples that could be read")
        elif self.n_decode_errors:
            warning = (f"{self.path}: {self.n_decode_errors} damaged packets were skipped while decoding (corrupt "
                       f"file?); samples near them show the last good frame")
        if warning:
            warnings.warn(warning, EmbedWarning, stacklevel=4)
        from featurestore.embedding.backend import BACKEND_LIBRARIES

        frame_count = int(n_frames.sum())
        info = {
            "source_path": str(self.path.resolve()),
            "size_bytes": self.info.size_bytes,
            "fingerprint": self.fingerprint,
            "fps": self.info.fps,
            "frame_count": frame_count if self.decode != "fast" else self.info.frame_count,
            "frames_decoded": frame_count,
            "frame_count_container": self.info.frame_count,
            "width": self.info.width,
            "height": self.info.height,
            "duration_s": duration_s,
            "clock": "file",  # times from the file's start (players'); stores made before kept the picture's start
            "picture_start_s": self.info.start_s,
            "sample_fps": self.sample_fps,
            "decode": self.decode,
            "decoder": ", ".join(sorted(self.decoders)),
            "is_complete": not warning,
            "embedded_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "device": device,
            "keras_backend": backend,
            "runtime": runtime,
            "precision": getattr(self.config, "precision", "float32"),
            "weights_source": (str(Path(self.config.weights).resolve())
                               if self.config.weights not in ("imagenet", "random") else str(self.config.weights)),
            "versions": library_versions(EMBED_LIBRARIES + BACKEND_LIBRARIES.get(backend, ())),
        }
        if calibration:
            info["calibration_sha256"] = calibration  # the preprocessed calibration frames int8 was quantised on
        table = None if faces is None else self._face_table(actual, faces)
        self.store.put(self.video_id, requested_s=requested, actual_s=actual, features=features, info=info, faces=table)
        self.checkpoint.clear()
        return EmbedReport(self.video_id, str(self.path), self.status, len(requested), duration_s, wall_s,
                           self.n_embedded, device, warning, backend, self.decode, self.n_ranges, runtime,
                           self.config.precision, None if table is None else len(table))

    def _face_table(self, sample_times_s: np.ndarray, faces: list):
        if self.cuts_s is None:
            self.find_cuts()
            self.cuts_s = self.cut_finder.result()
        return face_table(self.video_id, self.faces, sample_times_s, faces, self.cuts_s,
                          (self.info.width, self.info.height))

    def _publish_faces(self, actual_s: np.ndarray, faces: list, wall_s: float) -> EmbedReport:
        """Store the faces of a video whose features are stored; they must be of the same samples."""
        stored = self.store.read(self.video_id)
        if len(stored.actual_s) != len(actual_s) or not np.allclose(stored.actual_s, actual_s, rtol=0, atol=1e-6):
            self.checkpoint.clear()
            raise StoreMismatch(f"{self.path}: decoding gave {len(actual_s)} samples, {self.store.path} holds "
                                f"{len(stored.actual_s)} of {self.video_id!r} at other times; re-embed it with --replace")
        table = self._face_table(stored.actual_s, faces)
        self.store.put_faces(self.video_id, table)
        self.checkpoint.clear()
        return EmbedReport(self.video_id, str(self.path), "faces", len(actual_s), float(stored.info["duration_s"]),
                           wall_s, self.n_embedded, decode=self.decode, n_ranges=self.n_ranges,
                           precision=stored.info.get("precision", "float32"), n_faces=len(table))
