"""screentime command line: each command parses options, calls one library function, prints.

    python cli.py embed VIDEO... --store features.h5
    python cli.py compare-models --store features.h5 --labels labels.csv --out best.skops
    python cli.py score VIDEO... --model best.skops --store features.h5
    python cli.py suggest-labels --model best.skops --budget-s 60 --out todo.csv [--labels L.csv] [--sheet todo.png] [VIDEO...]
    python cli.py cluster --faces --store features.h5 --out clusters.csv [--labels L.csv]
    python cli.py check-store --store features.h5 [--repair]

The same commands run as `screentime ...` (the console script) and `python -m screentime ...`.
Results go to stdout; progress, notices, warnings and errors go to stderr.
"""

from __future__ import annotations

import sys
from pathlib import Path

import typer
from rich.console import Console

import featurestore.errors
from classifiers.choices import (DEFAULT_INTERVAL_METHOD, DEFAULT_SELECTION, FEATURE_NORMS, INTERVAL_METHODS, METRICS,
                                MODEL_NAMES, SELECTIONS, SPLITS)
from featurestore.embedding.config import BACKBONE_NAMES, POOLINGS, PRECISIONS, RUNTIMES
from featurestore.video.paths import VIDEO_IDS
from featurestore.video.pyav import DECODE_MODES, DEFAULT_DECODE
from screentime.terminal import Command, Group, choices, results_console, show_version, show_warnings

DEFAULT_STORE = Path("features.h5")
console = Console(stderr=True)  # progress, notices, warnings; re-created by main() so COLUMNS is read per run
out = results_console()  # results: not wrapped at 80 columns when piped

app = typer.Typer(
    cls=Group, add_completion=False, no_args_is_help=True, pretty_exceptions_enable=False,
    rich_markup_mode=None,  # plain help: Rich markup would eat "[default: ...]" and show flags as "<bool>"
    context_settings={"help_option_names": ["-h", "--help"]},
    epilog="""
        {prog} demo
        {prog} embed ep1.mp4 ep2.mkv --store features.h5
        {prog} compare-models --labels labels.csv --out best.skops
        {prog} score ep3.mp4 --model best.skops --json result.json
        {prog} suggest-labels --budget-s 60 -l labels.csv -o todo.csv
        {prog} cluster --faces --out clusters.csv
        {prog} check-store --store features.h5
    """,
)


Pooling, Decode, Precision = choices("Pooling", POOLINGS), choices("Decode", DECODE_MODES), choices("Precision", PRECISIONS)
Runtime, Selection, BackboneName = choices("Runtime", RUNTIMES), choices("Selection", SELECTIONS), choices("BackboneName", BACKBONE_NAMES)
IntervalMethod, Split, Metric = choices("IntervalMethod", INTERVAL_METHODS), choices("Split", SPLITS), choices("Metric", METRICS)
VideoIds, FeatureNorm = choices("VideoIds", VIDEO_IDS), choices("FeatureNorm", ("auto", *FEATURE_NORMS))


@app.command(cls=Command, epilog="""
    {prog} embed ep1.mp4 ep2.mkv --store features.h5
    {prog} embed "Tom and Jerry.mp4" --name tj01 --fps 2
    {prog} embed interview.mp4 --faces --face-min-size-px 30
    {prog} embed ep1.mp4 --backbone efficientnet-lite0 -s lite.h5
""")
def embed(
    videos: list[Path] = typer.Argument(..., metavar="VIDEO", help="Video files (mp4, avi, mkv, mov, ...), or folders: the videos directly in each.", show_default=False),
    store: Path = typer.Option(DEFAULT_STORE, "--store", "-s", metavar="FILE", help="Feature store file (created with its first video; shards go to FILE.d/)."),
    fps: float = typer.Option(1.0, "--fps", metavar="RATE", help="Samples per second of video time: frames on screen at t = 0, 1/RATE, 2/RATE, ..."),
    weights: str = typer.Option(None, "--weights", "-w", metavar="WEIGHTS", show_default=False, help="auto (ImageNet VGG16, cached or downloaded once; offline, a pretrained --backbone installed with screentime, said in one line), imagenet (VGG16: Keras downloads them once; other backbones: their package's), random (seeded, not pretrained) or a weights FILE (VGG16: Keras .weights.h5 or Keras 2 .h5) [default: the store's own, else auto]."),
    backbone: BackboneName = typer.Option(None, "--backbone", show_default=False, help=f"The network: {', '.join(BACKBONE_NAMES)} (docs/backbones.md: speed, accuracy, licences; all but vgg16 have ImageNet weights inside a pip package) [default: the store's own, else vgg16, or what --weights auto finds]."),
    pooling: Pooling = typer.Option(None, "--pooling", show_default=False, help="avg (a value per channel: VGG16 512, efficientnet-lite0 1280), max, or flatten (the whole map: VGG16 7x7x512 = 25088 at 224 px) [default: the store's own, else avg]."),
    image_size: int = typer.Option(None, "--image-size", min=32, metavar="PX", show_default=False, help="Frames are resized to PX x PX pixels before the network (at least 32) [default: the store's own, else 224]."),
    batch_size: int = typer.Option(32, "--batch-size", min=1, metavar="N", help="Frames per VGG16 batch."),
    name: list[str] = typer.Option(None, "--name", metavar="ID", help="Video id to store under; repeat once per video, in order [default: the file name, or its path with --ids path]."),
    ids: VideoIds = typer.Option("name", "--ids", help="How videos without a --name are stored: name (their file name, ep1.mp4) or path (the path as given, season1/ep1.mp4: for folders of the same file names)."),
    replace: bool = typer.Option(False, "--replace", help="Re-embed a video stored under the same id with other content, another --fps or another --decode."),
    workers: int = typer.Option(None, "--workers", "-j", min=0, metavar="N", show_default=False, help="Decoding processes feeding the model; a long video is split into time ranges decoded in parallel. 0: decode in this process [default: every core; one thread for under a minute of video]."),
    decode: Decode = typer.Option(None, "--decode", show_default=False, help=f"exact (every frame decoded, as OpenCV), fast (B-frames not decoded: the decoded frame nearest each time is used, and its time stored) or hw (NVDEC; software where it cannot) [default: the mode a video is stored with, else {DEFAULT_DECODE}]."),
    precision: Precision = typer.Option(None, "--precision", show_default=False, help="Network arithmetic: float32; bfloat16 where the CPU (AVX-512 BF16, AMX) or GPU has it, about 2x faster on such a CPU; int8 (OpenVINO, calibrated on fixed frames), about 4x. Part of the store's config, since features differ slightly [default: the store's own, else float32]."),
    runtime: Runtime = typer.Option(None, "--runtime", show_default=False, help="What runs VGG16: keras (on KERAS_BACKEND) or openvino (CPU; pip install -e '.[openvino]') [default: openvino for int8, else keras]."),
    ray: str = typer.Option(None, "--ray", metavar="ADDRESS", show_default=False, help="Run on a Ray cluster: local (started on this machine for this command), auto or ray://HOST:PORT (a running one). Needs: pip install -e '.[ray]'."),
    faces: bool = typer.Option(False, "--faces", help="Also find the faces in every sample, in the same decoding pass: boxes, landmarks, quality, shots, tracks and a descriptor per face, stored with the video (a video stored without faces is decoded again for its faces alone, no VGG16). Needs: pip install 'screentime[faces]'."),
    face_min_score: float = typer.Option(None, "--face-min-score", min=0.0, max=1.0, metavar="SCORE", show_default=False, help="With --faces: the face detector's confidence a face needs to be kept (0-1) [default: the store's own, else the face config's]."),
    face_min_size_px: float = typer.Option(None, "--face-min-size-px", min=0.0, metavar="PX", show_default=False, help="With --faces: the smallest face kept, its box height in the video's pixels [default: the store's own, else the face config's]."),
) -> None:
    """Embed VIDEOs with VGG16 into the feature store.

    Frames are sampled by the video's clock. A video already in the store with the same content and
    settings costs nothing, also under another name; an interrupted run, started again, resumes where it
    stopped. Settings not given are the store's own. Keras runs on KERAS_BACKEND (tensorflow by default;
    jax and torch give the same features). With --faces, the faces of every sample are stored too.
    """
    from classifiers.output.console import embed_tables
    from classifiers.output.progress import RichProgress
    from featurestore import check_embed_paths, embed_videos, resolve_embedding_config, resolve_face_config
    from featurestore.video.paths import expand_folders

    show_warnings(console)
    check_embed_paths(videos := expand_folders(videos), store, weights)  # a store over a video: refused first
    config = resolve_embedding_config(store, weights=weights, pooling=pooling.value if pooling else None,
                                      image_size_px=image_size, precision=precision.value if precision else None,
                                      runtime=runtime.value if runtime else None, backbone=backbone.value if backbone else None)
    face_config = resolve_face_config(store, min_score=face_min_score, min_size_px=face_min_size_px) if faces else None
    if config.weights == "random":  # named as it came: the user's --weights, or the store's own (issue 26)
        console.print(f"[yellow]warning:[/] {'--weights random' if weights else f'the store holds {config.backbone} features from random weights'}: features are not pretrained (seeded, reproducible)", soft_wrap=True)
    with RichProgress(console) as progress:
        reports = embed_videos(videos, store, config=config, sample_fps=fps, batch_size=batch_size,
                               names=name or None, ids=ids.value, replace=replace, progress=progress,
                               on_wait=lambda msg: console.print(msg), workers=workers,
                               decode=decode.value if decode else None, ray=ray, faces=face_config)

    for renderable in embed_tables(reports, store):
        out.print(renderable)


@app.command("check-store", cls=Command, epilog="""
    {prog} check-store --store features.h5
    {prog} check-store --store features.h5 --repair
""")
def check_store_command(
    store: Path = typer.Option(DEFAULT_STORE, "--store", "-s", metavar="FILE", help="Feature store to check."),
    repair: bool = typer.Option(False, "--repair", help="Rebuild a damaged or missing index from the shards, leave damaged videos out (listed), remove leftovers of interrupted runs."),
) -> None:
    """Check every stored video against its checksum; --repair the store.

    One line per damaged video. Exit status 0 when the store is intact (after --repair: usable
    again), 1 otherwise.
    """
    from classifiers.output.console import store_check_lines
    from featurestore.store.integrity import repair_store, verify_store

    check = repair_store(store) if repair else verify_store(store)
    for line in store_check_lines(check, repaired=repair):
        out.print(line, highlight=False, soft_wrap=True, markup=False)
    if not check.is_intact:  # after --repair: the index names only intact videos again
        raise SystemExit(1)


@app.command("compare-models", cls=Command, epilog="""
    {prog} compare-models --labels labels.csv --out best.skops
    {prog} compare-models -l labels.csv -m logreg,mlp -k 3
    {prog} compare-models -l mapping.csv --video ep1.mp4
    {prog} compare-models -l labels.csv --multi-label
    {prog} compare-models -l labels.csv -l todo.csv --out best.skops
""")
def compare_models_command(
    labels: list[Path] = typer.Option(..., "--labels", "-l", metavar="FILE", help="Labels: a CSV video,start,end,label (intervals [start, end); seconds, mm:ss, hh:mm:ss or hh:mm:ss:ff), video,time,label (points) or the tutorial's Image_ID,Class; a Label Studio JSON export (of `cluster --label-studio` too); CVAT for video 1.1 XML; a clusters.csv of `cluster`, named (its members file beside it). Repeat to join several files (-l L.csv -l export.json)."),
    store: Path = typer.Option(DEFAULT_STORE, "--store", "-s", metavar="FILE", help="Feature store written by `embed`."),
    out_path: Path = typer.Option(Path("best.skops"), "--out", "-o", metavar="FILE", help="Where to save the winner, refitted on all labelled frames (a skops file: loading it cannot run code, so it can be shared; any file name works). A file there is replaced; --out or --report on an input (labels, the store) or on each other is refused before any work."),
    video: str = typer.Option(None, "--video", metavar="ID", help="Stored video an Image_ID,Class file describes (frameN.jpg = the frame at N s)."),
    classes: str = typer.Option(None, "--classes", metavar="NAMES", help="Names of the Image_ID,Class class numbers 0,1,2,..., comma-separated [default: 0,1,2]."),
    models: str = typer.Option(None, "--models", "-m", metavar="NAMES", help=f"Comma-separated subset of {','.join(MODEL_NAMES)} [default: all]."),
    folds: int = typer.Option(5, "--folds", "-k", min=2, metavar="K", help="Number of cross-validation folds."),
    split: Split = typer.Option("auto", "--split", help="auto (grouped by video with >= K labelled videos, leave-one-video-out with 2 or more, blocks within a single video), grouped, leave-one-video-out, blocks, or shuffled (leaky; needs --allow-leaky-split)."),
    gap_s: float = typer.Option(5.0, "--gap-s", min=0.0, metavar="SECONDS", help="Blocks split: training frames within this many seconds of a test block are dropped."),
    allow_leaky_split: bool = typer.Option(False, "--allow-leaky-split", help="Permit --split shuffled, whose scores are optimistic."),
    metric: Metric = typer.Option("macro_f1", "--metric", help="What ranks the models (screen_time_error_pct: lower is better)."),
    timeout: float = typer.Option(None, "--timeout", min=0.0, metavar="SECONDS", help="Seconds one fold of one model may take to fit; slower models are shown as failed [default: no limit]."),
    report: Path = typer.Option(None, "--report", metavar="FILE", help="Also write the leaderboard to this .csv or .json file."),
    jobs: int = typer.Option(-1, "--jobs", "-j", metavar="N", help="Processes for the folds (-1: all cores)."),
    seed: int = typer.Option(0, "--seed", metavar="N", help="Seed of the splits and models."),
    feature_norm: FeatureNorm = typer.Option("auto", "--feature-norm", help="Per-video feature normalisation: auto (chosen by cross-validation), none, center (subtract each video's mean feature) or standardize (center, then divide by each feature's spread in the video)."),
    context: str = typer.Option("auto", "--context-s", metavar="SECONDS", help="Temporal context: append each feature's mean and std over +-SECONDS around every sample; auto (chosen by cross-validation from 0, 2, 4) or SECONDS (0: none)."),
    multi_label: bool = typer.Option(False, "--multi-label", help="Characters, not classes: intervals of different labels may overlap (one line per character per interval), time when several are on screen counts for each; one binary classifier per character, thresholds chosen by cross-validation."),
    none_label: str = typer.Option(None, "--none-label", metavar="LABEL", help="With --multi-label: the label that says no character is on screen [default: neither]."),
    selection: Selection = typer.Option(DEFAULT_SELECTION, "--selection", help="How the per-video stages and the model are chosen: best (the best mean; stages one after the other), one-se (the best stages of the joint grid; the simplest model within one standard error of the best) or one-se-all (the one-SE rule for the stages too, the default before issue 26). Smoothing is the best mean always."),
    intervals: IntervalMethod = typer.Option(DEFAULT_INTERVAL_METHOD, "--intervals", help="How the model's screen-time intervals are made from the held-out videos' errors: cv-plus (CV+ over the fold models: wider where they disagree about a video), conformal (over videos), conformal-class, or t-rms (before issue 20). Each claims no more than n/(n+1) with n labelled videos."),
    faces: bool = typer.Option(False, "--faces", help="Classify the stored faces (embed --faces), not whole frames: labels say who is on screen when (faces are assigned to them), or Label Studio / CVAT boxes or a video,track,label file say whose each face is; faces of people nobody labelled are 'unknown'."),
) -> None:
    """Compare classifiers by cross-validation; save the best.

    Labels are joined with the stored frames; folds never put neighbouring frames on both sides.
    """
    from classifiers.compare import compare_models
    from classifiers.output.console import class_table, cv_notes, failure_lines, feature_norm_line, folds_table, leaderboard_table, saved_lines
    from classifiers.output.progress import StepBars

    show_warnings(console)
    with StepBars(console) as progress:  # each step's bar, drawn while it runs: the folds table comes between two
        result = compare_models(
            store, labels, out_path=out_path, report_path=report, models=models, video=video, classes=classes,
            n_splits=folds, split=split.value, gap_s=gap_s, allow_leaky_split=allow_leaky_split, metric=metric.value,
            timeout_s=timeout, n_jobs=jobs, random_state=seed, feature_norm=feature_norm.value, context_s=context,
            on_plan=lambda plan: out.print(folds_table(plan)), multi_label=multi_label, none_label=none_label,
            selection=selection.value, interval_method=intervals.value, faces=faces, progress=progress)
    out.print(feature_norm_line(result))
    out.print(leaderboard_table(result))
    out.print(class_table(result))
    for line in cv_notes(result):
        out.print(line, highlight=False)
    for line in failure_lines(result):
        console.print(f"[red]{line}[/red]", highlight=False)
    for line in saved_lines(result, report):
        out.print(line, highlight=False)


@app.command("suggest-labels", cls=Command, epilog="""
    {prog} suggest-labels --budget-s 60 -l labels.csv -o todo.csv
    {prog} suggest-labels --budget-s 30 -o t.csv --sheet t.png ep3
    {prog} suggest-labels --budget-s 60 --label-studio tasks.json
    {prog} compare-models -l labels.csv -l todo.csv -o best.skops
""")
def suggest_labels_command(
    videos: list[str] = typer.Argument(None, metavar="VIDEO", help="Stored videos to consider (ids, file names or paths) [default: every stored video].", show_default=False),
    store: Path = typer.Option(DEFAULT_STORE, "--store", "-s", metavar="FILE", help="Feature store holding the videos."),
    model: Path = typer.Option(Path("best.skops"), "--model", "-m", metavar="FILE", help="Model saved by compare-models."),
    budget_s: float = typer.Option(..., "--budget-s", metavar="SECONDS", help="Seconds of video you will label, in all (spans are 2-6 s)."),
    out_path: Path = typer.Option(None, "--out", "-o", metavar="CSV", help="Write the spans here as video,start,end,label, best first, label empty for you to fill. Output files there are replaced; one on an input (labels, the model, the store) or on another output is refused before any work."),
    labels: list[Path] = typer.Option(None, "--labels", "-l", metavar="FILE", help="Labels you already have (repeat for several files): their time is never suggested, and they train the fold models whose disagreement counts."),
    sheet: Path = typer.Option(None, "--sheet", metavar="PNG", help="Also write a contact sheet: thumbnails of every span from its source video, with the model's guess."),
    video_dir: Path = typer.Option(None, "--video-dir", metavar="DIR", help="Folder the source videos are in now, if they moved since they were embedded (for --sheet)."),
    video: str = typer.Option(None, "--video", metavar="ID", help="Stored video an Image_ID,Class labels file describes."),
    classes: str = typer.Option(None, "--classes", metavar="NAMES", help="Names of the Image_ID,Class class numbers, comma-separated [default: 0,1,2]."),
    folds: int = typer.Option(5, "--folds", "-k", min=0, metavar="K", help="Fold models refitted from --labels to measure disagreement (0: none)."),
    jobs: int = typer.Option(-1, "--jobs", "-j", metavar="N", help="Processes for refitting the fold models (-1: all cores)."),
    label_studio: Path = typer.Option(None, "--label-studio", metavar="JSON", help="Also (or instead of --out) write Label Studio tasks, the model's guesses on the spans as predictions, and their labelling config JSON.config.xml."),
    url_prefix: str = typer.Option(None, "--url-prefix", metavar="URL", help="Task video URLs are URL + the file name [default: Label Studio's local files, /data/local-files/?d=PATH]."),
) -> None:
    """Suggest the spans of your videos worth labelling next.

    Spans of 2-6 s, at most --budget-s seconds in all, where the model is unsure, flickers or its
    fold models disagree, spread over videos and scenes; never time already labelled. Fill the label
    column of --out (split a span where the label changes) and retrain with both files.
    """
    from classifiers.output.console import label_studio_hint, suggest_next_line, suggestion_table
    from classifiers.output.progress import StepBars
    from classifiers.suggest import check_suggestion_outputs, suggest_labels, write_suggestions

    check_suggestion_outputs(out_path, sheet, label_studio, url_prefix, store_path=store, model_path=model, labels_paths=labels or ())
    show_warnings(console)
    with StepBars(console) as progress:
        result = suggest_labels(store, model, budget_s, labels_paths=labels or (), videos=videos or None, video=video,
                                classes=classes, n_folds=folds, n_jobs=jobs, progress=progress)
        written = write_suggestions(result, out_path, sheet_path=sheet, video_dir=video_dir, label_studio_path=label_studio,
                                    url_prefix=url_prefix)  # in the block: a refusal here is still one line
    console.print(("[yellow]warning:[/] " if result.committee_note.startswith("no ") else "fold models: ") + result.committee_note, highlight=False, soft_wrap=True)
    out.print(suggestion_table(result))
    for path in written:
        out.print(f"wrote {path}", highlight=False)
    if label_studio is not None:
        out.print(label_studio_hint(label_studio), highlight=False, soft_wrap=True)
    if result.total_s and out_path is not None:
        out.print(suggest_next_line(out_path, labels or [], result), highlight=False, soft_wrap=True)


@app.command(cls=Command, epilog="""
    {prog} cluster --faces --store features.h5 --out clusters.csv
    {prog} cluster --faces -l labels.csv -o clusters.csv ep4.mp4 ep5.mp4
    {prog} cluster --out scenes.csv
""")
def cluster(
    videos: list[str] = typer.Argument(None, metavar="VIDEO", help="Stored videos to cluster (ids, file names or paths) [default: every stored video].", show_default=False),
    store: Path = typer.Option(DEFAULT_STORE, "--store", "-s", metavar="FILE", help="Feature store holding the videos."),
    out_path: Path = typer.Option(Path("clusters.csv"), "--out", "-o", metavar="CSV", help="Write the clusters here (cluster,name: fill in the names), their members beside it (NAME.members.csv: keep the two together) and a page to name them by looking (NAME.html)."),
    faces: bool = typer.Option(False, "--faces", help="Cluster the stored face tracks (embed --faces) across videos; without it, shots by their frame features."),
    labels: list[Path] = typer.Option(None, "--labels", "-l", metavar="FILE", help="Labels you already have (repeat for several): what they cover is left out, and a cluster that matches a labelled name gets it as a suggestion."),
    threshold: float = typer.Option(None, "--threshold", metavar="DISTANCE", show_default=False, help="Groups closer than this (average distance of their track or shot means) merge: lower gives more, purer clusters [default: 0.5 with --faces, else 0.35]."),
    min_quality: float = typer.Option(0.3, "--face-min-quality", min=0.0, max=1.0, metavar="Q", help="With --faces: a track without a face of this quality (0-1) and --face-min-size-px goes to the blurred / small bin."),
    min_size_px: float = typer.Option(24.0, "--face-min-size-px", min=0.0, metavar="PX", help="With --faces: the smallest face height that counts as good."),
    video_dir: Path = typer.Option(None, "--video-dir", metavar="DIR", help="Folder the source videos are in now, if they moved since they were embedded (thumbnails, cuts)."),
    label_studio: Path = typer.Option(None, "--label-studio", metavar="JSON", help="Also write a Label Studio task per cluster (its thumbnails as one image in JSON.images/, a name to pick or type) and their labelling config JSON.config.xml; pass the export as --labels."),
    url_prefix: str = typer.Option(None, "--url-prefix", metavar="URL", help="Task image URLs are URL + the file name [default: Label Studio's local files, /data/local-files/?d=PATH]."),
) -> None:
    """Group appearances across videos so you name each person (or scene) once; pass the filled CSV as --labels."""
    from classifiers.cluster import cluster_lines, cluster_store
    from classifiers.output.progress import StepBars

    show_warnings(console)
    with StepBars(console) as progress:
        run = cluster_store(store, out_path, faces=faces, videos=videos or None, labels_paths=labels or (), threshold=threshold, min_quality=min_quality,
                            min_size_px=min_size_px, video_dir=video_dir, label_studio_path=label_studio, url_prefix=url_prefix, progress=progress)
    out.print("\n".join(cluster_lines(run)), highlight=False, soft_wrap=True, markup=False)


@app.command(cls=Command, epilog="""
    {prog} score ep3.mp4 --model best.skops --store features.h5
    {prog} score ep3.mp4 ep4.mp4 --csv seg.csv --plot timeline.png
    {prog} score ep3.mp4 --report report.html --vtt .
    {prog} score ep3.mp4 --label-studio tasks.json
    {prog} score ep3.mp4 --json - | jq .total_screen_time_s
""")
def score(
    videos: list[Path] = typer.Argument(..., metavar="VIDEO", help="Videos to score (embedded into --store unless already there), or folders of them.", show_default=False),
    model: Path = typer.Option(Path("best.skops"), "--model", "-m", metavar="FILE", help="Model saved by compare-models (a skops file: loading builds only trusted types, never runs code; pickles are refused)."),
    store: Path = typer.Option(None, "--store", "-s", metavar="FILE", show_default=False, help="Feature store; new videos are embedded into it with the model's settings [default: the store the model was trained on (refused if it is gone), else features.h5]."),
    fps: float = typer.Option(None, "--fps", metavar="RATE", help="Samples per second [default: the stored rate, else the model's training rate, else 1]; a rate other than the model's is warned about."),
    smooth: str = typer.Option(None, "--smooth", metavar="SMOOTHER", help="Override the model's smoothing: none, median:SECONDS, mean:SECONDS or hmm:SECONDS."),
    weights: str = typer.Option(None, "--weights", "-w", metavar="FILE", help="Weights file, needed only if the model was trained on features from one."),
    name: list[str] = typer.Option(None, "--name", metavar="ID", help="Video id to store under; repeat once per video, in order [default: the file name, or its path with --ids path]."),
    ids: VideoIds = typer.Option("name", "--ids", help="How videos without a --name are stored: name (their file name, ep1.mp4) or path (the path as given, season1/ep1.mp4: for folders of the same file names)."),
    replace: bool = typer.Option(False, "--replace", help="Re-embed a video stored under the same id with other content or another --fps."),
    json_path: Path = typer.Option(None, "--json", metavar="FILE", help="Write the full result (screen time, segments, per-sample probabilities) as JSON; - for stdout."),
    csv_path: Path = typer.Option(None, "--csv", metavar="FILE", help="Write one row per segment: video,start,end,label,confidence; - for stdout."),
    plot_path: Path = typer.Option(None, "--plot", metavar="PNG", help="Write a timeline PNG: a band per class over time, probabilities under it."),
    report_path: Path = typer.Option(None, "--report", metavar="HTML", help="Write one self-contained HTML page to check by looking: tables, an interactive timeline, each segment's frames, the model's provenance and warnings (works offline)."),
    vtt_path: Path = typer.Option(None, "--vtt", metavar="DIR|FILE", help="Write who is on screen as WebVTT subtitles ('tom', 'jerry + tom') to watch in VLC or mpv: FILE.vtt for one video, or a folder of VIDEO-NAME.vtt."),
    srt_path: Path = typer.Option(None, "--srt", metavar="DIR|FILE", help="The same as SubRip subtitles (.srt)."),
    batch_size: int = typer.Option(32, "--batch-size", min=1, metavar="N", help="Frames per VGG16 batch."),
    interval_level: float = typer.Option(0.9, "--interval-level", min=0.01, max=0.99, metavar="LEVEL", help="Level of the screen-time intervals, from how wrong whole held-out videos were in cross-validation."),
    label_studio: Path = typer.Option(None, "--label-studio", metavar="JSON", help="Write a Label Studio task per video, the model's segments as predictions to correct, and their labelling config JSON.config.xml."),
    url_prefix: str = typer.Option(None, "--url-prefix", metavar="URL", help="Task video URLs are URL + the file name [default: Label Studio's local files, /data/local-files/?d=PATH]."),
    faces: bool = typer.Option(False, "--faces", help="Score with a face model (compare-models --faces): each actor's seconds with a face seen, and tracked; unknown people's; new videos' faces are found with the model's face settings."),
) -> None:
    """Report each class's screen time in VIDEOs, in seconds.

    Per video: seconds and share on screen, appearances, first and last appearance. Output files that exist are
    replaced; one that is an input (a video, the model, the store) or another output is refused before any work.
    """
    from classifiers.output.console import label_studio_hint, screen_time_tables
    from classifiers.output.progress import RichProgress
    from classifiers.output.results import is_stdout
    from classifiers.output.score_files import write_outputs
    from classifiers.score import score_videos
    from featurestore.video.paths import expand_folders

    videos, files = expand_folders(videos), dict(json_path=json_path, csv_path=csv_path, plot_path=plot_path,
                                                 report_path=report_path, vtt_path=vtt_path, srt_path=srt_path,
                                                 label_studio_path=label_studio, url_prefix=url_prefix)
    show_warnings(console)
    with RichProgress(console) as progress:
        result = score_videos(videos, model_path=model, store_path=store, sample_fps=fps, smooth=smooth,
                              weights=weights, batch_size=batch_size, names=name or None, ids=ids.value, replace=replace, faces=faces,
                              progress=progress, on_wait=lambda msg: console.print(msg), interval_level=interval_level,
                              outputs=files)  # checked before any work: none over an input or another output
    tables_to = console if is_stdout(json_path) or is_stdout(csv_path) else out  # stdout carries the JSON or CSV alone
    for table in screen_time_tables(result):
        tables_to.print(table)
    for path in write_outputs(result, **files):
        if str(path) != "-":
            console.print(f"wrote {path}", highlight=False)
    if label_studio is not None:
        console.print(label_studio_hint(label_studio), highlight=False, soft_wrap=True)


@app.command(cls=Command, epilog="""
    {prog} demo
    {prog} demo --quick --out /tmp/demo
    {prog} demo --weights imagenet --duration-s 120
""")
def demo(
    ctx: typer.Context,
    out_dir: Path = typer.Option(Path("demo_out"), "--out", metavar="DIR", help="Folder for the generated videos, labels, store, model and results."),
    weights: str = typer.Option("auto", "--weights", "-w", metavar="WEIGHTS", help="auto (ImageNet VGG16, cached or downloaded once; offline, a pretrained --backbone installed with screentime), imagenet, random (not pretrained) or a weights FILE."),
    duration_s: float = typer.Option(None, "--duration-s", min=5.0, metavar="SECONDS", help="Length of each held-out video (the cartoons' labelled ones are twice as long) [default: 60.0]."),
    n_train: int = typer.Option(None, "--train-videos", min=2, metavar="N", help="Labelled training videos [default: 4 cartoons, one per room; --faces: 3]."),
    n_test: int = typer.Option(None, "--test-videos", min=1, metavar="N", help="Held-out videos to score [default: 1]."),
    image_size: int = typer.Option(None, "--image-size", min=32, metavar="PX", help="Network input size in pixels (smaller is faster, less accurate) [default: 224]."),
    quick: bool = typer.Option(False, "--quick", help="Tiny settings for a smoke test, for what is not given: 2 + 1 videos of 20 s, two models at 96 px (--faces: one, 32 px)."),
    faces: bool = typer.Option(False, "--faces", help="Real faces instead of cartoons: videos composed of photos of six actors among extras, through the face pipeline."),
) -> None:
    """Run the whole job on generated cartoons (or, with --faces, on real faces), offline.

    Generates labelled cartoons, embeds them, compares models, scores held-out videos and shows the
    true screen time beside the result; writes JSON, CSV and a timeline plot and says what to run next.
    """
    from cartoons.demo import run_demo
    from cartoons.demo_faces import run_faces_demo
    from classifiers.output.console import feature_norm_line, leaderboard_table, screen_time_tables
    from classifiers.output.demo_console import demo_lines, truth_tables
    from classifiers.output.progress import RichProgress

    show_warnings(console)
    with RichProgress(console) as progress:
        result = (run_faces_demo if faces else run_demo)(out_dir, n_train=n_train, n_test=n_test, duration_s=duration_s, image_size_px=image_size,
                          weights=weights, quick=quick, progress=progress, on_step=lambda message: console.print(f"[bold cyan]>[/] {message}", highlight=False))
    out.print(feature_norm_line(result.comparison))
    out.print(leaderboard_table(result.comparison))
    for table in screen_time_tables(result.score) + truth_tables(result):
        out.print(table)
    for line in demo_lines(result, prog=ctx.find_root().info_name):
        out.print(line, highlight=False, soft_wrap=True, markup=False)


@app.callback()
def _root(
    version: bool = typer.Option(False, "--version", is_eager=True, callback=show_version, help="Show the version (and those of the libraries that make the numbers) and exit."),
) -> None:
    """Measure how long each character is on screen: embed videos once, compare classifiers, score new videos.

    Exit status: 0 done, 1 bad input (one line on stderr: the file and the problem), 2 bad usage (an unknown
    option or a bad option value), 130 interrupted (143 SIGTERM, 129 SIGHUP; run the same command to resume).
    """


def main(argv: list[str] | None = None, prog_name: str = "screentime") -> None:
    """Run the CLI; a ScreentimeError becomes one line on stderr and exit status 1.

    `prog_name` is how help and the demo's next steps name the command ('python cli.py' when run as a file).
    """
    global console, out
    console, out = Console(stderr=True), results_console()
    featurestore.errors.PROG = prog_name  # messages say what to run next as the user runs screentime
    try:
        app(args=argv, prog_name=prog_name)  # standalone mode: usage errors print themselves and raise SystemExit
    except featurestore.errors.ScreentimeError as err:
        typer.echo(f"error: {err}", err=True)
        raise SystemExit(1) from None


if __name__ == "__main__":
    main(sys.argv[1:], prog_name="python cli.py")
