"""Benchmark `faces_degraded`: does score --faces say when a video's faces are too degraded to be named?

The live scenes of bench/faces_live.py (its model: 4 labelled `cartoons.actors` videos, seed 5) are degraded with
ffmpeg as footage is -- compressed, blurred, dark, small -- and scored next to the originals, through the command
line. Per video: each actor's truth and named seconds (as faces_live counts them), unknown people's seconds, and the
unlike-the-training-videos check (`classifiers.chain.face_familiarity`): the median distance, the share of faces near
an actor's training face (``near``), the share below 19 in 20 training faces per quality part, what fired.

    .venv/bin/python bench/faces_degraded.py --work-dir /tmp/live                  # faces_live's folder, reused
    .venv/bin/python bench/faces_degraded.py --work-dir /tmp/live --scenes cross2 --degrade crf40,blur
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

from _live_scenes import render  # noqa: E402
from faces_live import cli, evaluate, train_model  # noqa: E402

from classifiers.chain.face_persist import load_face_model  # noqa: E402

#: ffmpeg's video filter and crf of each degradation (the frame size stays 640x360).
DEGRADE = {
    "crf40": ("null", 40),
    "blur": ("gblur=sigma=3", 23),
    "dark": ("eq=brightness=-0.3:contrast=0.4,noise=alls=15:allf=t", 23),
    "tiny": ("scale=iw/2:ih/2,pad=iw*2:ih*2:iw/2:ih/2", 23),
}


def degrade(src: Path, how: str, out_dir: Path) -> Path:
    """`src` degraded as `how` says into `out_dir` (kept when there), with its truth (tiny: boxes halved, centred)."""
    out = out_dir / f"{src.stem}_{how}.mp4"
    truth = json.loads(src.with_suffix(".truth.json").read_text())
    if how == "tiny":
        W, H = truth["size"]
        truth["frames"] = [[[p, [x / 2 + W / 4, y / 2 + H / 4, w / 2, h / 2]] for p, (x, y, w, h) in frame]
                           for frame in truth["frames"]]
    (out_dir / f"{out.stem}.truth.json").write_text(json.dumps(truth))
    if not out.exists():
        vf, crf = DEGRADE[how]
        subprocess.run(["ffmpeg", "-nostdin", "-loglevel", "error", "-y", "-i", str(src), "-vf", vf, "-c:v", "libx264",
                        "-pix_fmt", "yuv420p", "-crf", str(crf), str(out)], check=True)
    return out


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--work-dir", type=Path, required=True, help="bench/faces_live.py's folder (its model, scenes)")
    ap.add_argument("--scenes", default="cross2,crowd,looks,walk", help="live scenes to degrade (comma-separated)")
    ap.add_argument("--degrade", default=",".join(DEGRADE), help="comma-separated: " + ", ".join(DEGRADE))
    ap.add_argument("--seed", type=int, default=5, help="the training footage's seed (faces_live's)")
    ap.add_argument("--json", type=Path, help="write the figures here")
    args = ap.parse_args(argv)
    work, out_dir = args.work_dir, args.work_dir / "degraded"
    out_dir.mkdir(parents=True, exist_ok=True)
    model = train_model(work, args.seed)
    if getattr(load_face_model(model).familiarity, "low", None) is None:  # cached before the check: nothing to test
        print(f"{model}: made before the degraded-faces check; trained again", file=sys.stderr)
        model.unlink()
        model = train_model(work, args.seed)
    paths = []
    for name in filter(None, args.scenes.split(",")):
        src = work / "scenes" / f"{name}.mp4"
        src = src if src.exists() else render(name, work / "scenes")
        paths.append(src)
        paths += [degrade(src, how, out_dir) for how in filter(None, args.degrade.split(","))]
    score_json = out_dir / "score.json"
    cli("score", "--faces", *map(str, paths), "-m", str(model), "--store", str(out_dir / "degraded.h5"), "--fps", "1",
        "--json", str(score_json))
    doc = json.loads(score_json.read_text())
    result = {}
    print("| video | actors: truth / named s | unknown s | distance | near | below (sharpness, size, score) | flagged |")
    print("|---|---|---|---|---|---|---|")
    for v, path in zip(doc["videos"], paths):
        truth = json.loads(path.with_name(f"{path.stem}.truth.json").read_text())
        r = evaluate(v, truth)
        check = v.get("faces_unlike") or {}
        below = check.get("below_training") or {}
        result[path.stem] = {**r, "unlike_training": v["unlike_training"], "training_distance": v["training_distance"],
                             "faces_unlike": check}
        actors = ", ".join(f"{a} {m['truth_s']:g} / {m['seen_s']:g}" for a, m in r["actors"].items())
        dist = "–" if v["training_distance"] is None else f"{v['training_distance']:.2f}"
        near = "–" if check.get("near_share") is None else f"{check['near_share']:.2f}"
        parts = ", ".join(f"{below[p]:.2f}" if p in below else "–" for p in ("sharpness", "size_px", "score"))
        print(f"| {path.stem} | {actors} | {r['unknown_s'][1]:g} | {dist} | {near} | {parts} | "
              f"{'yes' if v['unlike_training'] else 'no'} {' '.join(check.get('faults', []))} |")
    if args.json:
        args.json.write_text(json.dumps(result, indent=1))
    return result


if __name__ == "__main__":
    main()
