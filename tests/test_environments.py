"""Every notebook runs top to bottom in the environments learners get, not only in the maintainers' .venv.

Two fresh virtual environments are built once per session (``python -m venv``, no system site packages):

* **colab**: only what Google Colab preinstalls that the notebooks could lean on, then the package the
  way the setup cell installs it (``backprop-lab[notebooks] @ <repository>``, from a copy of the
  repository since the configured URL is a placeholder). A fake ``google.colab`` is in ``sys.modules``
  when the kernel starts, as in Colab, so the setup cell takes its Colab branch; its pip command is
  recorded instead of run and compared with what the fixture installed.
* **binder**: only ``binder/`` (the Python from ``runtime.txt``, ``pip install -r binder/requirements.txt``
  from the repository root, then ``binder/postBuild``), in the order repo2docker runs them.

Every chapter (book/), master (solutions/) and student copy (exercises/) is executed with nbclient in a
kernel of the colab environment, as a copy in a temporary folder. The binder environment runs the masters,
the student copies and chapter 1 (which JupyterLab opens below), not every chapter: its pins are the
maintainers' pins (test_binder_pins_are_the_maintainers_pins), under which strict nbval already runs every
chapter, and its torch is the +cpu build that the colab environment runs every chapter with. A notebook
passes when:

* chapters and masters: no cell raises, and every ``check(...)`` of a master reports all its cases passed;
* student copies: only cells that call one of the notebook's stubs may raise, and only NotImplementedError;
  every ``check(...)`` runs and reports every case as not answered yet. ``check`` catches every exception
  (a student's error is feedback), so a missing module in this environment would otherwise pass silently.

Select these with ``-m environments``; ``make test`` runs them.
"""

from __future__ import annotations

import ast
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import tomllib
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from functools import lru_cache
from importlib import metadata
from pathlib import Path
from urllib.parse import urlparse, urlsplit

import nbformat
import numpy as np
import pytest
import yaml
from jupyter_client.kernelspec import KernelSpecManager
from jupyter_client.manager import AsyncKernelManager
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError
from traitlets import default

from backprop_lab import authoring, colab, i18n, notebooks
from backprop_lab import jupyter_edition as je
from backprop_lab.exercises import PUBLIC_SEED, message, question

pytestmark = pytest.mark.environments

ROOT = Path(__file__).resolve().parents[1]
BINDER = ROOT / "binder"
NOTEBOOKS = [*notebooks.book_notebooks(ROOT), *notebooks.master_notebooks(ROOT), *notebooks.exercise_notebooks(ROOT)]
BINDER_NOTEBOOKS = [p for p in NOTEBOOKS if not p.is_relative_to(ROOT / "book") or p.name == "01_chain_rule.ipynb"]

# What Colab preinstalls that the notebooks could rely on (googlecolab/backend-info, pip-freeze.txt,
# August 2026: matplotlib 3.10.0, numpy 2.1.3, a +cpu torch). matplotlib 3.10 cannot shape Bengali, so the
# Bengali editions run through the English-label fallback. torch is pinned to the course's version.
# Colab also ships tqdm; it is left out on purpose, so that the `notebooks` extra must bring it.
COLAB_PREINSTALLED = ["numpy==2.1.3", "matplotlib==3.10.0", "torch==2.13.0+cpu", "ipywidgets", "ipykernel"]
WORKERS = 2  # notebooks executed at once per environment (CI has 2 cores)
CELL_TIMEOUT = 600


def _rel(path: Path) -> str:
    return str(path.relative_to(ROOT))


def _requirement_lines(path: Path) -> list[str]:
    lines = (line.split("#", 1)[0].strip() for line in path.read_text(encoding="utf-8").splitlines())
    return [line for line in lines if line]


def _pins(path: Path) -> dict[str, str]:
    pins = {}
    for line in _requirement_lines(path):
        if "==" in line and not line.startswith("-"):
            name, version = line.split("==", 1)
            pins[re.sub(r"[-_.]+", "-", name).lower()] = version
    return pins


def _torch_index() -> str:
    """PyTorch's CPU wheel index, as binder/requirements.txt names it (both environments use it)."""
    for line in _requirement_lines(BINDER / "requirements.txt"):
        if line.startswith("--extra-index-url"):
            return line.split(None, 1)[1]
    raise AssertionError("binder/requirements.txt names no --extra-index-url for PyTorch's CPU build")


# ---- fast checks of the declarations themselves ----------------------------------------

def _third_party_imports(path: Path) -> set[str]:
    modules = set()
    for cell in nbformat.read(path, as_version=4).cells:
        if cell.cell_type != "code":
            continue
        source = "\n".join(line for line in cell.source.splitlines() if not line.lstrip().startswith(("%", "!")))
        for node in ast.walk(ast.parse(source)):
            if isinstance(node, ast.Import):
                modules.update(alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                modules.add(node.module.split(".")[0])
    return {m for m in modules if m not in sys.stdlib_module_names and m != "backprop_lab"}


def test_the_package_declares_every_module_a_notebook_imports():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    requirements = project["dependencies"] + project["optional-dependencies"]["notebooks"]
    declared = {re.split(r"[<>=!~ ;\[]", req, maxsplit=1)[0].lower() for req in requirements}
    provided_by = metadata.packages_distributions()
    for path in NOTEBOOKS:
        for module in sorted(_third_party_imports(path)):
            dists = {d.lower() for d in provided_by.get(module, [module])}
            assert dists & declared, (f"{_rel(path)} imports {module}, which neither the dependencies nor the "
                                      f"`notebooks` extra in pyproject.toml declare")


def test_binder_folder_is_what_repo2docker_reads():
    names = {p.name for p in BINDER.iterdir()}
    # any of these would switch repo2docker to another buildpack, which ignores requirements.txt
    assert not names & {"environment.yml", "Pipfile", "Pipfile.lock", "setup.py", "pyproject.toml", "Dockerfile"}
    runtime = (BINDER / "runtime.txt").read_text(encoding="utf-8").strip()
    assert re.fullmatch(r"python-3\.\d+", runtime), f"runtime.txt must read python-X.Y, got {runtime!r}"
    assert tuple(map(int, runtime[len("python-"):].split("."))) >= (3, 11), "matplotlib 3.11 needs Python 3.11"
    # repo2docker installs requirements.txt before the repository is copied in; a local path (`.`, `-e .`)
    # would only work through an undocumented special case, so postBuild installs the package instead.
    for line in _requirement_lines(BINDER / "requirements.txt"):
        target = line.split(None, 1)[-1] if line.startswith("-") else line
        assert not target.startswith((".", "/", "file:")) and not line.startswith(("-r", "-c")), line
    post_build = BINDER / "postBuild"
    assert os.access(post_build, os.X_OK), "repo2docker runs binder/postBuild as an executable"
    assert post_build.read_text(encoding="utf-8").startswith("#!/bin/bash\n")
    assert "set -e" in post_build.read_text(encoding="utf-8"), "without set -e a failing postBuild passes"


def test_binder_pins_are_the_maintainers_pins():
    binder, maintainers = _pins(BINDER / "requirements.txt"), _pins(ROOT / "requirements.txt")
    assert binder["torch"].endswith("+cpu"), "Binder must install PyTorch's CPU build"
    for name, version in binder.items():
        if name in maintainers:
            assert version.split("+")[0] == maintainers[name].split("+")[0], (
                f"binder/requirements.txt pins {name}=={version}, requirements.txt {maintainers[name]}")


# ---- building the environments --------------------------------------------------------

@lru_cache
def _reachable(url: str, timeout: float = 3.0) -> bool:
    parts = urlsplit(url)
    try:
        socket.create_connection((parts.hostname, parts.port or 443), timeout=timeout).close()
        return True
    except OSError:
        return False


def _clean_env(venv: Path, **extra: str) -> dict:
    """The process environment for pip and kernels of ``venv``: nothing from the maintainers' .venv or
    the test run (PYTHONPATH, VIRTUAL_ENV, Jupyter and matplotlib settings) leaks in."""
    ours = {str(Path(sys.executable).parent), str(ROOT / ".venv" / "bin")}
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("PYTHON", "VIRTUAL_ENV", "CONDA", "JUPYTER", "IPYTHON", "MPL", "BACKPROP_LAB"))}
    path = [p for p in env.get("PATH", "").split(os.pathsep) if p and p not in ours]
    env.update(PATH=os.pathsep.join([str(venv / "bin"), *path]), VIRTUAL_ENV=str(venv), **extra)
    return env


def _pip_env(venv: Path) -> dict:
    extra = {}
    if not _reachable(_torch_index()):
        # Where PyTorch's index is unreachable (a sandbox whose pip finds torch==2.13.0+cpu in a local
        # wheel directory), pip still asks that index about every package it resolves, with 5 retries and
        # back-off each time: 8 s a package where the name does not resolve, and up to 6 timeouts a
        # package (180 s each with this sandbox's PIP_DEFAULT_TIMEOUT) where connections hang. One short try.
        extra = {"PIP_RETRIES": "0", "PIP_TIMEOUT": "5", "PIP_DEFAULT_TIMEOUT": "5"}
    return _clean_env(venv, PIP_DISABLE_PIP_VERSION_CHECK="1", **extra)


def _run(cmd: list, venv: Path, cwd: Path | None = None) -> None:
    done = subprocess.run([str(c) for c in cmd], cwd=cwd, env=_pip_env(venv), capture_output=True, text=True)
    if done.returncode:
        pytest.fail(f"`{' '.join(map(str, cmd))}` failed ({done.returncode}):\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")


def _python_for(runtime: str) -> str | None:
    """An interpreter of the version runtime.txt names (``python-3.11``), as repo2docker would install."""
    version = runtime.removeprefix("python-")
    if f"{sys.version_info.major}.{sys.version_info.minor}" == version:
        return sys.executable
    return shutil.which(f"python{version}")


class Environment:
    """A venv with a kernelspec that points at its python, plus the kernel's process environment."""

    def __init__(self, name: str, base: Path, python: str):
        self.name, self.base = name, base
        self.venv, self.runs = base / "venv", base / "runs"
        self.python = self.venv / "bin" / "python"
        self.kernel_name = f"backprop-{name}"
        self.ipython_dir, self.mpl_dir = base / "ipython", base / "matplotlib"
        for d in (self.runs, self.ipython_dir, self.mpl_dir):
            d.mkdir(parents=True, exist_ok=True)
        _run([python, "-m", "venv", self.venv], self.venv)

    def pip(self, *args, cwd: Path | None = None) -> None:
        _run([self.python, "-m", "pip", *args], self.venv, cwd=cwd)

    def register_kernel(self) -> None:
        _run([self.python, "-m", "ipykernel", "install", "--prefix", self.venv, "--name", self.kernel_name], self.venv)
        kernels = str(self.venv / "share" / "jupyter" / "kernels")

        class KernelManager(AsyncKernelManager):
            @default("kernel_spec_manager")
            def _only_this_venv(self):
                return KernelSpecManager(kernel_dirs=[kernels], ensure_native_kernel=False)

        self.kernel_manager_class = KernelManager
        # one thread per kernel: two notebooks run at once on a 2-core machine
        self.kernel_env = _clean_env(self.venv, IPYTHONDIR=str(self.ipython_dir), MPLCONFIGDIR=str(self.mpl_dir),
                                     OMP_NUM_THREADS="1")

    def version(self, module: str) -> str:
        done = subprocess.run([str(self.python), "-c", f"import {module}; print({module}.__version__)"],
                              env=self.kernel_env, capture_output=True, text=True, check=True)
        return done.stdout.strip()


def _repository_copy(base: Path) -> Path:
    """What a clone holds that pip and repo2docker read: the package sources and binder/."""
    repo = base / "repo"
    repo.mkdir(parents=True)
    for name in ("pyproject.toml", "README.md", "LICENSE"):
        shutil.copy2(ROOT / name, repo / name)
    ignore = shutil.ignore_patterns("__pycache__", "*.egg-info", ".ipynb_checkpoints")
    shutil.copytree(ROOT / "src", repo / "src", ignore=ignore)
    shutil.copytree(BINDER, repo / "binder", ignore=ignore)
    return repo


@pytest.fixture(scope="session")
def repository(tmp_path_factory) -> Path:
    return _repository_copy(tmp_path_factory.mktemp("repository"))


def _requested(request, fixture: str) -> list[Path]:
    """The notebooks of the selected tests that use ``fixture`` (all of them in a full run)."""
    items = [item for item in request.session.items if fixture in getattr(item, "fixturenames", ())]
    paths = [item.callspec.params["path"] for item in items if hasattr(item, "callspec")]
    return list(dict.fromkeys(paths))


def _colab_environment(base: Path, repository: Path) -> Environment:
    env = Environment("colab", base, sys.executable)
    env.pip("install", "--no-compile", "--extra-index-url", _torch_index(), *COLAB_PREINSTALLED)
    # The setup cell's own command, with the repository's URL replaced by the copy.
    env.pip("install", "--no-compile", "-q", f"{colab.PACKAGE} @ {repository.as_uri()}")
    env.register_kernel()
    # Colab's kernel has imported google.colab before the first cell runs; the setup cell looks for it.
    startup = env.ipython_dir / "profile_default" / "startup"
    startup.mkdir(parents=True)
    (startup / "00-google-colab.py").write_text(
        "import sys, types\n\nsys.modules.setdefault('google.colab', types.ModuleType('google.colab'))\n")
    return env


def _binder_environment(base: Path, repository: Path) -> Environment:
    runtime = (repository / "binder" / "runtime.txt").read_text(encoding="utf-8").strip()
    python = _python_for(runtime)
    if python is None:
        pytest.skip(f"binder/runtime.txt asks for {runtime}, which this machine does not have")
    env = Environment("binder", base, python)
    # repo2docker: `${KERNEL_PYTHON_PREFIX}/bin/pip install --no-cache-dir -r "binder/requirements.txt"` in
    # the repository's folder, then `./binder/postBuild` there with the environment's bin first on PATH
    # (repo2docker/buildpacks/python/__init__.py and base.py). Only speed differs: pip's cache is reused, and
    # .pyc files are written by the kernels that import a module rather than for all of torch up front.
    env.pip("install", "--no-compile", "-r", "binder/requirements.txt", cwd=repository)
    _run(["./binder/postBuild"], env.venv, cwd=repository)
    # repo2docker's base image brings its own ipykernel; requirements.txt pins one, so the venv has it.
    env.register_kernel()
    assert env.version("torch").endswith("+cpu"), "postBuild replaced PyTorch's CPU build"
    return env


# ---- running the notebooks ------------------------------------------------------------

# In the Colab environment the setup cell runs with its pip command recorded instead of run (the configured
# URL is a placeholder; the fixture installed the same requirement from a copy). Other commands still run
# (matplotlib's font manager calls fc-list through subprocess).
_RECORD_PIP = """\
import subprocess as _harness_subprocess
_harness_run, _harness_calls = _harness_subprocess.run, []


def _harness_record(cmd, *args, **kwargs):
    if list(cmd[1:3]) != ["-m", "pip"]:
        return _harness_run(cmd, *args, **kwargs)
    _harness_calls.append(list(cmd))
    return _harness_subprocess.CompletedProcess(cmd, 0)


_harness_subprocess.run = _harness_record
"""
_REPORT_PIP = """
_harness_subprocess.run = _harness_run
import json as _harness_json
print("harness pip calls:", _harness_json.dumps([c[1:] for c in _harness_calls]))
del _harness_subprocess, _harness_run, _harness_calls, _harness_json, _harness_record
"""
_PIP_CALLS = re.compile(r"^harness pip calls: (.*)$", re.MULTILINE)
_ANSI = re.compile(r"\x1b\[[0-9;]*m")


def _lang(path: Path) -> str:
    return path.relative_to(ROOT).parts[1]


def _check_calls(source: str) -> list[tuple[str, str]]:
    """(question id, language) of every ``check("exNN.qK", fn, lang=...)`` in a cell."""
    calls = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "check" and node.args \
                and isinstance(node.args[0], ast.Constant):
            lang = next((k.value.value for k in node.keywords if k.arg == "lang"), None)
            calls.append((node.args[0].value, lang or "en"))
    return calls


def _stub_names(nb, lang: str) -> set[str]:
    names = set()
    for cell in nb.cells:
        if cell.cell_type == "code" and i18n.say(authoring.WORDS, "stub", lang) in cell.source:
            names |= {n.name for n in ast.parse(cell.source).body if isinstance(n, (ast.FunctionDef, ast.ClassDef))}
    return names


def _calls_a_stub(source: str, stubs: set[str]) -> bool:
    return any(isinstance(n, ast.Name) and n.id in stubs for n in ast.walk(ast.parse(source)))


def _text(cell) -> str:
    return "".join(o.get("text", "") for o in cell.get("outputs", []) if o.get("output_type") == "stream")


def _summary(qid: str, lang: str, passed: str) -> str:
    total = len(question(qid).cases(np.random.default_rng(PUBLIC_SEED)))
    return message("summary", lang, qid=qid, passed=total if passed == "all" else 0, total=total)


def _execute(env: Environment, path: Path) -> list[str]:
    """Run a copy of the notebook at ``path`` in ``env``; returns what went wrong (nothing when it passed)."""
    rel, lang = _rel(path), _lang(path)
    student = path.is_relative_to(ROOT / "exercises")
    nb = nbformat.read(path, as_version=4)
    stubs = _stub_names(nb, lang) if student else set()
    allowed = set()  # cells that may raise NotImplementedError: they call a stub of a student copy
    for i, cell in enumerate(nb.cells):
        if cell.cell_type == "code" and stubs and not _check_calls(cell.source) and _calls_a_stub(cell.source, stubs):
            cell.metadata.setdefault("tags", []).append("raises-exception")
            allowed.add(i)
    if env.name == "colab":
        nb.cells[0].source = _RECORD_PIP + nb.cells[0].source + _REPORT_PIP
    copy = env.runs / rel
    copy.parent.mkdir(parents=True, exist_ok=True)
    client = NotebookClient(nb, timeout=CELL_TIMEOUT, kernel_name=env.kernel_name,
                            kernel_manager_class=env.kernel_manager_class,
                            resources={"metadata": {"path": str(copy.parent)}})
    problems = []
    try:
        client.execute(env=env.kernel_env)
    except CellExecutionError:
        pass  # reported below, with the cell it came from
    finally:
        nbformat.write(nb, copy)
    for i, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        for out in cell.get("outputs", []):
            if out.get("output_type") == "error" and not (i in allowed and out.get("ename") == "NotImplementedError"):
                trace = _ANSI.sub("", "\n".join(out.get("traceback", [])[-3:]))
                problems.append(f"cell {i}: {out.get('ename')}: {out.get('evalue')}\n{trace}")
        for qid, check_lang in _check_calls(cell.source):
            printed = _text(cell)
            if student:
                expected = [_summary(qid, check_lang, "none"), message("not_implemented", check_lang)]
            else:
                expected = [_summary(qid, check_lang, "all")]
            missing = [line for line in expected if line not in printed]
            if missing:
                problems.append(f"cell {i}: check({qid!r}) did not print {missing[0]!r}; it printed:\n{printed[-800:]}")
    if env.name == "colab":
        recorded = _PIP_CALLS.search(_text(nb.cells[0]))
        calls = json.loads(recorded.group(1)) if recorded else []
        installed = ["-m", "pip", "install", "-q", f"{colab.PACKAGE} @ git+{notebooks.repo_url(ROOT)}"]
        if calls != [installed]:
            ran = "; ".join("python " + " ".join(call) for call in calls) or "no pip command"
            problems.insert(0, f"cell 0: in Colab the setup cell runs {ran}, not python {' '.join(installed)} "
                               "(run `make setup-cells`)")
    return [f"{env.name}: {rel} {p}\n(executed copy: {copy})" for p in problems]


def _execute_all(env: Environment, paths: list[Path]) -> dict[Path, list[str]]:
    # the longest first, so that the two workers finish together
    ordered = sorted(paths, key=lambda p: ("09_" not in p.name, not p.is_relative_to(ROOT / "book")))
    with ThreadPoolExecutor(WORKERS) as pool:
        return dict(zip(ordered, pool.map(lambda p: _execute(env, p), ordered)))


def _environment(tmp_path_factory, repository, name, build):
    base = tmp_path_factory.mktemp(name)
    start = time.perf_counter()
    try:
        env = build(base, repository)
        env.built_seconds = time.perf_counter() - start
        yield env
    finally:
        shutil.rmtree(base / "venv", ignore_errors=True)  # ~1.3 GB each; the executed copies stay


@pytest.fixture(scope="session")
def colab_environment(tmp_path_factory, repository):
    yield from _environment(tmp_path_factory, repository, "colab", _colab_environment)


@pytest.fixture(scope="session")
def binder_environment(tmp_path_factory, repository):
    yield from _environment(tmp_path_factory, repository, "binder", _binder_environment)


def _session_runs(request, env: Environment) -> dict[Path, list[str]]:
    paths = _requested(request, f"{env.name}_runs")
    start = time.perf_counter()
    runs = _execute_all(env, paths)
    print(f"\n{env.name}: environment built in {env.built_seconds:.0f} s, {len(paths)} notebooks run in "
          f"{time.perf_counter() - start:.0f} s (torch {env.version('torch')}, "
          f"matplotlib {env.version('matplotlib')})")
    return runs


@pytest.fixture(scope="session")
def colab_runs(request, colab_environment):
    return _session_runs(request, colab_environment)


@pytest.fixture(scope="session")
def binder_runs(request, binder_environment):
    return _session_runs(request, binder_environment)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=_rel)
def test_notebook_runs_in_colab(colab_runs, path):
    problems = colab_runs[path]
    assert not problems, "\n\n".join(problems)


@pytest.mark.parametrize("path", BINDER_NOTEBOOKS, ids=_rel)
def test_notebook_runs_on_binder(binder_runs, path):
    problems = binder_runs[path]
    assert not problems, "\n\n".join(problems)


# ---- the Jupyter editions in the Binder environment's JupyterLab, in headless Chromium ---------------------------------

CHAPTER = "01_chain_rule.ipynb"
PANEL = ".jp-NotebookPanel:not(.lm-mod-hidden)"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _write_json(path: Path, data) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data), encoding="utf-8")


@pytest.fixture(scope="module")
def jupyterlab(binder_environment, tmp_path_factory):
    """The Binder environment's JupyterLab on 127.0.0.1 serving a copy of jupyter/: no token,
    no news, no update check, no extension manager, its own config and settings."""
    root = ROOT
    home = tmp_path_factory.mktemp("jupyterlab")
    served = home / "notebooks"
    for edition in ("en", "bn"):
        (served / edition).mkdir(parents=True)
        shutil.copy(root / je.OUT / edition / CHAPTER, served / edition / CHAPTER)
    settings = home / "settings"
    _write_json(settings / "@jupyterlab/apputils-extension/notification.jupyterlab-settings",
                {"fetchNews": "false", "checkForUpdates": False})
    # Render every cell, not only those in view, so the whole notebook can be read.
    _write_json(settings / "@jupyterlab/notebook-extension/tracker.jupyterlab-settings", {"windowingMode": "none"})
    _write_json(home / "config" / "labconfig" / "page_config.json",
                {"disabledExtensions": {"@jupyterlab/extensionmanager-extension": True}})
    _write_json(home / "config" / "jupyter_server_config.json", {
        "ServerApp": {"ip": "127.0.0.1", "port_retries": 0, "open_browser": False, "root_dir": str(served),
                      "allow_root": True, "terminals_enabled": False,
                      "jpserver_extensions": {"jupyter_lsp": False, "jupyter_server_terminals": False}},
        "IdentityProvider": {"token": ""},
        "LabApp": {"news_url": None, "check_for_updates_class": "jupyterlab.NeverCheckForUpdate",
                   "extension_manager": "readonly", "user_settings_dir": str(settings),
                   "workspaces_dir": str(home / "workspaces")},
    })
    env = dict(binder_environment.kernel_env, JUPYTER_CONFIG_DIR=str(home / "config"), JUPYTER_DATA_DIR=str(home / "data"),
               JUPYTER_RUNTIME_DIR=str(home / "runtime"), JUPYTER_PLATFORM_DIRS="1")
    port = _free_port()
    log = (home / "server.log").open("w")
    server = subprocess.Popen([str(binder_environment.python), "-m", "jupyterlab", f"--ServerApp.port={port}"],
                              env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                urllib.request.urlopen(f"{url}/api/status", timeout=1)
                break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"JupyterLab did not start:\n{(home / 'server.log').read_text()[-2000:]}")
                time.sleep(0.3)
        yield url
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        log.close()


@pytest.fixture(scope="module")
def chromium():
    executable = os.environ.get("CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
    if executable is None:
        pytest.skip("Debian's chromium is not installed (.ci/run installs it): JupyterLab check skipped")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=executable,
                                    args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"])
        yield browser
        browser.close()


@pytest.fixture(scope="module")
def lab_browser(chromium):
    """One browser context for both editions, so the second reuses JupyterLab's cached assets."""
    context = chromium.new_context(viewport={"width": 1280, "height": 1600})
    requests = []
    context.on("request", lambda r: requests.append(r.url))
    yield context, requests
    context.close()


@pytest.mark.parametrize("edition", ["en", "bn"])
def test_jupyterlab_renders_the_jupyter_edition(root, jupyterlab, lab_browser, edition):
    baseurl = yaml.safe_load((root / "_config.yml").read_text(encoding="utf-8"))["html"]["baseurl"]
    nb = nbformat.read(root / je.OUT / edition / CHAPTER, as_version=4)
    markdown_cells = sum(c.cell_type == "markdown" for c in nb.cells)
    context, requests = lab_browser
    requests.clear()
    page = context.new_page()
    try:
        # ?reset: a fresh workspace, not the tabs the other edition left open.
        page.goto(f"{jupyterlab}/lab/tree/{edition}/{CHAPTER}?reset", wait_until="load")
        rendered = f"{PANEL} .jp-MarkdownCell .jp-RenderedMarkdown"
        page.wait_for_function(f"document.querySelectorAll('{rendered}').length >= {markdown_cells}", timeout=40000)
        page.wait_for_function(f"document.querySelectorAll('{rendered} mjx-container').length > 10", timeout=20000)
        cells = page.locator(rendered)
        text = "\n".join(cells.all_inner_texts())
        for raw in ("{term}", "{footcite", "{footbibliography}", "```", "$$"):
            assert raw not in text, f"{edition}: {raw} shows in JupyterLab"
        terms = page.locator(f"{rendered} a[href^='{baseurl}book/glossary.html#term-']")
        assert terms.count() > 5, f"{edition}: no glossary links"
        assert "(Rumelhart et al., 1986)" in text
        assert "Rumelhart et al., 1986" in page.locator(f"{rendered} a[href='https://doi.org/10.1038/323533a0']").all_inner_texts()
        references = cells.last
        assert references.locator("h2").count() == 1 and references.locator("li").count() >= 3
        assert "Learning representations by back-propagating errors" in references.inner_text()
        out = root / "_build" / "screenshots"
        out.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(out / f"jupyterlab-{edition}.png"))
    finally:
        page.close()
    elsewhere = [u for u in requests if urlparse(u).scheme not in ("data", "blob", "about") and urlparse(u).hostname != "127.0.0.1"]
    assert requests and not elsewhere, f"{edition}: requests left 127.0.0.1: {elsewhere[:5]}"
