"""Which stored video a name in a labels file (or on the command line) means: the stored id itself, else the
one with its file name, else the one with its stem, and only then the same ignoring case (with a warning)."""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from pathlib import PurePath

from featurestore.errors import LabelsInvalid, NotEmbedded, arg, command

from .table import LabelRow


def matching_ids(name: str, stored: Iterable[str]) -> list[str]:
    """Stored ids a user's `name` may mean: itself, else those with its file name, else those with its stem; where
    none matches, the same three ignoring case and Unicode normalisation (`CLIP2.MP4` -> `clip2.mp4`;
    `differs_in_case` tells).

    `clipB.mp4` matches a stored `/data/clipB.mp4` before a stored `clipB.mkv`; one match is an answer, several are
    ambiguous and none is absent (the caller says which).
    """
    stored = list(stored)
    if name in stored:
        return [name]
    wanted = PurePath(name)
    found = [v for v in stored if PurePath(v).name == wanted.name] or [v for v in stored if PurePath(v).stem == wanted.stem]
    if found:
        return found
    def fold(text: str) -> str:  # case, and Unicode's two spellings of 'é' (macOS writes file names decomposed)
        return unicodedata.normalize("NFC", text).casefold()

    return ([v for v in stored if fold(v) == fold(name)]
            or [v for v in stored if fold(PurePath(v).name) == fold(wanted.name)]
            or [v for v in stored if fold(PurePath(v).stem) == fold(wanted.stem)])


def differs_in_case(name: str, video_id: str) -> bool:
    """Whether `matching_ids` matched `name` to `video_id` only by ignoring case."""
    a, b = PurePath(name), PurePath(video_id)
    return name != video_id and a.name != b.name and a.stem != b.stem


def resolve_video(file_name: str, r: LabelRow, stored: Mapping | Iterable[str], store_name: str) -> str:
    """The stored id a labels row's video names (see `matching_ids`).

    Raises
    ------
    LabelsInvalid
        Naming the file and the row, when no stored video or several fit.
    """
    stored = list(stored)
    matches = matching_ids(r.video, stored)
    if len(matches) == 1:
        return matches[0]
    listed = ", ".join(sorted(stored)[:5]) + (", ..." if len(stored) > 5 else "") or "none"
    if matches:
        raise LabelsInvalid(f"{file_name} {r.place}: video {r.video!r} could be any of {', '.join(sorted(matches)[:5])} "
                            f"in {store_name}; name it as stored")
    raise LabelsInvalid(f"{file_name} {r.place}: video {r.video!r} is not in {store_name} (stored: {listed}); "
                        "embed it first or fix the name")


def resolve_videos(store, videos: Sequence[str] | None) -> list[str]:
    """Stored ids of `videos` (ids, file names or paths of stored videos), in order; all stored videos if None.

    Raises
    ------
    NotEmbedded
        Naming a video that is not in the store and how to add it.
    """
    stored = store.video_ids()
    if not videos:
        if not stored:
            raise NotEmbedded(f"{store.path} holds no video; embed some with `{command(f'embed VIDEO --store {arg(store.path)}')}`")
        return stored
    ids = []
    for name in map(str, videos):
        matches = matching_ids(name, stored)
        if len(matches) > 1:
            raise NotEmbedded(f"{name} could be any of {', '.join(sorted(matches)[:5])} in {store.path.name}; "
                              "name it as stored")
        if not matches:
            listed = ", ".join(stored[:5]) + (", ..." if len(stored) > 5 else "")
            raise NotEmbedded(f"{name} is not in {store.path.name} (stored: {listed or 'none'}); embed it first: "
                              f"{command(f'embed {arg(name)} --store {arg(store.path)}')}")
        ids.append(matches[0])
    return list(dict.fromkeys(ids))


def spelling_variants(labels: Iterable[str]) -> list[tuple[str, ...]]:
    """Groups of labels that are one name written two or more ways -- case, Unicode's two spellings of an accent,
    spaces around or doubled (`Jolie`, `jolie `): the classifiers learn each as a character of its own. Each group
    sorted, the groups in order."""
    groups: dict[str, set] = {}
    for label in set(labels):
        groups.setdefault(" ".join(unicodedata.normalize("NFC", label).casefold().split()), set()).add(label)
    return sorted(tuple(sorted(g)) for g in groups.values() if len(g) > 1)


def check_spelling_variants(labels: Iterable[str], where, *, what: str = "labels") -> None:
    """Refuse `spelling_variants` among `labels`: LabelsInvalid naming the first group; `where` names the files
    they came from (a str, or a function of the group giving it), `what` they are ('labels', 'actor')."""
    for group in spelling_variants(labels):
        place = where(group) if callable(where) else where
        raise LabelsInvalid(f"{place}: {what} {' and '.join(map(repr, group))} are one name written {len(group)} ways, "
                            f"so they would be learnt as {len(group)}; write it one way in every file")
