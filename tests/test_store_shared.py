"""A store shared with other programs: a real process holding its files open with h5py while screentime reads,
checks, repairs or writes it.

HDF5 (1.10 and later) locks a file while it is open: shared for reading, exclusive for writing. A file another
program holds open for writing cannot be opened at all, and that is not damage: it is said in one line, and
nothing is changed (check-store --repair used to rebuild the index, or move the video's shard into damaged/).
"""

import subprocess
import sys
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pytest

from conftest import ROOT, error_lines, run_cli as run
from featurestore import FeatureStore
from featurestore.errors import StoreBusy

CONFIG = {"model": "vgg16", "weights": "random:seed=0", "pooling": "avg", "image_size_px": 32, "n_features": 512}
HOLDER = """
import sys, h5py
f = h5py.File(sys.argv[1], "a")
if len(sys.argv) > 2:
    f[sys.argv[2]][()]  # follows the index's external link: the shard is opened (and locked) for writing too
print("ready", flush=True)
sys.stdin.read()
"""


@pytest.fixture
def store(tmp_path):
    """A store of two videos put from Python (10 samples each)."""
    fs = FeatureStore(tmp_path / "f.h5", mode="a", config=CONFIG)
    t = np.arange(10.0)
    for i, video_id in enumerate(("a.mp4", "b.mp4")):
        fs.put(video_id, requested_s=t, actual_s=t, features=np.full((10, 512), i, np.float32),
               info={"sample_fps": 1.0, "duration_s": 10.0})
    return tmp_path / "f.h5"


@contextmanager
def held_for_writing(path, *inside):
    """A Python session in another process with `path` open in h5py mode 'a' (and the objects `inside` read)."""
    proc = subprocess.Popen([sys.executable, "-c", HOLDER, str(path), *inside], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline().strip() == "ready"
        yield
    finally:
        proc.stdin.close()
        proc.wait(timeout=30)


def files(store_path):
    """Each file of the store and its inode: screentime replaces a file by writing a new one and renaming it, and
    the holder's own HDF5 changes bytes (its open-for-writing flag), so names and inodes say whether we wrote."""
    folder = store_path.with_name(store_path.name + ".d")
    return {p.relative_to(store_path.parent): p.stat().st_ino for p in [store_path, *folder.rglob("*")]
            if p.is_file() and p.suffix != ".lock"}


def error_line(err: str) -> str:
    assert "Traceback" not in err
    [line] = error_lines(err)
    return line


def test_index_held_for_writing_elsewhere_is_busy_not_damaged(store, capsys):
    before = files(store)
    with held_for_writing(store):
        with pytest.raises(StoreBusy, match="open for writing in another program"):
            FeatureStore(store).video_ids()
        for args in (["check-store"], ["check-store", "--repair"]):
            code, out, err = run([*args, "--store", store], capsys)
            line = error_line(err)
            assert code == 1 and str(store) in line and "open for writing in another program" in line, line
            assert "damaged" not in line and "--repair" not in line  # used to: "the store index is damaged ... --repair"
        assert files(store) == before  # the repair used to rebuild the index under the other program
    assert FeatureStore(store).video_ids() == ["a.mp4", "b.mp4"]


def test_shard_held_for_writing_elsewhere_is_busy_and_the_repair_moves_nothing(store, capsys):
    fs = FeatureStore(store)
    shard = fs.shard_path("a.mp4")
    before = files(store)
    with held_for_writing(shard):
        with pytest.raises(StoreBusy, match="open for writing in another program") as caught:
            fs.load("a.mp4")  # used to raise VideoDamaged: "embed its video again ... or drop it with --repair"
        assert shard.name in str(caught.value) and "\n" not in str(caught.value)
        assert fs.load("b.mp4")[1].shape == (10, 512)  # the other videos read as ever
        code, out, err = run(["check-store", "--repair", "--store", store], capsys)
        assert code == 1 and "open for writing in another program" in error_line(err)
        assert files(store) == before  # used to move a.mp4's intact shard into damaged/ and drop it from the index
    assert FeatureStore(store).verify().is_intact


def test_index_read_through_by_a_session_in_write_mode_refuses_a_put_in_one_line(store):
    t = np.arange(3.0)
    fs = FeatureStore(store, mode="a", config=CONFIG)
    before = files(store)
    with held_for_writing(store, "videos/a.mp4/features"):
        with pytest.raises(StoreBusy, match="close it there"):
            fs.put("c.mp4", requested_s=t, actual_s=t, features=np.ones((3, 512)), info={"sample_fps": 1.0, "duration_s": 3.0})
    assert files(store) == before
    fs.put("c.mp4", requested_s=t, actual_s=t, features=np.ones((3, 512)), info={"sample_fps": 1.0, "duration_s": 3.0})
    assert FeatureStore(store).video_ids() == ["a.mp4", "b.mp4", "c.mp4"]


def test_index_held_for_reading_elsewhere_blocks_nothing(store, capsys):
    proc = subprocess.Popen([sys.executable, "-c", HOLDER.replace('"a"', '"r"'), str(store), "videos/a.mp4/features"],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline().strip() == "ready"
        t = np.arange(3.0)
        FeatureStore(store, mode="a", config=CONFIG).put("c.mp4", requested_s=t, actual_s=t, features=np.ones((3, 512)),
                                                          info={"sample_fps": 1.0, "duration_s": 3.0})
        assert run(["check-store", "--repair", "--store", store], capsys)[0] == 0
    finally:
        proc.stdin.close()
        proc.wait(timeout=30)
    assert FeatureStore(store).video_ids() == ["a.mp4", "b.mp4", "c.mp4"]


def test_commands_suggested_for_a_path_with_spaces_paste_as_they_are(tmp_path, capsys):
    """A shared folder named 'Team Drive/épisodes': the command a message suggests runs when pasted."""
    import shlex

    folder = tmp_path / "Team Drive" / "épisodes"
    folder.mkdir(parents=True)
    fs = FeatureStore(folder / "my store.h5", mode="a", config=CONFIG)
    t = np.arange(3.0)
    fs.put("a.mp4", requested_s=t, actual_s=t, features=np.ones((3, 512)), info={"sample_fps": 1.0, "duration_s": 3.0})
    (folder / "my store.h5").write_bytes(b"not hdf5 any more")
    code, out, err = run(["compare-models", "--store", folder / "my store.h5", "-l", tmp_path / "l.csv"], capsys)
    line = error_line(err)
    suggested = line.split("`")[1]
    assert shlex.split(suggested)[-3:] == ["--store", str(folder / "my store.h5"), "--repair"], suggested
    with pytest.raises(Exception) as caught:
        FeatureStore(folder / "missing.h5")
    assert shlex.split(str(caught.value).split("`")[1])[-1] == str(folder / "missing.h5")


def test_a_store_given_as_its_folder_names_the_store_to_pass(store, capsys):
    """--store data/ (the folder a store was shared in) or --store f.h5.d (its shard folder): the line names the store."""
    folder = store.parent
    for given in (folder, store.with_name("f.h5.d")):
        code, out, err = run(["check-store", "--store", given], capsys)
        line = error_line(err)
        assert code == 1 and "is a directory" in line and f"--store {store}" in line, line
    empty = folder / "empty"
    empty.mkdir()
    code, out, err = run(["check-store", "--store", empty], capsys)
    assert code == 1 and "pass a file path such as features.h5" in error_line(err)


def put(fs, video_id, value):
    t = np.arange(10.0)
    fs.put(video_id, requested_s=t, actual_s=t, features=np.full((10, 512), value, np.float32),
           info={"sample_fps": 1.0, "duration_s": 10.0})


def test_check_store_while_a_video_is_replaced_or_removed_reports_no_damage(store, monkeypatch):
    """Another writer replaces 'a.mp4' (and removes 'b.mp4') after check-store listed the index, before it reads
    them: the old shards are gone, which is no damage (it said "its shard file is missing", exit status 1)."""
    from featurestore.store import integrity

    writer = FeatureStore(store, mode="a", config=CONFIG)
    real, done = integrity._check_shard, []

    def meanwhile(st, name, video_id, has_faces=False):
        if not done:
            done.append(True)
            put(writer, "a.mp4", 7)
            writer.remove("b.mp4")
        return real(st, name, video_id, has_faces)

    monkeypatch.setattr(integrity, "_check_shard", meanwhile)
    check = integrity.verify_store(store)
    assert done and check.is_intact, [(v.video_id, v.problem) for v in check.damaged]
    assert [v.video_id for v in check.videos] == ["a.mp4"] and not check.unindexed


def test_a_shard_published_while_check_store_lists_is_not_reported_unindexed(store, monkeypatch):
    from featurestore.store import integrity

    writer = FeatureStore(store, mode="a", config=CONFIG)
    real = integrity._check_shard

    def meanwhile(st, name, video_id, has_faces=False):
        if video_id is None:  # the unindexed shards are checked after the indexed ones
            monkeypatch.setattr(integrity, "_check_shard", real)
        return real(st, name, video_id, has_faces)

    real_open = integrity._open

    def listed_then_published(path):
        opened = real_open(path)
        put(writer, "c.mp4", 3)  # indexed after check-store read the index, before it lists the shards
        return opened

    monkeypatch.setattr(integrity, "_open", listed_then_published)
    monkeypatch.setattr(integrity, "_check_shard", meanwhile)
    check = integrity.verify_store(store)
    assert check.is_intact and not check.unindexed, [v.video_id for v in check.unindexed]


@pytest.mark.slow
def test_check_store_in_a_loop_while_another_process_replaces_a_video(store, tmp_path):
    """Real processes: one replaces 'a.mp4' 150 times, check-store (verify_store) runs meanwhile; every check is
    intact (20 of 40 used to report 'a.mp4' damaged)."""
    from featurestore.store.integrity import verify_store

    script = f"""
import sys; sys.path.insert(0, {str(ROOT)!r})
import numpy as np
from featurestore import FeatureStore
fs = FeatureStore({str(store)!r}, mode="a", config={CONFIG!r})
t = np.arange(10.0)
print("ready", flush=True)
for i in range(150):
    fs.put("a.mp4", requested_s=t, actual_s=t, features=np.full((10, 512), i, np.float32),
           info={{"sample_fps": 1.0, "duration_s": 10.0}})
"""
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "ready"
    reports = []
    while proc.poll() is None:
        check = verify_store(store)
        reports.append((check.is_intact and not check.unindexed, [(v.video_id, v.problem) for v in check.damaged]))
    assert proc.wait() == 0 and len(reports) >= 5
    assert all(ok for ok, _ in reports), [r for r in reports if not r[0]][:3]


def test_a_store_reached_through_a_symlink_is_the_store_it_links_to(store, tmp_path, capsys):
    """~/f.h5 -> the team's f.h5: its shards are beside the real index (every video read 'its shard file is missing'),
    and a write replaces the team's index, never the link (embed made the link a file of its own: the team's store
    no longer saw the video, the user's no longer saw the team's)."""
    mine = tmp_path / "me"
    mine.mkdir()
    (mine / "f.h5").symlink_to(store)
    code, out, err = run(["check-store", "--store", mine / "f.h5"], capsys)
    assert code == 0 and "2 videos, all intact" in out, out + err
    assert FeatureStore(mine / "f.h5").load("a.mp4")[1].shape == (10, 512)
    put(FeatureStore(mine / "f.h5", mode="a", config=CONFIG), "c.mp4", 2)
    assert (mine / "f.h5").is_symlink() and not (mine / "f.h5.d").exists()
    assert FeatureStore(store).video_ids() == ["a.mp4", "b.mp4", "c.mp4"]


@pytest.fixture
def team_folder():
    """A folder every member of a team may write (0777), removed after; skipped without root and setpriv, which run
    the second member's process (`as_another_member`)."""
    import os
    import shutil
    import tempfile

    if os.geteuid() != 0 or shutil.which("setpriv") is None:
        pytest.skip("needs root and setpriv to run a second user's process")
    folder = tempfile.mkdtemp(prefix="team store ")
    try:
        os.chmod(folder, 0o777)
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def as_another_member(argv: list[str], folder: str) -> subprocess.CompletedProcess:
    """`argv` run as another user (nobody), at home in `folder`; its output captured as text."""
    import os

    return subprocess.run(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", *argv], capture_output=True,
                          text=True, env={**os.environ, "HOME": folder})


def test_a_store_in_a_folder_shared_by_two_users_takes_the_videos_of_both(team_folder):
    """A team's store in a folder every member may write (here 0777): one user's index, lock and shards are theirs
    (0644, umask 022), and another user adds a video. It used to be refused: the lock file could not be opened for
    writing (and, for a while, the other's 0644 index was taken for write-protected)."""
    import os

    store = os.path.join(team_folder, "f.h5")
    put(FeatureStore(store, mode="a", config=CONFIG), "mine.mp4", 1)
    os.chmod(store + ".d", 0o777)
    assert os.stat(os.path.join(store + ".d", ".lock")).st_mode & 0o777 == 0o644
    script = f"""
import sys; sys.path.insert(0, {str(ROOT)!r})
import numpy as np
from featurestore import FeatureStore
t = np.arange(3.0)
FeatureStore({store!r}, mode="a", config={CONFIG!r}).put("theirs.mp4", requested_s=t, actual_s=t,
    features=np.ones((3, 512)), info={{"sample_fps": 1.0, "duration_s": 3.0}})
"""
    other = as_another_member([sys.executable, "-c", script], team_folder)
    assert other.returncode == 0, other.stderr[-600:]
    assert FeatureStore(store).video_ids() == ["mine.mp4", "theirs.mp4"]
    put(FeatureStore(store, mode="a", config=CONFIG), "mine too.mp4", 2)  # and the first user goes on
    assert FeatureStore(store).verify().is_intact


@pytest.mark.slow
def test_another_users_interrupted_embedding_is_done_anew_not_a_traceback(tmp_path, team_folder):
    """One member's embed is killed in a team's shared folder, leaving its checkpoint (0755, theirs); another member
    embeds the same video: it used to stop with a PermissionError traceback (the checkpoint's files were not theirs)."""
    import os
    import shutil
    import signal
    import time

    from conftest import write_video

    folder = team_folder

    video = write_video(tmp_path / "long.avi", 10, 1200, fourcc="MJPG",
                        colours=[((7 * j) % 250, (3 * j) % 250, 40) for j in range(1200)])
    shutil.copy(video, folder)
    video, store = os.path.join(folder, "long.avi"), os.path.join(folder, "f.h5")
    os.mkdir(store + ".d")
    os.chmod(store + ".d", 0o777)
    embed = [sys.executable, str(ROOT / "cli.py"), "embed", video, "--store", store, "--weights", "random",
             "--image-size", "32", "--fps", "10", "--batch-size", "4", "--workers", "0"]
    first = subprocess.Popen(embed, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    shard_dir = Path(store + ".d")
    deadline = time.time() + 120
    while time.time() < deadline and first.poll() is None and not any(shard_dir.glob("*.part/chunk-*.npz")):
        time.sleep(0.2)
    os.kill(first.pid, signal.SIGKILL)
    first.wait()
    [part] = shard_dir.glob("*.part")
    assert any(part.glob("chunk-*.npz")), "the first run was killed before it checkpointed"
    other = as_another_member(embed, folder)
    assert other.returncode == 0 and "Traceback" not in other.stderr, other.stderr[-800:]
    assert FeatureStore(store).load("long.avi")[1].shape == (1200, 512)


def test_a_repair_by_a_member_who_may_not_move_a_damaged_shard_is_one_line(team_folder):
    """A team's store with a damaged video, and damaged/ made by another member (0755, theirs): the repair cannot move
    the shard there; it says so in one line (it was a PermissionError traceback) and leaves the store as it was."""
    import os

    store = Path(team_folder) / "f.h5"
    fs = FeatureStore(store, mode="a", config=CONFIG)
    put(fs, "a.mp4", 1)
    put(fs, "b.mp4", 2)
    os.chmod(fs.shard_dir, 0o777)
    (fs.shard_dir / "damaged").mkdir()
    shard = fs.shard_path("a.mp4")
    data = bytearray(shard.read_bytes())
    mid = len(data) // 2  # in the features (10 x 512 float32 of a 32 KB shard): they fail their checksum
    data[mid:mid + 16] = bytes(b ^ 0xFF for b in data[mid:mid + 16])
    shard.write_bytes(bytes(data))
    assert not FeatureStore(store).verify().is_intact
    before = files(store)
    other = as_another_member([sys.executable, str(ROOT / "cli.py"), "check-store", "--repair", "--store", str(store)],
                              team_folder)
    assert other.returncode == 1 and "Traceback" not in other.stderr, other.stderr[-800:]
    line = error_line(other.stderr)
    assert "Permission denied" in line and "damaged" in line, line
    assert files(store) == before


def test_a_leftover_that_stays_is_not_counted_as_removed(tmp_path, monkeypatch):
    """Another member's `.X.part.trash-*` folder: rmtree(ignore_errors=True) leaves it, and --repair said 'removed 1
    leftover' on every run while the next check still found it."""
    import shutil

    from featurestore.store import sweep

    kept = tmp_path / ".clip.avi.part.trash-0123abcd"
    kept.mkdir()
    (kept / "x.h5").write_bytes(b"x")
    monkeypatch.setattr(shutil, "rmtree", lambda path, ignore_errors=False: None)  # as when another user owns it
    assert sweep._delete(kept) == 0 and kept.exists()
    monkeypatch.undo()
    assert sweep._delete(kept) == 1 and not kept.exists()
