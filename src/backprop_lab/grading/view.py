"""The read-only view of what a submission may use: a stand-in ``backprop_lab`` package
holding only the runner, the data codec, the test functions and the languages (never the
references), the allowed installed packages (NumPy; PyTorch where the exercise allows it),
and the bubblewrap command line that mounts exactly these and the interpreter."""

from __future__ import annotations

import functools
import glob
import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

TMPFS_BYTES = 64 * 1024**2  # /tmp, the submission's working folder
SHM_BYTES = 16 * 1024**2  # /dev/shm
SITE = "/sandbox/site"  # inside the sandbox: the minimal runner and the course's stand-in package
PACKAGES = "/sandbox/packages"  # inside the sandbox: NumPy (and PyTorch where allowed)
MARKER_ENV = "BACKPROP_LAB_SANDBOX"  # set in every sandbox, so tests can look for survivors


_VIEW_MODULES = ("testfns.py", "i18n.py", "grading/__init__.py", "grading/datafmt.py", "grading/runner.py")
_STAND_IN = '''"""The course's package as the grader's sandbox shows it: check() does nothing here
(the grader's own cases decide), and the gradient helpers exist only where allowed."""


def check(qid, function, lang="en"):
    return False
'''
_WITH_HELPERS = ("from .gradcheck import Report, compare, numerical_gradient, numerical_gradients, "
                 "numerical_jacobian, relative_error  # noqa: F401\n")


@functools.lru_cache(maxsize=None)
def package_dirs(with_torch: bool) -> tuple[str, ...]:
    """The installed packages (folders or modules, with their bundled libraries) that
    importing NumPy, and PyTorch when asked, loads: found by doing it, in a child."""
    code = ("import sys, numpy\n"
            + ("import torch, torch.autograd\n"
               "x = torch.ones(2, dtype=torch.float64, requires_grad=True)\n"
               "torch.autograd.gradcheck(lambda t: (t * torch.sigmoid(t)), (x,))\n" if with_torch else "")
            + "for p in sys.path:\n"
              "    print('path', p)\n"
              "for m in list(sys.modules.values()):\n"
              "    f = getattr(m, '__file__', None)\n"
              "    if f: print('file', f)\n")
    try:
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300,
                             check=True, env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}).stdout
    except (subprocess.SubprocessError, OSError):
        return ()
    # Every folder of installed packages the child searched: its own environment's, and those
    # it borrows (a venv with --system-site-packages, a .pth line naming another environment).
    lines = [line.split(" ", 1) for line in out.splitlines() if " " in line]
    roots = {Path(p) for p in sysconfig.get_paths().values() if "packages" in Path(p).name}
    roots |= {Path(p) for kind, p in lines if kind == "path" and "packages" in Path(p).name}
    found = set()
    for kind, line in lines:
        if kind != "file":
            continue
        f = Path(line)
        for r in roots:
            try:
                rel = f.relative_to(r)
            except ValueError:
                continue
            found.add(str(r / rel.parts[0]))
    for top in list(found):  # wheels keep their shared libraries next to the package (numpy.libs)
        for extra in glob.glob(glob.escape(top) + ".libs") + glob.glob(glob.escape(top) + "_libs"):
            found.add(extra)
    return tuple(sorted(p for p in found if not p.endswith((".dist-info", "__pycache__"))))


def build_view(root: Path, with_helpers: bool, packages: tuple[str, ...]) -> tuple[Path, Path]:
    """``root/site``: copies of the runner, the data codec and the test functions, under a
    stand-in ``backprop_lab`` package; ``root/packages``: links to the allowed packages
    (used as they are without bubblewrap; with it, each is mounted in their place)."""
    source = Path(__file__).resolve().parents[1]
    site, pkgs = root / "site", root / "packages"
    for rel in _VIEW_MODULES:
        dest = site / "backprop_lab" / rel
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source / rel, dest)
    init = _STAND_IN + (_WITH_HELPERS if with_helpers else "")
    (site / "backprop_lab" / "__init__.py").write_text(init, encoding="utf-8")
    if with_helpers:
        shutil.copyfile(source / "gradcheck.py", site / "backprop_lab" / "gradcheck.py")
    pkgs.mkdir()
    for p in packages:
        os.symlink(p, pkgs / Path(p).name)
    for d in [root, *root.rglob("*")]:
        if d.is_dir() and not d.is_symlink():
            d.chmod(0o755)
        elif d.is_file():
            d.chmod(0o644)
    return site, pkgs


def _python_package_dirs() -> set[str]:
    """Every folder of installed packages on this machine that a mount could expose."""
    import site as site_module

    dirs = set(site_module.getsitepackages()) | {site_module.getusersitepackages()}
    dirs |= {p for k, p in sysconfig.get_paths().items() if k in ("purelib", "platlib")}
    for prefix in {sys.base_prefix, sys.prefix, "/usr", "/usr/local"}:
        dirs |= set(glob.glob(f"{glob.escape(prefix)}/lib*/python3*/site-packages"))
        dirs |= set(glob.glob(f"{glob.escape(prefix)}/lib*/python3*/dist-packages"))
        dirs |= set(glob.glob(f"{glob.escape(prefix)}/lib*/python3/dist-packages"))
    return {d for d in dirs if d and os.path.isdir(d)}


def interpreter() -> str:
    return os.path.realpath(getattr(sys, "_base_executable", None) or sys.executable)


def bwrap_command(bwrap: str, site: Path, pkgs: Path, empty: Path, env: dict, marker: str) -> list[str]:
    cmd = [bwrap, "--unshare-all", "--unshare-user", "--uid", "65534", "--gid", "65534",
           "--die-with-parent", "--new-session", "--clearenv", "--cap-drop", "ALL",
           # /tmp first: the interpreter may itself live under /tmp, and a later mount would hide it
           "--size", str(TMPFS_BYTES), "--tmpfs", "/tmp"]
    mounted = []
    for d in ("/usr/lib", "/usr/lib64", "/usr/lib32"):  # shared libraries (libc, libstdc++, ...)
        if os.path.isdir(d) and not os.path.islink(d):
            cmd += ["--ro-bind", d, d]
            mounted.append(d)
    for d in ("/lib", "/lib64", "/lib32"):
        if os.path.islink(d):
            cmd += ["--symlink", os.readlink(d), d]
        elif os.path.isdir(d):
            cmd += ["--ro-bind", d, d]
            mounted.append(d)
    python = interpreter()
    tree = sys.base_prefix if python.startswith(sys.base_prefix.rstrip("/") + "/") else None
    if tree and tree not in ("/", "/usr"):
        cmd += ["--ro-bind", tree, tree]
        mounted.append(tree)
    else:
        cmd += ["--ro-bind", python, python]
    for d in sorted(_python_package_dirs()):  # whatever packages those mounts hold: hidden
        if any(d == m or d.startswith(m.rstrip("/") + "/") for m in mounted):
            cmd += ["--ro-bind", str(empty), d]
    cmd += ["--ro-bind", str(site), SITE, "--dir", PACKAGES]
    for link in sorted(pkgs.iterdir()):
        cmd += ["--ro-bind", os.readlink(link), f"{PACKAGES}/{link.name}"]
    cmd += ["--proc", "/proc", "--dev", "/dev", "--size", str(SHM_BYTES), "--tmpfs", "/dev/shm",
            "--remount-ro", "/dev", "--remount-ro", "/", "--chdir", "/tmp"]
    for k, v in {**env, "HOME": "/tmp", "MPLCONFIGDIR": "/tmp", MARKER_ENV: marker}.items():
        cmd += ["--setenv", k, v]
    return cmd + [python]


def runner_args(site: str, pkgs: str) -> list[str]:
    boot = (f"import sys; sys.path[:0] = [{site!r}, {pkgs!r}]; "
            "from backprop_lab.grading.runner import main; main()")
    return ["-I", "-S", "-B", "-c", boot]
