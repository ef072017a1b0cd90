"""What the demos print beside their results: predicted against true screen time, the files and what to run next."""

from __future__ import annotations

from rich.table import Table


def truth_tables(result) -> list[Table]:
    """Demo: predicted against true screen time for each held-out video."""
    tables = []
    for video in result.score.videos:
        truth = result.truth[video.video_id]
        weights = result.weights.split(":")[0]  # 'imagenet:sha256:...' (a packaged backbone's): the digest is in the store
        table = Table(title=f"{video.video_id}: predicted vs true screen time ({getattr(result, 'backbone', 'vgg16')} "
                            f"{weights} weights)")
        first = "character" if video.multi_label else "class"
        for col in (first, "predicted s", "true s", "error s", "error % of video"):
            table.add_column(col, justify="left" if col == first else "right")
        predicted = dict(video.screen_time_s)
        if video.multi_label:  # each character's own time, then the time they share and the time with none
            predicted.update({"together": video.together_s, video.none_label: video.none_s})
        for c in predicted:
            err = predicted[c] - truth.get(c, 0.0)
            table.add_row(c, f"{predicted[c]:.1f}", f"{truth.get(c, 0.0):.1f}", f"{err:+.1f}",
                          f"{100 * abs(err) / video.duration_s:.1f}%")
        tables.append(table)
    return tables


def demo_lines(result, prog: str | None = None) -> list[str]:
    """Demo: where its files are, and the commands to run next (copy-pastable, paths quoted for the shell), named
    `prog` (default: as the user runs screentime, `featurestore.errors.PROG`), or `screentime` where it is installed
    (`pip install` made the command: the one to type next, issue 26)."""
    import shutil
    from shlex import quote

    from featurestore import errors

    prog = prog or errors.PROG
    if prog.startswith("python ") and shutil.which("screentime"):
        prog = "screentime"

    def files(paths) -> str:
        return ", ".join(quote(str(p)) for p in paths)

    outputs = result.outputs
    faces = " --faces" if getattr(result, "faces", False) else ""
    score_cmd = (f"{prog} score {files(result.test_videos)} --model {quote(str(result.model_path))} "
                 f"--store {quote(str(result.store_path))}{faces}")
    if result.weights_arg not in ("imagenet", "random"):
        score_cmd += f" --weights {quote(result.weights_arg)}"
    n_train, n_test = len(result.train_videos), len(result.test_videos)
    return [
        "",
        f"the demo's files, in {result.out_dir}/:",
        f"  videos   {result.out_dir / 'videos'}/ ({n_train} labelled for training, {n_test} held out)",
        f"  labels   {result.labels_path}",
        f"  store    {result.store_path} (and its shards in {result.store_path.name}.d/)",
        f"  model    {result.model_path} ({result.comparison.best_name})",
        f"  results  {files(outputs.get(k) for k in ('json', 'csv', 'plot') if outputs.get(k))}",
        *([f"  report   {outputs['report']} (open it in a browser: timeline, each segment's frames, warnings)"]
          if outputs.get("report") else []),
        *([f"  vtt      {outputs['vtt']}/*.vtt (subtitles: play a held-out video in VLC or mpv to see who is on screen)"]
          if outputs.get("vtt") else []),
        "next:",
        f"  {score_cmd} --json -",
        f"  {prog} compare-models --labels {quote(str(result.labels_path))} --store {quote(str(result.store_path))}"
        f"{' --multi-label' if getattr(result.comparison, 'multi_label', False) else ''}{faces}"
        f" --out {quote(str(result.out_dir / 'all-models.skops'))}",
        f"  python -c \"from featurestore import FeatureStore; print(FeatureStore({str(result.store_path)!r}).videos())\"",
        f"  {prog} embed YOUR_VIDEO.mp4 --store features.h5      # then label it and run compare-models, score",
    ]
