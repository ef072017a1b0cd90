"""Agglomerative clustering with cannot-links: average linkage over a precomputed distance matrix (SciPy).

scikit-learn's AgglomerativeClustering takes no cannot-link, so the pairs that must stay apart (two tracks seen in
the same frame) get a distance so large that no average over two groups holding such a pair can fall under the
threshold: average (UPGMA) and complete linkage never merge them, and every other merge is the one plain linkage
makes. Deterministic: the same points in the same order give the same clusters. Large collections are clustered in
two stages (each video first, then the videos' clusters), so memory stays O(n²) of one stage.
"""

from __future__ import annotations

import os

import numpy as np

from featurestore.errors import TooLargeToCluster

METHODS = ("average", "complete")
#: Points clustered in one stage at most (a condensed matrix of 8 * n * (n - 1) / 2 bytes: 400 MB at 10 000).
MAX_ONE_STAGE = 10_000
#: The least memory one stage's distances may take (SciPy's condensed matrix and linkage's copy of it, 16 bytes a
#: pair: 4 GiB at about 23 000 points); `stage_limit_bytes` allows half the machine's memory where that is more.
MIN_STAGE_LIMIT_BYTES = 4 * 2**30


def stage_limit_bytes() -> int:
    """The most memory one stage's distances may take: half the machine's memory, at least `MIN_STAGE_LIMIT_BYTES`;
    a larger stage is refused before it is allocated (it would swap, or be killed, after minutes of work)."""
    try:
        physical = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        physical = 0
    return max(MIN_STAGE_LIMIT_BYTES, physical // 2)


def agglomerate(points: np.ndarray, threshold: float, *, cannot_link: np.ndarray | None = None,
                groups: np.ndarray | None = None, method: str = "average", noun: str = "points",
                on_group=None) -> np.ndarray:
    """Cluster `points` (n, d) by Euclidean distance: groups whose linkage distance is at most `threshold` merge.

    Parameters
    ----------
    cannot_link : ndarray of shape (p, 2), int, optional
        Pairs of point indices that never end up in one cluster.
    groups : ndarray of shape (n,), optional
        A group per point (the video), for two-stage clustering when n exceeds `MAX_ONE_STAGE`; cannot-links
        must lie within a group.
    method : 'average' or 'complete'
    noun : str
        What the points are (plural), for the error.
    on_group : callable, optional
        Called with 1 as each group's first stage is done (two-stage clustering only; a progress bar's advance).

    Returns
    -------
    labels : ndarray of shape (n,), int64
        0, 1, ... numbered by each cluster's first point.

    Raises
    ------
    TooLargeToCluster
        A stage (one video's points, or the first stage's clusters together) would need more than
        `stage_limit_bytes()` for its distances.
    """
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, got {method!r}")
    points = np.asarray(points, dtype=np.float64).reshape(len(points), -1)
    pairs = np.zeros((0, 2), np.intp) if cannot_link is None else np.asarray(cannot_link, np.intp).reshape(-1, 2)
    n = len(points)
    if n > MAX_ONE_STAGE and groups is not None and len(np.unique(groups)) > 1:
        return _two_stages(points, threshold, pairs, np.asarray(groups), method, noun, on_group)
    return _first_numbered(_one_stage(points, threshold, pairs, method, noun))


def _refuse_too_large(n: int, noun: str) -> None:
    need, limit = 16 * n * (n - 1) // 2, stage_limit_bytes()
    if need > limit:
        raise TooLargeToCluster(f"clustering {n:,} {noun} together would need {need / 2**30:,.1f} GiB of memory for their "
                                f"distances (at most {limit / 2**30:,.1f} GiB here); cluster fewer videos at a time, "
                                f"or a larger --threshold so that more of them merge")


def _one_stage(points: np.ndarray, threshold: float, pairs: np.ndarray, method: str, noun: str = "points") -> np.ndarray:
    from scipy.cluster.hierarchy import fcluster, linkage
    from scipy.spatial.distance import pdist

    n = len(points)
    if n < 2:
        return np.zeros(n, np.int64)
    _refuse_too_large(n, noun)
    distances = pdist(points)
    if len(pairs):
        i, j = np.minimum(pairs[:, 0], pairs[:, 1]), np.maximum(pairs[:, 0], pairs[:, 1])
        keep = i != j
        i, j = i[keep], j[keep]
        # larger than threshold * (the most point pairs two groups can hold): its share of any average stays above
        distances[n * i - i * (i + 1) // 2 + (j - i - 1)] = max(threshold, 1.0) * float(n) ** 2 + 1.0
    tree = linkage(distances, method=method)
    return fcluster(tree, t=threshold, criterion="distance").astype(np.int64)


def _two_stages(points: np.ndarray, threshold: float, pairs: np.ndarray, groups: np.ndarray, method: str,
                noun: str, on_group=None) -> np.ndarray:
    """Each group clustered alone, then the groups' clusters (their means, one point each) clustered together;
    two clusters of one group stay apart in the second stage where a cannot-link joins their points."""
    first = np.full(len(points), -1, np.int64)
    offset = 0
    for g in np.unique(groups):
        idx = np.flatnonzero(groups == g)
        local = {int(p): k for k, p in enumerate(idx)}
        inside = pairs[np.isin(pairs[:, 0], idx) & np.isin(pairs[:, 1], idx)]
        sub = np.array([[local[int(a)], local[int(b)]] for a, b in inside], np.intp).reshape(-1, 2)
        labels = _first_numbered(_one_stage(points[idx], threshold, sub, method, noun))
        first[idx] = labels + offset
        offset += int(labels.max()) + 1 if len(labels) else 0
        if on_group is not None:
            on_group(1)
    by_cluster = np.argsort(first, kind="stable")  # each cluster's points in index order, as points[first == k]
    bounds = np.searchsorted(first[by_cluster], np.arange(offset + 1))
    means = np.stack([points[by_cluster[bounds[k]:bounds[k + 1]]].mean(axis=0) for k in range(offset)])
    second_pairs = np.unique(np.sort(first[pairs], axis=1), axis=0) if len(pairs) else pairs
    second = agglomerate(means, threshold, cannot_link=second_pairs, method=method, noun=f"clusters of {noun}")
    return _first_numbered(second[first])


def _first_numbered(labels: np.ndarray) -> np.ndarray:
    """Labels renumbered 0, 1, ... in the order of each cluster's first point."""
    _, first, inverse = np.unique(labels, return_index=True, return_inverse=True)
    rank = np.empty(len(first), np.int64)
    rank[np.argsort(first, kind="stable")] = np.arange(len(first))
    return rank[inverse.reshape(-1)]


def spread_picks(points: np.ndarray, k: int) -> list[int]:
    """Up to `k` indices of `points` (n, d) that show their spread: the one nearest their mean, then each time the
    one farthest from those picked (farthest-first traversal). Deterministic; ties go to the lower index."""
    points = np.asarray(points, dtype=np.float64).reshape(len(points), -1)
    if len(points) == 0 or k <= 0:
        return []
    picks = [int(np.argmin(np.linalg.norm(points - points.mean(axis=0), axis=1)))]
    nearest = np.linalg.norm(points - points[picks[0]], axis=1)
    while len(picks) < min(k, len(points)):
        nxt = int(np.argmax(nearest))
        if nearest[nxt] <= 0 and len(picks) > 0:
            break  # the rest are copies of points already picked
        picks.append(nxt)
        nearest = np.minimum(nearest, np.linalg.norm(points - points[nxt], axis=1))
    return picks


def average_distance(a: np.ndarray, b: np.ndarray) -> float:
    """The average-linkage distance of two groups of points (k, d) and (m, d): the mean Euclidean distance of
    their pairs."""
    from scipy.spatial.distance import cdist

    return float(cdist(np.asarray(a, np.float64).reshape(len(a), -1), np.asarray(b, np.float64).reshape(len(b), -1)).mean())
