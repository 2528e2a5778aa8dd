"""Run one submission in its own sandboxed process, with limits, and collect its replies.

Protections, each used where this machine allows it and reported when it does not:

* bubblewrap (``bwrap``): new user, PID, network, IPC and UTS namespaces; the
  filesystem is only the Python installation (read-only), an empty /tmp and the
  submission's own temporary folder: no network and no view of the instructor's files;
* a wall-time limit, after which the whole process tree is killed (the PID namespace
  and ``--die-with-parent`` make sure nothing a submission started outlives it);
* memory and process-count limits: RLIMIT_AS, plus a cgroup (memory, pids) where one
  can be made, otherwise RLIMIT_NPROC (which does not bind root);
* RLIMIT_FSIZE and RLIMIT_CORE, so a submission cannot fill the disk or dump core.
"""

from __future__ import annotations

import os
import selectors
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from . import datafmt
from .limits import CGROUP_MEMORY_BYTES, MAX_PROCESSES

CGROUP_ROOT = Path("/sys/fs/cgroup")


@dataclass
class RunResult:
    records: list = field(default_factory=list)  # parsed JSON lines from the runner
    timed_out: bool = False
    exit_code: int | None = None
    seconds: float = 0.0
    reply_error: str | None = None


def _bwrap() -> str | None:
    path = shutil.which("bwrap")
    if path is None:
        return None
    probe = subprocess.run(
        [path, "--unshare-all", "--unshare-user", "--die-with-parent", "--ro-bind", "/", "/", "true"],
        capture_output=True,
    )
    return path if probe.returncode == 0 else None


class _Cgroups:
    """A v1 or v2 cgroup with memory and pids limits, where this process may make one."""

    def __init__(self):
        self.dirs: list[Path] = []
        name = f"backprop-lab-{uuid.uuid4().hex[:12]}"
        v2 = CGROUP_ROOT / "cgroup.controllers"
        try:
            if v2.exists():
                d = CGROUP_ROOT / name
                d.mkdir()
                self.dirs.append(d)
                (d / "pids.max").write_text(str(MAX_PROCESSES))
                (d / "memory.max").write_text(str(CGROUP_MEMORY_BYTES))
            else:
                for ctrl, knob, value in (("pids", "pids.max", MAX_PROCESSES), ("memory", "memory.limit_in_bytes", CGROUP_MEMORY_BYTES)):
                    d = CGROUP_ROOT / ctrl / name
                    d.mkdir()
                    self.dirs.append(d)
                    (d / knob).write_text(str(value))
            self.ok = True
        except OSError:
            self.ok = False
            self.remove()

    def kill_all(self) -> None:
        for d in self.dirs:
            try:
                for pid in (d / "cgroup.procs").read_text().split():
                    os.kill(int(pid), signal.SIGKILL)
            except (OSError, ValueError):
                pass

    def remove(self) -> None:
        for d in reversed(self.dirs):
            for _ in range(50):
                try:
                    d.rmdir()
                    break
                except OSError:
                    time.sleep(0.02)
        self.dirs = []


def protections() -> dict:
    """What this machine provides, for the report: name -> True, or a reason it is missing."""
    bwrap = _bwrap()
    cg = _Cgroups()
    has_cgroup = cg.ok
    cg.remove()
    root = os.geteuid() == 0
    return {
        "sandbox (bubblewrap: no network, private filesystem, PID namespace)": True if bwrap else "bwrap is not installed or cannot create namespaces here",
        "wall-time limit, whole process tree killed": True if bwrap or has_cgroup
        else "only the submission's process group is killed (no PID namespace or cgroup here)",
        "memory limit": True,
        "process-count limit": True if has_cgroup or not root else "no cgroup could be made and RLIMIT_NPROC does not bind root",
        "file-size limit": True,
    }


def _python_paths() -> list[str]:
    """What the runner needs to see: the interpreter, its packages, this package."""
    import backprop_lab

    paths = {sys.base_prefix, sys.prefix, str(Path(backprop_lab.__file__).resolve().parents[1])}
    return sorted(p for p in paths if p and Path(p).exists())


def _torch_dir() -> str | None:
    import importlib.util

    spec = importlib.util.find_spec("torch")
    return str(Path(spec.origin).parent) if spec and spec.origin else None


def run(job: dict, timeout: float) -> RunResult:
    """Run the job (cells and calls) in a fresh sandbox; never raises for the submission's faults."""
    workdir = Path(tempfile.mkdtemp(prefix="backprop-grade-"))
    os.chmod(workdir, 0o777)
    bwrap = _bwrap()
    cgroups = _Cgroups()
    env = {
        "PATH": "/usr/bin:/bin",
        "HOME": str(workdir) if not bwrap else "/submission",
        "BACKPROP_LAB_GRADING": "1",
        "MPLBACKEND": "Agg",
        "MPLCONFIGDIR": "/tmp" if bwrap else str(workdir),
        "PYTHONDONTWRITEBYTECODE": "1",
        "OMP_NUM_THREADS": "1",
        "LANG": "C.UTF-8",
    }
    python = [sys.executable, "-I", "-m", "backprop_lab.grading.runner"]
    if bwrap:
        cmd = [bwrap, "--unshare-all", "--unshare-user", "--uid", "65534", "--gid", "65534",
               "--die-with-parent", "--new-session", "--clearenv",
               # /tmp first: the Python installation may itself live under /tmp, and
               # a later mount would hide it
               "--proc", "/proc", "--dev", "/dev", "--tmpfs", "/tmp"]
        for d in ("/usr", "/lib", "/lib64", "/bin", "/sbin"):
            if Path(d).exists():
                cmd += ["--ro-bind", d, d]
        for p in _python_paths():
            cmd += ["--ro-bind", p, p]
        torch_dir = _torch_dir()
        if job.get("no_torch") and torch_dir:
            cmd += ["--tmpfs", torch_dir]
        cmd += ["--bind", str(workdir), "/submission", "--chdir", "/submission"]
        for k, v in env.items():
            cmd += ["--setenv", k, v]
        cmd += python
        run_env = {}
    else:
        cmd, run_env = python, env

    launcher = [sys.executable, "-I", "-m", "backprop_lab.grading.limits"]
    for d in cgroups.dirs:
        launcher += ["--cgroup", str(d)]
    cmd = launcher + ["--"] + cmd

    read_fd, write_fd = os.pipe()
    result = RunResult()
    start = time.monotonic()
    try:
        proc = subprocess.Popen(
            cmd + ["--result-fd", str(write_fd)],
            stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            env=run_env, cwd=workdir, start_new_session=True, pass_fds=(write_fd,),
        )
        os.close(write_fd)
        write_fd = None
        try:
            proc.stdin.write(datafmt.dumps(job).encode("utf-8"))
            proc.stdin.close()
        except BrokenPipeError:
            pass
        result.records, result.timed_out, result.reply_error = _collect(proc, read_fd, start + timeout)
        result.exit_code = proc.returncode
    finally:
        if write_fd is not None:
            os.close(write_fd)
        os.close(read_fd)
        cgroups.kill_all()
        cgroups.remove()
        shutil.rmtree(workdir, ignore_errors=True)
        result.seconds = time.monotonic() - start
    return result


def _collect(proc, read_fd, deadline):
    """Read JSON lines from the runner until it ends or the deadline; kill it on time-out."""
    records, buffer, total, error = [], b"", 0, None
    sel = selectors.DefaultSelector()
    sel.register(read_fd, selectors.EVENT_READ)
    timed_out = False
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            timed_out = True
            break
        if not sel.select(timeout=min(remaining, 0.5)):
            if proc.poll() is not None and not sel.select(timeout=0.05):
                break
            continue
        chunk = os.read(read_fd, 65536)
        if not chunk:
            break
        total += len(chunk)
        if total > datafmt.MAX_BYTES:
            error = "reply too large"
            break
        buffer += chunk
        *lines, buffer = buffer.split(b"\n")
        for line in lines:
            try:
                records.append(datafmt.loads(line.decode("utf-8")))
            except (UnicodeDecodeError, datafmt.DataError) as exc:
                error = f"unreadable reply: {exc}"
    sel.close()
    if not timed_out:
        try:
            proc.wait(timeout=2)  # it closed its reply; give it a moment to exit by itself
        except subprocess.TimeoutExpired:
            pass
    if proc.poll() is None:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    proc.wait()
    return records, timed_out, error

