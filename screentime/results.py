"""What the Python API returns (`screentime.api`): the library's results, with ``to_pandas()`` and ``to_json()``.

Each wraps the object the command line renders (`featurestore.runners.work.EmbedReport`,
`classifiers.compare.ComparisonResult`, `classifiers.score.ScoreResult`), kept as ``.result`` / ``.reports``,
so a notebook sees the same numbers as `screentime score --json`.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

import numpy as np

if TYPE_CHECKING:
    import pandas as pd


class ScoreFrames(NamedTuple):
    """`Score.to_pandas()`: five tidy DataFrames (unpack them, or use the names; issue 26).

    samples : one row per sampled frame, indexed by (video, time_s), time_s the sampling grid k / sample_fps (the
        clock of labels and segments; the store's requested_s and `faces_to_pandas()`' requested_s, the keys to
        join them on): actual_s (the frame's presentation time, the store's time_s), label (single-label models), one
        boolean column per class or character (on screen at that sample: ``samples[samples.tom]``), and its
        probability as ``p_<class>``.
    segments : one row per segment, the columns of the segments CSV: video, start, end (seconds), label, confidence.
    characters : one row per (video, character): video, character, screen_time_s, low_s, high_s (the likely range;
        NaN without one), share (of the video), appearances, first_s, last_s (NaN when never on screen). A
        single-label model's classes are its characters, its none label among them.
    videos : one row per video, indexed by video: duration_s, sample_fps, n_samples, interval_level (the level the
        likely ranges claim), unlike_training (pandas' nullable boolean: NA where the model cannot tell),
        training_distance, raw_training_distance (NaN where none); for a multi-label model
        together_s (two or more characters on screen) and none_s (none of them: the model's none label); for a face
        model unknown_s (seconds with a face of nobody labelled), near_share (its faces' share near an actor's
        training face) and faults (what made it unlike the training videos: 'far', 'few near', 'sharpness', ...;
        '' if nothing; score's JSON ``faces_unlike``), and ``characters`` has tracked_s (seen, or carried
        by their tracks through missed detections). Each face and whose it is: `Score.faces_to_pandas()`.
    totals : one row per character over all videos: character, screen_time_s, low_s, high_s (the sum of the
        videos' ranges), share (of all videos' duration), appearances.
    """

    samples: object
    segments: object
    characters: object
    videos: object
    totals: object


@dataclass
class EmbedResult:
    """`screentime.embed`'s outcome: one `EmbedReport` per video, in input order (`reports`)."""

    reports: list
    store_path: Path

    def to_pandas(self) -> pd.DataFrame:
        """One row per video, indexed by video_id: path, status, n_samples, duration_s, wall_s, n_embedded, ..."""
        import pandas as pd

        return pd.DataFrame([asdict(r) for r in self.reports]).set_index("video_id")

    def to_json(self) -> str:
        return json.dumps({"store": str(self.store_path), "videos": [asdict(r) for r in self.reports]}, indent=1)

    def __repr__(self) -> str:  # one line in a notebook, not every report's fields
        n, statuses = len(self.reports), {}
        for r in self.reports:
            statuses[r.status] = statuses.get(r.status, 0) + 1
        done = ", ".join(f"{k} {v}" for k, v in statuses.items())
        return f"<EmbedResult of {n} video{'s' if n != 1 else ''} into {self.store_path}: {done or 'nothing'}; .to_pandas() for the table>"


@dataclass
class Comparison:
    """`screentime.compare_models`'s outcome: the leaderboard and the saved winner (`result`: ComparisonResult)."""

    result: object

    @property
    def best_name(self) -> str:
        return self.result.best_name

    @property
    def model_path(self) -> Path | None:
        return self.result.model_path

    @property
    def leaderboard(self):
        return self.result.leaderboard

    def __repr__(self) -> str:  # one line in a notebook, not the whole ComparisonResult
        r, board = self.result, self.result.leaderboard
        best = board[board["model"] == r.best_name] if "model" in board else board.iloc[:0]
        score = f" ({r.metric} {float(best[r.metric].iloc[0]):.3f})" if r.metric in board and len(best) else ""
        saved = f", saved to {r.model_path}" if r.model_path is not None else ", not saved"
        return (f"<Comparison of {len(board)} model{'s' if len(board) != 1 else ''}: best {r.best_name}{score}{saved}; "
                f".to_pandas() for the leaderboard>")

    def to_pandas(self) -> pd.DataFrame:
        """The leaderboard: one row per model, best first (see `classifiers.compare.compare_frames`)."""
        return self.result.leaderboard.copy()

    def to_json(self) -> str:
        from featurestore.provenance import json_safe

        r = self.result
        return json.dumps(json_safe({
            "best": r.best_name, "smoothing": r.best_smoother.to_dict(), "model_path": r.model_path, "classes": r.classes,
            "metric": r.metric, "cv": r.cv.to_dict(), "feature_norm": r.feature_norm, "context_s": r.context_s,
            "multi_label": r.multi_label, "thresholds": r.thresholds, "interval": r.interval,
            "unlike_training": r.familiarity.describe() if r.familiarity is not None else None,
            "leaderboard": r.leaderboard.to_dict(orient="records"),
        }), indent=1, allow_nan=False)


@dataclass
class Score:
    """`screentime.score`'s outcome (`result`: the `classifiers.score.ScoreResult` the command line prints)."""

    result: object

    @property
    def videos(self) -> list:
        """One `classifiers.chain.timeline.VideoScreenTime` per video."""
        return self.result.videos

    @property
    def classes(self) -> list[str]:
        return self.result.classes

    @property
    def total_screen_time_s(self) -> dict[str, float]:
        return self.result.total_screen_time_s

    @property
    def unlike_training(self) -> dict[str, bool | None]:
        """video -> whether it is unlike the training videos (None: the model cannot tell)."""
        return {v.video_id: v.unlike_training for v in self.result.videos}

    def to_dict(self) -> dict:
        """The document `screentime score --json` writes."""
        from classifiers.output.results import results_to_dict

        return results_to_dict(self.result.videos, self.result.model_info, interval_note=self.result.interval_note)

    def to_json(self) -> str:
        """`to_dict` as the text `screentime score --json` writes."""
        from classifiers.output.results import json_text

        return json_text(self.result.videos, self.result.model_info, interval_note=self.result.interval_note)

    def to_pandas(self) -> ScoreFrames:
        """(samples, segments, characters, videos, totals) DataFrames in long form; see `ScoreFrames`."""
        import pandas as pd

        from classifiers.chain.timeline import total_interval
        from classifiers.output.face_results import segments_with_unknown
        from classifiers.output.results import CSV_HEADER

        nan = float("nan")
        samples, segments, characters, videos = [], [], [], []
        for v in self.result.videos:
            frame = pd.DataFrame({"video": v.video_id, "time_s": v.sample_s,
                                  "actual_s": v.actual_s if v.actual_s is not None else nan})
            if not v.multi_label:
                frame["label"] = [str(x) for x in v.labels]
            on = v.on_screen if v.on_screen is not None else np.asarray(v.labels).astype(str)[:, None] == np.asarray(v.classes)
            names = _on_screen_columns(v.classes, list(frame.columns))
            for j, c in enumerate(v.classes):
                frame[names[c]] = np.asarray(on[:, j], dtype=bool) if len(v.sample_s) else np.zeros(0, bool)
            for j, c in enumerate(v.classes):
                frame[f"p_{c}"] = v.proba[:, j]
            samples.append(frame)
            segments += [(v.video_id, s.start_s, s.end_s, s.label, s.confidence) for s in segments_with_unknown(v)]
            interval = v.screen_time_interval_s or {}
            faces = getattr(v, "faces", None) is not None  # a face model's video (FaceScreenTime)
            characters += [{"video": v.video_id, "character": c, "screen_time_s": v.screen_time_s.get(c, 0.0),
                            "low_s": interval.get(c, (nan, nan))[0], "high_s": interval.get(c, (nan, nan))[1],
                            "share": v.share.get(c, 0.0), "appearances": int(v.n_appearances.get(c, 0)),
                            "first_s": _or_nan(v.first_s.get(c)), "last_s": _or_nan(v.last_s.get(c)),
                            **({"tracked_s": v.tracked_s.get(c, 0.0)} if faces else {})} for c in v.classes]
            videos.append({"video": v.video_id, "duration_s": v.duration_s, "sample_fps": v.sample_fps,
                           "n_samples": len(v.sample_s), "interval_level": v.interval_level,
                           **({"together_s": v.together_s, "none_s": v.none_s} if v.multi_label else {}),
                           **({"unknown_s": v.unknown_s, "near_share": _or_nan(v.near_share),
                               "faults": ", ".join(v.faults)} if faces else {}),
                           "unlike_training": v.unlike_training, "training_distance": _or_nan(v.training_distance),
                           "raw_training_distance": _or_nan(v.raw_training_distance)})
        columns = ["video", "character", "screen_time_s", "low_s", "high_s", "share", "appearances", "first_s", "last_s"]
        columns += ["tracked_s"] if any(getattr(v, "faces", None) is not None for v in self.result.videos) else []
        characters = pd.DataFrame(characters, columns=columns)
        duration_s = sum(v.duration_s for v in self.result.videos)
        ranges = total_interval(self.result.videos) or {}
        totals = characters.groupby("character", sort=False)[["screen_time_s", "appearances"]].sum().reset_index()
        totals["low_s"] = [ranges.get(c, (nan, nan))[0] for c in totals["character"]]
        totals["high_s"] = [ranges.get(c, (nan, nan))[1] for c in totals["character"]]
        totals["share"] = totals["screen_time_s"] / duration_s if duration_s > 0 else nan
        totals = totals[["character", "screen_time_s", "low_s", "high_s", "share", "appearances"]]
        samples = (pd.concat(samples, ignore_index=True) if samples else pd.DataFrame(columns=["video", "time_s"]))
        segments = pd.DataFrame(segments, columns=list(CSV_HEADER)).astype(  # typed alike when there is none
            {"video": "str", "start": "float64", "end": "float64", "label": "str", "confidence": "float64"})
        videos = pd.DataFrame(videos).set_index("video") if videos else pd.DataFrame()
        if len(videos):  # True, False or NA (the model cannot tell): `videos[videos.unlike_training]` works alike
            videos["unlike_training"] = videos["unlike_training"].astype("boolean")
        return ScoreFrames(samples.set_index(["video", "time_s"]), segments, characters, videos, totals)

    def faces_to_pandas(self) -> pd.DataFrame:
        """A face model's faces, one row each, indexed by (video, time_s, face) as `FeatureStore.to_pandas(faces=True)`
        (face: its rank in the sample, by detector score): actor (or 'unknown'), p (that actor's probability; for
        'unknown', 1 - the best actor's), x, y, w, h (the box, a share of the frame's width and height), track (-1:
        none), quality (0-1), requested_s (its sample's time on the grid, `to_pandas().samples`' time_s: unique
        where a held frame's time_s repeats). Empty for a frame model."""
        import pandas as pd

        rows = []
        for v in self.result.videos:
            f = getattr(v, "faces", None)
            if f is None or not len(f.sample):
                continue
            sample = np.asarray(f.sample)  # in the table's order: by time, then by the face's rank there
            rank = np.arange(len(sample)) - np.searchsorted(sample, sample, side="left")
            box = np.asarray(f.box, dtype=np.float64).reshape(-1, 4)
            shown = v.actual_s if v.actual_s is not None else v.sample_s  # the store's time_s: its frame's time
            rows.append(pd.DataFrame({"video": v.video_id, "time_s": np.asarray(shown, np.float64)[f.sample],
                                      "face": rank.astype(np.int32),
                                      "actor": np.asarray(f.label).astype(str), "p": np.asarray(f.p, np.float64),
                                      "x": box[:, 0], "y": box[:, 1], "w": box[:, 2], "h": box[:, 3],
                                      "track": np.asarray(f.track, np.int64), "quality": np.asarray(f.quality, np.float64),
                                      "requested_s": np.asarray(v.sample_s, np.float64)[f.sample]}))
        frame = pd.concat(rows, ignore_index=True) if rows else pd.DataFrame({  # typed alike with rows or without
            "video": pd.Series([], dtype="str"), "time_s": np.zeros(0), "face": np.zeros(0, np.int32),
            "actor": pd.Series([], dtype="str"), "p": np.zeros(0), "x": np.zeros(0), "y": np.zeros(0), "w": np.zeros(0),
            "h": np.zeros(0), "track": np.zeros(0, np.int64), "quality": np.zeros(0), "requested_s": np.zeros(0)})
        return frame.set_index(["video", "time_s", "face"])

    def __repr__(self) -> str:
        total = ", ".join(f"{c} {s:.1f} s" for c, s in self.result.total_screen_time_s.items())
        n = len(self.result.videos)
        return f"<Score of {n} video{'s' if n != 1 else ''}: {total or 'nothing'}; .to_pandas() for the tables>"

    def write(self, *, json=None, csv=None, plot=None, report=None, vtt=None, srt=None) -> list[Path]:
        """Write what `screentime score` writes (`--json`, `--csv`, `--plot`, `--report`, `--vtt`, `--srt`): all or none.

        A path that is an input of the score (a video, the model, the store or in its folder) or another of these
        outputs is refused (`featurestore.errors.OutputRefused`) before anything is written.
        """
        from classifiers.output.score_files import write_outputs

        return write_outputs(self.result, json_path=json, csv_path=csv, plot_path=plot, report_path=report,
                             vtt_path=vtt, srt_path=srt)

    def _repr_html_(self) -> str:  # a notebook shows the per-character table
        return self.to_pandas().characters.to_html(index=False)


@dataclass
class Clusters:
    """`screentime.cluster`'s outcome (`run`: the `classifiers.cluster.ClusterRun` the command line prints)."""

    run: object

    @property
    def paths(self) -> list[Path]:
        """The files written: clusters.csv, its members file, its page (and the Label Studio tasks and config)."""
        return list(self.run.paths)

    def to_pandas(self) -> pd.DataFrame:
        """One row per cluster, largest first, the blurred / small bin last, as clusters.csv: cluster, name (what a
        labels file already calls it, else ''), seconds, suggested (the nearest labelled name), distance (to it),
        n_items (faces or samples)."""
        import pandas as pd

        from classifiers.output.cluster_files import CLUSTERS_HEADER, cluster_record

        rows = [(*cluster_record(c)[:4], _or_nan(c.distance), int(c.n_items)) for c in self.run.clustering.clusters]
        return pd.DataFrame(rows, columns=[*CLUSTERS_HEADER, "n_items"])

    def members_to_pandas(self) -> pd.DataFrame:
        """One row per member, as the members file: faces (cluster, video, time_s, x, y, w, h in the video's pixels,
        track: this clustering's, then face: its rank in the sample, so that (video, time_s, face) joins
        `FeatureStore.to_pandas(faces=True)`) or shots (cluster, video, start_s, end_s, shot)."""
        import pandas as pd

        from classifiers.data.clusters import FACE_MEMBERS, SHOT_MEMBERS
        from classifiers.output.cluster_files import member_rows

        faces = self.run.clustering.mode == "faces"
        header = [*FACE_MEMBERS, "face"] if faces else list(SHOT_MEMBERS)
        frame = pd.DataFrame([(cluster_id, *row) for cluster_id, row in member_rows(self.run.clustering, with_face=faces)],
                             columns=header)
        numbers = ({"time_s": "float64", **dict.fromkeys("xywh", "float64"), "track": "int64", "face": "int32"} if faces
                   else {"start_s": "float64", "end_s": "float64", "shot": "int64"})
        return frame.astype({"cluster": "str", "video": "str", **numbers})  # typed alike when empty

    def __repr__(self) -> str:
        clusters = self.run.clustering.clusters
        return (f"<Clusters of {self.run.clustering.mode}: {len(clusters)} clusters of {len(self.run.video_ids)} "
                f"video(s); .to_pandas() for the table>")


def _on_screen_columns(classes: list[str], taken: list[str]) -> dict[str, str]:
    """Each character's on-screen column in `samples`: its name, unless that is another column's (a character called
    'label', 'video' or 'time_s', or 'p_tom' beside 'tom'): then 'on_<name>', with a warning, never a column
    overwritten."""
    import warnings

    taken = set(taken) | {"video", "time_s"} | {f"p_{c}" for c in classes}
    names = {}
    for c in classes:
        name = c
        while name in taken:
            name = f"on_{name}"
        if name != c:
            warnings.warn(f"Score.to_pandas: character {c!r} has its on-screen column as {name!r} in samples: "
                          f"{c!r} is the name of another column", UserWarning, stacklevel=3)
        names[c] = name
        taken.add(name)
    return names


def _or_nan(value) -> float:
    return float("nan") if value is None else float(value)
