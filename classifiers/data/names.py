"""Which stored video a name in a labels file (or on the command line) means: the stored id itself, else the
one with its file name, else the one with its stem, and only then the same ignoring case (with a warning)."""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from functools import lru_cache
from pathlib import Path, PurePath

from featurestore.errors import LabelsInvalid, NotEmbedded, ScreentimeError, arg, command
from featurestore.video.paths import fingerprint

from .table import LabelRow, first_items


def matching_ids(name: str, stored: Iterable[str]) -> list[str]:
    """Stored ids a user's `name` may mean: itself, else those with its file name, else those with its stem; where
    none matches, the same three ignoring case and Unicode normalisation (`CLIP2.MP4` -> `clip2.mp4`;
    `differs_in_case` tells). A backslash in `name` separates folders, as on Windows (`C:\\videos\\ep1.mp4`).

    `clipB.mp4` matches a stored `/data/clipB.mp4` before a stored `clipB.mkv`; one match is an answer, several are
    ambiguous and none is absent (the caller says which).
    """
    stored = list(stored)
    if name in stored:
        return [name]
    same = [v for v in stored if _nfc(v) == _nfc(name)]  # Unicode's two spellings of 'é' (macOS writes names decomposed)
    if same:
        return same
    wanted = _as_path(name)
    found = ([v for v in stored if PurePath(_nfc(v)).name == wanted.name]
             or [v for v in stored if PurePath(_nfc(v)).stem == wanted.stem])
    if found:
        return found

    def fold(text: str) -> str:
        return _nfc(text).casefold()

    return ([v for v in stored if fold(v) == fold(name)]
            or [v for v in stored if fold(PurePath(v).name) == fold(wanted.name)]
            or [v for v in stored if fold(PurePath(v).stem) == fold(wanted.stem)])


def differs_in_case(name: str, video_id: str) -> bool:
    """Whether `matching_ids` matched `name` to `video_id` only by ignoring case."""
    a, b = _as_path(name), PurePath(_nfc(video_id))
    return a != b and a.name != b.name and a.stem != b.stem


def same_name(name: str, video_id: str) -> bool:
    """Whether `name` is `video_id`, written alike or in Unicode's other form (no warning needed)."""
    return _nfc(name) == _nfc(video_id)


def _nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


def _as_path(name: str) -> PurePath:
    """A name as a path, its backslashes separators too: labels typed on Windows (`season1\\ep1.mp4`) name files."""
    return PurePath(_nfc(name).replace("\\", "/"))


def resolve_video(file_name: str, r: LabelRow, stored: Mapping | Iterable[str], store_name: str, *,
                  folder: Path | None = None) -> str:
    """The stored id a labels row's video names (see `matching_ids`); where `stored` is a store's grids (it has a
    `store`) and the name is not a stored id, the file it names (from the working folder, else from `folder`: the
    labels file's) is asked too (`_by_content`): a renamed,
    moved or linked video is found by its content, and of one file name in two folders the one embedded from there.

    Raises
    ------
    LabelsInvalid
        Naming the file and the row, when no stored video or several fit, or when the file the name gives holds
        other content than the stored video of that file name.
    """
    store = getattr(stored, "store", None)
    stored = list(stored)
    matches = matching_ids(r.video, stored)
    if store is not None and not (len(matches) == 1 and same_name(r.video, matches[0])):
        matches = _by_content(file_name, r, matches, store, store_name, folder)
    if len(matches) == 1:
        return matches[0]
    listed = ", ".join(sorted(stored)[:5]) + (", ..." if len(stored) > 5 else "") or "none"
    if matches:
        raise LabelsInvalid(f"{file_name} {r.place}: video {r.video!r} could be any of {_with_sources(matches, store)} "
                            f"in {store_name}; name it as stored")
    raise LabelsInvalid(f"{file_name} {r.place}: video {r.video!r} is not in {store_name} (stored: {listed}); "
                        "embed it first or fix the name")


def resolve_all(file_name: str, rows: Iterable[LabelRow], stored: Mapping | Iterable[str], store_name: str, *,
                folder: Path | None = None) -> dict[str, str]:
    """The stored id of each video name of `rows` (`resolve_video`, once a name; `folder`: the labels file's).

    Raises
    ------
    LabelsInvalid
        Of the first row whose video fits no stored video (or several), naming the other names that fail too.
    """
    ids, failed = {}, []
    for r in rows:
        if r.video not in ids and all(r.video != f.video for f, _ in failed):
            try:
                ids[r.video] = resolve_video(file_name, r, stored, store_name, folder=folder)
            except LabelsInvalid as err:
                failed.append((r, err))
    if failed:
        more = [f"{f.video!r} ({f.place})" for f, _ in failed[1:]]
        also = f"; {len(more)} more video name{'s' if len(more) > 1 else ''} fail too: {first_items(more, 5)}" if more else ""
        raise LabelsInvalid(f"{failed[0][1]}{also}")
    return ids


def _by_content(file_name: str, r: LabelRow, matches: list[str], store, store_name: str,
                folder: Path | None = None) -> list[str]:
    """`matches` (the stored ids `r.video` names by file name, stem or case; or none) judged by the file the name
    gives (from the working folder, else from `folder`): the stored videos of its content (of `matches`, else of all:
    renamed, linked, or embedded under another --name); else, of several matches, the one embedded from a path ending in more of the
    name's folders than the others' (`season1/ep1.mp4`, `/Users/anna/show/season1/ep1.mp4`).

    Raises
    ------
    LabelsInvalid
        When that file's content is that of none of `matches` of its file name: the name is another video's.
    """
    content = next((c for c in (_content_here(r.video), _content_here(r.video, folder)) if c is not None), None)
    contents = getattr(store, "contents", None)  # id -> (fingerprint, sample rate), from the index
    recorded = contents() if content is not None and contents is not None else {}
    if content is not None:
        same = ([v for v in matches if recorded.get(v, (None,))[0] == content]
                or [v for v, (stored_content, _) in recorded.items() if stored_content == content])
        if same:
            return sorted(same)
        file = _as_path(r.video).name.casefold()  # not by stem: `ep1.mkv` may be `ep1.mp4` transcoded, the same clock
        if matches and all(v in recorded and PurePath(_nfc(v)).name.casefold() == file for v in matches):
            raise LabelsInvalid(f"{file_name} {r.place}: video {r.video!r} is not {_with_sources(matches, store)} of "
                                f"{store_name}: the file holds other content; embed it under its own id "
                                f"(`{command(f'embed {r.video} --name {r.video}')}`) or fix the name")
    parts = _as_path(r.video).parts
    if len(matches) > 1 and len(parts) > 1:  # the folders the name and each source end in alike (labels of another machine)
        shared = {v: _shared_ending(parts, PurePath(_nfc(_source(store, v))).parts) for v in matches}
        most = max(shared.values())
        if most > 1 and list(shared.values()).count(most) == 1:
            return [v for v in matches if shared[v] == most]
    return matches


def _shared_ending(a: tuple, b: tuple) -> int:
    """How many last parts of the paths `a` and `b` are alike."""
    n = 0
    while n < min(len(a), len(b)) and a[-1 - n] == b[-1 - n]:
        n += 1
    return n


def _content_here(name: str, folder: Path | None = Path()) -> str | None:
    """The content fingerprint of the file `name` gives (from `folder`, the working one by default; or absolute),
    if it is one."""
    if folder is None:
        return None
    try:
        path = folder / _as_path(name)
        stat = path.stat() if path.is_file() else None
    except (OSError, ValueError):  # a name no file system takes (too long, a NUL)
        return None
    return None if stat is None else _fingerprint(str(path.resolve()), stat.st_size, stat.st_mtime_ns)


@lru_cache(maxsize=256)
def _fingerprint(path: str, size: int, mtime_ns: int) -> str | None:
    """`featurestore.video.paths.fingerprint` of `path`, once per version of the file (its size and mtime)."""
    try:
        return fingerprint(path)
    except OSError:
        return None


def _source(store, video_id: str) -> str:
    """The path `video_id` was embedded from ('' if the store does not say)."""
    try:
        return str(store.info(video_id).get("source_path") or "")
    except ScreentimeError:  # a damaged video: the join names it
        return ""


def _with_sources(video_ids: list[str], store) -> str:
    """'ep1.mp4 (from /x/season1/ep1.mp4), ...' for messages: the first five, with where each was embedded from."""
    def one(v: str) -> str:
        source = _source(store, v) if store is not None else ""
        return f"{v} (from {source})" if source and source != v else v

    return ", ".join(one(v) for v in sorted(video_ids)[:5]) + (", ..." if len(video_ids) > 5 else "")


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
