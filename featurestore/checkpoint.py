"""Checkpoints of an embedding in progress, so an interrupted run resumes where it stopped.

Each batch of features is written to its own small .npz file and published by rename: a killed process
leaves only whole chunks behind. A chunk set belongs to one (video content, config, sample rate). The
caller holds the video's lock while it uses a checkpoint; a folder nobody can resume is removed by the
store's leftover sweep (featurestore.integrity).
"""

from __future__ import annotations

import json
import os
import shutil
import uuid
from pathlib import Path

import numpy as np

from .files import atomic_output, atomic_write


class Checkpoint:
    """Chunks of (requested_s, actual_s, features) in folder `path`, valid only for `meta`."""

    def __init__(self, path: Path, meta: dict):
        self.path = Path(path)
        self.meta = json.loads(json.dumps(meta, sort_keys=True))
        self._n_chunks = 0

    def load(self) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
        """Return the samples already embedded (contiguous from sample 0), or None when there are none.

        Chunks made for other content or settings are discarded.
        """
        meta_path = self.path / "meta.json"
        try:
            meta = json.loads(meta_path.read_text())
        except (OSError, ValueError):
            meta = None
        if meta != self.meta:
            self.clear()
            return None
        parts = []
        for chunk in sorted(self.path.glob("chunk-*.npz")):
            try:
                with np.load(chunk) as z:
                    parts.append((z["requested_s"], z["actual_s"], z["features"]))
            except (OSError, ValueError, KeyError):
                break  # keep what precedes an unreadable chunk
        self._n_chunks = len(parts)
        for stale in sorted(self.path.glob("chunk-*.npz"))[len(parts):] + list(self.path.glob(".*.tmp-*")):
            stale.unlink(missing_ok=True)  # chunks after a damaged one, and half-written ones of a killed run
        if not parts:
            return None
        return tuple(np.concatenate(x) for x in zip(*parts))  # type: ignore[return-value]

    def append(self, requested_s: np.ndarray, actual_s: np.ndarray, features: np.ndarray) -> None:
        """Add one batch durably."""
        if self._n_chunks == 0:
            self.path.mkdir(parents=True, exist_ok=True)
            atomic_write(self.path / "meta.json", json.dumps(self.meta, sort_keys=True).encode())
        with atomic_output(self.path / f"chunk-{self._n_chunks:06d}.npz") as tmp:
            with open(tmp, "wb") as fh:
                np.savez(fh, requested_s=requested_s, actual_s=actual_s, features=features)
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

    def size_bytes(self) -> int:
        """Bytes the checkpoint's files take on disk now."""
        try:
            return sum(p.stat().st_size for p in self.path.iterdir() if p.is_file())
        except OSError:
            return 0

