"""What `cluster` prints: how many clusters of what, the largest with their suggestions, the files, what next."""

from __future__ import annotations

from classifiers.clusters.groups import sureness

from .numbers import format_clock

#: Clusters listed on the terminal; the page and the CSV have them all.
SHOWN = 12


def cluster_lines(run) -> list[str]:
    """Lines for a `classifiers.cluster.ClusterRun`."""
    c = run.clustering
    units, word = c.units, c.units.kind
    named = [x for x in c.clusters if not x.is_blurred]
    suggested = sum(bool(x.suggestion) for x in named)
    what = "faces" if c.mode == "faces" else "shots"
    lines = [f"{len(named)} clusters of {what} from {len(units)} {word}{'s' if len(units) != 1 else ''} in {len(run.video_ids)} video"
             f"{'s' if len(run.video_ids) != 1 else ''} (average linkage within {c.threshold:g})"
             + (f"; {suggested} with a suggested name" if c.names else "")
             + (f"; {units.n_left_out} {'faces' if c.mode == 'faces' else 'shots'} left out, labelled already"
                if units.n_left_out else "")]
    for x in c.clusters[:SHOWN]:
        name = f"  {x.suggestion} ({sureness(x, c.threshold)}, {x.distance:.2f})" if x.suggestion else ""
        lines.append(f"  {x.id:>7}  {x.seconds:8.1f} s  {format_clock(x.seconds):>8}  {len(x.units):4d} {word}"
                     f"{'s' if len(x.units) != 1 else ''}{name}")
    if len(c.clusters) > SHOWN:
        lines.append(f"  ... and {len(c.clusters) - SHOWN} more (all in the page and the CSV)")
    lines += [f"note: {n}" for n in run.notes]
    lines += [f"wrote {p}" for p in run.paths]
    flag = " --faces" if c.mode == "faces" else ""
    known = "".join(f" -l {p}" for p in getattr(run, "labels_paths", []))  # the names given before, trained on again
    if not c.clusters:  # nothing found, or all left out: no cluster to name
        lines.append(f"no {what} to name in {'this video' if len(run.video_ids) == 1 else 'these videos'}")
    elif run.paths:
        page = next(p for p in run.paths if p.suffix == ".html")
        lines.append(f"next: look at {page.name}, fill the name column of {run.paths[0]} (the same name on two "
                     f"clusters merges them), then compare-models{flag}{known} -l {run.paths[0]} --out NEW.skops")
    if run.label_studio is not None:
        from .cluster_tasks import images_dir_for
        from .label_studio import config_path_for

        lines.append(f"or in Label Studio: create a project whose labelling config is {config_path_for(run.label_studio)}, "
                     f"import {run.label_studio}, name each cluster, export as JSON and pass the export to "
                     f"compare-models{flag}{known} -l; the grids in {images_dir_for(run.label_studio)}/ are served when Label "
                     "Studio runs with LABEL_STUDIO_LOCAL_FILES_SERVING_ENABLED=true and the project has a Local "
                     "storage on that folder (or give --url-prefix)")
    return lines
