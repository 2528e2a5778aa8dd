"""The setup cell that opens every notebook, and what it calls in Colab.

The cell is generated from the repository URL in ``_config.yml`` so that the URL
is written once; ``backprop-lab setup-cells`` rewrites it in every notebook and a
test checks that every notebook starts with exactly this cell.
"""

from __future__ import annotations

SETUP_TAGS = ["remove-cell"]
# What the setup cell installs in Colab: the package with everything the notebooks import
# (pyproject.toml's `notebooks` extra), from the repository in _config.yml.
PACKAGE = "backprop-lab[notebooks]"

_TEMPLATE = '''\
# Colab setup: installs the course's helper package and a Bengali plot font.
# Elsewhere (Jupyter, the built book, the tests) this cell does nothing.
import sys

if "google.colab" in sys.modules:
    import subprocess

    subprocess.run(
        [sys.executable, "-m", "pip", "install", "-q", "{package} @ git+{repo_url}"],
        check=True,
    )
    from backprop_lab.colab import setup_colab

    setup_colab()'''


def setup_cell_source(repo_url: str) -> str:
    """The exact source of the first cell of every notebook."""
    if not repo_url.startswith("https://"):
        raise ValueError(f"the repository URL must start with https://, got {repo_url!r}")
    return _TEMPLATE.format(package=PACKAGE, repo_url=repo_url.rstrip("/"))


def setup_colab() -> None:
    """Register the bundled Bengali font with Colab's matplotlib."""
    from .plotting import can_shape_bengali, register_bengali_font

    register_bengali_font()
    if not can_shape_bengali():
        print(
            "This matplotlib cannot shape Bengali script, so plot labels will be in English. "
            "এই matplotlib বাংলার যুক্তাক্ষর আর কার-চিহ্ন ঠিকভাবে সাজাতে পারে না, তাই প্লটের লেবেল ইংরেজিতে থাকবে।"
        )
