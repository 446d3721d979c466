"""Finding installed distributions, and the stash that makes removal undoable."""

from __future__ import annotations

import json
from pathlib import Path

from tumbler.installing.installed import Stash, find_installed, record_paths


def fake_dist(site: Path, name: str, version: str, *, direct: dict[str, str] | None = None) -> None:
    dist_info = site / f"{name}-{version}.dist-info"
    dist_info.mkdir(parents=True)
    (dist_info / "METADATA").write_text(
        f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n"
    )
    (site / name).mkdir()
    (site / name / "__init__.py").write_text("x = 1\n")
    (site / name / "__pycache__").mkdir()
    (site / name / "__pycache__" / "__init__.cpython-311.pyc").write_bytes(b"pyc")
    (site / "bin").mkdir(exist_ok=True)
    (site / "bin" / name).write_text("#!python\n")
    (dist_info / "INSTALLER").write_text("pip\n")
    if direct is not None:
        (dist_info / "direct_url.json").write_text(json.dumps(direct))
    rows = [f"{name}/__init__.py,sha256=x,6", f"bin/{name},,", f"{dist_info.name}/METADATA,,",
            f"{dist_info.name}/INSTALLER,,", f"{dist_info.name}/RECORD,,"]  # fmt: skip
    if direct is not None:
        rows.append(f"{dist_info.name}/direct_url.json,,")
    (dist_info / "RECORD").write_text("\n".join(rows) + "\n")


def listing(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*"))


def test_find_installed_reads_name_version_origin(tmp_path: Path) -> None:
    fake_dist(tmp_path, "Foo_Bar", "1.0", direct={"url": "file:///x"})
    fake_dist(tmp_path, "baz", "2.0")
    found = find_installed((tmp_path,))
    assert sorted(found) == ["baz", "foo-bar"]
    assert str(found["foo-bar"].version) == "1.0"
    assert found["foo-bar"].direct_url == {"url": "file:///x"}
    assert found["baz"].direct_url is None and found["baz"].installer == "pip"
    paths = record_paths(found["baz"])
    assert tmp_path / "baz" / "__pycache__" / "__init__.cpython-311.pyc" in paths


def test_stash_removes_then_restores_exactly(tmp_path: Path) -> None:
    site = tmp_path / "site"
    fake_dist(site, "one", "1.0")
    fake_dist(site, "two", "1.0")
    before = listing(site)
    stash = Stash(tmp_path / "stash", keep=(site,))
    found = find_installed((site,))
    assert stash.remove(found["one"]) == 6
    after = listing(site)
    assert not any(p.startswith(("one", "bin/one")) for p in after)
    assert "two/__init__.py" in after and "bin/two" in after  # the other is untouched
    stash.restore()
    assert listing(site) == before
    assert not (tmp_path / "stash").exists()


def test_stash_never_removes_the_scheme_directories(tmp_path: Path) -> None:
    site = tmp_path / "site"
    fake_dist(site, "only", "1.0")
    stash = Stash(tmp_path / "stash", keep=(site, site / "bin"))
    stash.remove(find_installed((site,))["only"])
    stash.clear()
    assert site.is_dir() and (site / "bin").is_dir()
    assert listing(site) == ["bin"]
