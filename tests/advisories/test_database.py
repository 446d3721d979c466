"""The offline database: OSV's ``all.zip`` or its unpacked folder, indexed by package."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

from tests.support.osvserver import OSV_DATA, OSV_DATE, write_zip
from tumbler.advisories.database import read_database
from tumbler.errors import InputError


def test_the_zip_and_the_folder_give_the_same_database(tmp_path: Path) -> None:
    from_zip = read_database(write_zip(tmp_path / "all.zip"))
    from_folder = read_database(OSV_DATA)

    assert from_zip.records == from_folder.records == 6
    assert from_zip.by_package.keys() == from_folder.by_package.keys()
    assert sorted(a.id for a in from_zip.advisories_for("Requests")) == [
        "GHSA-9wx4-h78v-vm56",
        "GHSA-j8r2-6x86-q33q",
        "PYSEC-2023-74",
    ]
    assert from_zip.origin == f"OSV PyPI data at {tmp_path / 'all.zip'}"


def test_the_date_is_the_newest_modified_record() -> None:
    assert read_database(OSV_DATA).date == OSV_DATE


def test_a_missing_path_is_an_input_error(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"no such file or folder \(--vuln-db"):
        read_database(tmp_path / "nothing.zip")


def test_a_file_that_is_not_a_zip_is_an_input_error(tmp_path: Path) -> None:
    bad = tmp_path / "all.zip"
    bad.write_text("not a zip", encoding="utf-8")

    with pytest.raises(InputError, match="cannot read the vulnerability database"):
        read_database(bad)


def test_an_empty_folder_is_refused(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="holds no OSV records"):
        read_database(tmp_path)


def test_a_record_that_is_not_json_names_its_entry(tmp_path: Path) -> None:
    target = tmp_path / "all.zip"
    with zipfile.ZipFile(target, "w") as archive:
        archive.writestr("PYSEC-0.json", "{not json")

    with pytest.raises(InputError, match=r"all\.zip:PYSEC-0\.json: not JSON"):
        read_database(target)
