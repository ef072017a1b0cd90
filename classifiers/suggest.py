"""suggest-labels: the unlabelled seconds of stored videos whose labels would most improve a model.

Every candidate video runs through `SavedModel.predict_video` (the chain `score` uses) with the model's
smoothing and without it, and through each cross-validation fold model, refitted from the labels files
with the saved model's own estimator, per-video stages and smoothing (`classifiers.active.committee`). The
measures of `classifiers.active.spans` give each sample a value; `pick_spans` there chooses the spans.
Outputs: the todo CSV and the contact sheet (`write_suggestions`; drawn by `classifiers.output.sheet`). A face
model (compare-models --faces) gets the tracks worth naming next instead (`classifiers.suggest_faces`).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

import numpy as np

from classifiers.active.committee import refit_committee
from classifiers.active.spans import Candidates, Span, pick_spans, sample_values, scenes
from classifiers.chain.decision import label_texts
from classifiers.chain.persist import check_config, load_model
from classifiers.chain.presence import character_runs
from classifiers.chain.smoothing import Smoother
from classifiers.data.join import StoreGrids, labelled_time
from classifiers.data.names import resolve_videos
from classifiers.data.labels import parse_label_files
from classifiers.output.cells import csv_cell, csv_text
from classifiers.output.label_studio import VideoGuess, config_path_for, label_studio_files
from classifiers.suggest_faces import TrackSuggestions, suggest_tracks, tracks_csv_text
from featurestore.errors import FaceModelGiven, InvalidParameter, StoreMismatch, arg, command
from featurestore.files import atomic_write, write_together
from featurestore.outputs import CallFiles
from featurestore.progress import step
from featurestore.store.store import FeatureStore
from featurestore.video.pyav import AvVideoReader
from featurestore.video.sources import find_source

TODO_HEADER = ("video", "start", "end", "label")
_TOL_S = 1e-6


@dataclass
class SuggestedSpan:
    """One span to label, with what the model thinks of it now.

    Attributes
    ----------
    video_id : str
    start_s, end_s : float, seconds: the span is [start_s, end_s) on the video's clock
    value : float
        Mean value of its samples when it was picked (after spreading, see `classifiers.active.spans`).
    uncertainty, instability, disagreement : float, means over its samples, each in [0, 1]
    sample_s, actual_s : ndarray of shape (k,), seconds: its samples' grid times and frame times
    proba : ndarray of shape (k, n_classes): smoothed probabilities of its samples
    guess : list of str, length k: the model's current label for each sample
    """

    video_id: str
    start_s: float
    end_s: float
    value: float
    uncertainty: float
    instability: float
    disagreement: float
    sample_s: np.ndarray = field(repr=False)
    actual_s: np.ndarray = field(repr=False)
    proba: np.ndarray = field(repr=False)
    guess: list = field(repr=False)

    @property
    def duration_s(self) -> float:
        return self.end_s - self.start_s

    def guess_summary(self) -> str:
        """'tom 3 s, neither 1 s': the model's guesses over the span, longest first."""
        step = self.duration_s / max(len(self.guess), 1)
        labels, counts = np.unique(np.asarray(self.guess, dtype=str), return_counts=True)
        order = np.argsort(-counts, kind="stable")
        return ", ".join(f"{labels[i]} {counts[i] * step:g} s" for i in order)


@dataclass
class Suggestions:
    """Outcome of `suggest_labels`: spans best first, and what they were chosen from."""

    spans: list[SuggestedSpan]
    budget_s: float
    classes: list[str]
    videos: list[str]
    available_s: float  # unlabelled seconds of the considered videos
    committee_note: str
    multilabel: bool = False
    model_path: Path | None = None
    store_path: Path | None = None
    none_label: str = "neither"
    labels_paths: list = field(default_factory=list)

    @property
    def total_s(self) -> float:
        return float(sum(s.duration_s for s in self.spans))


def suggest_labels(
    store_path: str | Path,
    model_path: str | Path,
    budget_s: float,
    *,
    labels_paths: Sequence[str | Path] = (),
    videos: Sequence[str] | None = None,
    video: str | None = None,
    classes: list[str] | None = None,
    n_folds: int = 5,
    n_jobs: int = -1,
    progress=None,
) -> Suggestions:
    """Choose spans of stored videos to label next, at most `budget_s` seconds in all.

    Parameters
    ----------
    store_path, model_path : paths of the feature store and of a model saved by compare-models
    budget_s : float
        Seconds of video the user is willing to label, >= 2.
    labels_paths : sequence of paths
        Labels files already written: their time is never suggested, and they train the fold models
        whose disagreement is one of the measures (none given: no disagreement).
    videos : sequence of str, optional
        Stored video ids (or file names / paths of stored videos) to consider; default all stored videos.
    video, classes
        For a labels file in the tutorial's Image_ID,Class format (as in compare-models).
    n_folds : int
        Fold models to refit (0: none).
    progress : featurestore.progress.Progress, optional
        Shows each step: the labelled videos read, the fold models' fits, the videos measured.

    Raises
    ------
    ModelFileRefused, StoreMismatch, StoreCorrupt, NotEmbedded, LabelsInvalid
    """
    if not budget_s >= 2.0:
        raise InvalidParameter("budget_s", f"{budget_s:g} s is less than the shortest span (2 s); give at least 2")
    try:
        saved = load_model(model_path)
    except FaceModelGiven as given:  # a face model: the tracks worth naming next (issue 25); the file read once
        return suggest_tracks(store_path, model_path, budget_s, labels_paths=labels_paths, videos=videos,
                              payload=given.payload, progress=progress)
    store = FeatureStore(store_path)
    check_config(saved, store.config, store_path=store_path)
    multilabel = saved.multi_label
    ids = resolve_videos(store, videos)
    grids = StoreGrids(store)
    label_kind = dict(multi_label=multilabel, none_label=saved.none_label)
    tables = parse_label_files(labels_paths, video=video, classes=classes, **label_kind) if labels_paths else []
    with step(progress if tables else None, "reading the labelled videos", None) as advance:
        grids.on_read = advance
        taken = labelled_time(tables, grids) if tables else {}
        grids.on_read = None
    committee, note = refit_committee(saved, store, labels_paths, video=video, classes=classes, n_folds=n_folds, n_jobs=n_jobs,
                                      grids=grids, tables=tables or None, progress=progress)
    plain = Smoother("none")
    candidates, by_id = [], {}
    with step(progress, "measuring the videos", len(ids)) as advance:
        for video_id in ids:
            by_id[video_id] = _measure(saved, committee, grids, video_id, taken, plain)
            candidates.append(by_id[video_id][0])
            advance()
    picked = pick_spans(candidates, budget_s)
    spans = [_describe(span, *by_id[span.video_id]) for span in picked]
    available_s = float(sum(c.available.sum() * c.step_s for c in candidates))
    return Suggestions(spans, float(budget_s), list(saved.classes), ids, available_s, note, multilabel,
                       Path(model_path), Path(store_path), saved.none_label, [Path(p) for p in labels_paths])


def _measure(saved, committee, grids, video_id: str, taken: dict, plain: Smoother) -> tuple:
    """One video's candidates (`classifiers.active.spans.Candidates`), smoothed prediction and sample times."""
    grid = grids[video_id]
    v = grids.videos[video_id]
    t = np.asarray(v.requested_s, dtype=np.float64)
    kwargs = dict(duration_s=float(v.info["duration_s"]), sample_fps=float(v.info["sample_fps"]), video_id=video_id)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # a short video's "few samples" note: suggestions are still fine
        smoothed, raw = saved.predict_video(t, v.features, smoother=[saved.smoother, plain], **kwargs)
        folds = [m.predict_video(t, v.features, **kwargs).proba for m in committee]
    values = sample_values(smoothed.proba, raw.proba, np.stack(folds) if folds else None, multilabel=saved.multi_label,
                           thresholds=saved.threshold_array)
    step_s = 1.0 / grid.sample_fps
    guess = label_texts(saved.on_screen(smoothed.proba), saved.classes, saved.none_label)
    cand = Candidates(video_id, t, step_s, values["value"], _available(t, step_s, taken.get(video_id, [])),
                      guess, scenes(v.features), parts=values, duration_s=float(v.info["duration_s"]))
    actual_s = np.asarray(v.actual_s, dtype=np.float64)
    del v
    grids.videos.pop(video_id, None)  # its features are done with: one video held at a time, not the collection
    return cand, smoothed, actual_s


def _available(t: np.ndarray, step_s: float, taken: list[tuple[float, float]]) -> np.ndarray:
    """True for samples whose interval [t, t + step_s) does not overlap any labelled (start, end)."""
    free = np.ones(len(t), dtype=bool)
    for start, end in taken:
        free &= ~((t < end - _TOL_S) & (t + step_s > start + _TOL_S))
    return free


def _describe(span: Span, cand: Candidates, smoothed, actual_s: np.ndarray) -> SuggestedSpan:
    inside = slice(span.first, span.last + 1)
    means = {k: float(np.mean(cand.parts[k][inside])) for k in ("uncertainty", "instability", "disagreement")}
    return SuggestedSpan(span.video_id, span.start_s, span.end_s, span.value, **means, sample_s=cand.sample_s[inside],
                         actual_s=actual_s[inside], proba=smoothed.proba[inside], guess=list(cand.guess[inside]))


def check_suggestion_outputs(out_path, sheet_path=None, label_studio_path=None, url_prefix=None, *, store_path=None,
                             model_path=None, labels_paths=(), sources=()) -> None:
    """InvalidParameter, before any work: nothing asked for, an output asked to go to stdout ('-'), or a URL prefix
    without Label Studio tasks; `OutputRefused` for an output that is an input (the store or in its folder, the
    model, a labels file, a source video) or another output (`featurestore.outputs.CallFiles`)."""
    if out_path is None and label_studio_path is None:
        raise InvalidParameter("out_path", "give --out todo.csv, --label-studio tasks.json, or both")
    for param, path in (("out_path", out_path), ("sheet_path", sheet_path), ("label_studio_path", label_studio_path)):
        if path is not None and str(path) == "-":
            raise InvalidParameter(param, "give a file name, not -")
    if url_prefix is not None and label_studio_path is None:
        raise InvalidParameter("url_prefix", "is the start of the video URLs of Label Studio tasks; give --label-studio too")
    calls = CallFiles().store("store_path", store_path).read("the model", model_path).read("the labels file", *labels_paths)
    calls.read("the source video", *sources).write("out_path", out_path).write("sheet_path", sheet_path)
    calls.write("label_studio_path", label_studio_path)
    if label_studio_path is not None:
        calls.write("label_studio_path", config_path_for(label_studio_path), what="the tasks' labelling config")
    calls.check()


def todo_csv_text(suggestions: Suggestions) -> str:
    """The todo list: header ``video,start,end,label`` and one row per span, best first, label empty (a video id
    a spreadsheet would run as a formula gets a leading ', `classifiers.output.cells`)."""
    return csv_text(TODO_HEADER, ([csv_cell(s.video_id), f"{s.start_s:.6g}", f"{s.end_s:.6g}", ""]
                                  for s in suggestions.spans))


def write_todo_csv(suggestions: Suggestions, path: str | Path) -> Path:
    """Write `todo_csv_text` to `path` atomically."""
    return atomic_write(path, todo_csv_text(suggestions))


def write_suggestions(suggestions: Suggestions, out_path: str | Path | None = None, *, sheet_path: str | Path | None = None,
                      video_dir: str | Path | None = None, label_studio_path: str | Path | None = None,
                      url_prefix: str | None = None) -> list[Path]:
    """Write the todo CSV, and if asked the contact sheet and the Label Studio tasks with their labelling config
    (`classifiers.output.label_studio`): all or none (the sources are checked first).

    Raises
    ------
    SourceVideoMoved
        For the sheet: a span's source video is not where the store recorded it (nor in `video_dir`).
    VideoUnreadable, OutputUnwritable, StoreMismatch
    """
    if isinstance(suggestions, TrackSuggestions):
        for param, path in (("sheet_path", sheet_path), ("label_studio_path", label_studio_path)):
            if path is not None:
                raise InvalidParameter(param, "is for models of whole frames; with a face model, --out lists tracks")
        check_suggestion_outputs(out_path, store_path=suggestions.store_path, model_path=suggestions.model_path,
                                 labels_paths=suggestions.labels_paths)
        return write_together([(out_path, lambda tmp: tmp.write_text(tracks_csv_text(suggestions), encoding="utf-8"))])
    sources = {}
    if sheet_path is not None:
        store = FeatureStore(suggestions.store_path)
        for video_id in dict.fromkeys(s.video_id for s in suggestions.spans):
            sources[video_id] = find_source(video_id, store.info(video_id), video_dir=video_dir)
    check_suggestion_outputs(out_path, sheet_path, label_studio_path, url_prefix, store_path=suggestions.store_path,
                             model_path=suggestions.model_path, labels_paths=suggestions.labels_paths,
                             sources=list(sources.values()))
    outputs = []
    if label_studio_path is not None:
        labels = list(suggestions.classes) + ([suggestions.none_label] if suggestions.multilabel else [])
        model = suggestions.model_path.name if suggestions.model_path else "model"
        outputs += label_studio_files(label_studio_path, label_studio_guesses(suggestions), labels, model_version=model,
                                      url_prefix=url_prefix, header=f"Correct {model}'s guesses on the suggested spans; "
                                                                    "frames outside them stay unlabelled")
    outputs += [(out_path, lambda tmp: tmp.write_text(todo_csv_text(suggestions), encoding="utf-8")),
                (sheet_path, lambda tmp: _draw(suggestions, sources, tmp))]
    return write_together(outputs)


def label_studio_guesses(suggestions: Suggestions) -> list[VideoGuess]:
    """Per video with spans: the model's guesses inside its spans, one region per run of a label's samples."""
    store = FeatureStore(suggestions.store_path)
    guesses: dict[str, VideoGuess] = {}
    for span in suggestions.spans:
        if span.video_id not in guesses:
            info = store.info(span.video_id)
            if not info.get("fps"):
                raise StoreMismatch(f"{store.path.name} does not record the frame rate of {span.video_id!r}, which Label Studio "
                                    f"counts frames at; embed it again: {command(f'embed VIDEO --replace --store {arg(store.path)}')}")
            guesses[span.video_id] = VideoGuess(span.video_id, str(info.get("source_path") or span.video_id), float(info["fps"]))
        guesses[span.video_id].regions += _span_regions(span, suggestions.multilabel, suggestions.none_label)
    return list(guesses.values())


def _span_regions(span: SuggestedSpan, multilabel: bool, none_label: str) -> list[tuple[float, float, str, float]]:
    """(start_s, end_s, label, mean confidence) for each run of consecutive samples of the span that show a label."""
    n = len(span.guess)
    bounds = np.minimum(span.start_s + span.duration_s / max(n, 1) * np.arange(n + 1), span.end_s)
    confidence = np.array([_confidence(span, k, multilabel) for k in range(n)])
    shown = [set(g.split("+")) if multilabel and g != none_label else {g} for g in span.guess]
    return sorted((s.start_s, s.end_s, s.label, s.confidence)
                  for label in dict.fromkeys(x for labels in shown for x in sorted(labels))
                  for s in character_runs(bounds, np.array([label in labels for labels in shown]), confidence, label))


def _draw(suggestions: Suggestions, sources: dict, path: Path) -> None:
    from classifiers.output.sheet import draw_sheet, thumbnail_times

    readers = {video_id: AvVideoReader(path) for video_id, path in sources.items()}
    aspects = {video_id: reader.info.display_aspect for video_id, reader in readers.items()}  # anamorphic video too
    rows = []
    for rank, s in enumerate(suggestions.spans, start=1):
        pick = thumbnail_times(s.sample_s)
        thumbs = readers[s.video_id].frames_at(s.actual_s[pick])
        captions = [f"{s.sample_s[i]:g} s: {s.guess[i]} {_confidence(s, i, suggestions.multilabel):.2f}" for i in pick]
        rows.append({"heading": f"#{rank}  {s.video_id}",
                     "lines": [f"{s.start_s:g}-{s.end_s:g} s ({s.duration_s:g} s)", f"model's guess: {s.guess_summary()}",
                               f"unsure {s.uncertainty:.2f}, unstable {s.instability:.2f}, folds differ {s.disagreement:.2f}"],
                     "thumbs": thumbs, "captions": captions, "aspect": aspects[s.video_id]})
    model = suggestions.model_path.name if suggestions.model_path else "the model"
    title = (f"{len(suggestions.spans)} spans to label ({suggestions.total_s:g} s of {suggestions.budget_s:g} s), best first; "
             f"guesses of {model}; classes: {', '.join(suggestions.classes)}")
    draw_sheet(path, rows, title=title)


def _confidence(span: SuggestedSpan, i: int, multilabel: bool) -> float:
    """Probability behind the guess of sample `i` of the span (multi-label: of the least sure character)."""
    p = span.proba[i]
    return float(np.min(np.maximum(p, 1 - p))) if multilabel else float(np.max(p))
