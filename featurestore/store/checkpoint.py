"""Checkpoints of an embedding in progress, so an interrupted run resumes where it stopped.

Each batch of features (and, with `embed --faces`, the faces of its samples) is written to its own small .npz
file and published by rename: a killed process leaves only whole chunks behind. A chunk set belongs to one (video content, config, sample rate, decode mode).
Chunks carry their sample numbers, so time ranges decoded in parallel, in any order, resume exactly; a chunk
may also say where the video ends (`end_index`, `end_s`) once a decoder has reached it. The caller holds the
video's lock while it uses a checkpoint; a folder nobody can resume is removed by the store's leftover sweep
(featurestore.store.sweep).
"""

from __future__ import annotations

import json
import math
import os
import shutil
import uuid
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from featurestore.errors import StoreUnwritable
from featurestore.files import atomic_output, atomic_write


@dataclass
class CheckpointState:
    """Everything checkpointed for one video: samples in any order, and what decoders learnt about its end.

    index, n_frames : (n,) int64; requested_s, actual_s : (n,) float64; features : (n, n_features) float32.
    end_index : number of samples of the whole video, or None while no decoder has reached its end.
    faces : the samples' faces as the chunks stored them ('faces_n': (n,) faces per sample, then 'faces_<column>'
    with one row per face, in sample order), or None; cuts_s : (k,) float64 cut times once found, else None.
    """

    index: np.ndarray
    requested_s: np.ndarray
    actual_s: np.ndarray
    features: np.ndarray
    n_frames: np.ndarray
    end_index: int | None = None
    end_s: float | None = None
    n_decode_errors: int = 0
    faces: dict | None = None
    cuts_s: np.ndarray | None = None


class Checkpoint:
    """Chunks of (requested_s, actual_s, features) in folder `path`, valid only for `meta`."""

    def __init__(self, path: Path, meta: dict):
        self.path = Path(path)
        self.meta = json.loads(json.dumps(meta, sort_keys=True))
        self._n_chunks = 0

    def _meta_matches(self) -> bool:
        """Whether the chunks on disk were made for this content and these settings."""
        try:
            return json.loads((self.path / "meta.json").read_text()) == self.meta
        except (OSError, ValueError):
            return False

    def n_samples(self) -> int:
        """Samples checkpointed for this meta (0 for another meta's chunks), without loading features or deleting."""
        if not self._meta_matches():
            return 0
        n = 0
        for chunk in self.path.glob("chunk-*.npz"):
            try:
                with np.load(chunk) as z:
                    n += len(z["requested_s"])
            except (OSError, ValueError, KeyError):
                continue
        return n

    def load_state(self) -> CheckpointState | None:
        """All chunks, whatever their order (chunks written before sample numbers were stored count from 0). A folder this
        user may not write (another member of a team was interrupted: theirs, 0755) is set aside and the video embedded
        anew: its chunks could be neither added to nor cleaned up."""
        if self.path.is_dir() and not os.access(self.path, os.W_OK | os.X_OK):
            self._set_aside()
            return None
        if not self._meta_matches():
            self.clear()
            return None
        parts, next_position, end_index, end_s, errors = [], 0, None, None, 0
        face_parts, cuts_s = [], None
        chunks = sorted(self.path.glob("chunk-*.npz"))
        for chunk in chunks:
            try:
                with np.load(chunk) as z:
                    n = len(z["requested_s"])
                    faces = {k: z[k] for k in z.files if k.startswith("faces_")} if n and "faces" in self.meta else None
                    if faces is not None and (len(faces["faces_n"]) != n or faces["faces_n"].sum() != len(faces["faces_score"])):
                        raise ValueError("its faces do not fit its samples")
                    index = z["index"] if "index" in z else np.arange(next_position, next_position + n)
                    n_frames = z["n_frames"] if "n_frames" in z else np.zeros(n, np.int64)
                    part = (index, z["requested_s"], z["actual_s"], z["features"], n_frames)
                    end = (int(z["end_index"]), float(z["end_s"])) if "end_index" in z and int(z["end_index"]) >= 0 else None
                    n_errors = int(z["n_decode_errors"]) if "n_decode_errors" in z else 0
                    cuts_s = z["cuts_s"] if "cuts_s" in z else cuts_s
                parts.append(part)
                errors += n_errors
                if faces is not None:
                    face_parts.append(faces)
                if end is not None:
                    end_index, end_s = end[0] if end_index is None else min(end_index, end[0]), end[1]
                next_position += n
            except (OSError, ValueError, KeyError):
                chunk.unlink(missing_ok=True)  # a damaged chunk is decoded again
        for stale in self.path.glob(".*.tmp-*"):
            stale.unlink(missing_ok=True)  # half-written chunks of a killed run
        self._n_chunks = int(chunks[-1].stem.split("-")[1]) + 1 if chunks else 0
        if not parts:
            return None
        index, requested, actual, features, n_frames = (np.concatenate(x) for x in zip(*parts))
        faces = {k: np.concatenate([f[k] for f in face_parts]) for k in face_parts[0]} if face_parts else None
        return CheckpointState(index.astype(np.int64), requested, actual, features, n_frames.astype(np.int64),
                               end_index, end_s, errors, faces, cuts_s)

    def append(self, requested_s: np.ndarray, actual_s: np.ndarray, features: np.ndarray, *,
               index: np.ndarray | None = None, n_frames: np.ndarray | None = None, end_index: int | None = None,
               end_s: float | None = None, n_decode_errors: int = 0, faces: dict | None = None,
               cuts_s: np.ndarray | None = None) -> None:
        """Add one batch durably: samples `index` (default: following the previous chunk's), and optionally
        where the video ends (`end_index` samples; its last frame leaves the screen at `end_s`), the samples'
        `faces` ('faces_n' and 'faces_<column>' arrays, see CheckpointState) and the video's `cuts_s`."""
        if self._n_chunks == 0:
            self.path.mkdir(parents=True, exist_ok=True)
            atomic_write(self.path / "meta.json", json.dumps(self.meta, sort_keys=True).encode())
        extra = {}
        if index is not None:
            extra.update(index=np.asarray(index, np.int64),
                         n_frames=np.asarray(n_frames if n_frames is not None else np.zeros(len(index)), np.int64))
        if end_index is not None:
            extra.update(end_index=np.int64(end_index), end_s=np.float64(end_s if end_s is not None else math.nan))
        if n_decode_errors:
            extra.update(n_decode_errors=np.int64(n_decode_errors))
        if faces is not None:
            extra.update(faces)
        if cuts_s is not None:
            extra.update(cuts_s=np.asarray(cuts_s, np.float64))
        with atomic_output(self.path / f"chunk-{self._n_chunks:06d}.npz") as tmp:
            with open(tmp, "wb") as fh:
                np.savez(fh, requested_s=requested_s, actual_s=actual_s, features=features, **extra)
        self._n_chunks += 1

    def clear(self) -> None:
        """Delete the checkpoint: renamed aside first, so a kill midway leaves no half folder under its name."""
        self._n_chunks = 0
        if not self.path.exists():
            return
        aside = self.path.with_name(f".{self.path.name}.trash-{uuid.uuid4().hex[:8]}")
        try:
            os.replace(self.path, aside)
        except OSError:
            aside = self.path
        shutil.rmtree(aside, ignore_errors=True)

    def _set_aside(self) -> None:
        """Rename the folder to a leftover name the store's sweep removes (by a user who may); StoreUnwritable if not even
        that is allowed (a sticky shared folder)."""
        aside = self.path.with_name(f".{self.path.name}.trash-{uuid.uuid4().hex[:8]}")
        try:
            os.replace(self.path, aside)
        except OSError as err:
            raise StoreUnwritable(f"{self.path}: an interrupted embedding of another user that you can neither continue "
                                  f"nor set aside ({err.strerror}); ask them to run their command again, or to remove "
                                  "this folder") from None
        shutil.rmtree(aside, ignore_errors=True)
        self._n_chunks = 0

    def size_bytes(self) -> int:
        """Bytes the checkpoint's files take on disk now."""
        try:
            return sum(p.stat().st_size for p in self.path.iterdir() if p.is_file())
        except OSError:
            return 0

