"""Building the book in other conditions than `make book`: with no network at all, and
with an instructor's JupyterHub configured. One build checks both (a full build costs
minutes): the copy has a JupyterHub URL and, where a network namespace can be made, no network."""

import shutil
import subprocess
import sys
from pathlib import Path
from urllib.parse import unquote

import pytest
import yaml

HUB = "https://hub.example.edu"


def _jupyter_book():
    return str(Path(sys.executable).parent / "jupyter-book")


def _can_cut_the_network(unshare):
    return unshare is not None and subprocess.run([unshare, "-n", "true"], capture_output=True).returncode == 0


@pytest.fixture(scope="module")
def hub_build(root, tmp_path_factory):
    """The book built from a copy whose _config.yml names a JupyterHub; offline where possible."""
    src = tmp_path_factory.mktemp("build") / "course"
    shutil.copytree(root, src, ignore=shutil.ignore_patterns(".venv", "_build", ".git", "tests", "benchmarks"))
    config_path = src / "_config.yml"
    config = yaml.safe_load(config_path.read_text(encoding="utf-8"))
    config["launch_buttons"]["jupyterhub_url"] = HUB
    config_path.write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")

    unshare = shutil.which("unshare")
    offline = _can_cut_the_network(unshare)
    command = [_jupyter_book(), "build", str(src), "--builder", "html", "--warningiserror", "--quiet"]
    done = subprocess.run([unshare, "-n", *command] if offline else command, capture_output=True, text=True)
    return src, config, offline, done


def test_the_book_builds_with_the_network_cut_off(hub_build):
    src, _, offline, done = hub_build
    if not offline:
        pytest.skip("cannot make a network namespace here (needs unshare and root): offline build not checked")
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    assert (src / "_build/html/book/bn/01_chain_rule.html").exists()


def test_setting_jupyterhub_url_adds_an_nbgitpuller_button(hub_build):
    src, config, _, done = hub_build
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    page = (src / "_build/html/book/bn/01_chain_rule.html").read_text(encoding="utf-8")
    assert f"{HUB}/hub/user-redirect/git-pull?" in page
    link = unquote(page.split(f"{HUB}/hub/user-redirect/git-pull?")[1].split('"')[0])
    assert f"repo={config['repository']['url']}" in link
    assert link.endswith("jupyter/bn/01_chain_rule.ipynb&branch=main")  # the chapter's Jupyter edition
