"""cluster's CSV files: ``clusters.csv`` (one row per cluster, the suggestion pre-filled) and its members file.

``cluster,name,seconds,suggested,distance``: the person fills (or corrects) `name`; the other columns are there to
read and are ignored when the file is read back (`classifiers.data.clusters`). The members file lists every face
(``cluster,video,time_s,x,y,w,h,track``, the box in the video's pixels, `track` the track's number here) or shot
(``cluster,video,start_s,end_s,shot``), cluster by cluster in the order of clusters.csv. Text cells pass
`classifiers.output.cells.csv_row`.
"""

from __future__ import annotations

from classifiers.data.clusters import FACE_MEMBERS, SHOT_MEMBERS

from .cells import csv_cell, csv_row, csv_text

CLUSTERS_HEADER = ("cluster", "name", "seconds", "suggested", "distance")


def clusters_csv_text(clustering) -> str:
    """clusters.csv of a `classifiers.clusters.groups.Clustering`."""
    rows = []
    for c in clustering.clusters:
        cluster, name, seconds, suggested, distance = cluster_record(c)
        rows.append(csv_row((cluster, name, f"{seconds:g}", suggested, "" if distance is None else f"{distance:.3f}")))
    return csv_text(CLUSTERS_HEADER, rows)


def cluster_record(c) -> tuple[str, str, float, str, float | None]:
    """A cluster's row of clusters.csv (`CLUSTERS_HEADER`), unformatted: its id, the name a labels file already gives
    it, its seconds, the nearest labelled name and the distance to it (None without labels)."""
    return c.id, c.suggestion, float(c.seconds), c.nearest[0][0] if c.nearest else "", c.distance


def members_csv_text(clustering) -> str:
    """The members file of a `Clustering`: faces or shots (module docstring)."""
    digits = (6, 1, 1, 1, 1) if clustering.mode == "faces" else (6, 6)
    return csv_text(FACE_MEMBERS if clustering.mode == "faces" else SHOT_MEMBERS,
                    ((cluster_id, csv_cell(video), *(f"{x:.{d}f}" for x, d in zip(numbers, digits)), unit)
                     for cluster_id, (video, *numbers, unit) in member_rows(clustering)))


def member_rows(clustering, *, with_face: bool = False):
    """(cluster id, row) of every member, cluster by cluster in the order of clusters.csv: faces ``(video, time_s,
    x, y, w, h, track)`` (the box in the video's pixels) or shots ``(video, start_s, end_s, shot)``; numbers as
    Python floats and ints. `with_face`: faces' rows end with the face's rank in its sample (the store's `face`)."""
    units = clustering.units
    number = units.number
    if clustering.mode == "faces":
        boxes = {video_id: table.box_px() for video_id, table in units.tables.items()}
        for c in clustering.clusters:
            for u in sorted(c.units.tolist(), key=lambda u: (units.video[u], int(units.rows[u][0]))):
                video_id, rows = units.video[u], units.rows[u]
                time_s = units.tables[video_id].time_s
                face = units.tables[video_id].face
                for r, b in zip(rows.tolist(), boxes[video_id][rows]):
                    row = (video_id, float(time_s[r]), *(float(v) for v in b), int(number[u]))
                    yield c.id, (*row, int(face[r])) if with_face else row
    else:
        for c in clustering.clusters:
            for u in sorted(c.units.tolist(), key=lambda u: (units.video[u], float(units.start_s[u]))):
                yield c.id, (units.video[u], float(units.start_s[u]), float(units.end_s[u]), int(number[u]))
