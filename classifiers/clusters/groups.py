"""Units (tracks or shots) grouped into clusters, each with the name it most likely has.

Good units are clustered by average linkage of their means (`classifiers.clusters.linkage`) with their
cannot-links; the others make the "blurred / small" bin. Clusters are numbered 1, 2, ... by their seconds on
screen, largest first (ties: the earlier first unit), the bin last. A cluster is compared with each labelled name's
units by the same average distance: the nearest name within the threshold -- a group the clustering itself would
have merged -- is its suggestion; the distance and the next name's say how sure it is.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .linkage import agglomerate, average_distance, spread_picks

BLURRED = "blurred"
#: Thumbnails a cluster shows at most, chosen to show its spread (`linkage.spread_picks`).
PICKS = 8


@dataclass
class Cluster:
    """One cluster: its units (indices into the units), size, thumbnails' units and suggested name.

    Attributes
    ----------
    id : str
        '1', '2', ... by size; `BLURRED` for the blurred / small bin.
    units : ndarray of int
    seconds : float
        Seconds with one of its faces (or shots) on screen.
    n_items : int
        Its faces (or samples).
    picks : list of int
        The units its thumbnails show.
    suggestion : str
        The labelled name it matches ('' if none within the threshold).
    nearest : list of (name, distance)
        The two nearest labelled names and their average distances, nearest first.
    """

    id: str
    units: np.ndarray
    seconds: float
    n_items: int
    picks: list = field(default_factory=list)
    suggestion: str = ""
    nearest: list = field(default_factory=list)

    @property
    def distance(self) -> float | None:
        """The distance to the nearest labelled name (None without labels)."""
        return self.nearest[0][1] if self.nearest else None

    @property
    def is_blurred(self) -> bool:
        return self.id == BLURRED


@dataclass
class Clustering:
    """What `cluster` found: the units and their clusters (largest first, the blurred bin last)."""

    mode: str  # 'faces' or 'frames'
    units: object  # FaceUnits or ShotUnits
    clusters: list
    threshold: float
    method: str = "average"
    min_quality: float | None = None
    min_size_px: float | None = None
    names: list = field(default_factory=list)  # the labelled names suggestions come from

    def cluster_of(self) -> np.ndarray:
        """(u,) object: each unit's cluster id."""
        out = np.full(len(self.units), "", dtype=object)
        for c in self.clusters:
            out[c.units] = c.id
        return out


def group_units(units, threshold: float, *, method: str = "average", picks: int = PICKS, on_video=None) -> list[Cluster]:
    """The clusters of `units` (FaceUnits or ShotUnits): see the module docstring. `on_video(1)` as each video's
    units are clustered alone (the first of two stages, beyond `linkage.MAX_ONE_STAGE` units)."""
    good = np.flatnonzero(units.good)
    where = np.full(len(units), -1, np.intp)
    where[good] = np.arange(len(good))
    pairs = units.cannot_link
    if len(pairs):
        pairs = where[pairs]
        pairs = pairs[(pairs >= 0).all(axis=1)]
    labels = agglomerate(units.mean[good], threshold, cannot_link=pairs, groups=units.video[good], method=method,
                         noun=f"{units.kind}s", on_group=on_video) \
        if len(good) else np.zeros(0, np.int64)
    found = [good[labels == k] for k in range(int(labels.max()) + 1 if len(labels) else 0)]
    sized = sorted(((units.seconds(u), -int(u[0]), u) for u in found), key=lambda s: (-s[0], -s[1]))
    clusters = [Cluster(str(n), u, seconds, units.n_items(u), _picks(units, u, picks))
                for n, (seconds, _, u) in enumerate(sized, start=1)]
    blurred = np.flatnonzero(~units.good)
    if len(blurred):
        clusters.append(Cluster(BLURRED, blurred, units.seconds(blurred), units.n_items(blurred),
                                _picks(units, blurred, picks)))
    return clusters


def _picks(units, members: np.ndarray, k: int) -> list[int]:
    return [int(members[i]) for i in spread_picks(units.mean[members], k)]


def suggest_names(clusters: list[Cluster], units, references: dict[str, np.ndarray], threshold: float) -> None:
    """Give each cluster (not the bin) its `nearest` names and, within `threshold`, a `suggestion` (in place).

    `references`: name -> (k, d) means of that name's labelled units.
    """
    names = sorted(n for n, r in references.items() if len(r))
    for c in clusters:
        if c.is_blurred or not names:
            continue
        mine = units.mean[c.units]
        ranked = sorted(((average_distance(mine, references[n]), n) for n in names))
        c.nearest = [(n, round(d, 4)) for d, n in ranked[:2]]
        c.suggestion = ranked[0][1] if ranked[0][0] <= threshold else ""


def sureness(cluster: Cluster, threshold: float) -> str:
    """How sure the suggestion is, in a word: 'sure' (within half the threshold and the next name beyond the
    threshold), 'likely' (within the threshold), 'no match' (none within it), '' (no labelled name to compare)."""
    if not cluster.nearest:
        return ""
    best = cluster.nearest[0][1]
    second = cluster.nearest[1][1] if len(cluster.nearest) > 1 else float("inf")
    if best > threshold:
        return "no match"
    return "sure" if best <= threshold / 2 and second > threshold else "likely"
