"""The GitHub Action (``action.yml``) and the example workflows (``examples/github/``).

Each ``run:`` step of the composite action runs with bash as the runner would: its
``${{ }}`` expressions (``inputs``, ``steps.*.outputs``, ``github.event`` from the event
payload file, ``runner``) evaluated, ``GITHUB_STEP_SUMMARY``, ``GITHUB_OUTPUT``,
``GITHUB_PATH`` and ``GITHUB_EVENT_PATH`` set to temporary files, in a git repository
holding a project and its lock on the loopback index. Two steps do not run: actions/
setup-python, and the step that pip-installs the pinned tumbler release (this
checkout's ``tumbler`` is on ``PATH`` instead). For the ``uses:`` steps of other actions
(the pull request comment, the update pull request) the test checks whether they would
run and what they would be given. ``action.yml`` and the workflows validate against the
JSON schemas check-jsonschema ships, so no network is needed.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
import yaml

from tests.conftest import ROOT
from tests.support.lockfixtures import pins, write_project
from tests.support.tools import clean_env, install_tool

if TYPE_CHECKING:
    from tests.conftest import CLI
    from tests.support.pkgindex import PackageIndex

pytestmark = pytest.mark.usefixtures("lock_env")

ACTION = ROOT / "action.yml"
WORKFLOWS = sorted((ROOT / "examples" / "github").glob("*.yml"))
#: Steps the test does not run: they set up Python and install tumbler from the index.
NOT_RUN = {"install"}
GIT = ("git", "-c", "user.name=tumbler tests", "-c", "user.email=tests@tumbler.invalid")


def git(directory: Path, *args: str) -> str:
    done = subprocess.run([*GIT, *args], cwd=directory, check=True, capture_output=True, text=True)
    return done.stdout.strip()


def load(path: Path) -> dict[Any, Any]:
    loaded = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert isinstance(loaded, dict)
    return loaded


# ---------------------------------------------------------------- expressions

_TOKEN = re.compile(
    r"\s*(?:(?P<string>'(?:[^']|'')*')|(?P<call>[A-Za-z]+)\(\)"
    r"|(?P<op>==|!=|&&|\|\||!|\(|\))|(?P<path>[A-Za-z_][\w.-]*))"
)
_STATUS = ("success()", "failure()", "always()", "cancelled()")


@dataclass
class Context:
    """What GitHub's expressions read: ``github``, ``runner``, ``inputs``, ``steps``."""

    github: dict[str, Any]
    runner: dict[str, str]
    inputs: dict[str, str] = field(default_factory=dict)
    steps: dict[str, dict[str, Any]] = field(default_factory=dict)
    failed: bool = False

    def lookup(self, path: str) -> Any:
        if path in {"true", "false", "null"}:
            return {"true": True, "false": False, "null": None}[path]
        head, *rest = path.split(".")
        value: Any = {
            "github": self.github,
            "runner": self.runner,
            "inputs": self.inputs,
            "steps": self.steps,
        }[head]
        for key in rest:
            value = value.get(key) if isinstance(value, dict) else None
        return value

    def evaluate(self, expression: str) -> Any:
        """A GitHub expression of literals, context paths, ``==``/``!=``/``!``/``&&``/``||``."""
        text = expression.strip()
        if text.startswith("${{") and text.endswith("}}"):
            text = text[3:-2].strip()
        values: list[Any] = []
        python: list[str] = []
        position = 0
        while position < len(text):
            match = _TOKEN.match(text, position)
            assert match and match.end() > position, f"cannot read {text!r} at {position}"
            position = match.end()
            if match["string"]:
                values.append(match["string"][1:-1].replace("''", "'"))
                python.append(f"_v[{len(values) - 1}]")
            elif match["call"]:
                status = {
                    "success": not self.failed,
                    "failure": self.failed,
                    "always": True,
                    "cancelled": False,
                }
                python.append(repr(status[match["call"]]))
            elif match["op"]:
                python.append(
                    {"&&": " and ", "||": " or ", "!": " not "}.get(match["op"], match["op"])
                )
            else:
                value = self.lookup(match["path"])
                values.append("" if value is None else value)
                python.append(f"_v[{len(values) - 1}]")
        return eval("".join(python), {"__builtins__": {}, "_v": values})

    def condition(self, expression: str | None) -> bool:
        """A step's ``if:``, with GitHub's implicit ``success() &&`` when no status call."""
        if expression is None:
            return not self.failed
        value = bool(self.evaluate(expression))
        if not any(call in expression for call in _STATUS):
            return value and not self.failed
        return value

    def interpolate(self, text: str) -> str:
        def one(match: re.Match[str]) -> str:
            value = self.evaluate(match[1])
            if isinstance(value, bool):
                return "true" if value else "false"
            return json.dumps(value) if isinstance(value, dict) else str(value)

        return re.sub(r"\$\{\{(.*?)\}\}", one, text)


def as_text(value: object) -> str:
    """A YAML scalar as the runner passes it: ``true`` stays lower-case."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def read_outputs(path: Path) -> dict[str, str]:
    """``name=value`` and ``name<<DELIMITER`` lines of a ``GITHUB_OUTPUT`` file."""
    outputs: dict[str, str] = {}
    lines = iter(path.read_text(encoding="utf-8").splitlines())
    for line in lines:
        if "<<" in line and ("=" not in line or line.index("<<") < line.index("=")):
            name, delimiter = line.split("<<", 1)
            outputs[name] = "\n".join(iter(lambda: next(lines), delimiter))
        elif line:
            name, value = line.split("=", 1)
            outputs[name] = value
    return outputs


# ---------------------------------------------------------------- the runner


@dataclass
class Outcome:
    """One run of the composite action."""

    summary: str
    outputs: dict[str, str]
    logs: dict[str, str] = field(default_factory=dict)
    codes: dict[str, int] = field(default_factory=dict)
    uses: dict[str, dict[str, str]] = field(default_factory=dict)
    failed: bool = False


def tumbler_bin(directory: Path) -> Path:
    """A directory whose only command is this checkout's ``tumbler``."""
    tumbler = Path(sys.executable).with_name("tumbler")
    if not tumbler.exists():
        pytest.skip(f"no tumbler command beside {sys.executable}")
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "tumbler").symlink_to(tumbler)
    return directory


def run_action(
    workspace: Path, given: dict[str, str], *, event_name: str, event: dict[str, Any], temp: Path
) -> Outcome:
    """Run ``action.yml`` for ``event`` in ``workspace`` with the inputs ``given``."""
    action = load(ACTION)
    runner = temp / "runner"
    runner.mkdir(parents=True)
    (runner / "temp").mkdir()
    event_path = runner / "event.json"
    event_path.write_text(json.dumps(event), encoding="utf-8")
    summary, path_file = runner / "step-summary.md", runner / "path"
    summary.touch()
    path_file.touch()
    context = Context(
        github={
            "event": event,
            "event_name": event_name,
            "token": "test-token",
            "workspace": str(workspace),
            "action_path": str(ROOT),
        },
        runner={"temp": str(runner / "temp"), "os": "Linux"},
    )
    for name, spec in action["inputs"].items():
        context.inputs[name] = given.get(name, context.interpolate(str(spec.get("default", ""))))
    extra_path = [str(tumbler_bin(temp / "bin"))]
    env = clean_env(
        {
            "TUMBLER_CACHE_DIR": os.environ["TUMBLER_CACHE_DIR"],
            "GITHUB_ACTIONS": "true",
            "GITHUB_EVENT_NAME": event_name,
            "GITHUB_EVENT_PATH": str(event_path),
            "GITHUB_STEP_SUMMARY": str(summary),
            "GITHUB_PATH": str(path_file),
            "GITHUB_WORKSPACE": str(workspace),
            "RUNNER_TEMP": str(runner / "temp"),
            "RUNNER_OS": "Linux",
        }
    )
    outcome = Outcome(summary="", outputs={})
    for number, step in enumerate(action["runs"]["steps"]):
        step_id = step.get("id", f"step{number}")
        if not context.condition(step.get("if")):
            continue
        if "uses" in step:
            with_ = {k: context.interpolate(as_text(v)) for k, v in step.get("with", {}).items()}
            outcome.uses[step["uses"] + " " + step_id] = with_
            continue
        if step_id in NOT_RUN:
            continue
        output_file = runner / f"output-{step_id}"
        output_file.touch()
        script = runner / f"{step_id}.sh"
        script.write_text(context.interpolate(step["run"]), encoding="utf-8")
        step_env = env | {
            k: context.interpolate(as_text(v)) for k, v in step.get("env", {}).items()
        }
        added = path_file.read_text(encoding="utf-8").split()
        step_env["PATH"] = os.pathsep.join([*reversed(added), *extra_path, env["PATH"]])
        step_env["GITHUB_OUTPUT"] = str(output_file)
        directory = workspace / context.interpolate(step.get("working-directory", "."))
        done = subprocess.run(
            ["bash", "--noprofile", "--norc", "-eo", "pipefail", str(script)],
            cwd=directory, env=step_env, capture_output=True, text=True, check=False,
            timeout=300,
        )  # fmt: skip
        outcome.logs[step_id] = done.stdout + done.stderr
        outcome.codes[step_id] = done.returncode
        context.steps[step_id] = {"outputs": read_outputs(output_file)}
        if done.returncode != 0 and not step.get("continue-on-error", False):
            context.failed = True
    outcome.failed = context.failed
    outcome.summary = summary.read_text(encoding="utf-8")
    outcome.outputs = {
        name: context.interpolate(spec["value"]) for name, spec in action["outputs"].items()
    }
    return outcome


# ---------------------------------------------------------------- projects


def pull_request(
    tmp_path: Path, cli: CLI, index: PackageIndex, *, relock: bool, new_lock: bool = False
) -> tuple[Path, dict[str, Any]]:
    """A repository whose PR head adds churn to the project; the event names the base."""
    workspace = tmp_path / "workspace"
    write_project(workspace, ["alpha", "top"], tool=f'index-url = "{index.url}"')
    if not new_lock:
        assert cli("lock", workspace, "-q").code == 0
    git(workspace, "init", "-q")
    git(workspace, "add", "-A")
    git(workspace, "commit", "-q", "-m", "base")
    base = git(workspace, "rev-parse", "HEAD")
    write_project(workspace, ["alpha", "top", "churn"], tool=f'index-url = "{index.url}"')
    if relock:
        assert cli("lock", workspace, "-q").code == 0
    git(workspace, "add", "-A")
    git(workspace, "commit", "-q", "-m", "add churn")
    event = {"number": 7, "pull_request": {"number": 7, "base": {"sha": base, "ref": "main"}}}
    return workspace, event


def test_pull_request_with_a_relocked_project(
    cli: CLI, tmp_path: Path, index: PackageIndex
) -> None:
    """Up to date, valid, clean; the diff goes to the summary and to the sticky comment."""
    workspace, event = pull_request(tmp_path, cli, index, relock=True)

    outcome = run_action(workspace, {}, event_name="pull_request", event=event, temp=tmp_path)

    assert outcome.codes == {"check": 0, "validate": 0, "audit": 0, "diff": 0}
    assert not outcome.failed
    assert outcome.outputs == {
        "check": "0",
        "changed": "true",
        "updated": "",
        "summary": "",
        "pull-request-url": "",
    }
    assert "`pylock.toml` is up to date" in outcome.summary
    assert "### `pylock.toml`: valid" in outcome.summary
    assert "### `pylock.toml`: clean" in outcome.summary
    assert f"### Lock file changes: `{event['pull_request']['base']['sha']}:pylock.toml`" in (
        outcome.summary
    )
    assert "#### Added (1)" in outcome.summary
    assert "| `churn` | 1.1 |" in outcome.summary
    comment = outcome.uses["marocchino/sticky-pull-request-comment@v2 comment"]
    assert {"header", "path", "GITHUB_TOKEN"} == set(comment)
    assert comment["header"] == "tumbler-diff"
    assert comment["GITHUB_TOKEN"] == "test-token"
    diff = Path(comment["path"]).read_text(encoding="utf-8")
    assert "#### Added (1)" in diff
    assert diff in outcome.summary
    assert (sorted(outcome.uses)) == [
        "actions/setup-python@v5 step0",
        "marocchino/sticky-pull-request-comment@v2 comment",
    ]


def test_pull_request_with_a_drifted_project_fails_with_the_drift_lines(
    cli: CLI, tmp_path: Path, index: PackageIndex
) -> None:
    """lock --check fails the action naming the input; the other checks still report."""
    workspace, event = pull_request(tmp_path, cli, index, relock=False)

    outcome = run_action(workspace, {}, event_name="pull_request", event=event, temp=tmp_path)

    assert outcome.failed
    assert outcome.codes == {"check": 1, "validate": 0, "audit": 0, "diff": 0}
    assert "dependency 'churn' added to [project.dependencies]" in outcome.logs["check"]
    assert "- dependency 'churn' added to [project.dependencies]" in outcome.summary
    assert "`pylock.toml` is out of date" in outcome.summary
    assert outcome.outputs["check"] == "1"
    assert outcome.outputs["changed"] == "false"
    assert "**no changes**" in outcome.summary
    refresh = outcome.uses["marocchino/sticky-pull-request-comment@v2 comment-refresh"]
    assert refresh["only_update"] == "true"  # an earlier comment is refreshed, none is added


def test_pull_request_adding_the_lock(cli: CLI, tmp_path: Path, index: PackageIndex) -> None:
    """A lock the base does not have is reported as new in the summary and the comment."""
    workspace, event = pull_request(tmp_path, cli, index, relock=True, new_lock=True)

    outcome = run_action(workspace, {}, event_name="pull_request", event=event, temp=tmp_path)

    assert outcome.codes["diff"] == 0
    assert outcome.outputs["changed"] == "true"
    assert "### Lock file changes: `pylock.toml` is new" in outcome.summary


def test_push_runs_the_checks_without_a_diff(cli: CLI, tmp_path: Path, index: PackageIndex) -> None:
    """Outside pull requests there is no base: no diff and no comment."""
    workspace, _ = pull_request(tmp_path, cli, index, relock=True)

    outcome = run_action(workspace, {}, event_name="push", event={"ref": "main"}, temp=tmp_path)

    assert outcome.codes == {"check": 0, "validate": 0, "audit": 0}
    assert sorted(outcome.uses) == ["actions/setup-python@v5 step0"]
    assert outcome.outputs["changed"] == ""


def test_update_opens_a_pull_request_only_when_the_lock_changed(
    cli: CLI, tmp_path: Path, index: PackageIndex
) -> None:
    """exit 1: the summary is the PR body; exit 0 (nothing newer): no pull request."""
    workspace = tmp_path / "workspace"
    write_project(workspace, ["alpha", "churn"], tool=f'index-url = "{index.url}"')
    assert cli("lock", workspace, "-q", "--exclude-newer", "2024-01-01").code == 0
    assert pins(workspace / "pylock.toml")["churn"] == "1.0"
    git(workspace, "init", "-q")
    git(workspace, "add", "-A")
    git(workspace, "commit", "-q", "-m", "base")
    schedule = {"schedule": "17 5 * * 1"}

    first = run_action(
        workspace, {"command": "update"}, event_name="schedule", event=schedule,
        temp=tmp_path / "first",
    )  # fmt: skip

    assert first.codes == {"update": 0}, first.logs  # tumbler update's exit 1: updated
    assert not first.failed
    assert first.outputs["updated"] == "true"
    assert pins(workspace / "pylock.toml")["churn"] == "1.1"
    body = Path(first.outputs["summary"]).read_text(encoding="utf-8")
    assert "`churn`" in body
    assert "1.0 → 1.1" in body
    assert body in first.summary
    opened = first.uses["peter-evans/create-pull-request@v7 pull-request"]
    assert opened["body-path"] == first.outputs["summary"]
    assert opened["branch"] == "tumbler/update"
    assert opened["add-paths"] == "./pylock.toml"
    assert opened["token"] == "test-token"

    git(workspace, "commit", "-q", "-am", "update")
    second = run_action(
        workspace, {"command": "update"}, event_name="schedule", event=schedule,
        temp=tmp_path / "second",
    )  # fmt: skip

    assert second.codes == {"update": 0}, second.logs
    assert second.outputs["updated"] == "false"
    assert sorted(second.uses) == ["actions/setup-python@v5 step0"]
    assert "nothing to update in `pylock.toml`" in second.summary
    assert git(workspace, "status", "--porcelain") == ""


# ---------------------------------------------------------------- schemas and layout


@pytest.fixture(scope="session")
def check_jsonschema(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """check-jsonschema in a virtual environment of its own (its vendored schemas)."""
    return install_tool(tmp_path_factory, "check-jsonschema", ["check-jsonschema"])


@pytest.mark.parametrize(
    ("schema", "path"),
    [("vendor.github-actions", ACTION)]
    + [("vendor.github-workflows", workflow) for workflow in WORKFLOWS],
    ids=lambda value: value.name if isinstance(value, Path) else value,
)
def test_matches_the_published_schema(check_jsonschema: Path, schema: str, path: Path) -> None:
    """action.yml and each example workflow validate against GitHub's schemas, offline."""
    done = subprocess.run(
        [str(check_jsonschema), "--builtin-schema", schema, str(path)],
        capture_output=True, text=True, check=False, env=clean_env(), timeout=120,
    )  # fmt: skip

    assert done.returncode == 0, done.stdout + done.stderr


def test_the_action_only_calls_tumbler_and_established_actions() -> None:
    """Each ``uses:`` is pinned to a major version; each run step calls tumbler."""
    steps = load(ACTION)["runs"]["steps"]
    uses = sorted({step["uses"] for step in steps if "uses" in step})

    assert uses == [
        "actions/setup-python@v5",
        "marocchino/sticky-pull-request-comment@v2",
        "peter-evans/create-pull-request@v7",
    ]
    for step in steps:
        if "run" in step:
            called = "tumbler==$TUMBLER_VERSION" if step["id"] == "install" else "tumbler "
            assert called in step["run"], step["name"]
            assert "${{" not in step["run"], "inputs reach scripts through env, not inline"


def test_the_example_workflows_use_the_action_in_each_mode() -> None:
    """The pull request workflow checks; the scheduled one updates; both pin tumbler."""
    found = {}
    for workflow in WORKFLOWS:
        loaded = load(workflow)
        for job in loaded["jobs"].values():
            for step in job["steps"]:
                if step.get("uses", "").split("@")[0].endswith("/tumbler"):
                    found[workflow.name] = (
                        step["with"]["command"],
                        step["with"]["tumbler-version"],
                    )
        triggers = loaded[True]  # YAML 1.1 reads the key ``on`` as true
        assert ("pull_request" in triggers) == (workflow.name == "tumbler-check.yml")
        assert ("schedule" in triggers) == (workflow.name == "tumbler-update.yml")

    assert found == {
        "tumbler-check.yml": ("check", "0.1.0"),
        "tumbler-update.yml": ("update", "0.1.0"),
    }
