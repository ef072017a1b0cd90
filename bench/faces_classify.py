"""Benchmark `faces_classify`: compare-models --faces + score --faces on SYNTHETIC face tables with known truth.

No video, no detector: `cartoons.synthetic_faces` draws each video's faces (128-d descriptors around each actor's
centre on the unit sphere, per-video drift, per-track pose, noise growing as quality falls, missed detections, junk
faces, extras nobody labels). Training videos get the labels a user writes (`video,start,end,label`: who is on screen
when, 'neither' where no actor is); held-out videos are drawn with new extras, and with --test-shift each actor's
look moved towards another's. Trains with the public
API (`compare_face_models`, through a stand-in store with the face contract), scores the held-out videos
(`score_face_videos`) and reports against the truth:

- per actor: screen-time error as % of the video's duration (seen, and tracked), the worst over videos and actors;
- per-second accuracy per actor (seen) and the worst actor's;
- extras counted as cast: of the seconds with an extra on screen, the share where an actor not on screen is counted
  (and the share of extras' faces named as an actor);
- interval coverage: the share of (video, actor) whose true seconds lie inside the interval, beside its level;
- how the labels went (faces assigned, left over, missed), and the winner, its smoothing and unknown threshold.

The real-face measurement runs on composed footage of real photos (issue 24's demo videos), not here.

    .venv/bin/python bench/faces_classify.py                       # 8 x 120 s training, 6 held out, logreg
    .venv/bin/python bench/faces_classify.py --models logreg,mlp,lightgbm --min-quality 0,0.3
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

from cartoons.synthetic_faces import FaceWorld, SyntheticFaceStore, make_face_videos, write_interval_labels  # noqa: E402
from classifiers.compare_faces import compare_face_models  # noqa: E402
from classifiers.score_faces import score_face_videos  # noqa: E402


def evaluate(scored, test) -> dict:
    """Scored videos against the truth of the synthetic ones (same order)."""
    worst, worst_tracked, coverage, acc, extra_s, extra_cast_s, extra_faces, extra_called = 0.0, 0.0, [], [], 0.0, 0.0, 0, 0
    per_actor_acc: dict[str, list] = {}
    for v, t in zip(scored, test):
        d = v.sample_duration_s
        for j, a in enumerate(v.classes):
            true_s = float(d @ t.truth[:, j])
            worst = max(worst, abs(v.screen_time_s[a] - true_s) / v.duration_s)
            worst_tracked = max(worst_tracked, abs(v.tracked_s[a] - true_s) / v.duration_s)
            per_actor_acc.setdefault(a, []).append((float(d @ (v.on_screen[:, j] == t.truth[:, j])), float(d.sum())))
            if v.screen_time_interval_s is not None:
                lo, hi = v.screen_time_interval_s[a]
                coverage.append(lo - 1e-9 <= true_s <= hi + 1e-9)
        false_cast = (v.on_screen & ~t.truth).any(axis=1)
        extra_s += float(d @ t.extras_on)
        extra_cast_s += float(d @ (t.extras_on & false_cast))
        is_extra = np.array([p.startswith("extra:") for p in t.person], bool)
        extra_faces += int(is_extra.sum())
        extra_called += int(np.sum(is_extra & (v.faces.label != "unknown")))
        acc.append(float(d @ (v.on_screen == t.truth).all(axis=1)) / float(d.sum()))
    second_acc = {a: sum(c for c, _ in x) / sum(n for _, n in x) for a, x in per_actor_acc.items()}
    return {
        "worst_error_pct_of_duration": round(100 * worst, 2), "worst_tracked_error_pct_of_duration": round(100 * worst_tracked, 2),
        "second_accuracy": {a: round(x, 4) for a, x in second_acc.items()},
        "worst_second_accuracy": round(min(second_acc.values()), 4), "exact_set_accuracy": round(float(np.mean(acc)), 4),
        "extras_counted_as_cast_pct_of_their_s": round(100 * extra_cast_s / max(extra_s, 1e-9), 2),
        "extras_faces_called_cast_pct": round(100 * extra_called / max(extra_faces, 1), 2),
        "interval_coverage": round(float(np.mean(coverage)), 3) if coverage else None,
        "interval_level": scored[0].interval_level if scored else None,
    }


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--train", type=int, default=8, help="training videos")
    p.add_argument("--test", type=int, default=6, help="held-out videos")
    p.add_argument("--duration-s", type=float, default=120.0)
    p.add_argument("--models", default="logreg")
    p.add_argument("--min-quality", default="0", help="comma-separated values to compare")
    p.add_argument("--rounds", default="2", help="assignment rounds to compare, comma-separated")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--jobs", type=int, default=2)
    p.add_argument("--test-drift", type=float, default=0.3, help="held-out videos' drift of each actor's look")
    p.add_argument("--test-shift", type=float, default=0.0, help="held-out videos: each actor's look moves towards "
                   "another's by a share up to this (videos unlike the training ones)")
    p.add_argument("--spread", type=float, default=0.9, help="how far apart people are (0.9: about 0.95 apart)")
    p.add_argument("--face-noise", type=float, default=0.25)
    p.add_argument("--quality-noise", type=float, default=1.0, help="extra noise of a face of quality 0, times --face-noise")
    p.add_argument("--confusion", type=float, default=0.8, help="how far a face of quality 0 may look like another actor")
    p.add_argument("--out", type=Path, default=None, help="write the results as JSON here")
    args = p.parse_args()
    world = FaceWorld.make(seed=args.seed, spread=args.spread)
    noise = {"face_noise": args.face_noise, "quality_noise": args.quality_noise, "confusion": args.confusion,
             "duration_s": args.duration_s}
    train = make_face_videos(world, args.train, seed=args.seed + 1, **noise)
    test = make_face_videos(world, args.test, seed=args.seed + 2, prefix="heldout", drift=args.test_drift,
                            shift=args.test_shift, **noise)
    store = SyntheticFaceStore(train + test)
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        labels = write_interval_labels(Path(tmp) / "labels.csv", train)
        for q in (float(x) for x in args.min_quality.split(",")):
            for rounds in (int(x) for x in args.rounds.split(",")):
                t0 = time.perf_counter()
                cmp = compare_face_models(store, labels, out_path=Path(tmp) / "faces.skops", models=args.models,
                                          n_jobs=args.jobs, random_state=args.seed, min_quality=q, rounds=rounds)
                fit_s = time.perf_counter() - t0
                scored = score_face_videos([v.video_id for v in test], model_path=Path(tmp) / "faces.skops", store=store)
                row = {"min_quality": q, "rounds": rounds, "winner": cmp.best_name, "smoothing": cmp.smoothing,
                       "unknown_threshold": cmp.threshold, "compare_s": round(fit_s, 1), "labels": cmp.label_counts,
                       "cv": {k: round(float(v), 4) for k, v in cmp.leaderboard.iloc[0].items()
                              if k in ("macro_f1", "screen_time_error_pct", "worst_error_pct_of_video",
                                       "worst_second_accuracy", "unknown_as_cast_pct", "face_accuracy")},
                       **evaluate(scored.videos, test)}
                results.append(row)
                print(json.dumps(row), flush=True)
    if args.out:
        args.out.write_text(json.dumps({"args": {k: str(v) for k, v in vars(args).items()}, "results": results}, indent=2))


if __name__ == "__main__":
    main()
