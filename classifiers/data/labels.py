"""Labels files -> validated tables of rows, not yet joined to a store (join.py does that).

Formats, recognised from the content: a Label Studio JSON export (`classifiers.data.label_studio`), CVAT for
video 1.1 XML (`classifiers.data.cvat`), else a CSV recognised from its header line: intervals
``video,start,end,label`` ([start, end)), points ``video,time,label``, and the tutorial's ``Image_ID,Class``
(``frameN.jpg`` is the frame at N seconds), and cluster's ``cluster,name`` (`classifiers.data.clusters`; its Label
Studio tasks exported back: `classifiers.data.cluster_tasks`). CSV times are seconds, mm:ss(.fff), hh:mm:ss(.fff) or SMPTE
hh:mm:ss:ff (`classifiers.data.timecode`), with decimal commas where semicolons or tabs separate the columns. CSVs
may be comma-, semicolon- or tab-separated, UTF-8 (with or
without a BOM), UTF-16 with a BOM, or Windows-1252 (Excel's CSV, with a warning).
"""

from __future__ import annotations

import codecs
import re
import warnings
from pathlib import Path, PurePath


from featurestore.errors import LabelsInvalid, LabelsWarning, quoted

from .checks import check_table
from .cluster_tasks import tasks_mode
from .clusters import cluster_label_table, is_clusters_header
from .csv_records import by_column, column_index, csv_records, delimiter
from .cvat import parse_cvat
from .label_studio import parse_label_studio
from .names import check_spelling_variants
from .strict import MAX_FILE_BYTES, MAX_LABEL_CHARS, MAX_NAME_CHARS, checked_name, unquoted
from .table import NONE_LABEL, LabelRow, LabelTable, first_items
from .timecode import FrameTime, parse_time

FORMATS = {
    "intervals": ("video", "start", "end", "label"),
    "points": ("video", "time", "label"),
    "tutorial": ("image_id", "class"),
}
_TUTORIAL_NAME = re.compile(r"^frame([0-9]{1,9})\.(jpe?g|png)$", re.IGNORECASE)
_UTF32_BOMS = (codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE)  # before UTF-16's: UTF-32 LE's starts with UTF-16 LE's


def parse_label_files(labels_paths, *, video: str | None = None, classes: list[str] | None = None,
                      multi_label: bool = False, none_label: str = NONE_LABEL) -> list[LabelTable]:
    """`parse_labels` of one path or of each of a sequence of paths (at least one)."""
    paths = [labels_paths] if isinstance(labels_paths, (str, PurePath)) else list(labels_paths)
    if not paths:
        raise ValueError("give at least one labels file")
    if isinstance(classes, str):  # 'neither,jerry,tom', as --classes gives them
        classes = [c.strip() for c in classes.split(",")]
    tables = [parse_labels(p, video=video, classes=classes, multi_label=multi_label, none_label=none_label) for p in paths]
    check_spelling_variants({r.label for t in tables for r in t.rows}, ", ".join(t.path.name for t in tables))
    return tables


def read_labels_text(path: Path) -> str:
    """A labels file's text: UTF-8 (BOM or not), UTF-16 or UTF-32 with a BOM, else Windows-1252 (Excel's CSV) with a
    warning; a file over `MAX_FILE_BYTES` is refused before it is read. Every labels file, of frames or of faces
    (`classifiers.data.face_dataset`), is read by it.

    Raises
    ------
    LabelsInvalid
    """
    what = "give the path of a CSV with columns video,start,end,label"
    if path.is_dir():
        raise LabelsInvalid(f"labels file {path} is a folder; {what}")
    try:
        if path.stat().st_size > MAX_FILE_BYTES:
            raise LabelsInvalid(f"labels file {path} is {path.stat().st_size / 2**20:.0f} MiB, more than a labels file "
                                f"can be ({MAX_FILE_BYTES // 2**20} MiB); is it the right file?")
        raw = path.read_bytes()
    except FileNotFoundError:
        raise LabelsInvalid(f"labels file {path} does not exist; {what}") from None
    except OSError as err:
        raise LabelsInvalid(f"labels file {path} cannot be read ({err.strerror or err}); {what}") from None
    for boms, encoding in ((_UTF32_BOMS, "utf-32"), ((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE), "utf-16")):
        if raw.startswith(boms):
            try:
                return _text_only(path, raw.decode(encoding))
            except UnicodeDecodeError:
                raise LabelsInvalid(f"{path.name} starts like {encoding.upper()} text but is not; save it as CSV UTF-8") from None
    try:
        return _text_only(path, raw.decode("utf-8-sig"))
    except UnicodeDecodeError as err:
        line = raw[:err.start].count(b"\n") + 1
        try:
            text = raw.decode("cp1252")
        except UnicodeDecodeError:
            raise LabelsInvalid(f"{path.name} line {line}: not UTF-8 text (byte {raw[err.start]:#04x}); "
                                "save it as CSV UTF-8") from None
    text = _text_only(path, text)
    warnings.warn(f"{path.name} is not UTF-8 text (from line {line}): read it as Windows-1252, as Excel writes CSV; "
                  "save it as CSV UTF-8 to silence this", LabelsWarning)
    return text


def _text_only(path: Path, text: str) -> str:
    """`text`, unless it holds NUL characters: a binary file, or UTF-16 without its byte order mark."""
    if "\x00" in text:
        line = text[:text.index("\x00")].count("\n") + 1
        raise LabelsInvalid(f"{path.name} line {line}: not text (it holds NUL bytes: a binary file, or UTF-16 without a "
                            "byte order mark); save it as CSV UTF-8")
    return text


def parse_labels(labels_path: str | Path, *, video: str | None = None, classes: list[str] | None = None,
                 multi_label: bool = False, none_label: str = NONE_LABEL, text: str | None = None) -> LabelTable:
    """Parse and validate a labels file on its own (formats and options as in `read_labels`); `text`: its text, when
    the caller has read it already (`read_labels_text`)."""
    path = Path(labels_path)
    name = path.name
    text = read_labels_text(path) if text is None else text
    opening = text.lstrip()[:1]
    if opening in ("[", "{", "<"):
        if video is not None:
            raise LabelsInvalid(f"{name} names its videos itself; drop --video, which is only for Image_ID,Class files")
        if opening != "<" and tasks_mode(text) is not None:  # cluster --label-studio's tasks, named (issue 25)
            return cluster_label_table(path, text, multi_label=multi_label, none_label=none_label)
        parse = parse_cvat if opening == "<" else parse_label_studio
        return parse(path, text, multi_label=multi_label, none_label=none_label)
    lines = csv_records(name, text)
    if not lines:
        raise LabelsInvalid(f"{name} is empty; write a header line video,start,end,label and one row per interval")
    header = [c.strip().lower() for c in lines[0][1]]
    if is_clusters_header(header):  # cluster's clusters.csv: named shots, read with its members file (issue 25)
        if video is not None:
            raise LabelsInvalid(f"{name} names its videos itself (in its members file); drop --video")
        return cluster_label_table(path, text, multi_label=multi_label, none_label=none_label)
    if {"video", "track", "label"} <= set(header) and not {"start", "end", "time"} & set(header):
        raise LabelsInvalid(f"{name} names stored face tracks (video,track,label): it says whose each face is, not when "
                            "who is on screen; use it with --faces")
    kind = _detect_format(name, header)
    if kind == "tutorial" and multi_label:
        raise LabelsInvalid(f"{name} is in the tutorial's Image_ID,Class format, one class per frame; --multi-label reads "
                            "video,start,end,label with one line per character per interval (or drop --multi-label)")
    if kind == "tutorial" and video is None:
        raise LabelsInvalid(f"{name} is in the tutorial's Image_ID,Class format; name the stored video it describes with --video")
    if kind != "tutorial" and video is not None:
        raise LabelsInvalid(f"{name} names its videos itself (format {','.join(FORMATS[kind])}); drop --video, which is only for Image_ID,Class files")
    col = column_index(name, header, FORMATS[kind], line=lines[0][0])
    if kind != "tutorial":
        unfilled = [line for line, cells in lines[1:] if len(cells) <= col["label"] or not cells[col["label"]].strip()]
        if len(unfilled) > 1:  # e.g. a todo list from suggest-labels, not filled in yet (one empty label: the loop says it)
            raise LabelsInvalid(f"{name} lines {first_items([str(n) for n in unfilled], 5)}: label is empty; fill them in "
                                "(one row per label, splitting a span where it changes) or delete those lines")
    class_names = list(classes) if classes is not None else ["0", "1", "2"]
    comma = kind != "tutorial" and _decimal_comma(name, lines[1:], col, delimiter(text))
    rows = []
    for line, cells in lines[1:]:
        if [c.strip().lower() for c in cells] == header:
            raise LabelsInvalid(f"{name} line {line} repeats the header line {lines[0][0]} (two files pasted together?); "
                                "delete it")
        get = by_column(cells, col).__getitem__
        if kind == "intervals":
            start, end = _time(name, line, "start", get("start"), comma), _time(name, line, "end", get("end"), comma)
            rows.append(_row(name, line, _text(name, line, "video", get("video")), start, end,
                             _text(name, line, "label", get("label"))))
        elif kind == "points":
            time = _time(name, line, "time", get("time"), comma)
            rows.append(_row(name, line, _text(name, line, "video", get("video")), time, None,
                             _text(name, line, "label", get("label"))))
        else:
            rows.append(_tutorial_row(name, line, get("image_id"), get("class"), video, class_names))
    if not rows:
        raise LabelsInvalid(f"{name} has a header but no rows; add one line per labelled interval or frame")
    if all(r.is_resolved for r in rows):  # timecodes in frames are checked once the join knows each video's rate
        check_table(name, kind, rows, multi_label, none_label)
    return LabelTable(path, kind, rows, multi_label, none_label)


def _detect_format(name: str, header: list[str]) -> str:
    for kind, needed in FORMATS.items():
        if set(needed) <= set(header):
            return kind
    kind, needed = max(FORMATS.items(), key=lambda kv: len(set(kv[1]) & set(header)))
    missing = [c for c in needed if c not in header]
    if not set(needed) & set(header) and any(_is_time(c) for c in header[1:]):
        raise LabelsInvalid(f"{name}: its first line {quoted(','.join(header))} is a row, not a header; add the header "
                            "line video,start,end,label (intervals) or video,time,label (points) above it")
    raise LabelsInvalid(
        f"{name} line 1: header {quoted(','.join(header))} lacks column {','.join(missing)}; "
        "use video,start,end,label (intervals), video,time,label (points) or Image_ID,Class (tutorial)"
    )


def _is_time(text: str) -> bool:
    try:
        parse_time(text)
    except ValueError:
        return False
    return True


def _decimal_comma(name: str, records: list[tuple[int, list[str]]], col: dict[str, int], sep: str) -> bool:
    """Whether the times of a file separated by `sep` write decimal commas (``12,5``), as spreadsheets do where ';'
    separates the columns: never where ',' does (``1,000`` may be a thousand), nor in a file whose times also write
    decimal points, nor ``1,000`` in a tab-separated one (refused: which is meant is a guess)."""
    if sep == ",":
        return False
    places: dict[str, int] = {}  # decimal mark -> the first line writing it
    for line, cells in records:
        for column, cell in by_column(cells, {c: col[c] for c in ("start", "end", "time") if c in col}).items():
            marks = [mark for mark in ",." if re.search(rf"[0-9]\{mark}[0-9]", cell)]
            if len(marks) == 2:
                raise LabelsInvalid(f"{name} line {line}: {column} {quoted(cell)} has a comma and a point; write seconds "
                                    "with one decimal mark and no thousands mark (1000,5)")
            if sep == "\t" and re.fullmatch(r"[0-9]{1,3}(,[0-9]{3})+", cell.strip()):
                raise LabelsInvalid(f"{name} line {line}: {column} {quoted(cell)} may be a thousands mark or a decimal "
                                    "comma; write seconds with a decimal point and no thousands mark (1000 or 1.5)")
            for mark in marks:
                places.setdefault(mark, line)
    if len(places) == 2:
        raise LabelsInvalid(f"{name} lines {places[',']} and {places['.']}: times with a decimal comma and with a decimal "
                            "point; write every time one way (12,5 or 12.5)")
    return "," in places


def _time(name: str, line: int, column: str, text: str, decimal_comma: bool = False) -> float | FrameTime:
    if not text.strip():
        raise LabelsInvalid(f"{name} line {line}: {column} is empty; fill it in or delete the line")
    try:
        return parse_time(text.replace(",", ".") if decimal_comma else text)
    except ValueError as err:
        raise LabelsInvalid(f"{name} line {line}: {column} {quoted(text)} {err}") from None


def _row(name: str, line: int, video: str, start: float | FrameTime, end: float | FrameTime | None, label: str) -> LabelRow:
    """A row in seconds, or one whose frame counts (hh:mm:ss:ff) wait for the video's frame rate."""
    if isinstance(start, float) and not isinstance(end, FrameTime):
        if end is not None and end <= start:
            raise LabelsInvalid(f"{name} line {line}: end {end:g} s is not after start {start:g} s; intervals are "
                                "[start, end) with end > start")
        return LabelRow(video, start, end, label, line)
    start_at, start_s = (start, 0.0) if isinstance(start, FrameTime) else (None, start)
    end_at, end_s = (end, float("nan")) if isinstance(end, FrameTime) else (None, end)
    return LabelRow(video, start_s, end_s, label, line, start_at=start_at, end_at=end_at)


def _text(name: str, line: int, column: str, text: str) -> str:
    text = unquoted(text)
    if not text:
        raise LabelsInvalid(f"{name} line {line}: {column} is empty; fill it in or delete the line")
    try:
        return checked_name(text, limit=MAX_NAME_CHARS if column == "video" else MAX_LABEL_CHARS)
    except ValueError as err:
        raise LabelsInvalid(f"{name} line {line}: {column} {err}; fix the cell") from None


def _tutorial_row(name: str, line: int, image_id: str, class_text: str, video: str, class_names: list[str]) -> LabelRow:
    match = _TUTORIAL_NAME.match(PurePath(image_id).name)
    if match is None:
        raise LabelsInvalid(f"{name} line {line}: Image_ID {quoted(image_id)} is not like frame12.jpg; the tutorial names "
                            "the frame at N seconds frameN.jpg")
    number = int(class_text) if re.fullmatch(r"[0-9]{1,6}", class_text, re.ASCII) else -1
    if not 0 <= number < len(class_names):
        raise LabelsInvalid(
            f"{name} line {line}: Class {quoted(class_text)} is not one of 0..{len(class_names) - 1}; "
            f"--classes names {len(class_names)} classes ({','.join(class_names)}), add names or fix the row"
        )
    return LabelRow(video, float(match.group(1)), None, class_names[number], line)
