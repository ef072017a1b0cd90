"""Where a stored video's source file is now: the path recorded when it was embedded, or a folder the user names
when the videos have moved; a file found is checked against the stored content fingerprint."""

from __future__ import annotations

import os
from pathlib import Path

from featurestore.errors import SourceVideoMoved

from .paths import fingerprint


def find_source(video_id: str, info: dict, *, video_dir: str | os.PathLike | None = None) -> Path:
    """The file a stored video was embedded from: its recorded path, else ``video_dir``/its file name.

    A file found is checked against the stored content fingerprint, so a different video of the same
    name is never shown as this one.

    Raises
    ------
    SourceVideoMoved
        In one line: the stored id, where it was, and what to do (put it back or pass ``--video-dir``).
    """
    recorded = str(info.get("source_path") or "")
    names = [n for n in dict.fromkeys([Path(recorded).name if recorded else "", Path(video_id).name]) if n]
    candidates = ([Path(video_dir) / n for n in names] if video_dir is not None else []) + ([Path(recorded)] if recorded else [])
    wanted = info.get("fingerprint")
    changed = []
    for path in candidates:
        if not path.is_file():
            continue
        try:
            if wanted and fingerprint(path) != wanted:
                changed.append(path)
                continue
        except OSError:
            continue
        return path
    where = f" (looked in {video_dir} too)" if video_dir is not None else ""
    if changed:
        raise SourceVideoMoved(f"{video_id}: {changed[0]} is not the video that was embedded (its content differs){where}; "
                               "put the original back or pass --video-dir with the folder that holds it")
    if not recorded:
        raise SourceVideoMoved(f"{video_id}: the store does not record which file it was embedded from; "
                               "pass --video-dir with the folder that holds it")
    raise SourceVideoMoved(f"{video_id}: its source video {recorded} has moved or been deleted{where}; "
                           "put it back or pass --video-dir with the folder it is in now")
