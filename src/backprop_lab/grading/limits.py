"""The launcher of a sandboxed run: ``python -m backprop_lab.grading.limits [--cgroup DIR ...] [--cpu S] -- COMMAND ...``

Puts itself into the given cgroups (without any, sets RLIMIT_NPROC instead), sets
the address-space, CPU-time, file-size and core limits, then becomes COMMAND. A
separate launcher, rather than a preexec function, because the grader runs several
submissions from threads, where preexec functions are unsafe.
"""

import os
import resource
import sys

# Address space: enough for NumPy + PyTorch + matplotlib (about 0.8 GiB), so that a
# large allocation fails with MemoryError inside the submission, which is graded.
MEMORY_BYTES = 2 * 1024**3
# The cgroup's memory limit covers what the address-space limit misses: every process
# together, and what they keep in tmpfs (the sandbox's /tmp and /dev/shm) or memfds.
CGROUP_MEMORY_BYTES = 3 * 1024**3
MAX_PROCESSES = 64
MAX_FILE_BYTES = 64 * 1024**2


def main(argv: list[str]) -> None:
    split = argv.index("--")
    options, command = argv[:split], argv[split + 1 :]
    cgroups = [options[i + 1] for i, a in enumerate(options) if a == "--cgroup"]
    cpu = [int(options[i + 1]) for i, a in enumerate(options) if a == "--cpu"]
    for d in cgroups:
        with open(os.path.join(d, "cgroup.procs"), "w") as f:
            f.write(str(os.getpid()))
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_BYTES, MEMORY_BYTES))
    if not any(os.path.exists(os.path.join(d, "pids.max")) for d in cgroups):
        resource.setrlimit(resource.RLIMIT_NPROC, (MAX_PROCESSES, MAX_PROCESSES))
    if cpu:  # per process; the grader also counts all of them together
        resource.setrlimit(resource.RLIMIT_CPU, (cpu[0], cpu[0] + 1))
    resource.setrlimit(resource.RLIMIT_FSIZE, (MAX_FILE_BYTES, MAX_FILE_BYTES))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    os.execv(command[0], command)


if __name__ == "__main__":
    main(sys.argv[1:])
