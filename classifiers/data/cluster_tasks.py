"""Label Studio's JSON export of `cluster --label-studio`'s tasks -> the clusters' names (`ClusterNames`), read as a
filled ``clusters.csv`` is (`classifiers.data.clusters`).

One task per cluster (`classifiers.output.cluster_tasks` writes them): its ``data`` holds ``cluster`` (the id, as in
clusters.csv), ``mode`` ('faces' or 'frames') and ``members``, the members file's rows inline, so that an export
needs no file beside it: faces ``[video, time_s, x, y, w, h, track]`` (the box in the video's pixels), shots
``[video, start_s, end_s, shot]``; ``image`` is the URL of the cluster's grid of thumbnails. The labeller names the
cluster with the ``Choices`` control `CHOICES` (the suggestion pre-selected by the task's prediction, the known
names, ``unknown``) or types a new name in the ``TextArea`` `TEXT`, which wins when not empty. The latest submitted
annotation of a task is its name (`classifiers.data.label_studio.latest_annotation`); a task with none, skipped, or
submitted with no name leaves its cluster out; ``unknown`` and merging by name are as in clusters.csv. A cluster is
named whole: a track is split off in clusters.csv only.
"""

from __future__ import annotations

from pathlib import Path

from featurestore.errors import LabelsInvalid, quoted

from .cluster_names import ClusterNames, Member, check_case, cluster_name
from .label_studio import latest_annotation, load_tasks, shown_id, submitted_annotations
from .strict import MAX_NAME_CHARS, checked_name, load_json, whole_number

IMAGE = "grid"  # the Image object: the cluster's thumbnails as one picture; its task data key is IMAGE_KEY
IMAGE_KEY = "image"
CHOICES = "name"  # the Choices control: known names, the suggestion, unknown
TEXT = "new_name"  # the TextArea control: a name typed in
MODES = {"faces": ("video", "time_s", "x", "y", "w", "h", "track"), "frames": ("video", "start_s", "end_s", "shot")}
_WHAT = "export the project of `cluster --label-studio`'s tasks from Label Studio as JSON (Export > JSON)"
_MAX_SECONDS = 1e7


def is_cluster_task(task) -> bool:
    """Whether a task (of an export or a task list) is one of `cluster --label-studio`: data with cluster and members."""
    data = task.get("data") if isinstance(task, dict) else None
    return isinstance(data, dict) and "cluster" in data and "members" in data


def tasks_mode(text: str) -> str | None:
    """'faces' or 'frames' when `text` is a JSON list of cluster's tasks (by its first task; 'faces' for a mode it
    does not know, so that reading it says what is wrong), None for any other text."""
    if '"members"' not in text or '"cluster"' not in text:  # no JSON parsed for other exports
        return None
    try:
        doc = load_json(text)
    except ValueError:  # not JSON, or too deep: the reader of Label Studio's video exports says so
        return None
    tasks = [doc] if isinstance(doc, dict) and "data" in doc else doc
    if not isinstance(tasks, list) or not tasks or not is_cluster_task(tasks[0]):
        return None
    mode = tasks[0]["data"].get("mode")
    return mode if mode in MODES else "faces"


def read_cluster_tasks(path: str | Path, text: str) -> ClusterNames:
    """The clusters of an export of cluster's tasks, and each member's name ('' when left out).

    Raises
    ------
    LabelsInvalid
        In one line naming the file and the place (``task 3``, ``task 3, member 2``, ``task 3, annotation 11,
        result 2``): not JSON, not cluster's tasks, a field of the wrong type (``"members": 5``, a member that is
        not a row of its mode, a time that is not a number, ``"choices": "Tom"``), tasks of two modes, one cluster
        in two tasks with other members or another name, two names in one annotation, a name with a control
        character, names that differ only in case.
    """
    path = Path(path)
    name = path.name
    tasks = load_tasks(name, text, _WHAT, "a list of Label Studio tasks")
    mode = None
    members: list[Member] = []
    names: list[str] = []
    seen: dict[str, tuple[str, list, str]] = {}  # cluster -> (task, its members' rows, its name)
    for i, task in enumerate(tasks, start=1):
        task_id = shown_id(task.get("id"), i) if isinstance(task, dict) else f"#{i}"
        if not is_cluster_task(task):
            raise LabelsInvalid(f"{name} task {task_id}: not a task of `cluster --label-studio` (its data holds no "
                                f"\"cluster\" and \"members\"); {_WHAT}")
        data = task["data"]
        if data.get("mode") not in MODES or mode not in (None, data["mode"]):
            raise LabelsInvalid(f"{name} task {task_id}: mode {quoted(data.get('mode'))} is not "
                                f"{' or '.join(MODES) if mode is None else repr(mode) + ' as in the tasks before it'}; "
                                "export one `cluster` run's tasks per file")
        mode = data["mode"]
        cluster = _cluster_id(name, task_id, data["cluster"])
        rows = _member_rows(name, task_id, mode, data["members"])
        given = _task_name(name, f"task {task_id}", task.get("annotations"))
        if cluster in seen:
            first, first_rows, first_name = seen[cluster]
            if first_rows != rows:
                raise LabelsInvalid(f"{name} tasks {first} and {task_id} both hold cluster {cluster}, with other members; "
                                    "export one `cluster` run's tasks per file")
            if first_name != given and first_name and given:
                raise LabelsInvalid(f"{name} tasks {first} and {task_id} name cluster {cluster} twice ({first_name!r}, "
                                    f"{given!r}); keep one (the same name on two clusters merges them)")
            if given and not first_name:  # a cluster imported twice: the task that names it
                seen[cluster] = (task_id, rows, given)
                names[:] = [given if m.cluster == cluster else n for m, n in zip(members, names)]
            continue
        seen[cluster] = (task_id, rows, given)
        for k, row in enumerate(rows, start=1):
            members.append(_member(mode, cluster, row, k, f"task {task_id}, member {k}"))
            names.append(given)
    check_case(name, {n for *_, n in seen.values() if n})
    return ClusterNames(path, path, mode, members, names)


def _cluster_id(name: str, task_id: str, value) -> str:
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    try:
        return checked_name(value, limit=40)
    except ValueError as err:
        raise LabelsInvalid(f"{name} task {task_id}: cluster {err}; {_WHAT}") from None


def _member_rows(name: str, task_id: str, mode: str, value) -> list:
    """The task's members, each checked: a list of its mode's fields (text, then numbers, then a whole number)."""
    fields = MODES[mode]
    if not isinstance(value, list) or not value:
        raise LabelsInvalid(f"{name} task {task_id}: members {quoted(value)} is not a list of rows "
                            f"[{', '.join(fields)}]; {_WHAT}")
    rows = []
    for k, row in enumerate(value, start=1):
        here = f"{name} task {task_id}, member {k}"
        if not isinstance(row, list) or len(row) != len(fields):
            raise LabelsInvalid(f"{here}: {quoted(row)} is not a row [{', '.join(fields)}]; {_WHAT}")
        try:
            video = checked_name(row[0], limit=MAX_NAME_CHARS)
        except ValueError as err:
            raise LabelsInvalid(f"{here}: video {err}; {_WHAT}") from None
        numbers = []
        for field, x in zip(fields[1:-1], row[1:-1]):
            if isinstance(x, bool) or not isinstance(x, (int, float)) or not -_MAX_SECONDS <= x <= _MAX_SECONDS:
                raise LabelsInvalid(f"{here}: {field} {quoted(x)} is not a number; {_WHAT}")
            numbers.append(float(x))
        try:
            unit = whole_number(row[-1], high=10**9)
        except ValueError as err:
            raise LabelsInvalid(f"{here}: {fields[-1]} {err}; {_WHAT}") from None
        rows.append((video, *numbers, unit))
    return rows


def _member(mode: str, cluster: str, row: tuple, k: int, where: str) -> Member:
    if mode == "faces":
        video, time_s, *box, track = row
        return Member(k, cluster, video, track, time_s=time_s, box=tuple(box), where=where)
    video, start_s, end_s, shot = row
    return Member(k, cluster, video, shot, start_s=start_s, end_s=end_s, where=where)


def _task_name(name: str, place: str, annotations) -> str:
    """The name a task's latest submitted annotation gives: the typed one, else the chosen one ('' for none)."""
    submitted = submitted_annotations(name, place, annotations)
    if not submitted:
        return ""
    k, latest = latest_annotation(name, place, submitted)
    place = f"{place}, annotation {shown_id(latest.get('id'), k)}"
    results = latest.get("result")
    if results is None:
        return ""
    if not isinstance(results, list):
        raise LabelsInvalid(f"{name} {place}: \"result\" is {quoted(results)}, not a list of results; {_WHAT}")
    given = {"textarea": set(), "choices": set()}
    for j, result in enumerate(results, start=1):
        here = f"{name} {place}, result {j}"
        if not isinstance(result, dict):
            raise LabelsInvalid(f"{here}: {quoted(result)} is not a result (an object with \"value\"); {_WHAT}")
        kind = {TEXT: "textarea", CHOICES: "choices"}.get(result.get("from_name"))
        if kind is None:
            continue  # another control's result: it names nobody
        value = result.get("value")
        key = "text" if kind == "textarea" else "choices"
        texts = value.get(key) if isinstance(value, dict) else None
        if isinstance(texts, str) and kind == "textarea":
            texts = [texts]
        if not isinstance(texts, list) or not all(isinstance(t, str) for t in texts):
            raise LabelsInvalid(f"{here}: value.{key} {quoted(texts)} is not a list of names; {_WHAT}")
        for t in texts:
            try:
                given[kind].add(cluster_name(t))
            except ValueError as err:
                raise LabelsInvalid(f"{here}: name {err}; fix it in Label Studio and export again") from None
    for kind in ("textarea", "choices"):
        found = sorted(given[kind] - {""})
        if len(found) > 1:
            raise LabelsInvalid(f"{name} {place}: {len(found)} names ({', '.join(map(repr, found[:3]))}) for one "
                                "cluster; give one (a cluster of two people: name it in clusters.csv, track by track)")
        if found:
            return found[0]
    return ""
