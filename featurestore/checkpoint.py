"""Checkpoints of an embedding in progress, so an interrupted run resumes where it stopped.

Each batch of features is written to its own small .npz file and published by rename: a killed process
leaves only whole chunks behind. A chunk set belongs to one (video content, config, sample rate).
"""

from __future__ import annotations

import json
import shutil
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
        for stale in sorted(self.path.glob("chunk-*.npz"))[len(parts):]:
            stale.unlink(missing_ok=True)
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
        shutil.rmtree(self.path, ignore_errors=True)
        self._n_chunks = 0

