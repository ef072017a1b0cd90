"""Benchmark `multilabel`: characters that share the screen, on held-out cartoons in rooms training never showed.

Generates cartoons in which about a quarter of the shots show tom and jerry together (`cartoons.synthetic`,
``shared=True``): training videos in the training rooms, held-out videos in other rooms, lighting, framing
and motion. Embeds them once into a store under ``--work-dir``, then, on the same videos and with the same
public API (``compare_models`` on the training labels, ``score_videos`` on the held-out videos), trains

- a multi-label model (``compare-models --multi-label``) on labels with one line per character per
  interval (a shared shot gives two overlapping lines, an empty room a ``neither`` line);
- a single-label model (today's ``compare-models``) on the same shots labelled one class per frame, as a
  user without ``--multi-label`` must: a shared shot is labelled as one of the two, chosen at random per shot,

and reports, over the held-out videos:

- each character's screen-time error, as % of the videos' duration (sum over videos of |predicted - true|
  seconds / total duration), and the worst of them;
- the error on time together (both on screen), % of duration; the single-label model can never say
  "both", so its together time is 0;
- per-second exact-set accuracy: share of 1/s samples whose set of characters on screen is exactly right;
- shared seconds missed: of the character-seconds in shared scenes (2 per second of a shared scene),
  how many the model did not count for that character -- the under-count of shared time.

    .venv/bin/python bench/multilabel.py --work-dir /tmp/ml-bench   # 4 x 90 s training, 6 x 90 s held out
    .venv/bin/python bench/multilabel.py --work-dir /tmp/ml-bench   # again: videos and features are reused
    .venv/bin/python bench/multilabel.py --quick                    # 3 x 40 s training, 3 x 40 s held out
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

from _common import (add_common_args, dataset, embedding_config, finish_common_args, log, machine,  # noqa: E402
                     notice_weights, run_tag, shots_at, store_tag, with_features)
from cartoons.synthetic import CHARACTERS, SyntheticVideo, true_presence, write_interval_labels  # noqa: E402
from classifiers.compare import compare_models  # noqa: E402
from classifiers.score import score_videos  # noqa: E402
from featurestore import embed_videos  # noqa: E402
from featurestore.provenance import library_versions  # noqa: E402

KINDS = {"multi": "multi-label (--multi-label)", "single": "single-label (one class per frame)"}


def characters_at(video: SyntheticVideo, times_s: np.ndarray) -> list[tuple[str, ...]]:
    """True set of characters on screen at each time (seconds): those of the shot covering it."""
    return [shot.characters for shot in shots_at(video, times_s)]


def run(kind: str, store: Path, labels: Path, test, work: Path, args) -> dict:
    """Train `kind` ("multi" or "single") with compare_models, score the held-out videos, evaluate."""
    model_path = work / f"model-{kind}-{run_tag(args)}.skops"
    t0 = time.perf_counter()
    comparison = compare_models(store, labels, out_path=model_path, models=args.models, n_splits=args.folds,
                                n_jobs=args.jobs, multi_label=kind == "multi")
    scored = score_videos([v.path for v in test], model_path=model_path, store_path=store,
                          weights=None if args.weights in ("random", "imagenet") else args.weights)
    return {"kind": kind, "label": KINDS[kind], **evaluate(scored, test), "cv_scheme": comparison.cv.scheme,
            "model": comparison.best_name, "smoothing": comparison.best_smoother.name, "feature_norm": comparison.feature_norm,
            "context_s": comparison.context_s, "thresholds": comparison.thresholds, "wall_s": time.perf_counter() - t0}


def evaluate(scored, test) -> dict:
    """Per-character and together errors (% of duration), exact-set accuracy per second, shared seconds missed."""
    total_s = sum(v.duration_s for v in test)
    abs_err = {c: 0.0 for c in CHARACTERS}
    signed = {c: 0.0 for c in CHARACTERS}
    together_abs = together_true = shared_missed = 0.0
    hits = n = 0
    videos = []
    for video, truth_video in zip(scored.videos, test):
        truth = true_presence(truth_video)
        if video.multi_label:
            predicted = {c: video.screen_time_s.get(c, 0.0) for c in CHARACTERS}
            predicted_together = video.together_s
            sets = [set(x) for x in video.labels]
        else:  # one class per frame: a character is on screen where it is the label; never both
            predicted = {c: video.screen_time_s.get(c, 0.0) for c in CHARACTERS}
            predicted_together = 0.0
            sets = [{x} & set(CHARACTERS) for x in np.asarray(video.labels).astype(str)]
        for c in CHARACTERS:
            abs_err[c] += abs(predicted[c] - truth[c])
            signed[c] += predicted[c] - truth[c]
        together_abs += abs(predicted_together - truth["together"])
        together_true += truth["together"]
        true_sets = characters_at(truth_video, video.sample_s)
        for got, want, d in zip(sets, true_sets, video.sample_duration_s):
            hits += got == set(want)
            if len(want) >= 2:
                shared_missed += d * len(set(want) - got)
        n += len(sets)
        videos.append({"video": video.video_id, "style": truth_video.style, "duration_s": video.duration_s,
                       "true_s": truth, "predicted_s": {**predicted, "together": predicted_together}})
    error_pct = {c: 100.0 * e / total_s for c, e in abs_err.items()}
    return {
        "error_pct_of_duration": error_pct, "worst_error_pct": max(error_pct.values()),
        "signed_error_s": signed, "together_error_pct": 100.0 * together_abs / total_s, "true_together_s": together_true,
        "exact_set_accuracy": hits / max(n, 1), "shared_missed_s": shared_missed, "shared_character_s": 2.0 * together_true,
        "videos": videos,
    }


def print_table(rows: list[dict], info: dict) -> None:
    together = rows[0]["true_together_s"]
    print(f"\nHeld out: {info['n_test']} videos x {info['duration_s']:g} s in rooms {', '.join(info['test_styles'])}, "
          f"{'new' if info['held_out_motion'] == 'held_out' else 'training'} motion and framing; tom and jerry together "
          f"{together:.0f} s ({100 * together / info['total_s']:.0f}% of the time). Training: {info['n_train']} videos in "
          f"{', '.join(info['train_styles'])}. VGG16 weights {info['weights']}; models {','.join(info['models'])}\n")
    head = (f"{'model':36} {'jerry err %':>11} {'tom err %':>9} {'worst %':>7} {'together err %':>14} {'exact set/s':>11} "
            f"{'shared s missed':>17}  chosen")
    print(head)
    print("-" * len(head))
    for r in rows:
        missed = f"{r['shared_missed_s']:.0f}/{r['shared_character_s']:.0f} ({100 * r['shared_missed_s'] / max(r['shared_character_s'], 1e-9):.0f}%)"
        thresholds = " @" + ",".join(f"{c} {t:g}" for c, t in r["thresholds"].items()) if r["thresholds"] else ""
        chosen = f"{r['model']}+{r['smoothing']}, {r['feature_norm']}, context {r['context_s']:g} s{thresholds}"
        print(f"{r['label']:36} {r['error_pct_of_duration']['jerry']:11.1f} {r['error_pct_of_duration']['tom']:9.1f} "
              f"{r['worst_error_pct']:7.1f} {r['together_error_pct']:14.1f} {r['exact_set_accuracy']:11.3f} {missed:>17}  {chosen}")
    by = {r["kind"]: r for r in rows}
    if "single" in by:
        s = by["single"]
        print(f"\nsingle-label under-counts shared time: signed error jerry {s['signed_error_s']['jerry']:+.0f} s, "
              f"tom {s['signed_error_s']['tom']:+.0f} s over {together:.0f} s together; it missed "
              f"{s['shared_missed_s']:.0f} of {s['shared_character_s']:.0f} character-seconds in shared scenes")
    if "multi" in by and "single" in by:
        m, s = by["multi"]["worst_error_pct"], by["single"]["worst_error_pct"]
        verdict = f"{(s - m) / s:.0%} lower" if m < s else "NOT lower"
        print(f"multi-label worst per-character error {m:.1f}% against single-label's {s:.1f}%: {verdict}")


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_common_args(p)
    p.add_argument("--kinds", default="multi,single", help="which models to train: multi, single or both (default)")
    args = p.parse_args(argv)
    finish_common_args(args)
    args.kinds = [k.strip() for k in args.kinds.split(",") if k.strip()]
    if not args.kinds or any(k not in KINDS for k in args.kinds):
        p.error(f"--kinds takes multi, single or both, got {args.kinds}")
    return args


def main(argv=None) -> dict:
    args = parse_args(argv)
    notice_weights(args)
    start = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="screentime-multilabel-") as tmp:
        work = args.work_dir or Path(tmp)
        work.mkdir(parents=True, exist_ok=True)
        train, test = dataset(work, args, shared=True)
        log(f"{len(train)} training and {len(test)} held-out videos of {args.duration_s:g} s with shared scenes in {work}")
        config = embedding_config(args)
        store = work / f"features-{store_tag(config)}-shared.h5"
        t0 = time.perf_counter()
        embed_videos([v.path for v in train + test], store, config=config, sample_fps=1.0)
        store = with_features(store, train + test, args)
        log(f"features ready in {store.name} ({time.perf_counter() - t0:.0f} s; embedding is skipped when stored)")
        labels = {"multi": write_interval_labels(work / "shared_multi_label.csv", train, multi_label=True),
                  "single": write_interval_labels(work / "shared_single_label.csv", train)}
        rows = []
        for kind in args.kinds:
            log(f"model: {KINDS[kind]}")
            rows.append(run(kind, store, labels[kind], test, work, args))
            log(f"  worst character error {rows[-1]['worst_error_pct']:.1f}% of duration, together error "
                f"{rows[-1]['together_error_pct']:.1f}%, exact sets {rows[-1]['exact_set_accuracy']:.3f}, {rows[-1]['wall_s']:.0f} s")
    info = {"n_train": len(train), "n_test": len(test), "duration_s": args.duration_s, "total_s": sum(v.duration_s for v in test),
            "weights": args.weights, "held_out_motion": args.held_out_motion,
            "train_styles": sorted({v.style for v in train}), "test_styles": sorted({v.style for v in test}), "models": args.models}
    print_table(rows, info)
    report = {"bench": "multilabel", **info, "folds": args.folds, "seed": args.seed, "wall_s": time.perf_counter() - start,
              "machine": machine(),
              "versions": library_versions(("numpy", "scikit-learn", "lightgbm", "tensorflow")), "runs": rows}
    print(json.dumps(report, default=float))
    return report


if __name__ == "__main__":
    main()
