"""No process an install starts outlives it (issue 23): a cold install of enough wheels
that they are unpacked in worker processes, run as the real ``tumbler`` command under a
child subreaper (Linux ``prctl``), leaves no process behind, alive or unreaped, whether it
succeeds, refuses a bad wheel, or is interrupted with Ctrl-C (SIGINT to its process group).

Which processes tumbler started is observed, not assumed: a ``sitecustomize`` on
``PYTHONPATH`` logs every Python process started under the run (pid, parent, command line),
so the test also sees that the unpacking workers were used."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.pkgindex import Dist, build_wheel

BIN = Path(sys.executable).parent
#: Enough wheels that unpacking runs in worker processes
#: (``tumbler.installing.pipeline._PROCESS_UNPACK_FROM``).
WHEELS = 30
WORKER = "tumbler.installing.workers"

pytestmark = [
    pytest.mark.usefixtures("lock_env"),
    pytest.mark.skipif(not sys.platform.startswith("linux"), reason="prctl and /proc: Linux"),
]

#: Logs each Python process of the run; a worker may be held back (the interrupt case).
SITECUSTOMIZE = """
import json, os, time
_log = os.environ.get("TUMBLER_TEST_PROCESS_LOG")
if _log:
    with open("/proc/self/cmdline", "rb") as _f:
        _argv = _f.read().decode(errors="replace").split("\\0")
    with open(_log, "a", encoding="utf-8") as _f:
        _f.write(json.dumps([os.getpid(), os.getppid(), _argv]) + "\\n")
    if "tumbler.installing.workers" in _argv:
        time.sleep(float(os.environ.get("TUMBLER_TEST_WORKER_DELAY", "0")))
"""

#: Runs the command as a child subreaper: a descendant left when the command has returned
#: (alive or a zombie nobody waited for) becomes this process's child, and is reported.
#: ``interrupt``: SIGINT to the command's process group once a worker has started.
REAPER = """
import ctypes, json, os, signal, subprocess, sys, time
assert ctypes.CDLL(None, use_errno=True).prctl(36, 1, 0, 0, 0) == 0  # CHILD_SUBREAPER
mode, log, err, *argv = sys.argv[1:]
# A background job of a non-interactive shell starts with SIGINT ignored, and a Python
# started so keeps ignoring it: give the command the default, as a terminal would.
signal.signal(signal.SIGINT, signal.SIG_DFL)
with open(err, "wb") as stderr:
    child = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=stderr, process_group=0)
if mode == "interrupt":
    def started():
        if not os.path.exists(log):
            return False
        with open(log, encoding="utf-8") as f:
            return any("tumbler.installing.workers" in json.loads(line)[2]
                       for line in f if line.endswith("\\n"))
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not started():
        time.sleep(0.005)
    os.killpg(child.pid, signal.SIGINT)
child.wait()
left = []
for entry in os.listdir("/proc"):
    try:
        with open(f"/proc/{entry}/stat", encoding="utf-8") as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except (OSError, ValueError, IndexError):
        continue
    if int(fields[1]) == os.getpid():
        try:
            with open(f"/proc/{entry}/cmdline", "rb") as f:
                command = f.read().decode(errors="replace").replace("\\0", " ")
        except OSError:
            command = ""
        left.append([int(entry), fields[0], command])
for pid, *_ in left:
    try:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
    except OSError:
        pass
print(json.dumps({"code": child.returncode, "pid": child.pid, "left": left}))
"""


def _wheels(directory: Path, *, broken: str = "") -> Path:
    """A lock of :data:`WHEELS` local wheels; the one named ``broken`` is not a zip (its
    hash is the lock's, so only unpacking finds out)."""
    wheels = directory / "wheels"
    wheels.mkdir(parents=True)
    lines = ['lock-version = "1.0"', 'created-by = "test"', ""]
    for i in range(WHEELS):
        wheel = build_wheel(Dist(f"many{i}", "1.0"), wheels)
        if wheel.name.startswith(f"{broken}-"):
            wheel.write_bytes(b"not a zip file")
        digest = hashlib.sha256(wheel.read_bytes()).hexdigest()
        lines += [
            "[[packages]]",
            f'name = "many{i}"',
            'version = "1.0"',
            f'wheels = [{{name = "{wheel.name}", path = "wheels/{wheel.name}", '
            f'size = {wheel.stat().st_size}, hashes = {{sha256 = "{digest}"}}}}]',
            "",
        ]
    lock = directory / "pylock.toml"
    lock.write_text("\n".join(lines), encoding="utf-8")
    return lock


def _run(tmp_path: Path, lock: Path, mode: str = "run") -> tuple[dict[str, object], str]:
    """``tumbler install`` with a cold cache under the reaper; its report and stderr,
    after checking that no process of the run is left."""
    site = tmp_path / "site"
    site.mkdir()
    (site / "sitecustomize.py").write_text(SITECUSTOMIZE, encoding="utf-8")
    log, err = tmp_path / "processes.log", tmp_path / "stderr.txt"
    path = os.pathsep.join(p for p in (str(site), os.environ.get("PYTHONPATH", "")) if p)
    env = {**os.environ, "PYTHONPATH": path, "TUMBLER_TEST_PROCESS_LOG": str(log)}
    if mode == "interrupt":
        env["TUMBLER_TEST_WORKER_DELAY"] = "2"
    argv = [BIN / "tumbler", "install", lock, "--venv", tmp_path / "venv",
            "--cache-dir", tmp_path / "cold-cache", "-q"]  # fmt: skip
    done = subprocess.run(
        [sys.executable, "-c", REAPER, mode, log, err, *map(str, argv)],
        env=env, capture_output=True, text=True, check=False, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    stderr = err.read_text(encoding="utf-8")
    assert report["left"] == [], f"processes outlived the command: {report['left']}\n{stderr}"
    assert "Traceback" not in stderr, stderr
    started = [json.loads(line) for line in log.read_text(encoding="utf-8").splitlines()]
    workers = [p for p in started if p[1] == report["pid"] and WORKER in p[2]]
    assert workers, f"no unpacking worker was started: {started}"
    return report, stderr


def test_a_cold_install_leaves_no_worker_behind(tmp_path: Path) -> None:
    report, stderr = _run(tmp_path, _wheels(tmp_path / "p"))
    assert report["code"] == 0, stderr
    site = next((tmp_path / "venv").glob("lib/python3.*/site-packages"))
    assert len(list(site.glob("many*-1.0.dist-info"))) == WHEELS
    assert len(list((tmp_path / "cold-cache").glob("unpacked/*/*/*/manifest.json"))) == WHEELS


def test_a_wheel_failing_to_unpack_refuses_and_leaves_no_worker(tmp_path: Path) -> None:
    report, stderr = _run(tmp_path, _wheels(tmp_path / "p", broken="many7"))
    assert report["code"] == 2, stderr
    assert "many7-1.0-py3-none-any.whl: not a usable wheel" in stderr
    assert "nothing was changed" in stderr
    assert not (tmp_path / "venv").exists()


def test_an_interrupted_install_leaves_no_worker(tmp_path: Path) -> None:
    report, stderr = _run(tmp_path, _wheels(tmp_path / "p"), mode="interrupt")
    assert report["code"] == 130, stderr
    assert "tumbler: interrupted" in stderr
    assert not (tmp_path / "venv").exists()
