"""Saving a workbook file atomically: a temporary file beside it, fsynced, verified, replaced.

The original is never written to: until ``os.replace`` it is byte-identical, after it the
new file is complete. The save runs under the workbook's lock (``workbook.package.lock``),
which also makes any temporary file of ours found beside it a dead writer's.

What the file is stays as it was:

* a symbolic link stays a link: the file it points to is the one saved (and locked);
* a file with other hard links is written in place (a replace would give this name a new
  file and leave the other names on the old one): the new contents are first written and
  verified beside it, the old ones copied to ``~$<name>.funnel-backup``, then copied in;
  if that copy fails the backup is copied back, and a refresh killed in the middle of it
  finds the backup and restores the original before it starts;
* permissions and, where the system lets us, owner and group are the old file's.

A workbook Excel has open (its owner file ``~$<name>`` lies beside it) is refused before
anything is written, unless ``force``. A save that fails for lack of space or permission
removes its temporary and lock files and raises ``SaveFailed`` saying which it was.
"""

from __future__ import annotations

import os
import re
import shutil
import stat
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO, Callable, Iterator

from workbook.errors import NotAWorkbook, OpenInExcel, SaveFailed, WorkbookTooLarge
from workbook.package.lock import WorkbookLock
from workbook.package.owner_file import excel_owner
from workbook.package.workbook_part import open_package

__all__ = ["saving", "save_atomically", "recover_interrupted_save", "glob_escape", "backup_path"]


@contextmanager
def saving(dst: Path, *, force: bool = False) -> Iterator[Path]:
    """Hold the workbook's lock while a save of ``dst`` is prepared and made.

    Args:
        dst: the workbook to save, as the user named it.
        force: save even when Excel's owner file says the workbook is open.

    Yields:
        The file to write: ``dst``, or the file a symbolic link ``dst`` points to.

    Raises:
        OpenInExcel: Excel's owner file lies beside the workbook (unless ``force``).
        WorkbookBusy: another refresh holds the lock.
        SaveFailed: the lock file cannot be created or written.
    """
    target = _real_file(dst)
    if not force:
        _refuse_if_open_in_excel(dst)
    with WorkbookLock(target, shown=dst):
        _remove_stale_temp_files(target)
        _restore_interrupted_overwrite(target, dst)
        yield target


def recover_interrupted_save(workbook: Path) -> None:
    """Put back the old contents of ``workbook`` if a save was killed while copying new ones
    into it (see the module docstring): before reading it, as before saving it.

    Raises:
        WorkbookBusy: a refresh is saving it right now.
        SaveFailed: the old contents cannot be put back.
    """
    target = _real_file(workbook)
    if backup_path(target).exists():
        with WorkbookLock(target, shown=workbook):
            _restore_interrupted_overwrite(target, workbook)


def _real_file(workbook: Path) -> Path:
    # The file a symbolic link points to (followed to the end), or the workbook itself.
    return Path(os.path.realpath(workbook)) if os.path.islink(workbook) else workbook


def _refuse_if_open_in_excel(workbook: Path) -> None:
    found = excel_owner(workbook)
    if found is not None:
        owner, name = found
        by = f" by {name}" if name else ""
        raise OpenInExcel(
            f"{workbook.name} is open in Excel{by} (owner file {owner.name}); "
            "close it there and try again, or pass --force if Excel is not running"
        )


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


def save_atomically(
    dst: Path, write: Callable[[BinaryIO], None], mode_from: Path, *, workbook: Path | None = None, force: bool = False
) -> None:
    """Save what ``write`` writes as ``dst``, all or nothing.

    A temporary file in ``dst``'s folder is written, fsynced and read back as a package,
    takes ``mode_from``'s permissions (and owner), and replaces ``dst`` (or, when ``dst``
    has other hard links, is copied into it); then the folder is fsynced.

    Args:
        dst: the file to write (a link's target, see ``saving``).
        write: writes the new contents to the stream it is given.
        mode_from: the file whose permissions the new one takes (when there is none, the
            mode the user's umask gives a new file).
        workbook: the workbook as the user named it, for messages (default ``dst``).
        force: replace it even if Excel opened it meanwhile.

    Raises:
        OpenInExcel: Excel opened the workbook while the new file was written.
        SaveFailed: an ``OSError`` (disk full, permission...); ``dst`` is then unchanged
            and the temporary file removed.
    """
    workbook = workbook or dst
    try:
        fd, tmp_name = tempfile.mkstemp(dir=dst.parent, prefix=_temp_prefix(dst), suffix=_TEMP_SUFFIX)
    except OSError as exc:
        raise SaveFailed.from_os_error(workbook, exc) from exc
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        _keep_permissions(tmp, mode_from)
        with open_package(tmp):  # the new file must read back as a valid package
            pass
        if not force:
            _refuse_if_open_in_excel(workbook)  # Excel may have opened it meanwhile
        _before_replace(tmp, dst)
        if _other_hard_links(dst):
            _overwrite_in_place(tmp, dst, workbook)
        else:
            os.replace(tmp, dst)
        _fsync_dir(dst.parent)
    except OSError as exc:
        _unlink_quietly(tmp)
        raise SaveFailed.from_os_error(workbook, exc) from exc
    except BaseException:
        _unlink_quietly(tmp)
        raise


def _keep_permissions(tmp: Path, mode_from: Path) -> None:
    # The new file takes the old one's owner, group and mode, as far as we are allowed; a
    # file new to the folder, the mode any program would give it (mkstemp's is 0600).
    try:
        old = os.stat(mode_from)
    except OSError:
        try:
            os.chmod(tmp, 0o666 & ~_umask())
        except OSError:
            pass
        return
    if hasattr(os, "chown"):  # POSIX; chown before chmod, which it may otherwise undo
        new = os.stat(tmp)
        if (new.st_uid, new.st_gid) != (old.st_uid, old.st_gid):
            try:
                os.chown(tmp, old.st_uid, old.st_gid)
            except OSError:
                pass
    try:
        os.chmod(tmp, stat.S_IMODE(old.st_mode))
    except OSError:
        pass


def _umask() -> int:
    # Linux says it without changing it; elsewhere set and put back (the only portable way).
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _other_hard_links(dst: Path) -> bool:
    try:
        return os.stat(dst).st_nlink > 1
    except FileNotFoundError:
        return False


def backup_path(dst: Path) -> Path:
    """Where an in-place save keeps the old contents until the new ones are in."""
    return dst.with_name(f"~${dst.name}.funnel-backup")


def _overwrite_in_place(tmp: Path, dst: Path, workbook: Path) -> None:
    # Copy the verified new file into dst's own inode, the old contents kept aside until done.
    backup = backup_path(dst)
    try:
        _copy_into(dst, backup, create=True)
    except OSError:
        _unlink_quietly(backup)
        raise
    try:
        _copy_into(tmp, dst)
    except OSError as exc:
        try:
            _copy_into(backup, dst)
        except OSError:
            reason, what, _ = SaveFailed.describe(workbook, exc)
            raise SaveFailed(
                f"could not save {workbook.name}: {what}, and putting the old contents back failed too; "
                f"they are kept in {backup}: copy that file over the workbook",
                reason,
            ) from exc
        _unlink_quietly(backup)
        raise
    _unlink_quietly(backup)
    _unlink_quietly(tmp)


def _copy_into(src: Path, dst: Path, *, create: bool = False) -> None:
    # src's bytes into dst's own file (the same inode, so every hard link sees them), fsynced.
    with open(src, "rb") as f, open(dst, "wb" if create else "r+b") as out:
        shutil.copyfileobj(f, out, 1 << 20)
        out.truncate()
        out.flush()
        os.fsync(out.fileno())


def _restore_interrupted_overwrite(target: Path, workbook: Path) -> None:
    # Under the lock, a backup left beside the workbook means a save was killed while it
    # copied new contents in: the old contents go back before anything else happens.
    backup = backup_path(target)
    if not backup.exists():
        return
    try:
        with open_package(backup):  # only a complete copy is put back
            pass
    except (NotAWorkbook, WorkbookTooLarge):
        _unlink_quietly(backup)  # killed while the backup itself was written: the workbook is untouched
        return
    try:
        _copy_into(backup, target)
    except OSError as exc:
        raise SaveFailed.from_os_error(workbook, exc) from exc
    _unlink_quietly(backup)


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
