"""Where the time of one whole `embed --faces` goes on H.264 footage of a given height: the decoder alone (exact and
fast), cut detection alone, and the whole command with each of its threads' CPU seconds.

    python bench/embed_parts.py --height 1080 --seconds 60 --work-dir /tmp/parts [--before /path/to/other/checkout]

The clip is bench/faces.py --hour's video (`_faces_hour.hour_video`: shots of 4..12 s, 0..3 faces) at 25 frames/s
and `--height` (faces 3x their 360p size at 1080p, in proportion at other heights), made once, then encoded by
x264 (`--preset`, default medium) at YouTube's recommended upload bitrate with film grain (FFmpeg's noise filter;
clean composed frames compress to nothing); kept in --work-dir. The command is
`python cli.py embed CLIP --faces --store S --backbone squeezenet -j 2` in a child process; /proc is read every
0.1 s for the CPU seconds of each thread of it and its workers (the main process's busiest thread besides the
main one is the cut detector's). --before runs the same command with another checkout's code too (PYTHONPATH).
A 2 s clip's run gives the fixed cost (start, imports), taken off before extrapolating to a video hour.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
BITRATE = {360: "1000k", 720: "5900k", 1080: "9500k", 2160: "52000k"}  # as bench/face_detection.py --decode


def make_clip(work: Path, height: int, seconds: float, preset: str) -> Path:
    """The composed clip at `height` (16:9), 25 frames/s, x264 `preset` with grain; made once."""
    import _faces_hour as hb
    from _face_frames import face_sources

    from featurestore.faces import FaceConfig
    from featurestore.faces.detector import BlazeFaceDetector

    clip = work / f"clip-{height}p-{seconds:g}s-{preset}.mp4"
    if clip.exists():
        return clip
    hb.SIZES_360P_PX = tuple(round(s * height / 360) for s in hb.SIZES_360P_PX)
    sources = face_sources(BlazeFaceDetector(FaceConfig(tile_rows=0, min_size_px=0)))
    raw = hb.hour_video(work / f"raw-{height}p-{seconds:g}s.mp4", sources, duration_s=seconds, fps=25.0,
                        size=(height * 16 // 9, height))
    rate = BITRATE.get(height, "9500k")
    subprocess.run(["ffmpeg", "-v", "error", "-y", "-i", raw["path"], "-vf", "noise=alls=6:allf=t", "-c:v", "libx264",
                    "-preset", preset, "-b:v", rate, "-pix_fmt", "yuv420p", str(clip)], check=True)
    return clip


def decoder_cpu_s(clip: Path, skip: str) -> float:
    """CPU s to decode every frame the decoder keeps (`skip`: FFmpeg's skip_frame), one decoder thread."""
    from featurestore.video.container import open_video

    container, stream = open_video(clip)
    stream.codec_context.skip_frame = skip
    stream.codec_context.thread_count = 1
    c0 = time.process_time()
    for _ in container.decode(stream):
        pass
    container.close()
    return time.process_time() - c0


def cuts_cpu_s(clip: Path) -> tuple[float, int]:
    from featurestore.video.shots import detect_cuts

    c0 = time.process_time()
    cuts = detect_cuts(clip)
    return time.process_time() - c0, len(cuts)


def command_threads(checkout: Path, clip: Path, store_dir: Path) -> dict:
    """The whole command with `checkout`'s code: wall s, CPU s per thread (busiest first), total."""
    store_dir.mkdir(parents=True, exist_ok=True)
    store = store_dir / f"{os.getpid()}-{time.monotonic_ns()}.h5"
    command = [sys.executable, str(checkout / "cli.py"), "embed", str(clip), "--faces", "--store", str(store),
               "--backbone", "squeezenet", "-j", "2"]
    tick = os.sysconf("SC_CLK_TCK")
    t0 = time.perf_counter()
    child = subprocess.Popen(command, env={**os.environ, "PYTHONPATH": str(checkout)}, stdout=subprocess.DEVNULL,
                             stderr=subprocess.PIPE, text=True)
    seen: dict[tuple[int, int], tuple[str, float]] = {}
    while child.poll() is None:
        for pid in _tree(child.pid):
            role = "main" if pid == child.pid else "worker"
            try:
                for tid in os.listdir(f"/proc/{pid}/task"):
                    stat = Path(f"/proc/{pid}/task/{tid}/stat").read_text()
                    fields = stat[stat.rindex(")") + 2:].split()
                    seen[(pid, int(tid))] = (role if int(tid) != pid else f"{role} (its main thread)",
                                             (int(fields[11]) + int(fields[12])) / tick)
            except OSError:  # ended between the listing and the read
                pass
        time.sleep(0.1)
    wall_s = time.perf_counter() - t0
    if child.returncode:
        raise RuntimeError(f"{' '.join(command)} failed: {child.stderr.read()[-1500:]}")
    store.unlink(missing_ok=True)
    threads = sorted(((role, round(cpu, 1)) for role, cpu in seen.values() if cpu >= 0.2), key=lambda r: -r[1])
    return {"checkout": str(checkout), "wall_s": round(wall_s, 1), "cpu_s": round(sum(c for _, c in seen.values()), 1),
            "threads": threads}


def _tree(pid: int) -> list[int]:
    found = [pid]
    try:
        for tid in os.listdir(f"/proc/{pid}/task"):
            for child in Path(f"/proc/{pid}/task/{tid}/children").read_text().split():
                found += _tree(int(child))
    except OSError:
        pass
    return found


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--height", type=int, default=1080, help="frame height, px (16:9)")
    parser.add_argument("--seconds", type=float, default=60.0, help="the clip's length, s")
    parser.add_argument("--preset", default="medium", help="x264 preset")
    parser.add_argument("--work-dir", type=Path, help="keep the clips here")
    parser.add_argument("--before", type=Path, help="another checkout to run the same command with")
    parser.add_argument("--json", help="write the results here too")
    args = parser.parse_args(argv)
    work = args.work_dir or Path(tempfile.mkdtemp(prefix="embed-parts-"))
    work.mkdir(parents=True, exist_ok=True)
    clip = make_clip(work, args.height, args.seconds, args.preset)
    short = work / f"{clip.stem}-2s.mp4"
    subprocess.run(["ffmpeg", "-v", "error", "-y", "-t", "2", "-i", str(clip), "-c", "copy", str(short)], check=True)
    per_s = 1.0 / args.seconds
    parts = {"decoder_exact_ms_per_s": 1000 * decoder_cpu_s(clip, "DEFAULT") * per_s,
             "decoder_fast_ms_per_s": 1000 * decoder_cpu_s(clip, "NONREF") * per_s}
    cut_s, n_cuts = cuts_cpu_s(clip)
    parts.update({"cuts_ms_per_s": 1000 * cut_s * per_s, "n_cuts": n_cuts})
    print(json.dumps(parts), flush=True)
    runs = []
    for checkout in [c for c in (args.before, REPO) if c is not None]:
        run = command_threads(checkout, clip, work / "stores")
        fixed = command_threads(checkout, short, work / "stores")["cpu_s"]
        run["fixed_cpu_s"] = fixed  # the 2 s clip's command
        run["min_per_video_hour_2_cores"] = round((run["cpu_s"] - fixed) / (args.seconds - 2) * 3600 / 60 / 2, 1)
        print(json.dumps(run), flush=True)
        runs.append(run)
    result = {"clip": str(clip), "height": args.height, "seconds": args.seconds, "parts": parts, "runs": runs}
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=1))
    return result


if __name__ == "__main__":
    main()
