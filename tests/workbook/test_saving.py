"""How a refresh saves a workbook file: through links, keeping hard links and permissions,
refusing a workbook Excel has open, and failing cleanly when the disk is full or writing is
not permitted.

Each refresh is the Refresh button's macro over a ``FileBook`` of the 60-deal demo. A
refused save must leave the workbook byte-identical and no temporary, lock or backup file
of ours beside it (``~$<name>.*.funnel-tmp``, ``~$<name>.funnel-lock``,
``~$<name>.funnel-backup``). The disk-full, read-only and immutable cases run for real on a
small tmpfs (skipped where this process may not mount one), and again with the error
injected at the real call site, so they run everywhere.
"""

from __future__ import annotations

import errno
import hashlib
import os
import shutil
import stat
from pathlib import Path

import pytest

from funnel.demo.data import demo_tables
from tests.support import hostile
from udfs.macros import refresh
from workbook.build import new_workbook
from workbook.errors import OpenInExcel, SaveFailed, WorkbookBusy
from workbook.filebook import FileBook
from workbook.layout import OUTPUTS
from workbook.mapping import read_inputs
from workbook.package import lock, read_owner_name, save, zipwriter
from workbook.package.save import backup_path
from workbook.table_reader import read_tables

DISK_FULL = "could not save book.xlsm: the disk is full (nothing was changed; free some space and try again)"
OPEN_BY_LI_WEI = (
    "book.xlsm is open in Excel by Li Wei (owner file ~$book.xlsm); "
    "close it there and try again, or pass --force if Excel is not running"
)


def _permission_denied(folder: Path) -> str:
    return (f"could not save book.xlsm: permission denied in {folder} (nothing was changed; make the folder and the "
            "workbook writable, or close the program that holds the file, and try again)")


def _read_only(folder: Path) -> str:
    return (f"could not save book.xlsm: {folder} is on a read-only file system (nothing was changed; copy the "
            "workbook to a writable folder (or save elsewhere with --out) and try again)")


@pytest.fixture(scope="module")
def pristine(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo workbook as built: input tables filled, output tables empty."""
    return new_workbook(tmp_path_factory.mktemp("pristine") / "book.xlsm", "en", demo_tables(size=60, seed=3))


@pytest.fixture(scope="module")
def refreshed(tmp_path_factory: pytest.TempPathFactory, pristine: Path) -> bytes:
    """The bytes a refresh of the pristine workbook saves (a refresh is deterministic)."""
    path = Path(shutil.copy(pristine, tmp_path_factory.mktemp("refreshed") / "book.xlsm"))
    refresh(FileBook(path))
    return path.read_bytes()


@pytest.fixture
def book(tmp_path: Path, pristine: Path) -> Path:
    return Path(shutil.copy(pristine, tmp_path / "book.xlsm"))


def _ours(folder: Path) -> list[str]:
    # Temporary, lock and backup files of a save (Excel's own "~$book.xlsm" is not ours).
    return sorted(p.name for p in folder.iterdir() if p.name.startswith("~$") and p.name.endswith(
        (".funnel-tmp", ".funnel-lock", ".funnel-backup")))


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _refused(path: Path, error: type[Exception], message: str, **book_args) -> None:
    # The refresh is refused with exactly ``message``; the file is byte-identical, nothing of ours left.
    before = _sha(path)
    with pytest.raises(error) as err:
        refresh(FileBook(path, **book_args))
    assert str(err.value) == message
    assert _sha(path) == before, "a refused save changed the workbook"
    assert _ours(path.parent) == []


# ---- links and permissions ---------------------------------------------------------------------
def test_refresh_through_a_symbolic_link_writes_its_target_and_keeps_the_link(tmp_path: Path, pristine: Path,
                                                                               refreshed: bytes) -> None:
    data, desk = tmp_path / "data", tmp_path / "desk"
    data.mkdir(), desk.mkdir()
    target = Path(shutil.copy(pristine, data / "Q4 forecast.xlsm"))
    link = desk / "book.xlsm"
    link.symlink_to(Path("..") / "data" / target.name)  # relative, as `ln -s` is usually used
    refresh(FileBook(link))
    assert link.is_symlink() and os.readlink(link) == str(Path("..") / "data" / target.name)
    assert target.read_bytes() == refreshed
    assert _ours(data) == [] and _ours(desk) == []


def test_a_link_to_a_link_is_followed_to_the_file(tmp_path: Path, pristine: Path, refreshed: bytes) -> None:
    target = Path(shutil.copy(pristine, tmp_path / "real.xlsm"))
    (tmp_path / "middle.xlsm").symlink_to(target)
    (tmp_path / "book.xlsm").symlink_to(tmp_path / "middle.xlsm")
    refresh(FileBook(tmp_path / "book.xlsm"))
    assert (tmp_path / "book.xlsm").is_symlink() and (tmp_path / "middle.xlsm").is_symlink()
    assert target.read_bytes() == refreshed and _ours(tmp_path) == []


def test_refresh_keeps_hard_links(book: Path, refreshed: bytes) -> None:
    other = book.with_name("shared copy.xlsm")
    os.link(book, other)
    inode = book.stat().st_ino
    refresh(FileBook(book))
    assert book.stat().st_ino == inode and book.stat().st_nlink == 2
    assert book.read_bytes() == refreshed and other.read_bytes() == refreshed
    assert _ours(book.parent) == []


def test_refresh_keeps_the_permissions(book: Path) -> None:
    book.chmod(0o640)
    refresh(FileBook(book))
    assert stat.S_IMODE(book.stat().st_mode) == 0o640


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() != 0, reason="only root may give a file to another user")
def test_refresh_keeps_the_owner_and_group(book: Path) -> None:
    os.chown(book, 4321, 4322)
    refresh(FileBook(book))
    assert (book.stat().st_uid, book.stat().st_gid) == (4321, 4322)


def test_a_failed_in_place_copy_puts_the_old_contents_back(book: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # A hard-linked workbook is written in place; the disk fills halfway through the copy.
    other = book.with_name("shared copy.xlsm")
    os.link(book, other)
    before = _sha(book)
    copy_into = save._copy_into

    def fills_up(src: Path, dst: Path, *, create: bool = False) -> None:
        if src.name.endswith(".funnel-tmp"):  # the new contents going in
            with open(dst, "r+b") as f:
                f.write(b"half a new workbook" * 500)
            raise OSError(errno.ENOSPC, "No space left on device")
        copy_into(src, dst, create=create)

    monkeypatch.setattr(save, "_copy_into", fills_up)
    _refused(book, SaveFailed, DISK_FULL)
    assert _sha(other) == before and book.stat().st_nlink == 2


def test_when_putting_the_old_contents_back_fails_too_the_backup_is_kept_and_named(
    book: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    other = book.with_name("shared copy.xlsm")
    os.link(book, other)
    original = book.read_bytes()
    copy_into = save._copy_into

    def fails_into_the_workbook(src: Path, dst: Path, *, create: bool = False) -> None:
        if dst == book:
            with open(dst, "r+b") as f:
                f.write(b"half a new workbook" * 500)
            raise OSError(errno.ENOSPC, "No space left on device")
        copy_into(src, dst, create=create)

    monkeypatch.setattr(save, "_copy_into", fails_into_the_workbook)
    with pytest.raises(SaveFailed) as err:
        refresh(FileBook(book))
    assert str(err.value) == (
        "could not save book.xlsm: the disk is full, and putting the old contents back failed too; "
        f"they are kept in {backup_path(book)}: copy that file over the workbook"
    )
    assert backup_path(book).read_bytes() == original
    assert _ours(book.parent) == ["~$book.xlsm.funnel-backup"]  # the temporary and the lock are gone
    monkeypatch.undo()
    read_inputs(FileBook(book))  # the next read puts the old contents back
    assert book.read_bytes() == original and other.read_bytes() == original and _ours(book.parent) == []


def test_a_save_killed_while_copying_in_place_is_undone_before_the_next_read(book: Path, refreshed: bytes) -> None:
    # What a kill in the middle of the in-place copy leaves: the old contents in the backup,
    # half of the new ones in the workbook. Reading it puts the old contents back first.
    other = book.with_name("shared copy.xlsm")
    os.link(book, other)
    original = book.read_bytes()
    backup_path(book).write_bytes(original)
    with open(book, "r+b") as f:
        f.write(refreshed[: len(refreshed) // 2])
    read_inputs(FileBook(book))  # `funnel report`: reads, and restores what a killed save broke
    assert book.read_bytes() == original and other.read_bytes() == original and _ours(book.parent) == []
    backup_path(book).write_bytes(original)
    with open(book, "r+b") as f:
        f.write(refreshed[: len(refreshed) // 2])
    refresh(FileBook(book))
    assert book.read_bytes() == refreshed and other.read_bytes() == refreshed and _ours(book.parent) == []


def test_a_backup_cut_short_is_dropped_and_the_workbook_kept(book: Path) -> None:
    # Killed while the backup itself was written: the workbook was never touched.
    original = book.read_bytes()
    backup_path(book).write_bytes(original[:1000])
    read_inputs(FileBook(book))
    assert book.read_bytes() == original and _ours(book.parent) == []


def test_a_backup_held_by_a_live_save_is_left_to_it(book: Path) -> None:
    backup_path(book).write_bytes(book.read_bytes())
    with lock.WorkbookLock(book):
        with pytest.raises(WorkbookBusy) as err:
            read_inputs(FileBook(book))
    assert str(err.value) == (f"book.xlsm is being refreshed by process {os.getpid()} (lock file "
                              f"{lock.lock_path(book)}); wait for it to finish")


# ---- Excel's owner file ------------------------------------------------------------------------
@pytest.mark.parametrize("app", ["excel", "powerpoint", "word"])
@pytest.mark.parametrize("user", ["Li Wei", "李伟", "Zoë O'Brien", "x" * 52, "A"])
def test_the_owner_file_names_its_user(user: str, app: str) -> None:
    assert read_owner_name(hostile.owner_file_bytes(user, app)) == user


def test_owner_file_sizes_are_office_s() -> None:
    # The builder writes the sizes Office does: the parser is tested on the real layout.
    assert [len(hostile.owner_file_bytes("Li Wei", app)) for app in ("excel", "powerpoint", "word")] == [165, 165, 162]
    data = hostile.owner_file_bytes("Li Wei")
    assert data[0] == 6 and data[1:7] == b"Li Wei" and data[7:55] == b" " * 48
    assert data[55:57] == b"\x06\x00" and data[57:69] == "Li Wei".encode("utf-16-le")


@pytest.mark.parametrize(
    "data, name",
    [
        (hostile.owner_file_bytes("Li Wei")[:20], "Li Wei"),  # cut short: only the 8-bit copy is left
        (hostile.owner_file_bytes("李伟")[:20], None),  # its 8-bit copy is "??": no name
        (b"", None),
        (b"\x00" * 165, None),
        (b"\xff" * 165, None),
        (bytes(range(256)), None),
        (b"\x06Li Wei" + b" " * 48 + b"\x07\x00" + "Li Wei!".encode("utf-16-le"), "Li Wei!"),  # lengths disagree
    ],
    ids=["cut-short", "cut-short-chinese", "empty", "zeros", "ff", "bytes", "lengths-disagree"],
)
def test_the_owner_file_parser_is_tolerant(data: bytes, name: str | None) -> None:
    assert read_owner_name(data) == name


def test_a_workbook_open_in_excel_is_refused(book: Path) -> None:
    owner = hostile.excel_owner_file(book, "Li Wei")
    before = owner.read_bytes()
    _refused(book, OpenInExcel, OPEN_BY_LI_WEI)
    assert owner.read_bytes() == before, "Excel's owner file was touched"


def test_an_owner_file_without_a_readable_name_still_refuses(book: Path) -> None:
    hostile.excel_owner_file(book, None, data=b"")
    _refused(book, OpenInExcel, "book.xlsm is open in Excel (owner file ~$book.xlsm); "
                                "close it there and try again, or pass --force if Excel is not running")


def test_force_refreshes_a_workbook_with_an_owner_file(book: Path, refreshed: bytes) -> None:
    owner = hostile.excel_owner_file(book, "Li Wei")
    refresh(FileBook(book, force=True))
    assert book.read_bytes() == refreshed and owner.exists() and _ours(book.parent) == []


def test_the_owner_file_beside_a_link_s_target_counts(tmp_path: Path, pristine: Path) -> None:
    (tmp_path / "data").mkdir()
    target = Path(shutil.copy(pristine, tmp_path / "data" / "real.xlsm"))
    link = tmp_path / "book.xlsm"
    link.symlink_to(target)
    hostile.excel_owner_file(target, "Li Wei")
    before = _sha(target)
    with pytest.raises(OpenInExcel) as err:
        refresh(FileBook(link))
    assert str(err.value) == ("book.xlsm is open in Excel by Li Wei (owner file ~$real.xlsm); "
                              "close it there and try again, or pass --force if Excel is not running")
    assert _sha(target) == before and _ours(tmp_path) == [] and _ours(tmp_path / "data") == []


def test_excel_opening_the_workbook_during_the_save_is_caught(book: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # The owner file appears while the new file is written: it is looked for again before the replace.
    assemble = zipwriter.PackageAssembler.finish

    def excel_opens_it(self, comment: bytes = b"") -> None:
        hostile.excel_owner_file(book, "Li Wei")
        assemble(self, comment)

    monkeypatch.setattr(zipwriter.PackageAssembler, "finish", excel_opens_it)
    _refused(book, OpenInExcel, OPEN_BY_LI_WEI)


# ---- building a workbook over one that is there -----------------------------------------------
def test_building_over_a_workbook_open_in_excel_is_refused_and_force_replaces_it(book: Path) -> None:
    owner = hostile.excel_owner_file(book, "Li Wei")
    before = _sha(book)
    with pytest.raises(OpenInExcel) as err:
        new_workbook(book, "en")
    assert str(err.value) == OPEN_BY_LI_WEI
    assert _sha(book) == before and _ours(book.parent) == []
    new_workbook(book, "en", force=True)
    assert _sha(book) != before and owner.exists() and _ours(book.parent) == []
    assert read_tables(book, ["tblOpportunities"])["tblOpportunities"].dropna(how="all").empty  # the new, empty book


def test_a_build_that_fails_midway_leaves_the_old_workbook_whole(book: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import workbook.build

    def disk_fills_up(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(workbook.build, "build_vba_project", disk_fills_up)  # late in the build
    before = _sha(book)
    with pytest.raises(SaveFailed) as err:
        new_workbook(book, "en")
    assert str(err.value) == DISK_FULL
    assert _sha(book) == before and _ours(book.parent) == []


def test_building_into_a_folder_that_does_not_exist_says_so(tmp_path: Path) -> None:
    missing = tmp_path / "no such folder"
    with pytest.raises(SaveFailed) as err:
        new_workbook(missing / "book.xlsm", "en")
    assert str(err.value) == (f"could not save book.xlsm: the folder {missing} does not exist (nothing was changed; "
                              "create it, or choose a path in a folder that exists, and try again)")
    assert err.value.reason == "no folder" and not missing.exists()


def test_a_rebuilt_workbook_keeps_the_permissions_and_a_new_one_takes_the_umask(book: Path, tmp_path: Path) -> None:
    book.chmod(0o640)
    new_workbook(book, "en")
    assert stat.S_IMODE(book.stat().st_mode) == 0o640
    mask = os.umask(0o027)
    try:
        fresh = new_workbook(tmp_path / "fresh.xlsm", "en")
    finally:
        os.umask(mask)
    assert stat.S_IMODE(fresh.stat().st_mode) == 0o640  # 0o666 & ~0o027, not mkstemp's 0o600


def test_reading_a_workbook_open_in_excel_is_fine(book: Path) -> None:
    hostile.excel_owner_file(book, "Li Wei")
    raw, _ = read_inputs(FileBook(book))
    assert len(raw["opportunities"]) == 60


def test_saving_elsewhere_does_not_mind_the_source_s_owner_file(book: Path, tmp_path: Path) -> None:
    hostile.excel_owner_file(book, "Li Wei")
    out = tmp_path / "copy.xlsm"
    refresh(FileBook(book, out))
    assert set(read_tables(out, list(OUTPUTS))) == set(OUTPUTS)


# ---- disk full, read-only, not permitted (error injected at the real call site) -----------------
class _FillsUp:
    """The temporary file as ``os.fdopen`` gives it, on a disk with room for ``room`` bytes."""

    def __init__(self, f, room: int) -> None:
        self._f, self._room = f, room

    def write(self, data: bytes) -> int:
        if len(data) > self._room:
            self._f.write(data[: self._room])
            self._room = 0
            raise OSError(errno.ENOSPC, "No space left on device")
        self._room -= len(data)
        return self._f.write(data)

    def __getattr__(self, name: str):
        return getattr(self._f, name)

    def __enter__(self) -> "_FillsUp":
        return self

    def __exit__(self, *exc: object) -> None:
        self._f.close()


def test_disk_full_while_writing_the_new_file(book: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fdopen = os.fdopen
    monkeypatch.setattr(save.os, "fdopen", lambda fd, mode: _FillsUp(fdopen(fd, mode), room=40_000))
    _refused(book, SaveFailed, DISK_FULL)


def test_disk_full_while_writing_the_lock_file(book: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # The lock file is created, then our pid does not fit: the lock file must not be left.
    pid_line = f"{os.getpid()}\n".encode()
    real_write = os.write

    def write(fd: int, data: bytes) -> int:
        if data == pid_line:
            raise OSError(errno.ENOSPC, "No space left on device")
        return real_write(fd, data)

    monkeypatch.setattr(lock.os, "write", write)
    _refused(book, SaveFailed, DISK_FULL)


@pytest.mark.parametrize("code", [errno.EACCES, errno.EPERM])
def test_permission_denied_at_the_replace(book: Path, monkeypatch: pytest.MonkeyPatch, code: int) -> None:
    def replace(src: str, dst: str) -> None:
        raise OSError(code, os.strerror(code))

    monkeypatch.setattr(save.os, "replace", replace)
    _refused(book, SaveFailed, _permission_denied(book.parent))


def test_read_only_file_system_at_the_lock(book: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    real_open = os.open

    def open_(path, flags, mode=0o777, **kw):
        if str(path).endswith(".funnel-lock"):
            raise OSError(errno.EROFS, "Read-only file system")
        return real_open(path, flags, mode, **kw)

    monkeypatch.setattr(lock.os, "open", open_)
    _refused(book, SaveFailed, _read_only(book.parent))


# ---- the same, for real, on a small tmpfs --------------------------------------------------------
@pytest.fixture
def small_disk(tmp_path: Path):
    """A 4 MiB tmpfs holding a copy of the demo workbook (skipped where mounting is not allowed)."""
    disk = tmp_path / "disk"
    if not hostile.mount_tmpfs(disk, 4 << 20):
        pytest.skip("cannot mount a tmpfs here (needs root with CAP_SYS_ADMIN)")
    try:
        yield disk
    finally:
        for path in (disk / "book.xlsm", disk):
            if path.exists():
                hostile.set_immutable(path, on=False)
        hostile.unmount(disk)


@pytest.mark.parametrize("leave", [0, 16 << 10], ids=["completely-full", "too-little-left"])
def test_a_full_disk_for_real(small_disk: Path, pristine: Path, leave: int) -> None:
    # Completely full: the lock file is created but our pid does not fit in it. Too little
    # left: the new file does not fit. Either way: one line, the workbook as it was.
    book = Path(shutil.copy(pristine, small_disk / "book.xlsm"))
    hostile.fill_disk(small_disk, leave=leave)
    _refused(book, SaveFailed, DISK_FULL)
    with pytest.raises(SaveFailed) as err:
        refresh(FileBook(book))
    assert err.value.reason == "disk full"


def test_a_full_disk_then_freed_refreshes(small_disk: Path, pristine: Path, refreshed: bytes) -> None:
    book = Path(shutil.copy(pristine, small_disk / "book.xlsm"))
    filler = hostile.fill_disk(small_disk)
    _refused(book, SaveFailed, DISK_FULL)
    filler.unlink()
    refresh(FileBook(book))
    assert book.read_bytes() == refreshed and _ours(small_disk) == []


def test_a_read_only_file_system_for_real(small_disk: Path, pristine: Path) -> None:
    import subprocess

    book = Path(shutil.copy(pristine, small_disk / "book.xlsm"))
    assert subprocess.run(["mount", "-o", "remount,ro", str(small_disk)], capture_output=True).returncode == 0
    _refused(book, SaveFailed, _read_only(small_disk))


@pytest.mark.parametrize("what", ["workbook", "folder"])
def test_an_immutable_workbook_or_folder_for_real(small_disk: Path, pristine: Path, what: str) -> None:
    # chattr +i: not even root may replace the file, or create the lock file in the folder.
    book = Path(shutil.copy(pristine, small_disk / "book.xlsm"))
    if not hostile.set_immutable(book if what == "workbook" else small_disk):
        pytest.skip("chattr +i is not available here")
    _refused(book, SaveFailed, _permission_denied(small_disk))
