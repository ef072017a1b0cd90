"""file_lock: exclusive, and its file may be deleted on release without letting two holders in at once."""

import os
import threading
import time
from pathlib import Path

from featurestore.store.locks import file_lock


def test_file_lock_is_exclusive_and_removed_on_release(tmp_path):
    path = tmp_path / "v.lock"
    with file_lock(path, remove=True) as held:
        assert held and path.exists()
        with file_lock(path, blocking=False) as other:
            assert other is False
    assert not path.exists()  # no zero-byte file left behind


def blocked_waiter_on(path, timeout_s: float = 10.0) -> bool:
    """Whether, within `timeout_s`, the kernel lists a process blocked on a lock of `path` (/proc/locks '->')."""
    inode = os.stat(path).st_ino
    deadline = time.time() + timeout_s
    while time.time() < deadline:
        for line in Path("/proc/locks").read_text().splitlines():
            fields = line.split()
            if "->" in fields and int(fields[-3].rsplit(":", 1)[1]) == inode:
                return True
        time.sleep(0.01)
    return False


def test_file_lock_waiter_of_a_deleted_file_locks_the_live_one(tmp_path):
    """A waits holding the lock, B blocks on the same file; A deletes it on release. B must then hold the lock
    on the file that is at the path, so that a newcomer C cannot get it too."""
    path = tmp_path / "v.lock"
    b_holds, b_done, log = threading.Event(), threading.Event(), []

    def b():
        with file_lock(path, remove=True) as held:
            log.append(("b", held, path.exists()))
            b_holds.set()
            b_done.wait(5)

    with file_lock(path, remove=True):
        thread = threading.Thread(target=b)
        thread.start()
        assert blocked_waiter_on(path), "B never waited on A's lock file"
    assert b_holds.wait(5)
    with file_lock(path, blocking=False) as c:
        log.append(("c", c))
    b_done.set()
    thread.join(5)
    assert log == [("b", True, True), ("c", False)]


def test_a_file_system_without_locks_is_one_line_and_nothing_written(tmp_path, monkeypatch, capsys):
    """flock failing with ENOLCK (an NFS mount without its lock daemon) or EOPNOTSUPP (some FUSE file systems): a
    write says so in one line naming the lock, and nothing is written; reading needs no lock."""
    import errno
    import fcntl

    import numpy as np
    import pytest

    from conftest import run_cli
    from featurestore import FeatureStore
    from featurestore.errors import StoreUnwritable

    config = {"model": "vgg16", "weights": "random:seed=0", "pooling": "avg", "image_size_px": 32, "n_features": 512}
    t = np.arange(3.0)
    FeatureStore(tmp_path / "f.h5", mode="a", config=config).put(
        "a.mp4", requested_s=t, actual_s=t, features=np.ones((3, 512)), info={"sample_fps": 1.0, "duration_s": 3.0})
    index = (tmp_path / "f.h5").read_bytes()

    def no_locks(fd, operation):
        raise OSError(errno.ENOLCK, os.strerror(errno.ENOLCK))

    monkeypatch.setattr(fcntl, "flock", no_locks)
    fs = FeatureStore(tmp_path / "f.h5", mode="a", config=config)
    with pytest.raises(StoreUnwritable, match="No locks available.*file system.*no file locks") as caught:
        fs.put("b.mp4", requested_s=t, actual_s=t, features=np.ones((3, 512)), info={"sample_fps": 1.0, "duration_s": 3.0})
    assert ".lock" in str(caught.value) and "\n" not in str(caught.value)
    assert (tmp_path / "f.h5").read_bytes() == index and FeatureStore(tmp_path / "f.h5").video_ids() == ["a.mp4"]
    code, out, err = run_cli(["check-store", "--repair", "--store", tmp_path / "f.h5"], capsys)
    assert code == 1 and "Traceback" not in err and "no file locks" in err  # used to be a traceback (OSError)
    assert run_cli(["check-store", "--store", tmp_path / "f.h5"], capsys)[0] == 0
