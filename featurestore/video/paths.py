"""Video files as the user names them: checks that a path can be a video, folders expanded to their videos,
and the content fingerprint that tells two files apart without reading them whole."""

from __future__ import annotations

import hashlib
import os
import re
from pathlib import Path

from featurestore.errors import InvalidParameter, VideoUnreadable

# Signatures of image formats that FFmpeg would happily open as a one-frame "video" (a GIF is one only when it
# is animated: featurestore.video.container refuses a still one).
_IMAGE_MAGIC = {
    b"\x89PNG\r\n\x1a\n": "a PNG image",
    b"\xff\xd8\xff": "a JPEG image",
    b"BM": "a BMP image",
}
_FINGERPRINT_BLOCK = 1 << 20


#: File name endings taken as videos when a folder is given in place of video files: players' and cameras' files,
#: DV and HDV tape captures (.dv, .m2t), camcorders' (.mod, .tod), TV recordings (.tp, .trp, .wtv), RealMedia.
VIDEO_SUFFIXES = (".3g2", ".3gp", ".asf", ".avi", ".divx", ".dv", ".f4v", ".flv", ".m2t", ".m2ts", ".m2v", ".m4v", ".mkv",
                  ".mod", ".mov", ".mp4", ".mpeg", ".mpg", ".mts", ".mxf", ".ogv", ".qt", ".rm", ".rmvb", ".tod", ".tp",
                  ".trp", ".ts", ".vob", ".webm", ".wmv", ".wtv")


def expand_folders(paths) -> list[Path]:
    """`paths` with each folder replaced by the video files directly in it (not hidden ones), in natural name order
    (ep2 before ep10).

    Raises VideoUnreadable for a folder with no file ending in one of VIDEO_SUFFIXES; files are passed on as given.
    """
    expanded = []
    for path in map(Path, paths):
        if not path.is_dir():
            expanded.append(path)
            continue
        found = [f for f in path.iterdir()  # not hidden files: macOS leaves ._name.mp4 metadata beside copies
                 if f.suffix.lower() in VIDEO_SUFFIXES and not f.name.startswith(".") and f.is_file()]
        if not found:
            raise VideoUnreadable(f"{path}: is a directory with no video files in it ({' '.join(VIDEO_SUFFIXES)}); "
                                  "name the videos themselves")
        expanded += sorted(found, key=lambda f: [int(t) if t.isdigit() else t.lower() for t in re.split(r"(\d+)", f.name)])
    return expanded


#: How a video is named in the store when no --name is given: its file name, or its path as given.
VIDEO_IDS = ("name", "path")


def video_ids(paths, ids: str = "name") -> list[str]:
    """The store id of each of `paths`: 'name' its file name (ep1.mp4), 'path' the path as given, normalised with
    forward slashes (season1/ep1.mp4: seasons whose folders hold the same file names)."""
    if ids not in VIDEO_IDS:
        raise InvalidParameter("ids", f"must be one of {', '.join(VIDEO_IDS)}, got {ids!r}")
    if ids == "name":
        return [Path(p).name for p in paths]
    return [os.path.normpath(p).replace(os.sep, "/") for p in paths]


def check_video_path(path: str | os.PathLike) -> Path:
    """Raise VideoUnreadable with one sentence if `path` cannot be a video file; return it as a Path."""
    path = Path(path)
    if not path.exists():
        raise VideoUnreadable(f"{path}: no such file")
    if path.is_dir():
        raise VideoUnreadable(f"{path}: is a directory, not a video file")
    try:
        size = path.stat().st_size
        with open(path, "rb") as fh:
            head = fh.read(16)
    except OSError as err:
        raise VideoUnreadable(f"{path}: cannot be read ({err.strerror})") from None
    if size == 0:
        raise VideoUnreadable(f"{path}: is empty (0 bytes)")
    for magic, what in _IMAGE_MAGIC.items():
        if head.startswith(magic):
            raise VideoUnreadable(f"{path}: is {what}, not a video")
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        raise VideoUnreadable(f"{path}: is a WebP image, not a video")
    return path


def fingerprint(path: str | os.PathLike) -> str:
    """Content fingerprint: SHA-256 of the size and of 1 MiB blocks at the start, middle and end.

    Reads at most 3 MiB however large the file, yet any re-encode, cut or different file changes it.
    """
    path = Path(path)
    size = path.stat().st_size
    digest = hashlib.sha256(str(size).encode())
    with open(path, "rb") as fh:
        for offset in sorted({0, max(0, size // 2 - _FINGERPRINT_BLOCK // 2), max(0, size - _FINGERPRINT_BLOCK)}):
            fh.seek(offset)
            digest.update(fh.read(_FINGERPRINT_BLOCK))
    return "sha256-3x1MiB:" + digest.hexdigest()
