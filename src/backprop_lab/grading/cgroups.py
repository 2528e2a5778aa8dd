"""Per-submission cgroups (v1 or v2, nested in the grader's own): memory (temporary files
included), process-count and CPU-quota limits where this process may make them, the CPU
time used, and killing everything in them."""

from __future__ import annotations

import os
import signal
import time
import uuid
from pathlib import Path

from .limits import CGROUP_MEMORY_BYTES, MAX_PROCESSES

CGROUP_ROOT = Path("/sys/fs/cgroup")
CPU_QUOTA_CORES = 1.0  # a submission never gets more than one core, however many processes it starts


def _own_cgroup(controller: str | None) -> str:
    """This process's cgroup path for a v1 controller (or v2 when None), so that the
    sandbox's cgroups nest in it and can never loosen a limit set on the grader."""
    try:
        for line in Path("/proc/self/cgroup").read_text().splitlines():
            _, controllers, path = line.split(":", 2)
            if (controller is None and controllers == "") or (controller in controllers.split(",")):
                return path.lstrip("/")
    except (OSError, ValueError):
        pass
    return ""


class Cgroups:
    """Per-submission cgroups with memory, pids and CPU-quota limits, where this process
    may make them; ``missing`` names the controllers that could not be had."""

    def __init__(self):
        self.dirs: list[Path] = []
        self.usage_file: Path | None = None  # where the CPU time used so far is read
        self.usage_scale = 1e-9
        self.missing: list[str] = []
        name = f"backprop-lab-{uuid.uuid4().hex[:12]}"
        period = 100_000
        quota = int(period * CPU_QUOTA_CORES)
        if (CGROUP_ROOT / "cgroup.controllers").exists():  # v2: one directory, every controller
            knobs = {"pids": ("pids.max", MAX_PROCESSES), "memory": ("memory.max", CGROUP_MEMORY_BYTES),
                     "cpu": ("cpu.max", f"{quota} {period}")}
            d = CGROUP_ROOT / _own_cgroup(None) / name
            try:
                d.mkdir()
                self.dirs.append(d)
            except OSError:
                self.missing = list(knobs)
                return
            for ctrl, (knob, value) in knobs.items():
                try:
                    (d / knob).write_text(str(value))
                except OSError:
                    self.missing.append(ctrl)
            if (d / "cpu.stat").exists():
                self.usage_file, self.usage_scale = d / "cpu.stat", 1e-6
            return
        v1 = {"pids": [("pids.max", MAX_PROCESSES)],
              "memory": [("memory.limit_in_bytes", CGROUP_MEMORY_BYTES)],
              "cpu": [("cpu.cfs_period_us", period), ("cpu.cfs_quota_us", quota)],
              "cpuacct": []}
        for ctrl, knobs in v1.items():
            d = CGROUP_ROOT / ctrl / _own_cgroup(ctrl) / name
            try:
                d.mkdir()
            except OSError:
                self.missing.append(ctrl)
                continue
            self.dirs.append(d)
            try:
                for knob, value in knobs:
                    (d / knob).write_text(str(value))
            except OSError:
                self.missing.append(ctrl)
            if ctrl == "cpuacct" and (d / "cpuacct.usage").exists():
                self.usage_file = d / "cpuacct.usage"

    @property
    def ok(self) -> bool:
        return bool(self.dirs)

    def has(self, controller: str) -> bool:
        return self.ok and controller not in self.missing

    def cpu_seconds(self) -> float | None:
        if self.usage_file is None:
            return None
        try:
            text = self.usage_file.read_text()
        except OSError:
            return None
        if self.usage_file.name == "cpu.stat":
            for line in text.splitlines():
                if line.startswith("usage_usec"):
                    return int(line.split()[1]) * self.usage_scale
            return None
        return int(text.strip() or 0) * self.usage_scale

    def pids(self) -> list[int]:
        found = []
        for d in self.dirs:
            try:
                found += [int(p) for p in (d / "cgroup.procs").read_text().split()]
            except (OSError, ValueError):
                pass
        return found

    def kill_all(self) -> None:
        for d in self.dirs:
            if (d / "cgroup.kill").exists():
                try:
                    (d / "cgroup.kill").write_text("1")
                except OSError:
                    pass
        for _ in range(3):  # v1 has no cgroup.kill: kill what is listed, again, until empty
            pids = self.pids()
            if not pids:
                return
            for pid in pids:
                try:
                    os.kill(pid, signal.SIGKILL)
                except OSError:
                    pass
            time.sleep(0.02)

    def remove(self) -> None:
        for d in reversed(self.dirs):
            for _ in range(100):
                try:
                    d.rmdir()
                    break
                except FileNotFoundError:
                    break
                except OSError:
                    self.kill_all()
                    time.sleep(0.02)
        self.dirs = []
