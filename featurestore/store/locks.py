"""Inter-process locks on small files, which may be deleted when released without breaking mutual exclusion.

A lock file that is unlinked while another process waits on it would let a third process lock a fresh file
of the same name: both would "hold" the lock. So after `flock` succeeds we check that the path still names
the file we locked, and start again if it does not (the protocol of e.g. `flock(1)`-based tools).
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from featurestore.errors import StoreUnwritable


@contextmanager
def file_lock(path: str | os.PathLike, *, blocking: bool = True, remove: bool = False) -> Iterator[bool]:
    """Hold an exclusive lock on `path` (created if missing); yields whether it is held. StoreUnwritable, in one line,
    where the lock file cannot be made or the file system has no locks.

    Parameters
    ----------
    blocking : bool
        Wait for the lock; with False, yield False at once when another process holds it.
    remove : bool
        Delete the lock file when releasing it (while still holding it), so no empty file is left behind.
    """
    path = Path(path)
    while True:
        try:
            fd = _open_lock_file(path)
        except FileNotFoundError:  # its folder was removed by a process cleaning up an unused store
            path.parent.mkdir(parents=True, exist_ok=True)
            continue
        except OSError as err:
            raise StoreUnwritable(f"{path}: cannot create this lock file ({err.strerror}); nothing was changed") from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | (0 if blocking else fcntl.LOCK_NB))
        except BlockingIOError:
            os.close(fd)
            yield False
            return
        except OSError as err:  # ENOLCK, EOPNOTSUPP, ENOSYS: no locks on this file system
            os.close(fd)
            raise StoreUnwritable(f"{path}: cannot lock it ({err.strerror}): this file system offers no file locks (some "
                                  "NFS mounts), which writers of a store need so that they never collide; nothing was "
                                  "changed: write the store on a local disk (reading it works here)") from None
        except BaseException:
            os.close(fd)
            raise
        try:
            same = os.stat(path).st_ino == os.fstat(fd).st_ino
        except FileNotFoundError:
            same = False
        if same:
            break
        os.close(fd)  # the holder before us deleted it: lock the file that is there now
    try:
        yield True
    finally:
        try:
            if remove:
                path.unlink(missing_ok=True)
        finally:
            os.close(fd)  # closing releases the lock


def _open_lock_file(path: Path) -> int:
    """A descriptor of the lock file, made if missing: for writing where allowed (NFS emulates flock with fcntl locks,
    whose exclusive kind needs it), else for reading, which flock needs no more (another member of a team made it,
    0644 under umask 022, in the store's shared folder). Made 0666 less the umask: a team's umask 002 lets the
    group write it, which NFS's emulated flock needs."""
    try:
        return os.open(path, os.O_RDWR | os.O_CREAT, 0o666)
    except PermissionError:
        return os.open(path, os.O_RDONLY)
