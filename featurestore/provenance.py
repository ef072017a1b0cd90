"""What made a result: library versions, and values made JSON-safe for provenance and reports."""

from __future__ import annotations

import math
import os
import platform
from importlib import metadata
from typing import Any

import numpy as np

#: Distributions whose versions decide stored features and saved models.
TRACKED = ("numpy", "opencv-python-headless", "h5py", "tensorflow", "keras", "scikit-learn", "lightgbm", "joblib")


def library_versions(names: tuple[str, ...] = TRACKED) -> dict[str, str | None]:
    """{'python': '3.11.7', name: installed version or None} for each distribution in `names`."""
    versions: dict[str, str | None] = {"python": platform.python_version()}
    for name in names:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    return versions


def json_safe(value: Any) -> Any:
    """Plain JSON values: NumPy scalars and arrays to Python, paths to str, NaN and infinities to None."""
    if isinstance(value, dict):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set)):
        return [json_safe(v) for v in value]
    if isinstance(value, np.ndarray):
        return json_safe(value.tolist())
    if isinstance(value, np.generic):
        return json_safe(value.item())
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, (str, int, bool)) or value is None:
        return value
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    if hasattr(value, "to_dict"):
        return json_safe(value.to_dict())
    return str(value)
