"""Named clusters, whatever file named them: each member of a clustering (a face or a shot) and its name.

`classifiers.data.clusters` reads them from a ``clusters.csv`` and its members file, `classifiers.data.cluster_tasks`
from a Label Studio export of `cluster --label-studio`'s tasks; both give a `ClusterNames`, which
`classifiers.data.face_clusters` turns into per-face labels and `classifiers.data.clusters.cluster_label_table` into
intervals. The rules of a name are one: empty leaves the members out, ``unknown`` (any case) says they are people not
in the cast (`NOT_CAST`), two names that differ only in case are refused.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

from featurestore.errors import LabelsInvalid

from .strict import MAX_LABEL_CHARS, checked_name

NOT_CAST = "unknown"  # people not in the cast: the face model's unknown class (classifiers.chain.face_decide.UNKNOWN)


@dataclass
class Member:
    """One member of a clustering: a face (time_s and box px) or a shot (start_s, end_s); `where` it was read."""

    line: int
    cluster: str
    video: str
    unit: int  # its track's (shot's) number in the clustering
    time_s: float = math.nan
    box: tuple = ()
    start_s: float = math.nan
    end_s: float = math.nan
    where: str = ""  # in the file it came from: 'line 4', 'task 3, member 2'


@dataclass
class ClusterNames:
    """A named clustering: its members and whose each member is ('' when left out).

    `members_path` is the file the members came from (the members file; the export itself for Label Studio).
    """

    path: Path
    members_path: Path
    mode: str  # 'faces' or 'frames'
    members: list
    name: list = field(default_factory=list)  # per member: its name, '' when left out

    @property
    def names(self) -> list[str]:
        return sorted(set(self.name) - {""})

    @property
    def how_to_name(self) -> str:
        """What to do when no cluster is named, in words for the file it is."""
        if self.members_path == self.path:
            return "name clusters in Label Studio (pick or type a name, submit) and export the project again"
        return "fill in the name column (an empty name leaves a cluster out)"


def cluster_name(text: str) -> str:
    """A name as given: '' for an empty one, `NOT_CAST` for any case of it, else the checked name.

    Raises ValueError saying the rule (`classifiers.data.strict.checked_name`).
    """
    text = text.strip()
    if not text or text.lower() == NOT_CAST:
        return text.lower()
    return checked_name(text, limit=MAX_LABEL_CHARS)


def check_case(file_name: str, names: set[str]) -> None:
    """Refuse two names that differ only in case (the same name on two clusters merges them)."""
    folded: dict[str, str] = {}
    for n in sorted(names):
        other = folded.setdefault(n.casefold(), n)
        if other != n:
            raise LabelsInvalid(f"{file_name}: names {other!r} and {n!r} differ only in case; write one of them "
                                "(the same name on two clusters merges them)")
