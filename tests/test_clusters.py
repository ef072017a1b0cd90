"""`cluster` (issue 25): face tracks (or shots) grouped across a store's videos, named once in clusters.csv, read back
as labels: the same name merges clusters, a `cluster,track,name` row splits one, an empty name or `unknown` leaves it
out. The faces are composed by hand (`face_helpers`): known people at known places, so every label is known."""

from __future__ import annotations

import csv
import re

import numpy as np
import pytest

from cartoons.synthetic_faces import DIM, FaceWorld, make_face_videos, unit
from conftest import run_cli, write_video
from face_helpers import Face, face_table, near, people

from classifiers.cluster import cluster_store
from classifiers.clusters.linkage import agglomerate, spread_picks
from classifiers.data.face_dataset import label_store_faces
from classifiers.data.labels import parse_labels
from featurestore.errors import InvalidParameterType, LabelsInvalid

ALICE, BOB, CAROL, EVE, TWIN, PROFILE = people(6, seed=3)
DAVE = unit(CAROL + 0.2 * unit(np.random.default_rng(9).normal(size=DIM)))  # 0.2 from carol: one cluster at 0.5
TWIN2 = near(TWIN, 99, noise=0.1)  # as alike as two faces of one person, but seen together
BOXES = [(0.05, 0.2, 0.2, 0.35), (0.3, 0.2, 0.2, 0.35), (0.55, 0.2, 0.2, 0.35), (0.75, 0.5, 0.1, 0.2)]


def _faces(person, track, times, slot, seed, quality=0.9):
    return [Face(t, near(person, seed + t, 0.15), track, BOXES[slot], quality) for t in times]


def composed_tables():
    """Three videos (1 sample/s) of known people. a.mp4 (12 s, cut at 6): alice and bob together, then alice in
    profile (another look, far from her front), carol then dave. b.mp4 (10 s, cut at 5): alice beside eve (all
    blurred), then bob, and one untracked blurred face at 7 s. c.mp4 (4 s): two look-alikes side by side."""
    a = face_table("a.mp4", 12, [*_faces(ALICE, 0, range(0, 6), 0, 0), *_faces(BOB, 1, range(0, 6), 1, 100),
                                 *_faces(PROFILE, 2, range(6, 12), 0, 200), *_faces(CAROL, 3, range(6, 9), 1, 300),
                                 *_faces(DAVE, 4, range(9, 12), 1, 400)], cuts_s=[6.0])
    b = face_table("b.mp4", 10, [*_faces(ALICE, 0, range(0, 5), 0, 500), *_faces(EVE, 1, range(0, 5), 1, 600, 0.1),
                                 *_faces(BOB, 2, range(5, 10), 0, 700),
                                 Face(7.0, near(EVE, 5, 0.3), -1, BOXES[3], 0.05)], cuts_s=[5.0])
    c = face_table("c.mp4", 4, [*_faces(TWIN, 0, range(4), 0, 800), *_faces(TWIN2, 1, range(4), 1, 900)])
    return [a, b, c]


def store_with_sources(folder, colour=(40, 90, 160), size=(160, 90)):
    """(tables, store): a store of `composed_tables()` at folder / 'f.h5' whose videos' source files are found
    (folder / '<video>.avi', 10 fps of `size`, `colour` with its first channel stepping each second), so that
    thumbnails and face crops are drawn."""
    tables = composed_tables()
    colours = [(colour[0] * (i // 10) % 255, colour[1], colour[2]) for i in range(120)]
    sources = [write_video(folder / f"{t.video_id}.avi", 10.0, 10 * len(t.sample_times_s), fourcc="MJPG", size=size,
                           colours=colours) for t in tables]
    return tables, real_store(folder / "f.h5", tables, sources=sources)


def truth_of(table) -> np.ndarray:
    """Who each face of a composed table is (by its descriptor's nearest person)."""
    who = {"alice": ALICE, "bob": BOB, "carol": CAROL, "dave": DAVE, "eve": EVE, "twin": TWIN, "twin2": TWIN2,
           "profile": PROFILE}
    names, centres = list(who), np.stack(list(who.values()))
    return np.array([names[int(np.argmin(np.linalg.norm(centres - e, axis=1)))] for e in table.embedding], dtype=object)


def real_store(path, tables, sources=None, features=None):
    """A FeatureStore holding `tables` (frame features zero unless given; source files as given)."""
    from featurestore.store.store import FeatureStore

    store = FeatureStore(path, mode="a", config={"model": "stand-in", "n_features": 4})
    for k, t in enumerate(tables):
        times = t.sample_times_s
        info = {"sample_fps": 1.0, "duration_s": float(len(times)), "fps": 10.0}
        if sources is not None:
            info["source_path"] = str(sources[k])
        feats = np.zeros((len(times), 4), np.float32) if features is None else features[k]
        store.put(t.video_id, requested_s=times, actual_s=times, features=feats, info=info)
        store.put_faces(t.video_id, t)
    return FeatureStore(path)


@pytest.fixture()
def clustered(tmp_path):
    tables = composed_tables()
    store = real_store(tmp_path / "f.h5", tables)
    run = cluster_store(tmp_path / "f.h5", tmp_path / "clusters.csv", faces=True)
    return tmp_path, tables, store, run


def _members(path):
    with open(path, newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def _people_of_clusters(tmp_path, tables):
    """cluster id -> the set of people (truth) its members are."""
    truth = {t.video_id: (t, truth_of(t)) for t in tables}
    out: dict[str, set] = {}
    for m in _members(tmp_path / "clusters.members.csv"):
        t, who = truth[m["video"]]
        row = int(np.flatnonzero(np.isclose(t.time_s, float(m["time_s"])) &
                                 np.isclose(t.box_px()[:, 0], float(m["x"]), atol=0.06))[0])
        out.setdefault(m["cluster"], set()).add(who[row])
    return out


def test_tracks_cluster_by_person_never_two_seen_together_and_the_blurred_apart(clustered):
    tmp_path, tables, _, run = clustered
    found = _people_of_clusters(tmp_path, tables)
    assert sorted(map(sorted, found.values())) == sorted([["alice"], ["bob"], ["profile"], ["carol", "dave"], ["twin"],
                                                          ["twin2"], ["eve"]])
    assert found["blurred"] == {"eve"}  # eve's track and the untracked face: no good face
    ids = [row["cluster"] for row in _members(tmp_path / "clusters.members.csv")]
    assert list(dict.fromkeys(ids)) == ["1", "2", "3", "4", "5", "6", "blurred"]  # largest first, the bin last
    assert {found["1"].pop(), found["2"].pop()} == {"alice", "bob"}  # 11 s each, then 6 s, 6 s, 4 s, 4 s
    boxes = _members(tmp_path / "clusters.members.csv")[0]
    assert float(boxes["w"]) == pytest.approx(0.2 * 640, abs=0.06) and float(boxes["h"]) == pytest.approx(0.35 * 360, abs=0.06)


def test_cannot_link_keeps_look_alikes_seen_together_apart():
    x = np.array([[0.0, 0.0], [0.05, 0.0], [0.02, 0.01], [3.0, 3.0]])
    assert agglomerate(x, 0.5).tolist() == [0, 0, 0, 1]
    labels = agglomerate(x, 0.5, cannot_link=np.array([[0, 1]]))
    assert labels[0] != labels[1] and labels[3] not in labels[:3]
    for method in ("average", "complete"):  # however many points join them, 0 and 1 stay apart
        many = np.vstack([x[:2], np.random.default_rng(0).normal(0, 0.01, size=(50, 2))])
        labels = agglomerate(many, 10.0, cannot_link=np.array([[0, 1]]), method=method)
        assert labels[0] != labels[1]


def test_two_stages_keep_the_cannot_links(monkeypatch):
    import classifiers.clusters.linkage as linkage

    rng = np.random.default_rng(1)
    x = np.vstack([rng.normal(0, 0.01, (20, 3)), rng.normal(5, 0.01, (20, 3))])
    groups = np.repeat([0, 1], 20)
    pairs = np.array([[0, 1], [20, 21]])
    one = agglomerate(x, 0.5, cannot_link=pairs, groups=groups)
    monkeypatch.setattr(linkage, "MAX_ONE_STAGE", 10)
    two = agglomerate(x, 0.5, cannot_link=pairs, groups=groups)
    assert two[0] != two[1] and two[20] != two[21] and len(set(two[:20]) & set(two[20:])) == 0
    assert len(np.unique(one)) == len(np.unique(two)) == 4


def test_a_stage_too_large_is_refused_before_its_distances(monkeypatch):
    """The second stage (every video's clusters together) is bounded by nothing but memory: refused in one line
    naming the count and the memory, before SciPy allocates the matrix (was a MemoryError, or swapping, at scale)."""
    import scipy.spatial.distance
    import classifiers.clusters.linkage as linkage
    from featurestore.errors import TooLargeToCluster

    x = np.random.default_rng(2).normal(0, 1, (60, 8))  # far apart: nothing merges in the first stage
    sizes = []
    real_pdist = scipy.spatial.distance.pdist
    monkeypatch.setattr(scipy.spatial.distance, "pdist", lambda p: sizes.append(len(p)) or real_pdist(p))
    monkeypatch.setattr(linkage, "MAX_ONE_STAGE", 20)
    monkeypatch.setattr(linkage, "stage_limit_bytes", lambda: 16 * 40 * 39 // 2, raising=False)  # 40 points at most
    with pytest.raises(TooLargeToCluster, match=r"60 clusters of shots together would need 0\.0 GiB"):
        agglomerate(x, 0.01, groups=np.repeat([0, 1, 2], 20), noun="shots")
    assert sizes == [20, 20, 20]  # the first stage ran, the second was never allocated
    assert len(np.unique(agglomerate(x[:40], 0.01, groups=np.repeat([0, 1], 20)))) == 40  # within the limit: as before


def test_cluster_cli_too_large_is_one_line(tmp_path, capsys, monkeypatch):
    import classifiers.clusters.linkage as linkage
    from featurestore.store.store import FeatureStore

    config = {"model": "vgg16", "weights": "random:seed=0", "pooling": "avg", "image_size_px": 224, "n_features": 16}
    store = FeatureStore(tmp_path / "f.h5", mode="a", config=config)
    rng = np.random.default_rng(0)
    for v in range(2):
        t = np.arange(30.0)
        store.put(f"v{v}.mp4", requested_s=t, actual_s=t, features=rng.normal(0, 1, (30, 16)).astype(np.float32),
                  info={"sample_fps": 1.0, "duration_s": 30.0})
    monkeypatch.setattr(linkage, "stage_limit_bytes", lambda: 16 * 20 * 19 // 2, raising=False)
    code, _, err = run_cli(["cluster", "--store", tmp_path / "f.h5", "-o", tmp_path / "c.csv"], capsys)
    assert code == 1 and "Traceback" not in err
    assert re.search(r"^error: clustering [0-9,]+ shots together would need .* GiB of memory .*--threshold", err, re.M)
    assert not (tmp_path / "c.csv").exists()


def test_spread_picks_start_typical_then_farthest():
    x = np.array([[0.0], [0.1], [-0.1], [5.0], [-3.0]])
    assert spread_picks(x, 3) == [1, 3, 4] and spread_picks(x, 0) == [] and len(spread_picks(x, 10)) == 5


def fill(tmp_path, names: dict, extra: list[tuple] = (), header=("cluster", "name")):
    """Fill clusters.csv: cluster id -> name for each truth set (frozenset of people), plus split rows."""
    found = _people_of_clusters(tmp_path, composed_tables())
    rows = [(cid, names.get(frozenset(people), "")) for cid, people in found.items()]
    with open(tmp_path / "clusters.csv", "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(header)
        for cid, name in rows:
            w.writerow((cid, "", name) if len(header) == 3 else (cid, name))
        w.writerows(extra)
    return found


def _track_number(tmp_path, tables, person):
    truth = {t.video_id: (t, truth_of(t)) for t in tables}
    for m in _members(tmp_path / "clusters.members.csv"):
        t, who = truth[m["video"]]
        row = int(np.flatnonzero(np.isclose(t.time_s, float(m["time_s"])) &
                                 np.isclose(t.box_px()[:, 0], float(m["x"]), atol=0.06))[0])
        if who[row] == person:
            return m["cluster"], m["track"]
    raise AssertionError(person)


def test_filled_clusters_give_exactly_the_expected_face_labels(clustered):
    """Fill: alice's front and profile clusters both 'alice' (merged), bob 'bob', carol+dave 'carol' with dave's track
    split off as 'dave', one look-alike 'Unknown' (not in the cast: the unknown class) and the other empty (left out),
    the blurred bin empty."""
    tmp_path, tables, store, _ = clustered
    dave_cluster, dave_track = _track_number(tmp_path, tables, "dave")
    twin_cluster, _ = _track_number(tmp_path, tables, "twin")
    fill(tmp_path, {frozenset({"alice"}): "alice", frozenset({"profile"}): "alice", frozenset({"bob"}): "bob",
                    frozenset({"carol", "dave"}): "carol", frozenset({"twin"}): "Unknown"},
         extra=[(dave_cluster, dave_track, "dave")], header=("cluster", "track", "name"))
    videos, actors = label_store_faces(store, [tmp_path / "clusters.csv"])
    assert actors == ["alice", "bob", "carol", "dave"]
    expected_names = {"alice": "alice", "profile": "alice", "bob": "bob", "carol": "carol", "dave": "dave",
                      "twin": "unknown"}
    for t in tables:
        expected = np.array([expected_names.get(p, "") for p in truth_of(t)], dtype=object)
        got = videos[t.video_id].label if t.video_id in videos else np.full(len(t), "", dtype=object)
        assert got.tolist() == expected.tolist(), t.video_id
    a = videos["a.mp4"]
    assert a.labelled.all() and a.actors_at[0] == ("alice", "bob") and a.actors_at[9] == ("alice", "dave")
    b = videos["b.mp4"]
    assert not b.labelled[:5].any() and b.labelled[5:].sum() == 4  # eve (left out) beside alice; the junk face at 7 s
    assert not videos["c.mp4"].labelled.any()  # twin2 is left out


def test_clusters_csv_as_written_reads_back_and_names_clash_refused(clustered):
    tmp_path, _, store, _ = clustered
    with pytest.raises(LabelsInvalid, match="names no cluster"):
        label_store_faces(store, [tmp_path / "clusters.csv"])  # no labels: no suggestion, nothing filled
    text = (tmp_path / "clusters.csv").read_text()
    assert text.splitlines()[0] == "cluster,name,seconds,suggested,distance"
    (tmp_path / "clusters.csv").write_text(text.replace("1,,", "1,Tom,", 1).replace("2,,", "2,tom,", 1))
    with pytest.raises(LabelsInvalid, match="differ only in case"):
        label_store_faces(store, [tmp_path / "clusters.csv"])
    (tmp_path / "clusters.csv").write_text("cluster,name\n99,tom\n")
    with pytest.raises(LabelsInvalid, match="cluster '99' is not in clusters.members.csv"):
        label_store_faces(store, [tmp_path / "clusters.csv"])
    (tmp_path / "clusters.csv").write_text("cluster,track,name\n1,999,tom\n")
    with pytest.raises(LabelsInvalid, match="holds no track"):
        label_store_faces(store, [tmp_path / "clusters.csv"])
    (tmp_path / "elsewhere.csv").write_text("cluster,name\n1,tom\n")
    with pytest.raises(LabelsInvalid, match="elsewhere.members.csv is not beside it"):
        label_store_faces(store, [tmp_path / "elsewhere.csv"])
    (tmp_path / "clusters.csv").write_text("cluster,name\n1,tom\n")
    with pytest.raises(LabelsInvalid, match="names clusters of faces.*--faces"):
        parse_labels(tmp_path / "clusters.csv")  # a frame command


def test_labels_leave_their_faces_out_and_suggest_names(tmp_path):
    """With alice and bob labelled in a.mp4 (by tracks), a.mp4's alice and bob are left out, and the clusters of b.mp4's
    alice and bob get their names as suggestions, pre-filled in clusters.csv."""
    tables = composed_tables()
    real_store(tmp_path / "f.h5", tables)
    (tmp_path / "known.csv").write_text("video,track,label\na.mp4,0,alice\na.mp4,1,bob\n")
    run = cluster_store(tmp_path / "f.h5", tmp_path / "clusters.csv", faces=True, labels_paths=[tmp_path / "known.csv"])
    assert run.clustering.units.n_left_out == 12
    found = _people_of_clusters(tmp_path, tables)
    assert {"alice"} in found.values() and {"bob"} in found.values()
    rows = {r["cluster"]: r for r in csv.DictReader(open(tmp_path / "clusters.csv", encoding="utf-8"))}
    for cid, people in found.items():
        if people in ({"alice"}, {"bob"}):
            assert rows[cid]["name"] == people.pop() and float(rows[cid]["distance"]) < 0.3
        else:
            assert rows[cid]["name"] == ""
    members = _members(tmp_path / "clusters.members.csv")
    assert not any(m["video"] == "a.mp4" and float(m["time_s"]) < 6 for m in members)


def test_cluster_is_deterministic_and_its_page_shows_faces(tmp_path, capsys):
    """Two runs write the same bytes; with the source videos found, the page holds a face crop per picked track."""
    tables, _ = store_with_sources(tmp_path)
    outs = []
    for k in range(2):
        code, out, err = run_cli(["cluster", "--faces", "--store", tmp_path / "f.h5", "-o", tmp_path / f"r{k}.csv"], capsys)
        assert code == 0, err
        outs.append([(tmp_path / f"r{k}{suffix}").read_bytes().replace(b"r1.csv", b"r0.csv")
                     for suffix in (".csv", ".members.csv", ".html")])
    assert outs[0] == outs[1]  # the page names its CSV
    html = outs[0][2].decode()
    assert html.count("data:image/jpeg;base64,") == 9 + 2  # a face per track: 9 tracks in 6 clusters, 2 in the bin
    assert "Content-Security-Policy" in html and "<script" not in html and "The blurred / small bin" in html
    assert "6 clusters of faces from 11 tracks in 3 videos" in out and "next: look at r1.html" in out
    assert re.search(r" 1 track$", out, re.M) and " 1 tracks" not in out  # a cluster of one track said "1 tracks"


def cluster_with_known(tmp_path, capsys, label: str, out: str):
    """`cluster --faces -l known.csv -o OUT` on a store of `composed_tables()`, known.csv naming a.mp4's track 0
    `label` (a CSV cell, maybe with more rows after it); returns (code, stdout, stderr)."""
    real_store(tmp_path / "f.h5", composed_tables())
    (tmp_path / "known.csv").write_text(f"video,track,label\na.mp4,0,{label}\n")
    return run_cli(["cluster", "--faces", "--store", tmp_path / "f.h5", "-l", tmp_path / "known.csv",
                    "-o", tmp_path / out], capsys)


def test_cluster_escapes_names_and_refuses_outputs_over_inputs(tmp_path, capsys):
    code, _, err = cluster_with_known(tmp_path, capsys, '"<script>alert(1)</script>"\na.mp4,1,=cmd', "c.csv")
    assert code == 0, err
    html = (tmp_path / "c.html").read_text()
    assert "<script>alert" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "'=cmd" in (tmp_path / "c.csv").read_text()  # a spreadsheet shows it, never runs it
    code, _, err = run_cli(["cluster", "--faces", "--store", tmp_path / "f.h5", "-l", tmp_path / "known.csv",
                            "-o", tmp_path / "known.csv"], capsys)
    assert code == 2 and "is the labels file, an input" in err and "--out" in err
    code, _, err = run_cli(["cluster", "--faces", "--store", tmp_path / "f.h5", "-o", tmp_path / "c.txt"], capsys)
    assert code == 2 and ".csv" in err


def test_shots_cluster_by_frame_features_and_name_intervals(tmp_path, capsys):
    """Frame mode: a 12 s video (cuts at 4 and 8 s, stored with its face table) whose shots show scenes x, y, x; and a
    6 s one of y then x. Shots of one scene cluster together; the names turn into intervals every frame command reads."""
    rng = np.random.default_rng(0)
    x, y = np.abs(rng.normal(size=4)), np.abs(rng.normal(size=4))
    scene = {"x": x, "y": y}

    def feats(script):
        return np.array([scene[s] + rng.normal(0, 0.01, 4) for s in script], np.float32)
    t1 = face_table("one.mp4", 12, [], cuts_s=[4.0, 8.0])
    t2 = face_table("two.mp4", 6, [], cuts_s=[3.0])
    real_store(tmp_path / "f.h5", [t1, t2], features=[feats("xxxxyyyyxxxx"), feats("yyyxxx")])
    code, out, err = run_cli(["cluster", "--store", tmp_path / "f.h5", "-o", tmp_path / "scenes.csv"], capsys)
    assert code == 0, err
    members = _members(tmp_path / "scenes.members.csv")
    by_cluster: dict[str, set] = {}
    for m in members:
        by_cluster.setdefault(m["cluster"], set()).add((m["video"], float(m["start_s"]), float(m["end_s"])))
    assert sorted(by_cluster.values(), key=len) == [{("one.mp4", 4.0, 8.0), ("two.mp4", 0.0, 3.0)},
                                                    {("one.mp4", 0.0, 4.0), ("one.mp4", 8.0, 12.0), ("two.mp4", 3.0, 6.0)}]
    big = max(by_cluster, key=lambda c: len(by_cluster[c]))
    (tmp_path / "scenes.csv").write_text(f"cluster,name\n{big},kitchen\n{'2' if big == '1' else '1'},garden\n")
    from classifiers.data.join import StoreGrids, join_labels
    from featurestore.store.store import FeatureStore

    frames = join_labels(parse_labels(tmp_path / "scenes.csv"), StoreGrids(FeatureStore(tmp_path / "f.h5")))
    got = {(v, r): label for v, r, label in zip(frames["video_id"], frames["row"], frames["label"])}
    want = {("one.mp4", i): "kitchen" if s == "x" else "garden" for i, s in enumerate("xxxxyyyyxxxx")}
    want |= {("two.mp4", i): "kitchen" if s == "x" else "garden" for i, s in enumerate("yyyxxx")}
    assert got == want
    (tmp_path / "scenes.csv").write_text(f"cluster,shot,name\n{big},,kitchen\n{big},1,garden\n")
    frames = join_labels(parse_labels(tmp_path / "scenes.csv"), StoreGrids(FeatureStore(tmp_path / "f.h5")), min_classes=1)
    assert set(frames[frames["label"] == "garden"]["requested_s"]) == {0.0, 1.0, 2.0, 3.0}  # shot 1: one.mp4's first


def test_synthetic_cast_named_with_few_names_and_trained_from_them(tmp_path, capsys):
    """Synthetic faces of a 4-actor cast in 4 videos (extras, blur, junk): clusters' purity >= 95%, at most 2 x 4 names
    cover 90% of the cast's faces, and compare-models --faces trains from those names alone."""
    world = FaceWorld.make(seed=0)
    videos = make_face_videos(world, 4, seed=5, duration_s=90.0, confusion=0.8)
    real_store(tmp_path / "f.h5", [v.table for v in videos])
    run = cluster_store(tmp_path / "f.h5", tmp_path / "clusters.csv", faces=True)
    person = {v.video_id: v.person for v in videos}
    units, total, majority, names = run.clustering.units, 0, 0, {}
    cast_faces = sum(int(np.isin(p, world.actors).sum()) for p in person.values())
    covered = 0
    for c in run.clustering.clusters:
        who = np.concatenate([person[units.video[u]][units.rows[u]] for u in c.units])
        values, counts = np.unique(who, return_counts=True)
        top = values[np.argmax(counts)]
        if not c.is_blurred:
            total, majority = total + len(who), majority + counts.max()
            if top in world.actors and covered < 0.9 * cast_faces:
                names[c.id] = top
                covered += counts.max()
    assert majority / total >= 0.95 and covered >= 0.9 * cast_faces and len(names) <= 2 * len(world.actors)
    (tmp_path / "clusters.csv").write_text("cluster,name\n" + "".join(f"{c},{n}\n" for c, n in names.items()))
    code, out, err = run_cli(["compare-models", "--faces", "-l", tmp_path / "clusters.csv", "--store", tmp_path / "f.h5",
                              "-o", tmp_path / "m.skops", "-m", "logreg", "-k", "2", "-j", "1"], capsys)
    assert code == 0, err
    assert "by named clusters" in " ".join(out.split()) and (tmp_path / "m.skops").is_file()

    # suggest-labels with the face model: the unnamed tracks, least sure and largest first, as video,track,label
    code, out, err = run_cli(["suggest-labels", "--model", tmp_path / "m.skops", "--store", tmp_path / "f.h5",
                              "-l", tmp_path / "clusters.csv", "--budget-s", 60, "-o", tmp_path / "todo.csv"], capsys)
    assert code == 0, err
    assert "tracks to name" in " ".join(out.split()) and "compare-models --faces" in " ".join(out.split())
    with open(tmp_path / "todo.csv", newline="", encoding="utf-8") as fh:
        todo = list(csv.DictReader(fh))
    assert todo and sum(float(r["end_s"]) - float(r["start_s"]) for r in todo) <= 60 + len(todo)
    units = run.clustering.units
    in_named = {(units.video[u], int(units.track[u])) for c in run.clustering.clusters if c.id in names for u in c.units}
    assert not {(r["video"], int(r["track"])) for r in todo} & in_named  # never a track already named
    by_video = {v.video_id: v for v in videos}
    for r in todo:  # the user names each track by who it is
        v = by_video[r["video"]]
        who = v.person[v.table.track == int(r["track"])]
        r["label"] = who[0] if who[0] in world.actors else "unknown"
    with open(tmp_path / "todo.csv", "w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, fieldnames=list(todo[0]))
        w.writeheader()
        w.writerows(todo)
    code, out, err = run_cli(["compare-models", "--faces", "-l", tmp_path / "clusters.csv", "-l", tmp_path / "todo.csv",
                              "--store", tmp_path / "f.h5", "-o", tmp_path / "m2.skops", "-m", "logreg", "-k", "2",
                              "-j", "1"], capsys)
    assert code == 0, err


def test_track_suggestions_put_the_long_unsure_track_first(tmp_path, monkeypatch):
    """A long track halfway between alice and bob comes before a short one and before clear ones."""
    from classifiers.chain.face_model import FaceModel
    from classifiers.chain.face_persist import save_face_model
    from classifiers.suggest_faces import suggest_tracks
    from sklearn.linear_model import LogisticRegression

    between = unit(ALICE + BOB)
    t = face_table("v.mp4", 30, [*_faces(ALICE, 0, range(0, 10), 0, 0), *_faces(between, 1, range(10, 22), 1, 50),
                                 *_faces(between, 2, range(22, 25), 1, 80), *_faces(BOB, 3, range(25, 30), 0, 90)])
    real_store(tmp_path / "f.h5", [t])
    clf = LogisticRegression(C=10).fit(np.array([near(ALICE, i) for i in range(10)] + [near(BOB, i) for i in range(10)]),
                                       ["alice"] * 10 + ["bob"] * 10)
    save_face_model(tmp_path / "m.skops", FaceModel(clf, ["alice", "bob"], 0.3, smoothing="track", face_config=dict(t.config)))
    result = suggest_tracks(tmp_path / "f.h5", tmp_path / "m.skops", 16)
    assert [s.track for s in result.tracks][:2] == [1, 2] and result.tracks[0].uncertainty > 0.8
    assert result.tracks[0].seconds == 12 and result.total_s <= 16
    # through suggest-labels' entry point: the frame-model loader refuses the face model, which is then read no more
    import classifiers.chain.face_persist as face_persist
    import classifiers.chain.persist as persist
    from classifiers.suggest import suggest_labels

    reads = []
    for module in (persist, face_persist):
        monkeypatch.setattr(module, "load_model_file", lambda path, real=module.load_model_file: reads.append(path) or real(path))
    again = suggest_labels(tmp_path / "f.h5", tmp_path / "m.skops", budget_s=16)
    assert [s.track for s in again.tracks] == [s.track for s in result.tracks] and len(reads) == 1


def test_shots_of_a_video_without_faces_come_from_its_cuts(tmp_path, capsys):
    """A 9 s video (10 fps) red, blue, red for 3 s each, stored without faces: PySceneDetect finds its two cuts, the
    two red shots make one cluster, and the page shows each shot's middle frame."""
    pytest.importorskip("scenedetect")
    from featurestore.store.store import FeatureStore

    colours = [(0, 0, 220) if (i // 30) % 2 == 0 else (220, 0, 0) for i in range(90)]
    video = write_video(tmp_path / "rbr.avi", 10.0, 90, fourcc="MJPG", size=(96, 64), colours=colours)
    store = FeatureStore(tmp_path / "f.h5", mode="a", config={"model": "stand-in", "n_features": 4})
    t = np.arange(9.0)
    feats = np.array([[1, 0, 0.1 + 0.02 * (i > 5), 0] if (i // 3) % 2 == 0 else [0, 1, 0, 0.1] for i in range(9)], np.float32)
    store.put("rbr.avi", requested_s=t, actual_s=t, features=feats,
              info={"sample_fps": 1.0, "duration_s": 9.0, "fps": 10.0, "source_path": str(video)})
    code, out, err = run_cli(["cluster", "--store", tmp_path / "f.h5", "-o", tmp_path / "s.csv"], capsys)
    assert code == 0, err
    members = _members(tmp_path / "s.members.csv")
    assert [(m["cluster"], float(m["start_s"]), float(m["end_s"])) for m in members] == [
        ("1", 0.0, 3.0), ("1", 6.0, 9.0), ("2", 3.0, 6.0)]
    assert (tmp_path / "s.html").read_text().count("data:image/jpeg;base64,") == 3


def test_a_shot_is_split_where_what_it_shows_changes_without_a_cut():
    """A 12 s shot (no cut) showing x for 6 s then y (a character walks in): two units, each the samples of one
    scene; noise inside a scene splits nothing; without `split` the shot stays whole."""
    from classifiers.clusters.shots import StoredFrames, shot_units

    rng = np.random.default_rng(1)
    x, y = np.array([1.0, 0.2, 0, 0]), np.array([0.2, 1.0, 0.3, 0])
    feats = np.array([(x if i < 6 else y) + rng.normal(0, 0.02, 4) for i in range(12)])
    t = np.arange(12.0)
    frames = {"v.mp4": StoredFrames(t, t, feats, np.zeros(0), 1.0)}
    units = shot_units(frames, split=0.35)
    assert [r.tolist() for r in units.rows] == [list(range(6)), list(range(6, 12))]
    assert units.start_s.tolist() == [0.0, 6.0] and units.end_s.tolist() == [6.0, 12.0]
    assert [r.tolist() for r in shot_units(frames).rows] == [list(range(12))]
    labelled = np.zeros(12, bool)
    labelled[8] = True  # a label covers the second scene only: the first is still clustered
    assert [r.tolist() for r in shot_units(frames, exclude={"v.mp4": labelled}, split=0.35).rows] == [list(range(6))]


def test_shots_get_names_from_labelled_videos_not_clustered(tmp_path, capsys):
    """Frame mode: one.mp4 labelled (kitchen 0-6 s, garden 6-12 s; shots at 6 s), two.mp4 clustered alone: its shots
    like the kitchen's and the garden's get those names as suggestions, pre-filled."""
    rng = np.random.default_rng(1)
    x, y = np.abs(rng.normal(size=4)), np.abs(rng.normal(size=4))

    def feats(script):
        return np.array([{"x": x, "y": y}[s] + rng.normal(0, 0.01, 4) for s in script], np.float32)
    real_store(tmp_path / "f.h5", [face_table("one.mp4", 12, [], cuts_s=[6.0]), face_table("two.mp4", 8, [], cuts_s=[4.0])],
               features=[feats("xxxxxxyyyyyy"), feats("yyyyxxxx")])
    (tmp_path / "l.csv").write_text("video,start,end,label\none.mp4,0,6,kitchen\none.mp4,6,12,garden\n")
    code, out, err = run_cli(["cluster", "--store", tmp_path / "f.h5", "-l", tmp_path / "l.csv", "-o", tmp_path / "s.csv",
                              "two.mp4"], capsys)
    assert code == 0, err
    rows = list(csv.DictReader(open(tmp_path / "s.csv", encoding="utf-8")))
    members = {m["cluster"]: float(m["start_s"]) for m in _members(tmp_path / "s.members.csv")}
    assert {members[r["cluster"]]: r["name"] for r in rows} == {0.0: "garden", 4.0: "kitchen"}
    assert "2 with a suggested name" in " ".join(out.split())


def test_the_python_apis_cluster_writes_the_files_and_gives_them_as_tables(tmp_path):
    """`screentime.cluster(store, out=..., faces=True)` as `screentime cluster --faces`: the same three files, and
    `to_pandas()` / `members_to_pandas()` hold what clusters.csv and its members file hold."""
    import pandas as pd

    import screentime

    real_store(tmp_path / "f.h5", composed_tables())
    result = screentime.cluster(tmp_path / "f.h5", out=tmp_path / "c.csv", faces=True)
    assert [p.name for p in result.paths] == ["c.csv", "c.members.csv", "c.html"] and all(p.exists() for p in result.paths)
    table, written = result.to_pandas(), pd.read_csv(tmp_path / "c.csv", dtype={"cluster": str}, keep_default_na=False)
    assert table["cluster"].tolist() == written["cluster"].tolist() and len(table) > 1
    assert np.allclose(table["seconds"], written["seconds"].astype(float))
    members = result.members_to_pandas()
    on_disk = pd.read_csv(tmp_path / "c.members.csv", dtype={"cluster": str})
    assert members.columns.tolist() == [*on_disk.columns, "face"] and len(members) == len(on_disk)  # + the face's rank
    assert (members["cluster"] == on_disk["cluster"]).all() and np.allclose(members["time_s"], on_disk["time_s"])
    assert members.groupby("cluster").size().reindex(table["cluster"]).tolist() == table["n_items"].tolist()
    with pytest.raises(InvalidParameterType):
        screentime.cluster(tmp_path / "f.h5", out=tmp_path / "c.csv", faces="yes")


def test_the_next_step_after_cluster_with_labels_trains_on_those_labels_too(tmp_path, capsys):
    """docs/labels.md step 6: `cluster -l clusters.csv --out more.csv`, then compare-models -l clusters.csv -l more.csv.
    The printed next step said `-l more.csv` alone: followed as written, it trained on the new names and dropped the
    old ones. One track is '1 track', not '1 tracks'."""
    code, out, err = cluster_with_known(tmp_path, capsys, "alice", "more.csv")
    assert code == 0, err
    assert f"compare-models --faces -l {tmp_path / 'known.csv'} -l {tmp_path / 'more.csv'} --out NEW.skops" in out
    assert " 1 tracks" not in out and " 1 track" in out


def test_naming_the_whole_blurred_bin_warns_that_its_faces_are_anyones(tmp_path):
    """The bin holds the faces of anyone too small or blurred to cluster (here eve's blurred track and an untracked
    face); a user who writes `unknown` on its row, taking it for junk, trains every face in it as that name."""
    from classifiers.data.clusters import read_cluster_names

    real_store(tmp_path / "f.h5", composed_tables())
    cluster_store(tmp_path / "f.h5", tmp_path / "c.csv", faces=True)
    path = tmp_path / "c.csv"
    text = path.read_text().replace("blurred,,", "blurred,unknown,")
    with pytest.warns(Warning, match=r"names the whole blurred bin 'unknown', so its 6 faces \(2 tracks\)"):
        names = read_cluster_names(path, text)
    assert "unknown" in names.name


def test_cluster_faces_says_which_videos_have_no_faces(tmp_path, capsys):
    """A store whose third video was embedded without --faces: the clustering is of two videos, and says so; it
    said "from 11 tracks in 3 videos", as if the third's faces had been clustered too."""
    from featurestore.store.store import FeatureStore

    real_store(tmp_path / "f.h5", composed_tables()[:2])
    store = FeatureStore(tmp_path / "f.h5", mode="a", config={"model": "stand-in", "n_features": 4})
    store.put("plain.mp4", requested_s=np.arange(4.0), actual_s=np.arange(4.0), features=np.zeros((4, 4), np.float32),
              info={"sample_fps": 1.0, "duration_s": 4.0, "fps": 10.0})
    code, out, err = run_cli(["cluster", "--faces", "--store", tmp_path / "f.h5", "-o", tmp_path / "c.csv"], capsys)
    assert code == 0, err
    out = " ".join(out.split())
    assert "in 2 videos" in out and "note: 1 video left out, no faces stored: plain.mp4" in out


def test_cluster_faces_leaves_out_a_video_whose_face_table_is_damaged_and_says_so(tmp_path, capsys):
    """One damaged face table (bytes flipped on disk) refused the clustering of every video; the others are
    clustered, and a note names the video left out and check-store."""
    from test_store_faces import flip_dataset

    from featurestore.store.store import FeatureStore

    real_store(tmp_path / "f.h5", composed_tables())
    ids = FeatureStore(tmp_path / "f.h5").face_video_ids()
    flip_dataset(FeatureStore(tmp_path / "f.h5").shard_path(ids[0]), "embedding")
    code, out, err = run_cli(["cluster", "--faces", "--store", tmp_path / "f.h5", "-o", tmp_path / "c.csv"], capsys)
    assert code == 0, err
    out = " ".join(out.split())
    assert f"in {len(ids) - 1} videos" in out and f"note: 1 video left out, faces damaged: {ids[0]}" in out
    assert "check-store" in out


def test_cluster_faces_of_videos_without_a_face_says_so_and_asks_no_naming(tmp_path, capsys):
    """Videos where embed --faces found no face (a black video): "0 clusters ... next: look at c.html, fill the name
    column of c.csv" asked the user to name clusters that do not exist; it says there is nothing to name."""
    real_store(tmp_path / "f.h5", [face_table("black.mp4", 5, [])])
    code, out, err = run_cli(["cluster", "--faces", "--store", tmp_path / "f.h5", "-o", tmp_path / "c.csv"], capsys)
    assert code == 0, err
    out = " ".join(out.split())
    assert "0 clusters of faces from 0 tracks in 1 video" in out and "fill the name column" not in out
    assert "no faces to name" in out
