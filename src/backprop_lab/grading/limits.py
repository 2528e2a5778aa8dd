"""``python -m backprop_lab.grading.limits [--cgroup DIR ...] -- COMMAND ...``

Puts itself into the given cgroups (without any, sets RLIMIT_NPROC instead), sets
the address-space, file-size and core limits, then becomes COMMAND. A separate
launcher, rather than a preexec function, because the grader runs several
submissions from threads, where preexec functions are unsafe.
"""

import os
import resource
import sys

# Address space: enough for NumPy + PyTorch + matplotlib (about 0.8 GiB), so that a
# large allocation fails with MemoryError inside the submission, which is graded.
MEMORY_BYTES = 2 * 1024**3
# The cgroup's memory limit is a backstop for what the address-space limit misses.
CGROUP_MEMORY_BYTES = 3 * 1024**3
MAX_PROCESSES = 64
MAX_FILE_BYTES = 64 * 1024**2


def main(argv: list[str]) -> None:
    split = argv.index("--")
    options, command = argv[:split], argv[split + 1 :]
    cgroups = [options[i + 1] for i, a in enumerate(options) if a == "--cgroup"]
    for d in cgroups:
        with open(os.path.join(d, "cgroup.procs"), "w") as f:
            f.write(str(os.getpid()))
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_BYTES, MEMORY_BYTES))
    if not cgroups:
        resource.setrlimit(resource.RLIMIT_NPROC, (MAX_PROCESSES, MAX_PROCESSES))
    resource.setrlimit(resource.RLIMIT_FSIZE, (MAX_FILE_BYTES, MAX_FILE_BYTES))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    os.execv(command[0], command)


if __name__ == "__main__":
    main(sys.argv[1:])
