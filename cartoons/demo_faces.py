"""The whole job on real faces, offline (`screentime demo --faces`): compose videos of six actors among extras,
embed their frames and faces, compare models over face embeddings, score held-out videos, show the truth.

The videos come from `cartoons.actors` (held-out ones show other photos of the actors, other extras, other
backdrops); the labels are the intervals a person would write (one line per actor per interval, multi-label),
so the face pipeline of issue 24 has to find out which face in a labelled second is whose. Returns the
cartoon demo's `DemoResult`, so the command line prints both the same way.
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable

from cartoons.actors import make_actor_dataset, write_face_truth, write_interval_labels
from cartoons.demo import DemoResult, demo_embedder, demo_sizes, demo_store_path, write_demo_outputs
from classifiers.compare import compare_models
from classifiers.score import score_videos
from featurestore.pipeline import embed_videos

#: `quick=True`: tiny settings for a smoke test (2 + 1 videos of 20 s, 32 px frame features, one model).
QUICK = {"duration_s": 20.0, "n_train": 2, "n_test": 1, "image_size_px": 32, "models": ["logreg"]}
NONE_LABEL = "neither"
N_TRAIN = 3  # labelled videos by default


def run_faces_demo(
    out_dir: str | Path,
    *,
    n_train: int | None = None,
    n_test: int | None = None,
    duration_s: float | None = None,
    image_size_px: int | None = None,
    weights: str = "auto",
    models: list[str] | None = None,
    n_splits: int = 3,
    progress=None,
    on_step: Callable[[str], None] = lambda message: None,
    on_plan: Callable | None = None,
    quick: bool = False,
    seed: int = 0,
) -> DemoResult:
    """Compose `n_train` labelled and `n_test` held-out videos of real faces in `out_dir`, then embed (frames and
    faces), compare models over faces, score; parameters as `cartoons.demo.run_demo`'s (`seed`: the footage's; by
    default 3 labelled videos; `quick`: `QUICK` for what is not given).

    Writes ``labels.csv`` (what compare-models learns from) and ``faces_truth.csv`` (every face at 1/s:
    ``video,time_s,x,y,w,h,actor``, extras as ``extra:<name>``), and score's files as the cartoon demo does.
    `DemoResult.truth[video]` holds each actor's true seconds, ``together``, ``neither`` and ``unknown`` (an extra
    on screen).
    """
    n_train, n_test, duration_s, image_size_px = demo_sizes(QUICK if quick else {"n_train": N_TRAIN}, n_train, n_test,
                                                            duration_s, image_size_px)
    if quick:
        models = QUICK["models"]
    out_dir = Path(out_dir)
    on_step(f"composing {n_train} training and {n_test} held-out video{'s' if n_test != 1 else ''} of real faces "
            f"({duration_s:g} s, 640x360) in {out_dir / 'videos'}")
    train, test = make_actor_dataset(out_dir / "videos", n_train=n_train, n_test=n_test, duration_s=duration_s, seed=seed)
    labels_path = write_interval_labels(out_dir / "labels.csv", train, none_label=NONE_LABEL)
    write_face_truth(out_dir / "faces_truth.csv", train + test, every_s=1.0)

    embedder = demo_embedder(weights, image_size_px, on_step)
    config = embedder.config
    store_path = demo_store_path(out_dir, "faces", config, image_size_px)
    model_path = out_dir / "best-faces.skops"
    comparison, score = face_pipeline([v.path for v in train], [v.path for v in test], labels_path, store_path,
                                      model_path, embedder, models=models, n_splits=min(n_splits, n_train),
                                      progress=progress, on_step=on_step, on_plan=on_plan)
    outputs = write_demo_outputs(score, out_dir)
    return DemoResult(out_dir, config.identity()["weights"], comparison, score,
                      {v.video_id: v.presence_s(score.videos[0].none_label) for v in test}, weights_arg=config.weights,
                      backbone=config.backbone, labels_path=labels_path, store_path=store_path, model_path=model_path,
                      train_videos=[v.path for v in train], test_videos=[v.path for v in test], outputs=outputs, faces=True)


def face_pipeline(train_paths, test_paths, labels_path, store_path, model_path, embedder, *, models, n_splits,
                  progress, on_step, on_plan):
    """Issue 24's three steps -- the demo's only calls into the face pipeline: embed --faces, compare-models
    --faces, score --faces. Returns (ComparisonResult, ScoreResult)."""
    from featurestore.faces.config import FaceConfig

    config = embedder.config
    on_step(f"embedding the training videos' frames and faces into {store_path} ({embedder.device})")
    embed_videos(train_paths, store_path, config=config, progress=progress, make_embedder=lambda _: embedder,
                 faces=FaceConfig())
    on_step("comparing models over the faces, by cross-validation grouped by video")
    comparison = compare_models(store_path, labels_path, out_path=model_path, models=models, n_splits=n_splits,
                                on_plan=on_plan, multi_label=True, none_label=NONE_LABEL, faces=True)
    on_step(f"scoring the held-out video{'s' if len(test_paths) != 1 else ''} with {comparison.best_name}")
    score = score_videos(test_paths, model_path=model_path, store_path=store_path, weights=config.weights,
                         progress=progress, make_embedder=lambda _: embedder, faces=True)
    return comparison, score
