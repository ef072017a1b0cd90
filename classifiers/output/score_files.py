"""score's result files, checked before any work and written together: JSON, segments CSV, timeline PNG, HTML
report, WebVTT and SubRip subtitles, Label Studio tasks with their labelling config.

Every path is checked first (`check_outputs`): a bad one is refused in one line before any video is decoded, and
so is one that is an input of the call (a video, the model, the store or in its folder) or another output, two
videos' subtitles included (`featurestore.outputs.CallFiles`; `write_outputs` checks again, for `Score.write`).
Then every file is written next to its target and all are renamed into place only once each was written
(`featurestore.files.written_together`): a failure (a video whose thumbnails cannot be decoded, a full disk)
leaves no new file beside old ones, and no half-made one. JSON or CSV to stdout ('-') are printed after.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from featurestore.errors import InvalidParameter, OutputUnwritable
from featurestore.files import write_together
from featurestore.outputs import CallFiles

from .results import is_stdout, json_text, write_csv
from .subtitles import check_subtitle_path, subtitle_paths, subtitle_text

SUBTITLE_FORMATS = ("vtt", "srt")


def check_outputs(*, json_path=None, csv_path=None, plot_path=None, report_path=None, vtt_path=None, srt_path=None,
                  label_studio_path=None, url_prefix=None, n_videos: int = 1, video_ids: list[str] | None = None,
                  inputs: CallFiles | None = None) -> None:
    """Refuse, before any work, outputs that cannot go where asked.

    `video_ids` (the scored videos' ids, which name their subtitle files) and `inputs` (what the call reads:
    videos, model, store) let every output file be checked against the inputs and the other outputs
    (`featurestore.outputs.CallFiles`).

    Raises
    ------
    InvalidParameter
        Naming the option: two outputs to stdout ('-'), a PNG, report or Label Studio tasks to stdout, one
        subtitle FILE for several videos, a URL prefix without Label Studio tasks.
    OutputRefused
        An InvalidParameter naming the option: an output is an input of the call (a video, the model, the store
        or in its folder), or another output's file; or two videos' subtitles would share a file.
    OutputUnwritable
        A file whose folder does not exist, or a path that is a folder where a file is wanted.
    """
    to_stdout = [name for name, path in (("json_path", json_path), ("csv_path", csv_path)) if is_stdout(path)]
    if len(to_stdout) > 1:
        raise InvalidParameter("csv_path", "only one of --json and --csv can go to stdout (-)")
    if is_stdout(plot_path):
        raise InvalidParameter("plot_path", "a PNG cannot go to stdout; give a file name")
    if is_stdout(report_path):
        raise InvalidParameter("report_path", "give a file name for the report (e.g. report.html), not -")
    if is_stdout(label_studio_path):
        raise InvalidParameter("label_studio_path", "the tasks go with their labelling config beside them; give a file name")
    if url_prefix is not None and label_studio_path is None:
        raise InvalidParameter("url_prefix", "is the start of the video URLs of Label Studio tasks; give --label-studio too")
    for path in (json_path, csv_path, plot_path, report_path, label_studio_path):
        if path is not None and not is_stdout(path):
            _check_file(Path(path))
    for fmt, path in (("vtt", vtt_path), ("srt", srt_path)):
        check_subtitle_path(path, fmt, n_videos)
        if path is not None:
            if next(iter(subtitle_paths(path, fmt, ["video"]).values())) == Path(path):
                _check_file(Path(path))
            else:
                _check_folder(Path(path))
    if video_ids is not None:
        planned_writes(json_path=json_path, csv_path=csv_path, plot_path=plot_path, report_path=report_path,
                       vtt_path=vtt_path, srt_path=srt_path, label_studio_path=label_studio_path, video_ids=video_ids,
                       calls=inputs.copy() if inputs is not None else CallFiles()).check()


def planned_writes(*, json_path=None, csv_path=None, plot_path=None, report_path=None, vtt_path=None, srt_path=None,
                   label_studio_path=None, video_ids: list[str], calls: CallFiles) -> CallFiles:
    """`calls` with every file these options write added (subtitles: one per video, Label Studio: tasks and config)."""
    from .label_studio import config_path_for

    calls.write("json_path", json_path).write("csv_path", csv_path).write("plot_path", plot_path)
    calls.write("report_path", report_path).write("label_studio_path", label_studio_path)
    if label_studio_path is not None and not is_stdout(label_studio_path):
        calls.write("label_studio_path", config_path_for(label_studio_path), what="the tasks' labelling config")
    ids = list(dict.fromkeys(video_ids))
    for fmt, path in (("vtt", vtt_path), ("srt", srt_path)):
        if path is not None and not is_stdout(path):
            for video_id, target in subtitle_paths(path, fmt, ids).items():
                calls.write(f"{fmt}_path", target, what=f"the subtitles of {video_id}", folder_made=True)
    return calls


def write_outputs(result, *, json_path=None, csv_path=None, plot_path=None, report_path=None, vtt_path=None,
                  srt_path=None, label_studio_path=None, url_prefix=None, thumbnails: bool = True) -> list[Path]:
    """Write the requested files of a `ScoreResult`, all or none; returns the paths written (subtitles: each file).

    Label Studio tasks (`classifiers.output.label_studio.score_task_files`, with their labelling config beside
    them) are written together with the rest.

    Every path is checked first (`check_outputs`, against what `result.inputs` says the call read).

    Raises
    ------
    InvalidParameter, OutputRefused
        As `check_outputs`: nothing is written.
    OutputUnwritable
        If a file cannot be written: none of the files is replaced.
    StoreMismatch
        Label Studio tasks of a video whose frame rate the store does not record (before anything is written).
    """
    ids = [v.video_id for v in result.videos]
    check_outputs(json_path=json_path, csv_path=csv_path, plot_path=plot_path, report_path=report_path, vtt_path=vtt_path,
                  srt_path=srt_path, label_studio_path=label_studio_path, url_prefix=url_prefix, n_videos=len(ids),
                  video_ids=ids, inputs=getattr(result, "inputs", None))
    files: list[tuple[Path, object]] = []
    if json_path is not None and not is_stdout(json_path):
        files.append((Path(json_path), lambda tmp: tmp.write_text(_json_text(result), encoding="utf-8")))
    if csv_path is not None and not is_stdout(csv_path):
        files.append((Path(csv_path), lambda tmp: write_csv(tmp, result.videos)))
    if plot_path is not None:
        files.append((Path(plot_path), lambda tmp: _plot(tmp, result)))
    if report_path is not None:
        files.append((Path(report_path), lambda tmp: _report(tmp, result, thumbnails)))
    made: list[Path] = []
    for fmt, path in (("vtt", vtt_path), ("srt", srt_path)):
        if path is None:
            continue
        targets = subtitle_paths(path, fmt, ids)
        if Path(path) not in targets.values() and not Path(path).is_dir():
            made.append(_make_folder(Path(path)))
        for video in result.videos:
            files.append((targets[video.video_id], lambda tmp, v=video, f=fmt: tmp.write_text(subtitle_text(v, f), encoding="utf-8")))
    if label_studio_path is not None:
        from .label_studio import score_task_files

        files += score_task_files(result, label_studio_path, url_prefix)
    try:
        written = write_together(files)
    except BaseException:
        for folder in made:  # folders made for subtitles that were never written
            if folder.is_dir() and not any(folder.iterdir()):
                folder.rmdir()
        raise
    if is_stdout(json_path):
        sys.stdout.write(_json_text(result))
        sys.stdout.flush()
    if is_stdout(csv_path):
        write_csv("-", result.videos)
    return written + [Path("-") for p in (json_path, csv_path) if is_stdout(p)]


def _json_text(result) -> str:
    return json_text(result.videos, result.model_info, interval_note=result.interval_note)


def _plot(tmp: Path, result) -> None:
    from .plot import plot_timelines

    plot_timelines(tmp, result.videos, classes=result.classes)


def _report(tmp: Path, result, thumbnails: bool) -> None:
    from .report import report_html

    tmp.write_text(report_html(result, thumbnails=thumbnails), encoding="utf-8")


def _check_file(path: Path) -> None:
    if path.is_dir():
        raise OutputUnwritable(f"{path}: is a folder; give a file name")
    _check_folder(path.parent if str(path.parent) else Path("."), for_file=path)


def _check_folder(folder: Path, for_file: Path | None = None) -> None:
    """The folder exists and is writable (a subtitle folder may be made: then its parent must be)."""
    what = for_file if for_file is not None else folder
    if for_file is None and not folder.exists():
        parent = folder.parent if str(folder.parent) else Path(".")
        if not parent.is_dir():
            raise OutputUnwritable(f"{folder}: cannot make this folder ({parent} does not exist); choose another path")
        folder = parent
    elif for_file is None and not folder.is_dir():
        raise OutputUnwritable(f"{folder}: is a file; give a folder for the subtitles, or a file name ending in the format")
    if not folder.is_dir():
        raise OutputUnwritable(f"{what}: cannot write it (the folder {folder} does not exist); choose another path")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise OutputUnwritable(f"{what}: cannot write it (the folder {folder} is not writable); choose another path")


def _make_folder(folder: Path) -> Path:
    try:
        folder.mkdir()
    except OSError as err:
        raise OutputUnwritable(f"{folder}: cannot make this folder ({err.strerror or err}); choose another path") from None
    return folder
