"""Building the book in other conditions than `make book`: with no network at all, and
with an instructor's JupyterHub configured."""

import shutil
import subprocess
import sys
from pathlib import Path
from urllib.parse import unquote

import pytest
import yaml


def _copy_sources(root, dest):
    shutil.copytree(root, dest, ignore=shutil.ignore_patterns(".venv", "_build", ".git", "tests", "benchmarks"))
    return dest


def _jupyter_book():
    return str(Path(sys.executable).parent / "jupyter-book")


def test_the_book_builds_with_the_network_cut_off(root, tmp_path):
    unshare = shutil.which("unshare")
    if unshare is None or subprocess.run([unshare, "-n", "true"], capture_output=True).returncode != 0:
        pytest.skip("cannot make a network namespace here (needs unshare and root): offline build not checked")
    src = _copy_sources(root, tmp_path / "course")
    done = subprocess.run(
        [unshare, "-n", _jupyter_book(), "build", str(src), "--builder", "html", "--warningiserror", "--quiet"],
        capture_output=True, text=True,
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    assert (src / "_build/html/book/bn/01_chain_rule.html").exists()


def test_setting_jupyterhub_url_adds_an_nbgitpuller_button(root, tmp_path):
    src = _copy_sources(root, tmp_path / "course")
    config_path = src / "_config.yml"
    config = yaml.safe_load(config_path.read_text(encoding="utf-8"))
    config["launch_buttons"]["jupyterhub_url"] = "https://hub.example.edu"
    config_path.write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")

    subprocess.run([_jupyter_book(), "build", str(src), "--builder", "html", "--quiet"], check=True, capture_output=True)

    page = (src / "_build/html/book/bn/01_chain_rule.html").read_text(encoding="utf-8")
    assert "https://hub.example.edu/hub/user-redirect/git-pull?" in page
    link = unquote(page.split("https://hub.example.edu/hub/user-redirect/git-pull?")[1].split('"')[0])
    assert f"repo={config['repository']['url']}" in link
    assert link.endswith("jupyter/bn/01_chain_rule.ipynb&branch=main")  # the chapter's Jupyter edition
