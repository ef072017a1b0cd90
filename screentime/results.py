"""What the Python API returns (`screentime.api`): the library's results, with ``to_pandas()`` and ``to_json()``.

Each wraps the object the command line renders (`featurestore.runners.work.EmbedReport`,
`classifiers.compare.ComparisonResult`, `classifiers.score.ScoreResult`), kept as ``.result`` / ``.reports``,
so a notebook sees the same numbers as `screentime score --json`.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import NamedTuple

import numpy as np


class ScoreFrames(NamedTuple):
    """`Score.to_pandas()`: three DataFrames (unpack them, or use the names).

    samples : one row per sampled frame, indexed by (video, time_s): actual_s, label (multi-label: labels, the
        characters on screen joined by '+', '' for none), and each class's probability.
    segments : one row per segment: video, start_s, end_s, duration_s, label, confidence.
    totals : one row per video and a last row 'total': duration_s, seconds per class (multi-label:
        together_s, none_s), unlike_training.
    """

    samples: object
    segments: object
    totals: object


@dataclass
class EmbedResult:
    """`screentime.embed`'s outcome: one `EmbedReport` per video, in input order (`reports`)."""

    reports: list
    store_path: Path

    def to_pandas(self):
        """One row per video, indexed by video_id: path, status, n_samples, duration_s, wall_s, n_embedded, ..."""
        import pandas as pd

        return pd.DataFrame([asdict(r) for r in self.reports]).set_index("video_id")

    def to_json(self) -> str:
        return json.dumps({"store": str(self.store_path), "videos": [asdict(r) for r in self.reports]}, indent=1)


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

    def to_pandas(self):
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
        """(samples, segments, totals) DataFrames; see `ScoreFrames`."""
        import pandas as pd

        samples, segments, totals = [], [], []
        for v in self.result.videos:
            labels = ["+".join(x) for x in v.labels] if v.multi_label else [str(x) for x in v.labels]
            frame = pd.DataFrame({"video": v.video_id, "time_s": v.sample_s,
                                  "actual_s": v.actual_s if v.actual_s is not None else np.nan,
                                  "labels" if v.multi_label else "label": labels})
            for j, c in enumerate(v.classes):
                frame[c] = v.proba[:, j]
            samples.append(frame)
            segments += [{"video": v.video_id, "start_s": s.start_s, "end_s": s.end_s, "duration_s": s.duration_s,
                          "label": s.label, "confidence": s.confidence} for s in v.segments]
            row = {"video": v.video_id, "duration_s": v.duration_s, **v.screen_time_s}
            if v.multi_label:
                row.update(together_s=v.together_s, none_s=v.none_s)
            totals.append({**row, "unlike_training": v.unlike_training})
        samples = (pd.concat(samples, ignore_index=True) if samples else pd.DataFrame(columns=["video", "time_s"]))
        if totals:
            numeric = pd.DataFrame(totals).drop(columns=["video", "unlike_training"]).sum(numeric_only=True)
            totals.append({"video": "total", **numeric.to_dict(), "unlike_training": None})
        totals_df = pd.DataFrame(totals).set_index("video") if totals else pd.DataFrame()
        segments_df = pd.DataFrame(segments, columns=["video", "start_s", "end_s", "duration_s", "label", "confidence"])
        return ScoreFrames(samples.set_index(["video", "time_s"]), segments_df, totals_df)

    def write(self, *, json=None, csv=None, plot=None, report=None, vtt=None, srt=None) -> list[Path]:
        """Write what `screentime score` writes (`--json`, `--csv`, `--plot`, `--report`, `--vtt`, `--srt`): all or none.

        A path that is an input of the score (a video, the model, the store or in its folder) or another of these
        outputs is refused (`featurestore.errors.OutputRefused`) before anything is written.
        """
        from classifiers.output.score_files import write_outputs

        return write_outputs(self.result, json_path=json, csv_path=csv, plot_path=plot, report_path=report,
                             vtt_path=vtt, srt_path=srt)

    def _repr_html_(self) -> str:  # a notebook shows the totals
        return self.to_pandas().totals.to_html()
