"""Damaged files and zip entries with hostile names: refused in one line that says what happened.

A flipped bit in a deflated part (a bad sector, a broken download) is reported as damage
naming the part, never as a zip bomb; a lying zip bomb is still one. Entry names that are
absolute, climb out with ``..`` or use backslashes refuse the file (a zip-slip attack, or a
broken zip tool) instead of being carried into the saved file. Every refusal leaves the
file byte-identical and nothing of ours beside it.
"""

from __future__ import annotations

import hashlib
import shutil
import zipfile
import zlib
from pathlib import Path

import pytest

from funnel.demo.data import demo_tables
from tests.support import hostile
from udfs.macros import refresh
from workbook.build import new_workbook
from workbook.errors import NotAWorkbook, WorkbookDamaged
from workbook.filebook import FileBook
from workbook.mapping import read_inputs
from workbook.package import open_package

FIX = "(re-save it from Excel or restore a backup)"


@pytest.fixture(scope="module")
def pristine(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return new_workbook(tmp_path_factory.mktemp("pristine") / "demo.xlsm", "en", demo_tables(size=60, seed=3))


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _refused_everywhere(path: Path, error: type[Exception], message: str, on_open: bool = True) -> None:
    # Opening (``on_open``: parts read on open), reading the inputs (funnel report) and
    # refreshing all say exactly ``message``.
    before = _sha(path)
    attempts = [lambda: read_inputs(FileBook(path)), lambda: refresh(FileBook(path))]
    if on_open:
        attempts.append(lambda: open_package(path).close())
    for attempt in attempts:
        with pytest.raises(error) as err:
            attempt()
        assert str(err.value) == message
    assert _sha(path) == before
    assert sorted(p.name for p in path.parent.iterdir() if p.name.startswith("~$")) == []


def _inflated_length(path: Path, part: str) -> int:
    # What the damaged entry inflates to, found with zlib (not with the product's reader).
    with zipfile.ZipFile(path) as z:
        info = z.getinfo(part)
    raw = path.read_bytes()
    name_len, extra_len = int.from_bytes(raw[info.header_offset + 26 : info.header_offset + 28], "little"), int.from_bytes(
        raw[info.header_offset + 28 : info.header_offset + 30], "little")
    start = info.header_offset + 30 + name_len + extra_len
    return len(zlib.decompressobj(-15).decompress(raw[start : start + info.compress_size]))


@pytest.mark.parametrize("where", ["Opportunities", "xl/workbook.xml", "[Content_Types].xml"])
@pytest.mark.parametrize("kind", ["checksum", "deflate", "shorter", "longer"])
def test_a_flipped_bit_is_reported_as_damage(tmp_path: Path, pristine: Path, where: str, kind: str) -> None:
    part = hostile.sheet_part(pristine, where) if where == "Opportunities" else where
    book = hostile.damaged(pristine, tmp_path / "book.xlsm", part, kind)
    what = {
        "checksum": "fails its checksum",
        "deflate": "has corrupt compressed data",
    }.get(kind)
    if what is None:
        with zipfile.ZipFile(book) as z:
            declared = z.getinfo(part).file_size
        what = f"inflates to {_inflated_length(book, part):,} bytes, not the {declared:,} its zip header declares"
    _refused_everywhere(book, WorkbookDamaged, f"book.xlsm is damaged: {part} {what} {FIX}", on_open=where != "Opportunities")


def test_a_lying_zip_bomb_is_still_a_zip_bomb(tmp_path: Path, pristine: Path) -> None:
    part = hostile.sheet_part(pristine, "Opportunities")
    book = hostile.lying_zip_bomb(pristine, tmp_path / "book.xlsm")
    with zipfile.ZipFile(book) as z:
        declared = z.getinfo(part).file_size
    _refused_everywhere(book, NotAWorkbook, f"book.xlsm: {part} inflates far past the {declared:,} bytes its zip header "
                                            "declares (zip bomb?); refused: use a copy of the workbook you trust", on_open=False)
    with pytest.raises(NotAWorkbook) as err:
        open_package(book).read_part(part)
    assert not isinstance(err.value, WorkbookDamaged)


@pytest.mark.parametrize(
    "name, rename, why",
    [
        ("../../evil.sh", None, "climbs out of the package with '..'"),
        ("xl/../../evil.sh", None, "climbs out of the package with '..'"),
        ("/etc/cron.d/evil", None, "is an absolute path"),
        ("C:/Windows/evil.dll", None, "is an absolute path"),
        ("\\\\server\\share\\evil.dll", None, "is an absolute path"),
        ("xl\\worksheets\\evil.xml", None, "uses backslashes, which part names never do"),
        ("xl\\workbook.xml", "xl/workbook.xml", "uses backslashes, which part names never do"),
        ("/xl/workbook.xml", "xl/workbook.xml", "is an absolute path"),
    ],
    ids=["dotdot", "inner-dotdot", "absolute", "drive", "unc", "backslash", "backslash-workbook", "absolute-workbook"],
)
def test_an_entry_name_pointing_outside_the_package_refuses_the_file(
    tmp_path: Path, pristine: Path, name: str, rename: str | None, why: str
) -> None:
    book = hostile.odd_entry_name(pristine, tmp_path / "book.xlsm", name, rename=rename)
    _refused_everywhere(book, NotAWorkbook, f"book.xlsm is refused: its zip entry {name!r} {why} "
                                            "(a workbook never has one; re-save it from Excel or restore a backup)")


def test_ordinary_entry_names_with_dots_are_fine(tmp_path: Path, pristine: Path) -> None:
    # A ".." inside a name, or a leading dot, is not a path segment that climbs out.
    book = Path(shutil.copy(pristine, tmp_path / "book.xlsm"))
    for name in ("customXml/item..1.xml", "xl/.hidden/notes.xml"):
        hostile.rezip(book, {}, add={name: b"<x/>"})
    with open_package(book) as pkg:
        assert pkg.has_part("customXml/item..1.xml") and pkg.has_part("xl/.hidden/notes.xml")


@pytest.mark.parametrize("kind", ["checksum", "longer"])
def test_a_damaged_sheet_read_in_slices_is_still_reported_as_damage(
    tmp_path: Path, pristine: Path, kind: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A big sheet is parsed slice by slice while it inflates, before its CRC is known, so the
    # garbage a flipped bit makes trips a slice's own checks first (cells without r=, a huge
    # span...). The refusal must still say the file is damaged. Small slices make this
    # workbook's sheet a big one.
    from workbook import table_reader

    monkeypatch.setattr(table_reader, "_INFLATE_PIECE", 8192)
    monkeypatch.setattr(table_reader, "SLICE_BYTES", 8192)
    part = hostile.sheet_part(pristine, "Opportunities")
    book = hostile.damaged(pristine, tmp_path / "book.xlsm", part, kind)
    with zipfile.ZipFile(book) as z:
        declared = z.getinfo(part).file_size
    what = "fails its checksum" if kind == "checksum" else (
        f"inflates to {_inflated_length(book, part):,} bytes, not the {declared:,} its zip header declares")
    _refused_everywhere(book, WorkbookDamaged, f"book.xlsm is damaged: {part} {what} {FIX}", on_open=False)
