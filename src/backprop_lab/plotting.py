"""Plot defaults shared by every chapter: a Bengali font, a colour-blind-safe palette.

Call ``setup("bn")`` or ``setup("en")`` once per notebook, then write every label
as ``tr("English", "বাংলা")``. Where this matplotlib cannot shape Bengali (before
3.11, as in some Colab images), ``tr`` falls back to the English label rather than
draw broken glyphs.
"""

from __future__ import annotations

import re
from importlib import resources

import matplotlib
from matplotlib import font_manager

from . import i18n

__all__ = ["OKABE_ITO", "BENGALI_FONT", "setup", "tr", "can_shape_bengali", "register_bengali_font",
           "mixes_bengali_and_mathtext"]

# Okabe & Ito's palette: distinguishable under every common colour-vision deficiency.
OKABE_ITO = ["#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442", "#000000"]
BENGALI_FONT = "Noto Sans Bengali"
LATIN_FALLBACK = "DejaVu Sans"  # ships with matplotlib, so it is always there

_state = {"lang": "en", "font_registered": False}


def register_bengali_font() -> str:
    """Make the bundled Noto Sans Bengali known to matplotlib; returns its family name."""
    if not _state["font_registered"]:
        fonts = resources.files("backprop_lab") / "fonts"
        for entry in fonts.iterdir():
            if entry.name.endswith(".ttf"):
                with resources.as_file(entry) as path:
                    font_manager.fontManager.addfont(str(path))
        _state["font_registered"] = True
    return BENGALI_FONT


def can_shape_bengali() -> bool:
    """True when matplotlib lays text out with libraqm, which joins Bengali conjuncts."""
    from matplotlib import ft2font

    version = tuple(int(p) for p in matplotlib.__version__.split(".")[:2] if p.isdigit())
    return version >= (3, 11) and bool(getattr(ft2font, "__libraqm_version__", ""))


def setup(lang: str = "en") -> None:
    """Apply the course's plot style for an edition ("en" or "bn")."""
    i18n.check_lang(lang)
    _state["lang"] = lang
    family = [LATIN_FALLBACK]
    if lang == "bn" and can_shape_bengali():
        family = [register_bengali_font(), LATIN_FALLBACK]
    matplotlib.rcParams.update(
        {
            "font.family": family,
            "axes.prop_cycle": matplotlib.cycler(color=OKABE_ITO),
            "image.cmap": "viridis",
            "figure.figsize": (6.4, 3.8),
            "figure.dpi": 100,
            "savefig.dpi": 100,
            "axes.grid": True,
            "grid.alpha": 0.3,
            "axes.spines.top": False,
            "axes.spines.right": False,
        }
    )


_BENGALI = re.compile("[\u0980-\u09FF]")


def mixes_bengali_and_mathtext(label: str) -> bool:
    """Whether ``label`` holds Bengali letters and a ``$...$`` formula.

    Mathtext draws glyph by glyph, without the shaping engine, so Bengali next to it comes
    out broken (conjuncts such as ক্ষ split apart); write the symbols in Unicode instead
    (wₜ, ηλ, ‖w‖, ±).
    """
    return bool(_BENGALI.search(label)) and label.count("$") >= 2


def tr(en: str, bn: str) -> str:
    """The label for the current edition; English where Bengali cannot be shaped."""
    if mixes_bengali_and_mathtext(bn):
        raise ValueError(f"a Bengali plot label cannot hold $...$ mathtext (it breaks the shaping): {bn!r}; "
                         "write the symbols in Unicode instead")
    if _state["lang"] == "bn" and can_shape_bengali():
        return bn
    return en
