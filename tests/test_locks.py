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
