"""Named clusters as labels (issue 25): a ``clusters.csv`` the person filled, read with the members file beside it.

``cluster`` writes ``X.csv`` (``cluster,name``: one row per cluster, the suggestion pre-filled) and, beside it,
``X.members.csv`` (`members_path`): one row per face (``cluster,video,time_s,x,y,w,h,track``, the box in the
video's pixels, `track` the track's number in this clustering) or per shot (``cluster,video,start_s,end_s,shot``).
A name given to a cluster names all its members; the same name on two clusters merges them; a row
``cluster,track,name`` (or ``cluster,shot,name``) names one track (shot) of a cluster, splitting it; an empty name
leaves those members out. ``unknown`` (any case) says they are people not in the cast: faces become the face model's
unknown class, as ``unknown`` does in a track-name file; shots are left out. Faces become per-face labels
(`classifiers.data.face_clusters`), shots intervals (`cluster_label_table`) that every frame command reads. A Label
Studio export of `cluster --label-studio`'s tasks is read the same way (`classifiers.data.cluster_tasks`).
"""

from __future__ import annotations

import csv
import warnings
from pathlib import Path

from featurestore.errors import LabelsInvalid, LabelsWarning, quoted

from .checks import check_table
from .cluster_names import NOT_CAST, ClusterNames, Member, check_case, cluster_name
from .cluster_tasks import read_cluster_tasks, tasks_mode
from .csv_records import by_column, column_index, csv_records, header_line
from .strict import MAX_NAME_CHARS, checked_name, unquoted
from .table import LabelRow, LabelTable

FACE_MEMBERS = ("cluster", "video", "time_s", "x", "y", "w", "h", "track")
SHOT_MEMBERS = ("cluster", "video", "start_s", "end_s", "shot")
TIME_MATCH_S = 5e-4  # members' times are written to the microsecond; samples lie at least a frame apart
BOX_MATCH_PX = 1.0  # members' boxes are written to 0.1 px
BIN = "blurred"  # the id `cluster` gives its bin of faces too small or blurred to cluster (classifiers.clusters.groups)


def members_path(clusters_path: str | Path) -> Path:
    """The members file of a clusters file: ``clusters.csv`` -> ``clusters.members.csv`` in the same folder."""
    path = Path(clusters_path)
    return path.with_name(f"{path.stem}.members.csv")


def is_clusters_header(cells: list[str]) -> bool:
    """Whether a CSV header (cells, lower case) is a clusters file's: ``cluster,name`` or ``cluster,track,name``."""
    return "cluster" in cells and "name" in cells


def clusters_mode(path: str | Path, text: str) -> str | None:
    """'faces' or 'frames' for a clusters file (by its members file's header; 'faces' when that is missing, so that
    reading it says so) or a Label Studio export of cluster's tasks (`classifiers.data.cluster_tasks`), None for any
    other labels file."""
    first = header_line(text)
    if first.lstrip()[:1] in "[{":
        return tasks_mode(text)
    header = _records(Path(path).name, first) if first.lstrip()[:1] != "<" else []
    if not header or not is_clusters_header(header[0][1]):
        return None
    try:
        with open(members_path(path), encoding="utf-8-sig") as fh:
            header = [c.strip().lower() for c in next(csv.reader([fh.readline()]), [])]
    except (OSError, UnicodeDecodeError):
        return "faces"
    return "frames" if set(SHOT_MEMBERS) <= set(header) else "faces"


def read_cluster_names(path: str | Path, text: str) -> ClusterNames:
    """Read a clusters file (its `text`) and its members file, or a Label Studio export of cluster's tasks
    (`classifiers.data.cluster_tasks.read_cluster_tasks`); every member's name.

    Raises
    ------
    LabelsInvalid
        Naming the file and line: no members file, a cluster or track it does not hold, a cluster named twice
        differently, names that differ only in case.
    """
    path = Path(path)
    if text.lstrip()[:1] in "[{":
        named = read_cluster_tasks(path, text)
        in_bin = [(m, n) for m, n in zip(named.members, named.name) if m.cluster == BIN]
        _warn_named_bin(path.name, (in_bin[0][1] if in_bin else "", f"the {BIN} task"), [m for m, _ in in_bin],
                        "track" if named.mode == "faces" else "shot")
        return named
    mpath = members_path(path)
    if not mpath.is_file():
        raise LabelsInvalid(f"{path.name} is a clusters file, but {mpath.name} is not beside it; `cluster` writes the two "
                            f"together: keep them in one folder, {mpath.name} named after {path.name}")
    mode, members = _read_members(mpath)
    unit_word = "track" if mode == "faces" else "shot"
    rows = _records(path.name, text)
    header = rows[0][1]
    col = column_index(path.name, header, ("cluster", "name", unit_word))
    other = "shot" if unit_word == "track" else "track"
    if other in header and unit_word not in header:
        raise LabelsInvalid(f"{path.name} line 1: a {other} column, but {mpath.name} lists {unit_word}s; "
                            f"name its column {unit_word}")
    clusters = {m.cluster for m in members}
    units = {(m.cluster, m.unit) for m in members}
    whole: dict[str, tuple[str, int]] = {}
    split: dict[tuple[str, int], tuple[str, int]] = {}
    for line, cells in rows[1:]:
        row = by_column(cells, col)
        cluster = row["cluster"]
        if not cluster:
            raise LabelsInvalid(f"{path.name} line {line}: cluster is empty; give the cluster's id as {mpath.name} does")
        if cluster not in clusters:
            raise LabelsInvalid(f"{path.name} line {line}: cluster {quoted(cluster)} is not in {mpath.name}; was it "
                                "written by another `cluster` run? Keep each clusters file with its own members file")
        name = _name(path.name, line, row["name"])
        unit_text = row.get(unit_word, "")
        if unit_text:
            if not unit_text.isdigit() or (cluster, int(unit_text)) not in units:
                raise LabelsInvalid(f"{path.name} line {line}: cluster {cluster} holds no {unit_word} {quoted(unit_text)} "
                                    f"(see {mpath.name}); give a {unit_word} number of that cluster")
            key = (cluster, int(unit_text))
            if split.setdefault(key, (name, line))[0] != name:
                raise LabelsInvalid(f"{path.name} lines {split[key][1]} and {line} name {unit_word} {unit_text} of "
                                    f"cluster {cluster} twice ({split[key][0]!r}, {name!r}); keep one")
        elif whole.setdefault(cluster, (name, line))[0] != name:
            raise LabelsInvalid(f"{path.name} lines {whole[cluster][1]} and {line} name cluster {cluster} twice "
                                f"({whole[cluster][0]!r}, {name!r}); keep one (the same name on two clusters merges them)")
    check_case(path.name, {n for n, _ in [*whole.values(), *split.values()] if n})
    bin_name, bin_line = whole.get(BIN, ("", 0))
    _warn_named_bin(path.name, (bin_name, f"line {bin_line}"), [m for m in members if m.cluster == BIN], unit_word)
    names = [split.get((m.cluster, m.unit), whole.get(m.cluster, ("", 0)))[0] for m in members]
    return ClusterNames(path, mpath, mode, members, names)


def _warn_named_bin(file_name: str, named: tuple[str, str], members: list, unit_word: str) -> None:
    """A name on the whole blurred / small bin gives it to the faces of anyone too small or blurred to cluster;
    `named` is (its name, where: 'line 32' or 'the blurred task')."""
    name, where = named
    units = {m.unit for m in members}
    if name and len(units) > 1:
        warnings.warn(f"{file_name} {where}: names the whole {BIN} bin {name!r}, so its {len(members)} faces "
                      f"({len(units)} {unit_word}s), of anyone too small or blurred to cluster, are all {name!r}; leave "
                      f"its name empty, or name its {unit_word}s one by one (in the clusters CSV: {BIN},{unit_word},name rows)",
                      LabelsWarning, stacklevel=3)


def _name(file_name: str, line: int, text: str) -> str:
    """A cell's name: '' for an empty cell, `NOT_CAST` for any case of it."""
    try:
        return cluster_name(unquoted(text))
    except ValueError as err:
        raise LabelsInvalid(f"{file_name} line {line}: name {err}; fix the cell") from None


def _records(file_name: str, text: str) -> list[tuple[int, list[str]]]:
    """(line, cells) of each non-empty CSV record (`csv_records`); the header's cells in lower case."""
    out = csv_records(file_name, text)
    if not out:
        raise LabelsInvalid(f"{file_name} is empty")
    out[0] = (out[0][0], [c.strip().lower() for c in out[0][1]])
    return out


def _read_members(path: Path) -> tuple[str, list[Member]]:
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as err:
        raise LabelsInvalid(f"{path.name} cannot be read ({getattr(err, 'strerror', None) or err}); write it again "
                            "with `cluster`") from None
    rows = _records(path.name, text)
    header = rows[0][1]
    for mode, needed in (("faces", FACE_MEMBERS), ("frames", SHOT_MEMBERS)):
        if set(needed) <= set(header):
            break
    else:
        raise LabelsInvalid(f"{path.name} line 1: header {quoted(','.join(header))} is not a members file's "
                            f"({','.join(FACE_MEMBERS)} or {','.join(SHOT_MEMBERS)}); write it again with `cluster`")
    col = column_index(path.name, header, needed)
    members = []
    for line, cells in rows[1:]:
        get = by_column(cells, col).__getitem__
        try:
            video = checked_name(unquoted(get("video")), limit=MAX_NAME_CHARS)
            unit = int(get("track" if mode == "faces" else "shot"))
            if mode == "faces":
                box = tuple(float(get(c)) for c in ("x", "y", "w", "h"))
                members.append(Member(line, get("cluster"), video, unit, time_s=float(get("time_s")), box=box,
                                      where=f"line {line}"))
            else:
                members.append(Member(line, get("cluster"), video, unit, start_s=float(get("start_s")),
                                      end_s=float(get("end_s")), where=f"line {line}"))
        except ValueError:
            raise LabelsInvalid(f"{path.name} line {line}: not a member row ({','.join(needed)}); write it again "
                                "with `cluster`") from None
    return mode, members


def cluster_label_table(path: str | Path, text: str, *, multi_label: bool, none_label: str):
    """A shots clusters file as a table of intervals: each named shot [start_s, end_s) labelled with its name.

    Raises LabelsInvalid for a faces clusters file (its members are faces: use it with --faces).
    """
    names = read_cluster_names(path, text)
    if names.mode == "faces":
        raise LabelsInvalid(f"{names.path.name} names clusters of faces ({names.members_path.name} lists faces); use it "
                            "with --faces, or cluster without --faces for clusters of shots")
    inside = "" if names.members_path == names.path else f"{names.members_path.name} "  # a members file's line
    rows = [LabelRow(m.video, m.start_s, m.end_s, name, m.line, where=inside + m.where)
            for m, name in zip(names.members, names.name) if name and name != NOT_CAST]  # shots: no unknown class
    if not rows:
        raise LabelsInvalid(f"{names.path.name} names no cluster; {names.how_to_name}")
    check_table(names.path.name, "intervals", rows, multi_label, none_label)
    return LabelTable(names.path, "intervals", rows, multi_label, none_label)
