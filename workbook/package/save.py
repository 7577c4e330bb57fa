"""Saving a workbook file atomically: a temporary file beside it, fsynced, verified, replaced.

The original is never written to: until ``os.replace`` it is byte-identical, after it the
new file is complete. The save runs under the workbook's lock (``workbook.package.lock``),
which also makes any temporary file of ours found beside it a dead writer's.
"""

from __future__ import annotations

import os
import re
import stat
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO, Callable, Iterator

from workbook.errors import WorkbookError
from workbook.package.lock import WorkbookLock
from workbook.package.workbook_part import open_package

__all__ = ["saving", "save_atomically", "glob_escape"]


@contextmanager
def saving(dst: Path) -> Iterator[None]:
    """Hold ``dst``'s lock while a save of it is prepared and made.

    Raises:
        WorkbookBusy: another refresh holds the lock.
        WorkbookError: the lock file cannot be created.
    """
    with WorkbookLock(dst):
        _remove_stale_temp_files(dst)
        yield


def _temp_prefix(dst: Path) -> str:
    return f"~${dst.name}."


_TEMP_SUFFIX = ".funnel-tmp"


def _remove_stale_temp_files(dst: Path) -> None:
    # Under the lock, any temp file of ours for this workbook belongs to a dead writer.
    try:
        for p in dst.parent.glob(f"{glob_escape(_temp_prefix(dst))}*{_TEMP_SUFFIX}"):
            try:
                p.unlink()
            except OSError:
                pass
    except OSError:
        pass


def glob_escape(text: str) -> str:
    """``text`` with glob metacharacters escaped (for names such as ``~$Book[1].xlsm``)."""
    return re.sub(r"([*?\[])", r"[\1]", text)


def _before_replace(tmp: Path, dst: Path) -> None:
    """Hook between the fsynced temp file and ``os.replace`` (tests interrupt here)."""


def save_atomically(dst: Path, write: Callable[[BinaryIO], None], mode_from: Path) -> None:
    """Save what ``write`` writes as ``dst``, all or nothing.

    A temporary file in ``dst``'s folder is written, fsynced and read back as a package,
    takes ``mode_from``'s permissions, and replaces ``dst``; then the folder is fsynced.

    Raises:
        WorkbookError: I/O failure (wrapped); ``dst`` is then unchanged.
    """
    try:
        fd, tmp_name = tempfile.mkstemp(dir=dst.parent, prefix=_temp_prefix(dst), suffix=_TEMP_SUFFIX)
    except OSError as exc:
        raise WorkbookError(f"cannot create a temporary file next to {dst}: {exc.strerror or exc}") from exc
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        try:
            os.chmod(tmp, stat.S_IMODE(os.stat(mode_from).st_mode))
        except OSError:
            pass
        with open_package(tmp):  # the new file must read back as a valid package
            pass
        _before_replace(tmp, dst)
        os.replace(tmp, dst)
        _fsync_dir(dst.parent)
    except OSError as exc:
        _unlink_quietly(tmp)
        raise WorkbookError(f"cannot save {dst}: {exc.strerror or exc}") from exc
    except BaseException:
        _unlink_quietly(tmp)
        raise


def _unlink_quietly(p: Path) -> None:
    try:
        p.unlink()
    except OSError:
        pass


def _fsync_dir(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:  # pragma: no cover - Windows cannot open folders
        return
    try:
        os.fsync(fd)
    except OSError:  # pragma: no cover
        pass
    finally:
        os.close(fd)
