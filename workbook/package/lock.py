"""The lock of one refresh: ``~$<name>.funnel-lock`` beside the workbook, holding our pid.

Two refreshes of one workbook must not interleave their saves; the second is refused
as busy (``WorkbookBusy``) while the first one's process lives.
"""

from __future__ import annotations

import os
from pathlib import Path

from workbook.errors import SaveFailed, WorkbookBusy

try:  # POSIX: the lock's liveness is the kernel's flock, released when its holder dies
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]

__all__ = ["lock_path", "WorkbookLock"]


def lock_path(workbook: str | os.PathLike[str]) -> Path:
    """The lock file guarding ``workbook``: ``~$<name>.funnel-lock`` in the same folder."""
    p = Path(workbook)
    return p.with_name(f"~${p.name}.funnel-lock")


def _pid_alive(pid: int) -> bool:
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    except OSError:  # pragma: no cover - platforms without signal 0
        return True
    return True


class WorkbookLock:
    """Exclusive lock on a workbook for one refresh: ``~$<name>.funnel-lock`` holding our pid.

    The file is created with ``O_EXCL``. On POSIX the holder also keeps a ``flock`` on
    it, so a lock left by a killed process is recognised (its flock is gone, its pid is
    dead) and taken over; a lock whose holder is alive raises ``WorkbookBusy``.
    """

    def __init__(self, workbook: str | os.PathLike[str], shown: Path | None = None) -> None:
        """Prepare (not take) the lock for ``workbook`` (named ``shown`` in messages, if given)."""
        self.workbook = shown or Path(workbook)
        self.path = lock_path(workbook)
        self._fd: int | None = None

    def __enter__(self) -> "WorkbookLock":
        self.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()

    def acquire(self) -> None:
        """Take the lock.

        Raises:
            WorkbookBusy: a live process holds it.
            SaveFailed: the lock file cannot be created or written (disk full, permission);
                no lock file of ours is left.
        """
        for _ in range(10):
            created = True
            ours = False  # the lock file is ours to remove if we fail
            try:
                fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o644)
            except FileExistsError:
                created = False
                try:
                    fd = os.open(self.path, os.O_RDWR)
                except FileNotFoundError:
                    continue
            except OSError as exc:
                raise SaveFailed.from_os_error(self.workbook, exc) from exc
            ours = created and fcntl is None
            try:
                if fcntl is not None:
                    try:
                        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    except BlockingIOError:
                        raise WorkbookBusy(self._busy_message(_read_pid(fd))) from None
                    try:
                        same = os.path.samestat(os.fstat(fd), os.stat(self.path))
                    except FileNotFoundError:
                        same = False
                    if not same:  # released and unlinked under us: start again
                        os.close(fd)
                        continue
                    ours = True  # flocked by us: a file left by a dead holder, or our own
                if not created:
                    holder = _read_pid(fd)
                    if holder and holder != os.getpid() and _pid_alive(holder) and fcntl is None:
                        raise WorkbookBusy(self._busy_message(holder))
                    if fcntl is None:
                        os.close(fd)
                        os.unlink(self.path)  # stale: its process is gone
                        continue
                os.ftruncate(fd, 0)
                os.lseek(fd, 0, os.SEEK_SET)
                os.write(fd, f"{os.getpid()}\n".encode())
                os.fsync(fd)
                self._fd = fd
                return
            except BaseException as exc:
                if ours:  # e.g. no space left for our pid: leave no lock file behind
                    try:
                        os.unlink(self.path)
                    except OSError:
                        pass
                try:
                    os.close(fd)
                except OSError:
                    pass
                if isinstance(exc, OSError):
                    raise SaveFailed.from_os_error(self.workbook, exc) from exc
                raise
        raise WorkbookBusy(f"could not take the lock {self.path} (it keeps changing hands)")

    def _busy_message(self, pid: int | None) -> str:
        who = f"process {pid}" if pid else "another process"
        return (
            f"{self.path.name[2:-len('.funnel-lock')]} is being refreshed by {who} "
            f"(lock file {self.path}); wait for it to finish"
        )

    def release(self) -> None:
        """Release the lock (unlink the file, then drop the flock)."""
        if self._fd is None:
            return
        try:
            os.unlink(self.path)
        except FileNotFoundError:
            pass
        finally:
            os.close(self._fd)
            self._fd = None


def _read_pid(fd: int) -> int | None:
    try:
        os.lseek(fd, 0, os.SEEK_SET)
        text = os.read(fd, 64).decode("ascii", "replace").strip()
        return int(text) if text.isdigit() else None
    except OSError:
        return None
