"""Atomic file writes: write next to the target, flush to disk, rename over it.

A reader (or a crash) sees the old file or the new one, never half of one. Every writer of a file that
a user or another process reads goes through here.
"""

from __future__ import annotations

import errno
import hashlib
import os
import re
import signal
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

from featurestore.errors import OutputUnwritable, ScreentimeError


def fsync_path(path: str | os.PathLike) -> None:
    """Flush a file, or a folder's entries (so a rename survives a power cut), to disk."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def temporary_sibling(path: str | os.PathLike, tag: str = "tmp") -> Path:
    """A hidden, unique name in `path`'s folder: '.<name>.<tag>-<pid>@<host>-<random>' (`_HOST`: this machine)."""
    path = Path(path)
    return path.with_name(f".{path.name}.{tag}-{os.getpid()}@{_HOST}-{uuid.uuid4().hex[:8]}")


# Which machine wrote a temporary file: a process id means something only there (a folder on a network disk).
_HOST = hashlib.sha1(socket.gethostname().encode("utf-8", "replace")).hexdigest()[:8]
_TEMPORARY = re.compile(r"\.(?P<name>.+)\.tmp-(?P<pid>[0-9]+)(?:@(?P<host>[0-9a-f]{8}))?-[0-9a-f]{8}")
_UNTAGGED_AGE_S = 3600.0  # named before the host was: left by a dead process id, and older than this
# Even by a dead id of this host's name, untouched this long: two machines of one name (cloned VMs, 'localhost')
# sharing a folder see each other's writers as dead; a writer finishes a file in seconds.
_TAGGED_AGE_S = 600.0


def stale_temporaries(paths: Iterable[str | os.PathLike]) -> list[Path]:
    """The temporary files that `atomic_output` left beside `paths` (a process killed with SIGKILL, or a power cut,
    before it renamed or removed them) and that no living process writes any more.

    Only names of its own making count ('.<name>.tmp-<pid>@<host>-<random>', of a name in `paths`): written on this
    machine by a process id that is not running (a running one, even one that took the id over, keeps its file)
    and untouched for 10 minutes; one named before the host was recorded ('.<name>.tmp-<pid>-<random>') for an
    hour. Each folder is listed once.
    """
    by_folder: dict[Path, set[str]] = {}
    for path in map(Path, paths):
        by_folder.setdefault(path.parent, set()).add(path.name)
    found = []
    for folder, names in by_folder.items():
        try:
            entries = [e for e in os.scandir(folder) if e.name.startswith(".") and ".tmp-" in e.name]
        except OSError:  # a folder that is not there (yet) holds nothing
            continue
        for entry in entries:
            m = _TEMPORARY.fullmatch(entry.name)
            if m is None or m["name"] not in names or _is_alive(int(m["pid"])):
                continue
            if m["host"] not in (None, _HOST):
                continue
            try:
                age_s = time.time() - entry.stat(follow_symlinks=False).st_mtime
            except OSError:
                continue
            if age_s < (_UNTAGGED_AGE_S if m["host"] is None else _TAGGED_AGE_S):
                continue
            if entry.is_file(follow_symlinks=False):
                found.append(Path(entry.path))
    return found


def remove_stale_temporaries(paths: Iterable[str | os.PathLike]) -> list[Path]:
    """Remove `stale_temporaries(paths)`; returns those removed (one another run removed first, or that this user
    may not remove -- another's in a shared folder -- is skipped: the sweep is a courtesy, never an error)."""
    removed = []
    for tmp in stale_temporaries(paths):
        try:
            tmp.unlink()
            removed.append(tmp)
        except OSError:
            pass
    return removed


def _is_alive(pid: int) -> bool:
    """Whether a process `pid` runs on this machine (another user's counts; this one's always does)."""
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError):
        return True
    return True


@contextmanager
def atomic_output(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path to write; on success it replaces `path` atomically, on error it is removed.

    For writers that want a file name (h5py, joblib, pandas)::

        with atomic_output("best.joblib") as tmp:
            joblib.dump(model, tmp)
    """
    path = Path(path)
    tmp = temporary_sibling(path)
    try:
        yield tmp
        fsync_path(tmp)
        os.replace(tmp, path)
        try:
            fsync_path(path.parent if str(path.parent) else ".")
        except OSError:  # some filesystems cannot fsync a folder; the rename itself is done
            pass
    finally:
        tmp.unlink(missing_ok=True)


def atomic_write(path: str | os.PathLike, data: bytes | str) -> Path:
    """Write `data` (str as UTF-8) to `path` atomically; returns the path."""
    path = Path(path)
    with atomic_output(path) as tmp:
        with open(tmp, "wb") as fh:
            fh.write(data.encode("utf-8") if isinstance(data, str) else data)
    return path


def is_disk_full(err: OSError) -> bool:
    """Whether `err` says the disk (or the user's quota) is full, also where HDF5 says so only in its text."""
    text = str(err)
    return getattr(err, "errno", None) in (errno.ENOSPC, errno.EDQUOT) or "No space left on device" in text \
        or "errno = 28" in text or "Disk quota exceeded" in text


@contextmanager
def refusing_unwritable(path: str | os.PathLike) -> Iterator[None]:
    """Turn an OSError raised while writing `path` into `OutputUnwritable`: one line naming it."""
    try:
        yield
    except OSError as err:
        if isinstance(err, ScreentimeError):
            raise
        raise OutputUnwritable(f"{path}: cannot write it ({err.strerror or err}); choose another path") from None


@contextmanager
def written_together(*paths: str | os.PathLike | None) -> Iterator[tuple[Path | None, ...]]:
    """Temporary paths for the given outputs (None stays None); all replace their targets only if every one
    was written, one rename after the other with Ctrl-C, SIGTERM and SIGHUP held until the last, so an
    interrupted run never leaves one new output beside an old or missing other (a model and its report, a
    todo CSV and its contact sheet).

    Raises
    ------
    OutputUnwritable
        Naming the output that could not be written.
    """
    remove_stale_temporaries(p for p in paths if p is not None)  # of these outputs, left by a kill -9 of a run before
    held = _HeldSignals()
    with held:
        with ExitStack() as stack:
            yield tuple(None if p is None else stack.enter_context(_atomic_output_or_refuse(Path(p))) for p in paths)
            held.hold()  # all written: the renames (the stack's exits) run uninterrupted


class _HeldSignals:
    """Once `hold` is called, SIGINT, SIGTERM and SIGHUP are noted rather than handled, until the `with` ends
    or a second one comes; then the handlers before are put back and each noted signal is raised again
    (KeyboardInterrupt after the renames, not between them). Outside the main thread it does nothing."""

    SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)

    def __init__(self):
        self._before: dict = {}
        self._noted: list[int] = []

    def hold(self) -> None:
        if threading.current_thread() is not threading.main_thread():
            return
        for sig in self.SIGNALS:
            handler = signal.getsignal(sig)
            if handler not in (signal.SIG_IGN, None):
                self._before[sig] = handler
                signal.signal(sig, self._note)

    def _note(self, signum, frame) -> None:
        self._noted.append(signum)
        if len(self._noted) > 1:  # pressed again (a disk that hangs): stop now, as asked
            self._release()

    def _release(self) -> None:
        before, self._before = self._before, {}
        for sig, handler in before.items():
            signal.signal(sig, handler)
        for sig in dict.fromkeys(self._noted):
            signal.raise_signal(sig)

    def __enter__(self) -> "_HeldSignals":
        return self

    def __exit__(self, *exc) -> None:
        if self._before:
            self._release()


@contextmanager
def _atomic_output_or_refuse(path: Path) -> Iterator[Path]:
    with refusing_unwritable(path):
        with atomic_output(path) as tmp:
            yield tmp


def write_together(outputs: Iterable[tuple[str | os.PathLike | None, Callable[[Path], object]]]) -> list[Path]:
    """Write each ``(path, write)`` of `outputs` -- ``write(tmp)`` fills a temporary file beside `path` -- and put
    them all in place only if every one was written (`written_together`); a None path is skipped.

    Returns the paths, in order. Raises OutputUnwritable naming the output whose writing failed.
    """
    outputs = [(Path(path), write) for path, write in outputs if path is not None]
    with written_together(*(path for path, _ in outputs)) as temps:
        for (path, write), tmp in zip(outputs, temps):
            with refusing_unwritable(path):
                write(Path(tmp))
    return [path for path, _ in outputs]
