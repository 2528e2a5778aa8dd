"""Run one submission in its own sandboxed process, with limits, and collect its replies.

The protections (GRADING.md describes what each one stops and what it does not):

* bubblewrap (``bwrap``): new user, PID, network, IPC and UTS namespaces, uid 65534
  inside with no capabilities and no-new-privs. The filesystem is a read-only view of
  only what a submission needs to run: the interpreter and its standard library,
  the system's shared libraries, NumPy (and PyTorch where the exercise allows it)
  and a minimal runner. Neither this package (with its reference answers) nor any
  other installed package is visible. The only writable places are size-limited
  private tmpfs mounts (``/tmp``, ``/dev/shm``), which vanish with the sandbox:
  nothing a submission writes reaches the host, and tmpfs mounts are nosuid and
  nodev;
* a wall-time limit, a CPU-time limit and an idle limit (nothing in the sandbox can
  wait for anything, so a submission that sleeps is stopped early), after which the
  whole process tree is killed (the PID namespace, ``--die-with-parent`` and the
  cgroup make sure nothing a submission started outlives it);
* a cgroup (v1 or v2, nested in the grader's own) with memory (counting temporary
  files), process-count and CPU-quota limits, where one can be made; RLIMIT_AS,
  RLIMIT_CPU, RLIMIT_FSIZE and RLIMIT_CORE always; RLIMIT_NPROC without a cgroup;
* reading stops at the runner's final record or at a size limit.

Without bubblewrap nothing runs, unless the caller passes ``unsafe=True``
(``--unsafe-no-sandbox``), and every result says which protections were in force.
"""

from __future__ import annotations

import functools
import os
import selectors
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from . import datafmt
from .cgroups import Cgroups
from .view import (  # noqa: F401 (the view's sizes are part of this module's interface)
    MARKER_ENV,
    PACKAGES,
    SHM_BYTES,
    SITE,
    TMPFS_BYTES,
    build_view,
    bwrap_command,
    interpreter,
    package_dirs,
    runner_args,
)

TIME_LIMIT = 120.0  # wall time per submission, for the CLI and Gradescope alike
CPU_SECONDS = 20.0  # CPU time per submission (all its processes); the masters need a few seconds
IDLE_SECONDS = 8.0  # no CPU used and nothing runnable for this long: it is waiting for nothing
STAGING_PREFIX = f"backprop-grade-{os.getpid()}-"  # this grader's staging folders, whoever else grades here
ISSUED_MARKERS: set[str] = set()  # every sandbox's marker from this process, to find its own survivors


class SandboxUnavailable(RuntimeError):
    """bubblewrap is missing or cannot create namespaces, and unsafe mode was not asked for."""


@dataclass
class RunResult:
    records: list = field(default_factory=list)  # parsed JSON lines from the runner
    stopped: str | None = None  # "timeout", "cpu", "idle", "too_large" or None (it finished)
    exit_code: int | None = None
    seconds: float = 0.0
    cpu_seconds: float = 0.0
    reply_error: str | None = None

    @property
    def timed_out(self) -> bool:
        return self.stopped in ("timeout", "cpu", "idle")


# ---- what this machine offers -------------------------------------------------------------

@functools.lru_cache(maxsize=1)
def bwrap_path() -> str | None:
    """bubblewrap, if it is installed and can create every namespace the sandbox uses."""
    path = shutil.which("bwrap")
    if path is None:
        return None
    probe = subprocess.run(
        [path, "--unshare-all", "--unshare-user", "--uid", "65534", "--gid", "65534", "--die-with-parent",
         "--ro-bind", "/", "/", "--size", "1048576", "--tmpfs", "/tmp", "--remount-ro", "/", "true"],
        capture_output=True,
    )
    return path if probe.returncode == 0 else None


@functools.lru_cache(maxsize=1)
def protections() -> dict:
    """What this machine provides, for the report: name -> True, or a reason it is missing."""
    bwrap = bwrap_path()
    cg = Cgroups()
    has = {c: cg.has(c) for c in ("memory", "pids", "cpu")}
    cg.remove()
    root = os.geteuid() == 0
    no_bwrap = "bwrap is not installed or cannot create namespaces here"
    return {
        "sandbox (bubblewrap: no network, private filesystem, PID namespace)": True if bwrap else no_bwrap,
        "unprivileged user in the sandbox (uid 65534, no capabilities, no-new-privs)": True if bwrap else no_bwrap,
        "nothing written reaches the host (size-limited private tmpfs)": True if bwrap else no_bwrap,
        "only the runner, NumPy and (where allowed) PyTorch visible": True if bwrap else no_bwrap,
        "wall-time, CPU-time and idle limits, whole process tree killed": True if bwrap or cg.ok
        else "only the submission's process group is killed (no PID namespace or cgroup here)",
        "CPU quota (one core per submission)": True if has["cpu"] else "no cpu cgroup could be made",
        "memory limit (all processes, temporary files included)": True if has["memory"]
        else "per-process address-space limit only: no memory cgroup, so temporary files and shared memory are not counted",
        "process-count limit": True if has["pids"] or not root else "no cgroup could be made and RLIMIT_NPROC does not bind root",
        "file-size limit": True,
    }


def require_sandbox(unsafe: bool) -> None:
    """Refuse to grade without the sandbox, unless the instructor asked for it explicitly."""
    if bwrap_path() is None and not unsafe:
        raise SandboxUnavailable(
            "the sandbox (bubblewrap) is not available here, so submissions would run with no isolation "
            "(inside Docker it usually lacks permission to create namespaces). Install bubblewrap or run "
            "where it works; to grade without a sandbox anyway, which lets a submission read, change and "
            "break anything the grader can, pass --unsafe-no-sandbox.")


# ---- running one submission ---------------------------------------------------------------

def run(job: dict, timeout: float, *, unsafe: bool = False, cpu_seconds: float = CPU_SECONDS,
        idle_seconds: float = IDLE_SECONDS) -> RunResult:
    """Run the job (template, cells and calls) in a fresh sandbox; never raises for the
    submission's faults. Raises SandboxUnavailable when there is no sandbox and not ``unsafe``."""
    require_sandbox(unsafe)
    bwrap = bwrap_path()
    staging = Path(tempfile.mkdtemp(prefix=STAGING_PREFIX))  # the grader's, never writable inside
    cgroups = Cgroups()
    marker = uuid.uuid4().hex
    ISSUED_MARKERS.add(marker)
    result = RunResult()
    start = time.monotonic()
    read_fd = write_fd = None
    proc = None
    try:
        packages = package_dirs(not job.get("no_torch"))
        site, pkgs = build_view(staging / "view", not job.get("no_helpers"), packages)
        empty = staging / "empty"
        empty.mkdir(mode=0o555)
        env = {
            "PATH": "/nonexistent",
            "BACKPROP_LAB_GRADING": "1",
            "MPLBACKEND": "Agg",
            "OMP_NUM_THREADS": "1",
            "LANG": "C.UTF-8",
        }
        if bwrap:
            cmd = bwrap_command(bwrap, site, pkgs, empty, env, marker) + runner_args(SITE, PACKAGES)
            run_env, cwd = {}, "/"
        else:  # unsafe mode: no isolation at all, only the limits and a private working folder
            work = staging / "work"
            work.mkdir()
            cmd = [interpreter()] + runner_args(str(site), str(pkgs))
            run_env = {**env, "HOME": str(work), "MPLCONFIGDIR": str(work), "TMPDIR": str(work), MARKER_ENV: marker}
            cwd = str(work)
        launcher = [sys.executable, "-I", "-m", "backprop_lab.grading.limits", "--cpu", str(int(cpu_seconds) + 2)]
        for d in cgroups.dirs:
            launcher += ["--cgroup", str(d)]
        cmd = launcher + ["--"] + cmd

        read_fd, write_fd = os.pipe()
        proc = subprocess.Popen(
            cmd + ["--result-fd", str(write_fd)],
            stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            env=run_env, cwd=cwd, start_new_session=True, pass_fds=(write_fd,),
        )
        os.close(write_fd)
        write_fd = None
        try:
            proc.stdin.write(datafmt.dumps(job).encode("utf-8"))
            proc.stdin.close()
        except (BrokenPipeError, OSError):
            pass
        watch = _Watch(proc, cgroups, start, timeout, cpu_seconds, idle_seconds)
        result.records, result.stopped, result.reply_error = _collect(read_fd, watch)
        result.cpu_seconds = watch.cpu
    finally:
        if proc is not None:
            _kill(proc, cgroups)
            result.exit_code = proc.returncode
        for fd in (read_fd, write_fd):
            if fd is not None:
                os.close(fd)
        cgroups.remove()
        remove_tree(staging)
        result.seconds = time.monotonic() - start
    return result


class _Watch:
    """The limits of one run: wall time, CPU time (every process of the submission) and idleness."""

    def __init__(self, proc, cgroups, start, timeout, cpu_seconds, idle_seconds):
        self.proc, self.cgroups = proc, cgroups
        self.deadline = start + timeout
        self.cpu_limit, self.idle_limit = cpu_seconds, idle_seconds
        self.cpu = 0.0
        self.last_active = self.last_look = time.monotonic()

    def verdict(self) -> str | None:
        now = time.monotonic()
        if now >= self.deadline:
            return "timeout"
        if now - self.last_look < 0.2:  # looking at every process costs a little: not on every chunk read
            return None
        self.last_look = now
        cpu, busy = self._usage()
        if cpu - self.cpu > 0.005 or busy:
            self.last_active = now
        self.cpu = max(self.cpu, cpu)
        if self.cpu > self.cpu_limit:
            return "cpu"
        if now - self.last_active > self.idle_limit:
            return "idle"
        return None

    def _usage(self) -> tuple[float, bool]:
        """CPU seconds used so far, and whether any process is running or waiting for the disk."""
        tree = _descendants(self.proc.pid)
        busy, total = False, 0.0
        tick = os.sysconf("SC_CLK_TCK")
        for pid in tree:
            try:
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            except (OSError, IndexError):
                continue
            busy |= fields[0] in ("R", "D")
            total += sum(int(v) for v in fields[11:15]) / tick  # utime stime cutime cstime
        from_cgroup = self.cgroups.cpu_seconds()
        return (from_cgroup if from_cgroup is not None else total), busy


def _descendants(pid: int) -> list[int]:
    """``pid`` and every process below it (a PID namespace keeps a sandbox's processes there)."""
    children: dict[int, list[int]] = {}
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            try:
                ppid = int(Path(f"/proc/{entry.name}/stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(ppid, []).append(int(entry.name))
    found, todo = [], [pid]
    while todo:
        p = todo.pop()
        found.append(p)
        todo += children.get(p, [])
    return found


def _kill(proc, cgroups) -> None:
    """Kill the submission's whole process tree, whatever state it is in."""
    if proc.poll() is None:
        for pid in reversed(_descendants(proc.pid)):  # without a PID namespace, the tree itself
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except OSError:
            pass
    cgroups.kill_all()
    proc.wait()


def _collect(read_fd, watch: _Watch):
    """Read JSON lines from the runner until its final record, its end, a limit or too much data."""
    records, pending, total, error = [], bytearray(), 0, None
    sel = selectors.DefaultSelector()
    sel.register(read_fd, selectors.EVENT_READ)
    stopped = None
    try:
        while True:
            stopped = watch.verdict()
            if stopped:
                break
            if not sel.select(timeout=0.25):
                if watch.proc.poll() is not None and not sel.select(timeout=0.05):
                    break
                continue
            chunk = os.read(read_fd, 1 << 16)
            if not chunk:
                break
            total += len(chunk)
            if total > datafmt.MAX_BYTES:
                stopped, error = "too_large", "reply too large"
                break
            *lines, rest = chunk.split(b"\n")  # only the new bytes are searched: linear in the reply
            if lines:
                lines[0] = bytes(pending) + lines[0]
                pending = bytearray()
            pending += rest
            done = False
            for line in lines:
                try:
                    record = datafmt.loads(line.decode("utf-8"))
                except (UnicodeDecodeError, datafmt.DataError) as exc:
                    error = f"unreadable reply: {exc}"
                    continue
                records.append(record)
                done |= isinstance(record, dict) and record.get("done") is True
            if done:
                break  # the final record: whatever else it would send is not read
    finally:
        sel.close()
    return records, stopped, error


def remove_tree(path: Path) -> None:
    """Remove a folder however deep or strange it is, without recursion, never following
    symbolic links, and never raising (what cannot be removed is left)."""
    try:
        top = os.open(path, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW)
    except OSError:
        return
    stack = [(top, None, set())]  # (fd of a folder, (fd of its parent, its name), names done)
    try:
        while stack:
            fd, parent, done = stack[-1]
            child = None
            try:
                names = os.listdir(fd)
            except OSError:
                names = []
            for name in names:
                if name in done:
                    continue
                done.add(name)
                try:
                    if stat.S_ISDIR(os.stat(name, dir_fd=fd, follow_symlinks=False).st_mode):
                        child = (os.open(name, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW, dir_fd=fd), (fd, name), set())
                        break
                    os.unlink(name, dir_fd=fd)
                except OSError:
                    continue
            if child is not None:
                stack.append(child)
                continue
            stack.pop()
            os.close(fd)
            if parent is not None:
                try:
                    os.rmdir(parent[1], dir_fd=parent[0])
                except OSError:
                    pass
    finally:
        for fd, _, _ in stack:
            try:
                os.close(fd)
            except OSError:
                pass
    try:
        os.rmdir(path)
    except OSError:
        pass
