"""Labels tables whose times count video frames (SMPTE hh:mm:ss:ff, Label Studio ranges, CVAT tracks) turned into
seconds at each stored video's frame rate, then checked as a table in seconds is when it is parsed.

A CSV's SMPTE timecode is read at the stored video's own frame rate (`FeatureStore.info(video_id)["fps"]`). A
Label Studio range is read at its task's ``fps`` (what the exported labelling config declares, `frameRate="$fps"`),
else at the stored rate. Rows from a labelling tool that end past their video refuse the file: their frames were
counted at the wrong rate or belong to another video (a CSV's are cut at the end, with a warning, in the join).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace

from featurestore.errors import LabelsInvalid

from .checks import check_table
from .names import resolve_all
from .table import TIME_TOLERANCE_S, LabelRow, LabelTable


def resolve_table(table: LabelTable, grids: Mapping, store_name: str = "the store") -> LabelTable:
    """`table` with every time in seconds, checked; the table itself if it had no frame counts.

    `grids` maps stored video ids to `classifiers.data.join.Grid` (its `fps` and `duration_s` are used).

    Raises
    ------
    LabelsInvalid
        Naming the file and the row: no frame rate for a video, a frame past one second of timecode, an end not
        after its start, a labelling tool's range past the video's end; and any rule of `check_table`.
    """
    if table.is_resolved:
        return table
    name = table.path.name
    ids = resolve_all(name, [r for r in table.rows if not r.is_resolved], grids, store_name, folder=table.path.parent)
    rows = [r if r.is_resolved else _resolved(name, r, table, ids[r.video], grids, store_name) for r in table.rows]
    resolved = replace(table, rows=rows)
    check_table(name, resolved.kind, rows, resolved.multi_label, resolved.none_label)
    return resolved


def _resolved(name: str, r: LabelRow, table: LabelTable, video_id: str, grids: Mapping, store_name: str) -> LabelRow:
    grid = grids[video_id]
    fps = r.fps or grid.fps
    if not fps or not fps > 0:
        raise LabelsInvalid(f"{name} {r.place}: its time counts video frames, but {store_name} does not record the frame "
                            f"rate of {video_id!r}; embed it again with --replace, or write the times in seconds")
    for t in (r.start_at, r.end_at):
        if t is not None and not t.fits(fps):
            raise LabelsInvalid(f"{name} {r.place}: timecode {t.text!r} counts frame {t.frames}, but {video_id!r} has "
                                f"{round(fps)} frames a second (ff from 0 to {round(fps) - 1}); check the timecode")
    row = r.at_fps(fps)
    if row.end_s is not None and row.end_s <= row.start_s + TIME_TOLERANCE_S:
        raise LabelsInvalid(f"{name} {r.place}: end {row.end_s:g} s is not after start {row.start_s:g} s (at {fps:g} fps); "
                            "intervals are [start, end) with end > start")
    end_s = row.end_s if row.end_s is not None else row.start_s
    if table.refuses_past_end and grid.duration_s is not None and end_s > grid.duration_s + 1.0 / fps + TIME_TOLERANCE_S:
        raise LabelsInvalid(f"{name} {r.place}: ends at {end_s:g} s (at {fps:g} fps), past the end of {video_id!r} "
                            f"({grid.duration_s:g} s); check the frame rate its frames were counted at, or the video it names")
    return row
