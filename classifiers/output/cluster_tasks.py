"""cluster's Label Studio tasks (`cluster --label-studio`): one task per cluster, its thumbnails as one grid image, a
name to pick or type; exported back they are labels (`classifiers.data.cluster_tasks` reads them).

A task's ``data``: ``image`` (the URL of ``JSON.images/cluster-ID.jpg``: `--url-prefix` + the file name, else Label
Studio's local files URL of its path, as `classifiers.output.label_studio.task_url`), ``cluster``, ``mode``,
``members`` (the members file's rows, so the export needs no file beside it), and what the page says (``about``,
``seconds``, ``suggested``, ``distance``). A cluster with a suggested name has one prediction choosing it (Label
Studio pre-selects it; ``score`` is 1 - distance / threshold). The labelling config (`cluster_config`): the grid,
the ``about`` line, a ``Choices`` of the known names (the labels' names, the suggestions and, for faces,
``unknown``) and a ``TextArea`` for a new name.
"""

from __future__ import annotations

import json
import math
import xml.etree.ElementTree as ElementTree
from pathlib import Path

import numpy as np

from classifiers.clusters.groups import sureness
from classifiers.data.cluster_names import NOT_CAST
from classifiers.data.cluster_tasks import CHOICES, IMAGE, IMAGE_KEY, TEXT

from .cluster_files import member_rows
from .cluster_thumbs import FACE_WIDTH_PX, SHOT_WIDTH_PX
from .label_studio import config_path_for, task_url
from .numbers import format_clock

COLUMNS = 4  # thumbnails per row of a grid
CAPTION_PX = 16
JPEG_QUALITY = 85
MODEL_VERSION = "cluster"


def images_dir_for(tasks_path: str | Path) -> Path:
    """Where a tasks file's grids go: tasks.json -> tasks.images/ beside it."""
    tasks_path = Path(tasks_path)
    return tasks_path.with_name(f"{tasks_path.stem}.images")


def cluster_task_files(clustering, thumbs, tasks_path, *, url_prefix: str | None = None) -> list[tuple[Path, object]]:
    """The tasks JSON, its labelling config and each cluster's grid as ``(path, write(tmp))`` pairs, for
    `featurestore.files.write_together`; the grids' folder (`images_dir_for`) is made here."""
    tasks_path = Path(tasks_path)
    folder = images_dir_for(tasks_path)
    folder.mkdir(parents=True, exist_ok=True)
    grids = {c.id: folder / f"cluster-{c.id}.jpg" for c in clustering.clusters}
    urls = {cid: task_url(str(path.resolve()), url_prefix) for cid, path in grids.items()}
    tasks = "[\n" + ",\n".join(json.dumps(t, ensure_ascii=False) for t in cluster_tasks(clustering, urls)) + "\n]"  # a task a line
    config = cluster_config(clustering)
    files = [(tasks_path, lambda tmp: tmp.write_text(tasks + "\n", encoding="utf-8")),
             (config_path_for(tasks_path), lambda tmp: tmp.write_text(config, encoding="utf-8"))]
    for c in clustering.clusters:
        jpeg = grid_jpeg(clustering, c, thumbs)
        files.append((grids[c.id], lambda tmp, jpeg=jpeg: tmp.write_bytes(jpeg)))
    return files


def cluster_tasks(clustering, urls: dict) -> list[dict]:
    """Label Studio's import JSON: one task per cluster (`urls`: cluster id -> its grid's URL)."""
    members: dict[str, list] = {c.id: [] for c in clustering.clusters}
    for cluster_id, row in member_rows(clustering):
        video, *numbers, unit = row
        digits = (6, 1, 1, 1, 1) if clustering.mode == "faces" else (6, 6)
        members[cluster_id].append([video, *(round(x, d) for x, d in zip(numbers, digits)), unit])
    tasks = []
    for c in clustering.clusters:
        data = {IMAGE_KEY: urls[c.id], "cluster": c.id, "mode": clustering.mode, "about": about(clustering, c),
                "seconds": round(c.seconds, 3), "suggested": c.suggestion,
                "distance": None if c.distance is None else round(c.distance, 4), "members": members[c.id]}
        task = {"data": data}
        if c.suggestion:
            score = max(0.0, 1.0 - c.distance / clustering.threshold) if c.distance is not None else 0.0
            task["predictions"] = [{"model_version": MODEL_VERSION, "score": round(score, 4), "result": [
                {"id": "1", "from_name": CHOICES, "to_name": IMAGE, "type": "choices",
                 "value": {"choices": [c.suggestion]}}]}]
        tasks.append(task)
    return tasks


def about(clustering, c) -> str:
    """The line a task shows over its grid: the cluster, its size, its suggestion and how sure."""
    units = clustering.units
    items = "faces" if clustering.mode == "faces" else "samples"
    videos = len({units.video[u] for u in c.units.tolist()})
    what = "the blurred / small bin" if c.is_blurred else f"cluster {c.id}"
    line = (f"{what}: {format_clock(c.seconds)} on screen, {c.n_items} {items} in {len(c.units)} {units.kind}s, "
            f"{videos} video{'s' if videos != 1 else ''}")
    if c.suggestion:
        line += f"; suggested: {c.suggestion} ({sureness(c, clustering.threshold)}, {c.distance:.2f})"
    return line


def choice_names(clustering) -> list[str]:
    """The Choices of the config: the labels' names and the suggestions, sorted, then ``unknown`` for faces."""
    names = sorted(set(clustering.names) | {c.suggestion for c in clustering.clusters if c.suggestion})
    names = [n for n in names if n.lower() != NOT_CAST]
    return names + ([NOT_CAST] if clustering.mode == "faces" else [])


def cluster_config(clustering) -> str:
    """The project's labelling config: the grid, the about line, Choices of the known names, a TextArea."""
    view = ElementTree.Element("View")
    who = "who is this" if clustering.mode == "faces" else "what is this scene"
    ElementTree.SubElement(view, "Header", value=f"One cluster: {who}? Pick a name or type a new one (the same name "
                                                 "on two clusters merges them; none leaves it out)")
    ElementTree.SubElement(view, "Text", name="about", value="$about")
    ElementTree.SubElement(view, "Image", name=IMAGE, value=f"${IMAGE_KEY}")
    names = choice_names(clustering)
    if names:
        choices = ElementTree.SubElement(view, "Choices", name=CHOICES, toName=IMAGE, choice="single", showInline="true")
        for n in names:
            ElementTree.SubElement(choices, "Choice", value=n)
    ElementTree.SubElement(view, "TextArea", name=TEXT, toName=IMAGE, maxSubmissions="1", rows="1",
                           placeholder="a new name (it wins over the choice)")
    ElementTree.indent(view)
    return ElementTree.tostring(view, encoding="unicode") + "\n"


def grid_jpeg(clustering, c, thumbs) -> bytes:
    """The cluster's thumbnails (`thumbs.tiles` of its planned units) in rows of `COLUMNS`, each captioned with its
    track (shot) number; a grey tile saying 'no thumbnail' when none decoded."""
    import cv2

    width = FACE_WIDTH_PX if clustering.mode == "faces" else SHOT_WIDTH_PX
    shown = [(u, thumbs.tiles[u]) for u in (thumbs.plan.get(c.id, []) if thumbs is not None else [])
             if u in thumbs.tiles]
    tile_h = max([t.shape[0] for _, t in shown], default=width)
    cols = max(1, min(COLUMNS, len(shown)))
    rows = max(1, math.ceil(len(shown) / cols))
    cell_h = tile_h + CAPTION_PX
    grid = np.full((rows * cell_h, cols * width, 3), 40, np.uint8)
    font = cv2.FONT_HERSHEY_SIMPLEX
    for k, (u, tile) in enumerate(shown):
        y, x = (k // cols) * cell_h, (k % cols) * width
        h, w = min(tile.shape[0], tile_h), min(tile.shape[1], width)
        grid[y:y + h, x:x + w] = tile[:h, :w]
        caption = f"{clustering.units.kind} {int(clustering.units.number[u])}"
        cv2.putText(grid, caption, (x + 3, y + tile_h + 12), font, 0.35, (230, 230, 230), 1, cv2.LINE_AA)
    if not shown:
        cv2.putText(grid, "no thumbnail", (4, tile_h // 2), font, 0.35, (230, 230, 230), 1, cv2.LINE_AA)
    ok, buf = cv2.imencode(".jpg", grid, [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY])
    if not ok:
        raise ValueError("OpenCV could not encode a cluster's grid as JPEG")
    return buf.tobytes()
