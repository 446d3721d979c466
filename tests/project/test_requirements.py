"""The requirements.in reader: pip's file format, tumbler's strictness, one-line errors."""

from __future__ import annotations

from pathlib import Path

import pytest
from packaging.requirements import Requirement

from tumbler.errors import InputError
from tumbler.project.requirements import Entry, RequirementsFile, read_requirements


def write(directory: Path, name: str, text: str) -> Path:
    """Write ``text`` to ``directory/name`` (making parents) and return the path."""
    path = directory / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def project(directory: Path, name: str | None) -> Path:
    """A project directory whose pyproject.toml has ``[project].name = name`` (or no name)."""
    directory.mkdir(parents=True, exist_ok=True)
    table = f'[project]\nname = "{name}"\n' if name else '[project]\nversion = "1"\n'
    (directory / "pyproject.toml").write_text(table, encoding="utf-8")
    return directory


def read(tmp_path: Path, text: str, name: str = "requirements.in") -> RequirementsFile:
    return read_requirements(write(tmp_path, name, text))


def reqs(entries: tuple[Entry, ...]) -> list[str]:
    return [str(e.requirement) for e in entries]


def origins(entries: tuple[Entry, ...]) -> list[str]:
    return [e.origin for e in entries]


def error(tmp_path: Path, text: str) -> str:
    """The one-line message reading ``text`` as requirements.in raises."""
    with pytest.raises(InputError) as info:
        read(tmp_path, text)
    message = str(info.value)
    assert "\n" not in message
    return message


# --- plain requirements, comments, lines ----------------------------------------------


def test_pep508_with_extras_markers_comments_and_blank_lines(tmp_path: Path) -> None:
    result = read(
        tmp_path,
        "# a comment line\n"
        "\n"
        "   \n"
        'requests[socks,security]>=2.31 ; python_version >= "3.11"  # why\n'
        "    # indented comment\n"
        "Flask==3.0.*\n",
    )
    assert result.requirements == (
        Entry(
            requirement=Requirement('requests[security,socks]>=2.31; python_version >= "3.11"'),
            origin="requirements.in:4",
        ),
        Entry(requirement=Requirement("Flask==3.0.*"), origin="requirements.in:6"),
    )
    first = result.requirements[0].requirement
    assert first.extras == {"socks", "security"}
    assert str(first.marker) == 'python_version >= "3.11"'
    assert result.constraints == ()
    assert result.index_url is None
    assert result.extra_index_urls == ()
    assert result.no_index is False
    assert result.find_links == ()
    assert result.prereleases is False
    assert result.files == (tmp_path / "requirements.in",)
    assert result.path == tmp_path / "requirements.in"


def test_hash_in_url_fragment_is_not_a_comment(tmp_path: Path) -> None:
    result = read(
        tmp_path,
        "foo @ https://example.com/foo-1.0.tar.gz#sha256=abc123 # but this is\n",
    )
    assert reqs(result.requirements) == ["foo @ https://example.com/foo-1.0.tar.gz#sha256=abc123"]


def test_backslash_continuation_takes_the_first_line_number(tmp_path: Path) -> None:
    result = read(
        tmp_path,
        "first==1\n"
        "flask==3.0 \\\n"
        "    --hash=sha256:0123abcd \\\n"
        "    --hash=sha256:4567ef89\n"
        "req\\\n"
        "uests\n"
        "last==2\n",
    )
    assert reqs(result.requirements) == ["first==1", "flask==3.0", "requests", "last==2"]
    assert origins(result.requirements) == [
        "requirements.in:1",
        "requirements.in:2",
        "requirements.in:5",
        "requirements.in:7",
    ]


def test_a_comment_ending_in_backslash_does_not_continue(tmp_path: Path) -> None:
    result = read(tmp_path, "# comment \\\nidna\n")
    assert reqs(result.requirements) == ["idna"]
    assert origins(result.requirements) == ["requirements.in:2"]


def test_a_continued_line_may_end_in_a_comment_line(tmp_path: Path) -> None:
    result = read(tmp_path, "idna \\\n# a note\nsix\n")
    assert reqs(result.requirements) == ["idna", "six"]
    assert origins(result.requirements) == ["requirements.in:1", "requirements.in:3"]


def test_utf8_bom_is_skipped(tmp_path: Path) -> None:
    path = tmp_path / "requirements.in"
    path.write_bytes(b"\xef\xbb\xbfidna\n")
    assert reqs(read_requirements(path).requirements) == ["idna"]


# --- environment variables ------------------------------------------------------------


def test_environment_variables_expand_like_pip(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("INDEX_HOST", "example.com")
    monkeypatch.setenv("TOKEN_2", "s3cret")
    monkeypatch.setenv("lower", "nope")
    monkeypatch.setenv("VERSION", "2.0")
    monkeypatch.delenv("UNSET_VAR", raising=False)
    monkeypatch.setenv("EMPTY_VAR", "")
    result = read(
        tmp_path,
        "--index-url https://user:${TOKEN_2}@${INDEX_HOST}/simple\n"
        "--extra-index-url https://${lower}.example.com/$VERSION\n"
        "--extra-index-url https://example.com/${UNSET_VAR}/${EMPTY_VAR}\n"
        "pkg==${VERSION}\n",
    )
    assert result.index_url == "https://user:s3cret@example.com/simple"
    assert result.extra_index_urls == (
        "https://${lower}.example.com/$VERSION",
        "https://example.com/${UNSET_VAR}/${EMPTY_VAR}",
    )
    assert reqs(result.requirements) == ["pkg==2.0"]


def test_environment_variable_in_an_include_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write(tmp_path, "envs/prod.in", "gunicorn\n")
    monkeypatch.setenv("ENV_NAME", "prod")
    result = read(tmp_path, "-r envs/${ENV_NAME}.in\n")
    assert reqs(result.requirements) == ["gunicorn"]


# --- includes -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "spelling",
    ["-r base.in", "-rbase.in", "--requirement base.in", "--requirement=base.in"],
)
def test_requirement_include_spellings(tmp_path: Path, spelling: str) -> None:
    write(tmp_path, "base.in", "idna\n")
    result = read(tmp_path, f"six\n{spelling}\nattrs\n")
    assert reqs(result.requirements) == ["six", "idna", "attrs"]
    assert origins(result.requirements) == [
        "requirements.in:1",
        "base.in:1",
        "requirements.in:3",
    ]
    assert result.files == (tmp_path / "requirements.in", tmp_path / "base.in")


def test_includes_are_relative_to_the_including_file(tmp_path: Path) -> None:
    write(tmp_path, "reqs/base.in", "-r common/nested.in\nbase-only\n")
    write(tmp_path, "reqs/common/nested.in", "-r ../../outside.in\nnested\n")
    write(tmp_path, "outside.in", "outside\n")
    top = write(tmp_path, "app/requirements.in", "-r ../reqs/base.in\ntop\n")
    result = read_requirements(top)
    assert reqs(result.requirements) == ["outside", "nested", "base-only", "top"]
    assert origins(result.requirements) == [
        "../outside.in:1",
        "../reqs/common/nested.in:2",
        "../reqs/base.in:2",
        "requirements.in:2",
    ]
    assert result.files == (
        top,
        tmp_path / "reqs/base.in",
        tmp_path / "reqs/common/nested.in",
        tmp_path / "outside.in",
    )


def test_a_file_reached_twice_is_listed_once(tmp_path: Path) -> None:
    write(tmp_path, "common.in", "six\n")
    write(tmp_path, "a.in", "-r common.in\na\n")
    write(tmp_path, "b.in", "-r common.in\nb\n")
    result = read(tmp_path, "-r a.in\n-r b.in\n")
    assert reqs(result.requirements) == ["six", "a", "b"]
    assert result.files == (
        tmp_path / "requirements.in",
        tmp_path / "a.in",
        tmp_path / "common.in",
        tmp_path / "b.in",
    )


@pytest.mark.parametrize(
    "spelling",
    ["-c cons.txt", "-ccons.txt", "--constraint cons.txt", "--constraint=cons.txt"],
)
def test_constraint_spellings(tmp_path: Path, spelling: str) -> None:
    write(tmp_path, "cons.txt", "urllib3<3\n")
    result = read(tmp_path, f"{spelling}\nrequests\n")
    assert reqs(result.requirements) == ["requests"]
    assert reqs(result.constraints) == ["urllib3<3"]
    assert origins(result.constraints) == ["cons.txt:1"]
    assert result.files == (tmp_path / "requirements.in", tmp_path / "cons.txt")


def test_everything_under_a_constraint_file_is_a_constraint(tmp_path: Path) -> None:
    write(tmp_path, "c/cons.txt", "urllib3<3\n-r more.txt\n-c even-more.txt\n")
    write(tmp_path, "c/more.txt", "idna<4\n")
    write(tmp_path, "c/even-more.txt", "certifi>=2024\n")
    write(tmp_path, "base.in", "-c c/cons.txt\nrequests\n")
    result = read(tmp_path, "-r base.in\n")
    assert reqs(result.requirements) == ["requests"]
    assert reqs(result.constraints) == ["urllib3<3", "idna<4", "certifi>=2024"]
    assert origins(result.constraints) == ["c/cons.txt:1", "c/more.txt:1", "c/even-more.txt:1"]


def test_a_file_used_as_both_requirements_and_constraints(tmp_path: Path) -> None:
    write(tmp_path, "pins.txt", "six==1.16\n")
    result = read(tmp_path, "-r pins.txt\n-c pins.txt\n")
    assert reqs(result.requirements) == ["six==1.16"]
    assert reqs(result.constraints) == ["six==1.16"]
    assert result.files == (tmp_path / "requirements.in", tmp_path / "pins.txt")


def test_include_by_file_url(tmp_path: Path) -> None:
    base = write(tmp_path, "elsewhere/base.in", "idna\n")
    result = read(tmp_path, f"-r {base.as_uri()}\n")
    assert reqs(result.requirements) == ["idna"]


# --- index options --------------------------------------------------------------------


def test_index_options(tmp_path: Path) -> None:
    write(
        tmp_path,
        "base.in",
        "--index-url https://second.example.com/simple\n"
        "--extra-index-url https://extra-a.example.com/simple\n",
    )
    result = read(
        tmp_path,
        "-i https://first.example.com/simple\n"
        "--extra-index-url=https://extra-a.example.com/simple\n"
        "--extra-index-url https://extra-b.example.com/simple\n"
        "-r base.in\n"
        "--no-index\n",
    )
    assert result.index_url == "https://second.example.com/simple"
    assert result.extra_index_urls == (
        "https://extra-a.example.com/simple",
        "https://extra-b.example.com/simple",
    )
    assert result.no_index is True
    assert result.requirements == ()


def test_last_index_url_wins(tmp_path: Path) -> None:
    result = read(
        tmp_path,
        "--index-url=https://a.example.com/simple\n-ihttps://b.example.com/simple\n",
    )
    assert result.index_url == "https://b.example.com/simple"


def test_find_links_paths_are_relative_to_their_file(tmp_path: Path) -> None:
    write(tmp_path, "sub/base.in", "--find-links ../wheels\n-f ./more\n")
    result = read(
        tmp_path,
        "-f https://example.com/links/\n"
        "--find-links=wheels\n"
        "-r sub/base.in\n"
        "--find-links https://example.com/links/\n",
    )
    assert result.find_links == (
        "https://example.com/links/",
        str(tmp_path / "wheels"),
        str(tmp_path / "sub/more"),
    )


def test_options_pip_allows_and_tumbler_ignores(tmp_path: Path) -> None:
    result = read(
        tmp_path,
        "--prefer-binary\n"
        "--only-binary :all:\n"
        "--no-binary=lxml\n"
        "--trusted-host example.com\n"
        "--use-feature truststore\n"
        "--require-hashes\n"
        "--hash=sha256:abcdef\n"
        "idna\n",
    )
    assert reqs(result.requirements) == ["idna"]
    assert result.prereleases is False
    assert result.index_url is None
    assert result.find_links == ()


def test_pre_sets_prereleases(tmp_path: Path) -> None:
    write(tmp_path, "base.in", "--pre\n")
    assert read(tmp_path, "-r base.in\nidna\n").prereleases is True


def test_several_options_on_one_line(tmp_path: Path) -> None:
    result = read(tmp_path, "--pre --no-index -f ./wheels\n")
    assert result.prereleases is True
    assert result.no_index is True
    assert result.find_links == (str(tmp_path / "wheels"),)


# --- per-requirement options ----------------------------------------------------------


def test_per_requirement_options_are_accepted(tmp_path: Path) -> None:
    result = read(
        tmp_path,
        "flask==3.0 --hash=sha256:0123 --hash sha512:4567\n"
        'lxml --config-settings="--build-option=--static" -C key=value\n',
    )
    assert reqs(result.requirements) == ["flask==3.0", "lxml"]


def test_a_malformed_hash_is_refused(tmp_path: Path) -> None:
    message = error(tmp_path, "idna\nflask==3.0 --hash=0123abcd\n")
    assert message.startswith("requirements.in:2: --hash='0123abcd' is not a hash;")


def test_a_global_option_after_a_requirement_is_refused(tmp_path: Path) -> None:
    message = error(tmp_path, "flask --index-url https://example.com/simple\n")
    assert message == (
        "requirements.in:1: option '--index-url' cannot follow a requirement "
        "(pip would ignore it); put it on a line of its own"
    )


# --- editables ------------------------------------------------------------------------


def test_editable_local_paths(tmp_path: Path) -> None:
    pkg = project(tmp_path / "src/pkg", "my_pkg")
    result = read(
        tmp_path,
        "-e ./src/pkg\n--editable=src/pkg/[fast,cli]\n-esrc/pkg\n",
    )
    uri = pkg.resolve().as_uri()
    assert reqs(result.requirements) == [
        f"my_pkg @ {uri}",
        f"my_pkg[cli,fast] @ {uri}",
        f"my_pkg @ {uri}",
    ]
    assert [e.editable for e in result.requirements] == [True, True, True]


def test_editable_vcs_url(tmp_path: Path) -> None:
    result = read(
        tmp_path,
        "-e git+https://example.com/org/tool.git@v1.2#egg=tool&subdirectory=python\n",
    )
    (entry,) = result.requirements
    assert entry.editable is True
    assert str(entry.requirement) == (
        "tool @ git+https://example.com/org/tool.git@v1.2#subdirectory=python"
    )
    assert entry.origin == "requirements.in:1"


def test_editable_needs_a_path_or_vcs_url(tmp_path: Path) -> None:
    message = error(tmp_path, "-e requests\n")
    assert message.startswith("requirements.in:1: -e 'requests': -e takes a local project")
    message = error(tmp_path, "-e https://example.com/x-1.0-py3-none-any.whl\n")
    assert "drop the -e" in message


def test_editable_vcs_url_needs_egg(tmp_path: Path) -> None:
    message = error(tmp_path, "-e git+https://example.com/org/tool.git\n")
    assert message == (
        "requirements.in:1: cannot tell the project name of "
        "'git+https://example.com/org/tool.git'; add '#egg=NAME' to the URL or write "
        "'NAME @ git+https://example.com/org/tool.git'"
    )


def test_editable_in_a_constraints_file_is_refused(tmp_path: Path) -> None:
    project(tmp_path / "pkg", "pkg")
    write(tmp_path, "cons.txt", "-e ./pkg\n")
    message = error(tmp_path, "-c cons.txt\n")
    assert message.startswith("cons.txt:1: a constraints file cannot hold -e")


def test_two_editables_on_one_line_are_refused(tmp_path: Path) -> None:
    project(tmp_path / "a", "a")
    project(tmp_path / "b", "b")
    assert "one -e per line" in error(tmp_path, "-e ./a -e ./b\n")


def test_editable_after_a_requirement_is_refused(tmp_path: Path) -> None:
    project(tmp_path / "a", "a")
    message = error(tmp_path, "idna -e ./a\n")
    assert "option '-e' cannot follow a requirement" in message


# --- URLs -----------------------------------------------------------------------------


def test_direct_url_references(tmp_path: Path) -> None:
    result = read(
        tmp_path,
        "foo @ https://example.com/files/foo-1.0-py3-none-any.whl\n"
        "bar[x] @ git+https://example.com/org/bar.git@abc123 ; sys_platform == 'linux'\n",
    )
    assert reqs(result.requirements) == [
        "foo @ https://example.com/files/foo-1.0-py3-none-any.whl",
        'bar[x] @ git+https://example.com/org/bar.git@abc123 ; sys_platform == "linux"',
    ]
    bar = result.requirements[1].requirement
    assert bar.url == "git+https://example.com/org/bar.git@abc123"
    assert [e.editable for e in result.requirements] == [False, False]


def test_bare_urls(tmp_path: Path) -> None:
    result = read(
        tmp_path,
        "https://example.com/dl/archive.tar.gz#egg=thing\n"
        "https://example.com/dl/Some_Pkg-2.0-py3-none-any.whl#sha256=ab12\n"
        "https://example.com/dl/other-3.1.tar.gz\n"
        "git+https://example.com/org/repo@v2#egg=repo-name[extra]&subdirectory=sub\n"
        "git+ssh://git@example.com/org/ssh.git#egg=ssh-pkg\n"
        "https://example.com/dl/z.zip#egg=zed ; python_version < '4'\n",
    )
    assert reqs(result.requirements) == [
        "thing @ https://example.com/dl/archive.tar.gz",
        "some-pkg @ https://example.com/dl/Some_Pkg-2.0-py3-none-any.whl#sha256=ab12",
        "other @ https://example.com/dl/other-3.1.tar.gz",
        "repo-name[extra] @ git+https://example.com/org/repo@v2#subdirectory=sub",
        "ssh-pkg @ git+ssh://git@example.com/org/ssh.git",
        'zed @ https://example.com/dl/z.zip ; python_version < "4"',
    ]


def test_bare_url_without_a_name_is_refused(tmp_path: Path) -> None:
    message = error(tmp_path, "idna\nhttps://example.com/download/latest\n")
    assert message.startswith(
        "requirements.in:2: cannot tell the project name of 'https://example.com/download/latest'"
    )


def test_a_bad_egg_is_refused(tmp_path: Path) -> None:
    message = error(tmp_path, "git+https://example.com/r#egg=foo>=1\n")
    assert message == "requirements.in:1: '#egg=foo>=1' is not a project name; write '#egg=NAME'"


def test_bare_file_url_to_a_project(tmp_path: Path) -> None:
    pkg = project(tmp_path / "lib", "libby")
    result = read(tmp_path, f"{pkg.as_uri()}\n")
    assert reqs(result.requirements) == [f"libby @ {pkg.as_uri()}"]


# --- local paths ----------------------------------------------------------------------


def test_bare_local_paths(tmp_path: Path) -> None:
    here = project(tmp_path / "app", "app-itself")
    project(tmp_path / "app/pkg", "inner")
    project(tmp_path / "sibling", "sibling")
    project(tmp_path / "app/slashed", "slashed")
    top = write(
        tmp_path,
        "app/requirements.in",
        ".\n"
        "./pkg[fast]\n"
        "../sibling ; sys_platform == 'linux'\n"
        "slashed/\n"
        "./pkg[a,b] ; python_version >= '3.11'\n",
    )
    result = read_requirements(top)
    inner = (tmp_path / "app/pkg").resolve().as_uri()
    assert reqs(result.requirements) == [
        f"app-itself @ {here.resolve().as_uri()}",
        f"inner[fast] @ {inner}",
        f'sibling @ {(tmp_path / "sibling").resolve().as_uri()} ; sys_platform == "linux"',
        f"slashed @ {(tmp_path / 'app/slashed').resolve().as_uri()}",
        f'inner[a,b] @ {inner} ; python_version >= "3.11"',
    ]
    assert all(
        e.requirement.url and e.requirement.url.startswith("file:///") for e in result.requirements
    )
    assert [e.editable for e in result.requirements] == [False] * 5


def test_paths_are_relative_to_the_file_not_the_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    project(tmp_path / "deep/pkg", "deep-pkg")
    write(tmp_path, "deep/more.in", "./pkg\n")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    result = read(tmp_path, "-r deep/more.in\n")
    assert reqs(result.requirements) == [f"deep-pkg @ {(tmp_path / 'deep/pkg').resolve().as_uri()}"]
    assert origins(result.requirements) == ["deep/more.in:1"]


def test_relative_top_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write(tmp_path, "dir/requirements.in", "-r base.in\n")
    write(tmp_path, "dir/base.in", "idna\n")
    monkeypatch.chdir(tmp_path)
    result = read_requirements(Path("dir/requirements.in"))
    assert result.path == Path("dir/requirements.in")
    assert result.files == (tmp_path / "dir/requirements.in", tmp_path / "dir/base.in")
    assert origins(result.requirements) == ["base.in:1"]


def test_named_relative_path(tmp_path: Path) -> None:
    project(tmp_path / "legacy", None)
    (tmp_path / "legacy/setup.py").write_text("", encoding="utf-8")
    result = read(tmp_path, "legacy-pkg[x] @ ./legacy ; os_name == 'posix'\n")
    assert reqs(result.requirements) == [
        f'legacy-pkg[x] @ {(tmp_path / "legacy").resolve().as_uri()} ; os_name == "posix"'
    ]


def test_local_archives(tmp_path: Path) -> None:
    write(tmp_path, "dist/My_Lib-1.0-py3-none-any.whl", "")
    write(tmp_path, "dist/other_lib-2.0.tar.gz", "")
    write(tmp_path, "odd.tar.gz", "")
    result = read(
        tmp_path,
        "./dist/My_Lib-1.0-py3-none-any.whl\n"
        "dist/other_lib-2.0.tar.gz[cli]\n"
        "renamed @ ./odd.tar.gz\n",
    )
    assert reqs(result.requirements) == [
        f"my-lib @ {(tmp_path / 'dist/My_Lib-1.0-py3-none-any.whl').resolve().as_uri()}",
        f"other-lib[cli] @ {(tmp_path / 'dist/other_lib-2.0.tar.gz').resolve().as_uri()}",
        f"renamed @ {(tmp_path / 'odd.tar.gz').resolve().as_uri()}",
    ]


def test_directory_without_a_name_is_refused(tmp_path: Path) -> None:
    project(tmp_path / "nameless", None)
    message = error(tmp_path, "idna\n\n./nameless\n")
    assert message == (
        "requirements.in:3: cannot tell the project name of './nameless' "
        "(no [project].name in its pyproject.toml); name it: 'NAME @ ./nameless'"
    )


def test_setup_py_only_directory_needs_a_name(tmp_path: Path) -> None:
    (tmp_path / "old").mkdir()
    (tmp_path / "old/setup.py").write_text("", encoding="utf-8")
    message = error(tmp_path, "./old\n")
    assert message.startswith("requirements.in:1: cannot tell the project name of './old'")


def test_directory_that_is_not_a_project_is_refused(tmp_path: Path) -> None:
    (tmp_path / "docs").mkdir()
    message = error(tmp_path, "./docs\n")
    assert message.startswith("requirements.in:1: './docs' is not a Python project")


def test_broken_pyproject_is_refused(tmp_path: Path) -> None:
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad/pyproject.toml").write_text("[project\n", encoding="utf-8")
    message = error(tmp_path, "./bad\n")
    assert message.startswith("requirements.in:1: cannot read the pyproject.toml of './bad'")


def test_missing_path_is_refused(tmp_path: Path) -> None:
    message = error(tmp_path, "../nowhere/pkg\n")
    assert message == (
        "requirements.in:1: '../nowhere/pkg' does not exist (paths are relative to the "
        "file that names them); fix the path"
    )
    assert "'./gone' does not exist" in error(tmp_path, "gone @ ./gone\n")
    assert "'dist/x-1.0-py3-none-any.whl' does not exist" in error(
        tmp_path, "dist/x-1.0-py3-none-any.whl\n"
    )


def test_a_requirements_file_named_as_a_requirement_is_refused(tmp_path: Path) -> None:
    write(tmp_path, "other.txt", "idna\n")
    message = error(tmp_path, "./other.txt\n")
    assert message == (
        "requirements.in:1: './other.txt' is not a wheel, sdist or project directory; "
        "to include a requirements file write '-r ./other.txt'"
    )


def test_a_name_is_not_a_path_even_when_a_directory_has_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    project(tmp_path / "requests", "not-requests")
    monkeypatch.chdir(tmp_path)
    assert reqs(read(tmp_path, "requests\n").requirements) == ["requests"]


# --- errors ---------------------------------------------------------------------------


def test_unparseable_requirement(tmp_path: Path) -> None:
    message = error(tmp_path, "# header\nidna\nsix\nrequests>=\n")
    assert message.startswith("requirements.in:4: cannot parse 'requests>=': ")
    assert message.endswith("a path or a URL")


def test_error_in_an_included_file_names_that_file(tmp_path: Path) -> None:
    write(tmp_path, "sub/base.in", "idna\nfoo[bar\n")
    message = error(tmp_path, "-r sub/base.in\n")
    assert message.startswith("sub/base.in:2: cannot parse 'foo[bar': ")


def test_missing_top_file(tmp_path: Path) -> None:
    with pytest.raises(InputError) as info:
        read_requirements(tmp_path / "nope.in")
    assert str(info.value) == f"{tmp_path / 'nope.in'}: no such requirements file; check the path"


def test_directory_as_top_file(tmp_path: Path) -> None:
    with pytest.raises(InputError) as info:
        read_requirements(tmp_path)
    assert str(info.value) == f"{tmp_path}: a directory, not a requirements file"


def test_missing_included_file(tmp_path: Path) -> None:
    message = error(tmp_path, "idna\n-r sub/missing.in\n")
    assert message == (
        "requirements.in:2: cannot read 'sub/missing.in': no such requirements file; "
        "check the path (relative to the file that names it)"
    )
    message = error(tmp_path, "-c cons.txt\n")
    assert message.startswith("requirements.in:1: cannot read 'cons.txt': no such constraints file")


def test_include_cycle(tmp_path: Path) -> None:
    write(tmp_path, "a.in", "idna\n-r b.in\n")
    write(tmp_path, "b.in", "-c a.in\n")
    message = error(tmp_path, "-r a.in\n")
    assert message == (
        "b.in:1: 'a.in' includes itself (a.in -> b.in -> a.in); remove one of the -r/-c lines"
    )


def test_self_include(tmp_path: Path) -> None:
    message = error(tmp_path, "idna\n-r ./requirements.in\n")
    assert message == (
        "requirements.in:2: 'requirements.in' includes itself "
        "(requirements.in -> requirements.in); remove one of the -r/-c lines"
    )


@pytest.mark.parametrize("option", ["--foo", "--foo=bar", "-x", "--index", "--requirements=a"])
def test_unknown_option(tmp_path: Path, option: str) -> None:
    message = error(tmp_path, f"idna\n{option}\n")
    spelled = option.partition("=")[0]
    assert message.startswith(f"requirements.in:2: unknown option '{spelled}'; ")
    assert message.endswith("remove it or fix its spelling")


def test_unknown_option_after_a_requirement(tmp_path: Path) -> None:
    assert error(tmp_path, "idna --foo\n").startswith("requirements.in:1: unknown option '--foo'")


@pytest.mark.parametrize("line", ["-r", "--index-url", "--extra-index-url=", "-e"])
def test_option_without_its_value(tmp_path: Path, line: str) -> None:
    spelled = line.rstrip("=")
    assert error(tmp_path, f"{line}\n") == f"requirements.in:1: option '{spelled}' needs a value"


def test_flag_with_a_value(tmp_path: Path) -> None:
    message = error(tmp_path, "--pre=yes\n")
    assert message == "requirements.in:1: option '--pre' takes no value; write it alone"


def test_stray_word_after_options(tmp_path: Path) -> None:
    write(tmp_path, "a.in", "")
    message = error(tmp_path, "-r a.in b.in\n")
    assert message.startswith("requirements.in:1: unexpected 'b.in' after the options;")


def test_unclosed_quote(tmp_path: Path) -> None:
    message = error(tmp_path, "idna --config-settings='x\n")
    assert message.startswith("requirements.in:1: cannot split the options")
    assert message.endswith("fix the quoting")


def test_remote_include_is_refused(tmp_path: Path) -> None:
    message = error(tmp_path, "-r https://example.com/requirements.txt\n")
    assert message == (
        "requirements.in:1: cannot read 'https://example.com/requirements.txt': tumbler "
        "reads only local files; download it and name its path"
    )


def test_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "requirements.in"
    path.write_bytes(b"idna\nsix # caf\xe9\n")
    with pytest.raises(InputError) as info:
        read_requirements(path)
    assert str(info.value) == f"{path}:2: not UTF-8 text (byte 14); save it as UTF-8"


def test_errors_are_input_errors_with_exit_code_2(tmp_path: Path) -> None:
    with pytest.raises(InputError) as info:
        read(tmp_path, "--foo\n")
    assert info.value.exit_code == 2


def test_bad_extras_after_a_path(tmp_path: Path) -> None:
    project(tmp_path / "pkg", "pkg")
    message = error(tmp_path, "./pkg[not ok]\n")
    assert message.startswith("requirements.in:1: cannot parse './pkg[not ok]': ")
