"""cluster's HTML page: one self-contained page to name clusters by looking (issue 25).

One row per cluster, largest first: its id, seconds on screen, faces (or samples) and tracks (or shots), the
suggested name with how sure it is, and thumbnails chosen to show its spread (`classifiers.output.cluster_thumbs`),
each captioned with the track (shot) number a ``cluster,track,name`` row would split off; the blurred / small bin
last. Rendered by Jinja2 (autoescape) from ``clusters.html.j2`` beside this module; the page runs no script and loads
nothing: its Content-Security-Policy allows images from data: URIs and inline styles, nothing else.
"""

from __future__ import annotations

from pathlib import Path

from classifiers.clusters.groups import sureness

from .cluster_thumbs import ClusterThumbs, unit_time
from .numbers import format_clock

TEMPLATE = "clusters.html.j2"


def clusters_html(clustering, thumbs: ClusterThumbs | None = None, *, clusters_name: str = "clusters.csv",
                  notes: list[str] | None = None) -> str:
    """The page of a `classifiers.clusters.groups.Clustering`, with its `thumbs` (None: none asked for)."""
    from jinja2 import Environment, FileSystemLoader, select_autoescape

    env = Environment(loader=FileSystemLoader(Path(__file__).parent), autoescape=select_autoescape(["html", "j2"]),
                      trim_blocks=True, lstrip_blocks=True)
    plan = thumbs.plan if thumbs is not None else {c.id: [] for c in clustering.clusters}
    uris = thumbs.uris if thumbs is not None else {}
    units = clustering.units
    word = units.kind
    rows = []
    for c in clustering.clusters:
        shown = [{"uri": uris[u], "caption": f"{word} {int(units.number[u])}",
                   "title": f"{units.video[u]} at {format_clock(unit_time(clustering, u))}"}
                  for u in plan[c.id] if u in uris]
        rows.append({"id": c.id, "blurred": c.is_blurred, "seconds": c.seconds, "clock": format_clock(c.seconds),
                     "n_items": c.n_items, "n_units": len(c.units), "suggestion": c.suggestion,
                     "sure": sureness(c, clustering.threshold), "nearest": c.nearest, "thumbs": shown,
                     "missing": len(plan[c.id]) - len(shown),
                     "videos": len({units.video[u] for u in c.units.tolist()})})
    return env.get_template(TEMPLATE).render(
        mode=clustering.mode, word=word, items="faces" if clustering.mode == "faces" else "samples", rows=rows,
        n_clusters=sum(not r["blurred"] for r in rows), threshold=clustering.threshold, names=clustering.names,
        min_quality=clustering.min_quality, min_size_px=clustering.min_size_px, clusters_name=clusters_name,
        notes=list(notes or []) + (thumbs.notes if thumbs is not None else []), no_thumbnails=thumbs is None,
    )
