"""Soak the feature store with real processes: kill -9 at random moments, concurrent writers and readers, hostile ids.

    python bench/store_soak.py [--kills 20] [--embed-kills 6] [--writers 4] [--puts 25] [--seed 0]

1. store kills: a writer process puts, replaces and removes videos in a loop; it is killed with SIGKILL at a
   random moment, `--kills` times. After each kill: the store opens, `verify_store` finds every video intact,
   the video stored before the soak is byte-identical, and every indexed video is whole.
2. embed kills: `cli.py embed` of a 60-sample video (VGG16, random weights, 32 px) is killed `--embed-kills`
   times at random moments, then run to the end; its features must be bit-identical to a clean run's.
3. concurrency: `--writers` processes put `--puts` videos each into one store while two readers poll
   `videos()` and `load()`; every reader error is counted; the final store must hold every video, intact.
4. hostile ids: 28 ids ('/', '..', '%2F', tabs, newlines, 60,000 characters, ...) put and read back exactly,
   by FeatureStore and by plain h5py.

Prints a table and one JSON line. Nothing is timed against a target: the figures are counts.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import signal
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import h5py
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from featurestore import FeatureStore, verify_store  # noqa: E402
from featurestore.store.index import video_key  # noqa: E402
from featurestore.provenance import library_versions  # noqa: E402

N = 512
CONFIG = {"model": "vgg16", "weights": "random:seed=0", "pooling": "avg", "image_size_px": 32, "n_features": N}

WRITER = textwrap.dedent("""
    import sys, numpy as np
    sys.path.insert(0, {root!r})
    from featurestore.store.store import FeatureStore
    fs = FeatureStore({store!r}, mode="a", config={config!r})
    rng = np.random.default_rng({seed})
    i = 0
    while True:
        n = 20 + i % 150
        vid = f"{prefix}{{i % {modulo}}}"
        fs.put(vid, requested_s=np.arange(n, dtype=float), actual_s=np.arange(n, dtype=float),
               features=np.full((n, {n}), i % 1000, np.float32), info={{"sample_fps": 1.0, "duration_s": float(n)}})
        if rng.random() < 0.2 and vid in fs:
            fs.remove(vid)
        print(i, flush=True)
        i += 1
        if {stop} and i >= {stop}:
            break
""")

READER = textwrap.dedent("""
    import sys, time
    sys.path.insert(0, {root!r})
    from featurestore.errors import NotEmbedded
    from featurestore.store.store import FeatureStore
    errors = reads = 0
    deadline = time.time() + {seconds}
    while time.time() < deadline:
        try:
            fs = FeatureStore({store!r})
            fs.videos()
            for vid in fs.video_ids()[:5]:
                try:
                    fs.load(vid)
                except NotEmbedded:  # removed by a writer since it was listed: the right answer
                    pass
                reads += 1
        except Exception as err:
            errors += 1
            print("reader error:", type(err).__name__, err, file=sys.stderr)
        time.sleep(0.01)
    print(reads, errors)
""")


def writer_script(store: Path, prefix: str, seed: int, modulo: int = 10, stop: int = 0) -> str:
    return WRITER.format(root=str(ROOT), store=str(store), config=CONFIG, seed=seed, prefix=prefix, modulo=modulo,
                         n=N, stop=stop)


def soak_store_kills(tmp: Path, kills: int, rng) -> dict:
    store = tmp / "kills.h5"
    fs = FeatureStore(store, mode="a", config=CONFIG)
    keep = rng.normal(size=(40, N)).astype(np.float32)
    fs.put("keep.mp4", requested_s=np.arange(40.0), actual_s=np.arange(40.0), features=keep,
           info={"sample_fps": 1.0, "duration_s": 40.0})
    keep_bytes = fs.shard_path("keep.mp4").read_bytes()
    problems = []
    for k in range(kills):
        proc = subprocess.Popen([sys.executable, "-c", writer_script(store, "w", k)], stdout=subprocess.PIPE, text=True)
        proc.stdout.readline()
        time.sleep(float(rng.uniform(0.0, 0.5)))
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        after = FeatureStore(store)
        check = verify_store(store)
        if not check.is_intact:
            problems.append(f"kill {k}: {[(v.video_id, v.problem) for v in check.damaged]}")
        if after.shard_path("keep.mp4").read_bytes() != keep_bytes:
            problems.append(f"kill {k}: keep.mp4 changed")
        for vid in after.video_ids():
            t, X = after.load(vid)
            if vid != "keep.mp4" and not (len(t) == len(X) and (X == X[0, 0]).all()):
                problems.append(f"kill {k}: {vid} is not whole")
    # one more clean write sweeps what the kills left
    FeatureStore(store, mode="a", config=CONFIG).put("after.mp4", requested_s=[0.0], actual_s=[0.0],
                                                     features=np.zeros((1, N)), info={"sample_fps": 1.0, "duration_s": 1.0})
    check = verify_store(store)
    return {"kills": kills, "problems": problems, "videos_after": len(FeatureStore(store)),
            "leftovers_after_next_write": len(check.leftovers), "intact": check.is_intact}


def soak_embed_kills(tmp: Path, kills: int, rng) -> dict:
    from conftest import write_video

    video = write_video(tmp / "long.avi", 10, 600, fourcc="MJPG")
    tiny = ["--weights", "random", "--image-size", "32", "--batch-size", "2"]
    clean = subprocess.run([sys.executable, str(ROOT / "cli.py"), "embed", str(video), "--store", str(tmp / "clean.h5"), *tiny],
                           capture_output=True, text=True)
    assert clean.returncode == 0, clean.stderr
    store = tmp / "killed.h5"
    killed_at = []
    for _ in range(kills):
        proc = subprocess.Popen([sys.executable, str(ROOT / "cli.py"), "embed", str(video), "--store", str(store), *tiny],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        delay = float(rng.uniform(4.0, 12.0))  # TensorFlow's import takes a few seconds; kills land before and during work
        time.sleep(delay)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        killed_at.append(round(delay, 1))
    final = subprocess.run([sys.executable, str(ROOT / "cli.py"), "embed", str(video), "--store", str(store), *tiny],
                           capture_output=True, text=True)
    same = final.returncode == 0 and np.array_equal(FeatureStore(store).load("long.avi")[1],
                                                    FeatureStore(tmp / "clean.h5").load("long.avi")[1])
    leftovers = sorted(p.name for p in (tmp / "killed.h5.d").iterdir() if p.suffix != ".h5" and p.name != ".lock")
    return {"kills": kills, "killed_after_s": killed_at, "rerun_exit": final.returncode, "bit_identical": bool(same),
            "leftovers": leftovers}


def soak_concurrency(tmp: Path, writers: int, puts: int) -> dict:
    store = tmp / "shared.h5"
    FeatureStore(store, mode="a", config=CONFIG).put("seed.mp4", requested_s=[0.0], actual_s=[0.0], features=np.zeros((1, N)),
                                                     info={"sample_fps": 1.0, "duration_s": 1.0})
    t0 = time.perf_counter()
    procs = [subprocess.Popen([sys.executable, "-c", writer_script(store, f"p{w}-", 100 + w, modulo=10 ** 9, stop=puts)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True) for w in range(writers)]
    seconds = 5 + puts * writers * 0.05
    readers = [subprocess.Popen([sys.executable, "-c", READER.format(root=str(ROOT), store=str(store), seconds=seconds)],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(2)]
    writer_errors = [p.communicate()[1] for p in procs]
    results = [p.communicate() for p in readers]
    reads = sum(int(out.split()[0]) for out, _ in results)
    reader_errors = sum(int(out.split()[1]) for out, _ in results)
    reader_messages = [line for _, err in results for line in err.splitlines()][:5]
    fs = FeatureStore(store)
    check = verify_store(store)
    return {"writers": writers, "puts_each": puts, "writer_exit_codes": [p.returncode for p in procs],
            "writer_errors": sum(bool(e.strip()) for e in writer_errors), "reads": reads, "reader_errors": reader_errors,
            "reader_messages": reader_messages,
            "videos": len(fs), "intact": check.is_intact, "wall_s": round(time.perf_counter() - t0, 1)}


HOSTILE = ["/", "//", "a/b", "/abs", "..", ".", "../..", "a/../b", "%2F", "%25", "%", "%2E", "%2E%2E", "a%2Fb", "tab\there",
           "new\nline", " ", "  lead", "trail  ", "ünïcödé ✓", "日本語.mp4", "emoji 🎬", "back\\slash", "quote\"'", "*?[]",
           "x" * 60_000, "nul-free \x01\x7f", "semi;colon,comma"]


def soak_hostile_ids(tmp: Path) -> dict:
    fs = FeatureStore(tmp / "hostile.h5", mode="a", config=CONFIG)
    for i, vid in enumerate(HOSTILE):
        fs.put(vid, requested_s=[0.0, 1.0], actual_s=[0.0, 1.0], features=np.full((2, N), i, np.float32),
               info={"sample_fps": 1.0, "duration_s": 2.0})
    back = FeatureStore(tmp / "hostile.h5")
    exact = sorted(back.video_ids()) == sorted(HOSTILE) and all((back.load(v)[1] == i).all() for i, v in enumerate(HOSTILE))
    with h5py.File(tmp / "hostile.h5") as f:
        plain = all((f["videos"][video_key(v)]["features"][:] == i).all() for i, v in enumerate(HOSTILE))
    inside = all(p.resolve().is_relative_to(tmp.resolve()) for p in tmp.rglob("*"))
    return {"ids": len(HOSTILE), "round_trip_exact": exact, "plain_h5py": plain, "files_stay_in_place": inside}


def main(argv=None) -> dict:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--kills", type=int, default=20)
    p.add_argument("--embed-kills", type=int, default=6)
    p.add_argument("--writers", type=int, default=4)
    p.add_argument("--puts", type=int, default=25)
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args(argv)
    rng = np.random.default_rng(args.seed)
    with tempfile.TemporaryDirectory(prefix="screentime-soak-") as tmp:
        tmp = Path(tmp)
        result = {
            "store_kills": soak_store_kills(tmp, args.kills, rng),
            "embed_kills": soak_embed_kills(tmp, args.embed_kills, rng),
            "concurrency": soak_concurrency(tmp, args.writers, args.puts),
            "hostile_ids": soak_hostile_ids(tmp),
            "machine": {"platform": platform.platform(), "cpus": os.cpu_count(), **library_versions(("numpy", "h5py"))},
        }
    s, e, c, h = result["store_kills"], result["embed_kills"], result["concurrency"], result["hostile_ids"]
    print(f"{'check':<14} {'result'}")
    print(f"{'store kills':<14} {s['kills']} kill -9, {len(s['problems'])} problems, intact {s['intact']}, "
          f"{s['leftovers_after_next_write']} leftovers after the next write")
    print(f"{'embed kills':<14} {e['kills']} kill -9, rerun exit {e['rerun_exit']}, bit-identical {e['bit_identical']}, "
          f"leftovers {e['leftovers'] or 'none'}")
    print(f"{'concurrency':<14} {c['writers']} writers x {c['puts_each']} puts + 2 readers: {c['reader_errors']} reader errors "
          f"in {c['reads']} reads, {c['writer_errors']} writer errors, {c['videos']} videos, intact {c['intact']}")
    print(f"{'hostile ids':<14} {h['ids']} ids: exact {h['round_trip_exact']}, plain h5py {h['plain_h5py']}, "
          f"files in place {h['files_stay_in_place']}")
    print(json.dumps(result, default=str))
    return result


if __name__ == "__main__":
    main()
