import ast
import warnings

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import nbformat  # noqa: E402
import pytest  # noqa: E402
from matplotlib import font_manager  # noqa: E402

from backprop_lab import plotting  # noqa: E402


def test_bundled_bengali_font_is_found_by_matplotlib():
    family = plotting.register_bengali_font()
    path = font_manager.findfont(font_manager.FontProperties(family=family), fallback_to_default=False)
    assert "NotoSansBengali" in path


def test_this_matplotlib_shapes_bengali():
    # requirements.txt pins matplotlib 3.11, whose wheels lay text out with libraqm.
    assert plotting.can_shape_bengali()


def test_bengali_setup_uses_the_font_and_bengali_labels():
    plotting.setup("bn")
    try:
        assert matplotlib.rcParams["font.family"][0] == plotting.BENGALI_FONT
        assert plotting.tr("Layer", "স্তর") == "স্তর"
        fig, ax = plt.subplots()
        text = ax.set_title("গ্রেডিয়েন্ট")
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # matplotlib warns "Glyph ... missing" without the font
            fig.canvas.draw()
        assert text.get_fontfamily()[0] == plotting.BENGALI_FONT
        plt.close(fig)
    finally:
        plotting.setup("en")


def test_bengali_falls_back_to_english_where_it_cannot_be_shaped(monkeypatch):
    monkeypatch.setattr(plotting, "can_shape_bengali", lambda: False)
    plotting.setup("bn")
    try:
        assert plotting.tr("Layer", "স্তর") == "Layer"
        assert plotting.BENGALI_FONT not in matplotlib.rcParams["font.family"]
    finally:
        plotting.setup("en")


def test_english_setup_and_palette():
    plotting.setup("en")
    assert plotting.tr("Layer", "স্তর") == "Layer"
    # Okabe and Ito's colour-blind-safe palette, as published (not read back from the module).
    published = {"#E69F00", "#56B4E9", "#009E73", "#F0E442", "#0072B2", "#D55E00", "#CC79A7", "#000000"}
    fig, ax = plt.subplots()
    drawn = [matplotlib.colors.to_hex(ax.plot([0, 1])[0].get_color()).upper() for _ in range(8)]
    plt.close(fig)
    assert set(drawn) == published  # eight lines, eight different palette colours


def test_unknown_language_is_refused():
    with pytest.raises(ValueError, match="'en' or 'bn'"):
        plotting.setup("fr")


def test_a_bengali_label_with_mathtext_is_refused():
    plotting.setup("bn")
    try:
        with pytest.raises(ValueError, match="mathtext"):
            plotting.tr("weight $w_t$", "ওজন $w_t$")
        assert plotting.tr("weight wₜ", "ওজন wₜ") in ("ওজন wₜ", "weight wₜ")
    finally:
        plotting.setup("en")
    assert not plotting.mixes_bengali_and_mathtext("দাম $5")  # one dollar sign is not a formula


def _string_constants(source: str):
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            yield node.value
        elif isinstance(node, ast.JoinedStr):  # an f-string: its literal parts
            yield "".join(v.value for v in node.values if isinstance(v, ast.Constant))


def test_no_string_in_the_course_mixes_bengali_and_mathtext(root):
    """Plot labels are strings in code: none of them, in any notebook or in the package,
    puts Bengali beside $...$ (tr refuses it at run time; this finds it without running)."""
    notebooks = [p for folder in ("book", "solutions", "exercises", "jupyter") for p in (root / folder).rglob("*.ipynb")]
    assert len(notebooks) > 60
    found = []
    for path in notebooks:
        for index, cell in enumerate(nbformat.read(path, as_version=4).cells):
            if cell.cell_type == "code":
                found += [f"{path.relative_to(root)} cell {index}: {s!r}" for s in _string_constants(cell.source)
                          if plotting.mixes_bengali_and_mathtext(s)]
    for path in (root / "src").rglob("*.py"):
        found += [f"{path.relative_to(root)}: {s!r}" for s in _string_constants(path.read_text(encoding="utf-8"))
                  if plotting.mixes_bengali_and_mathtext(s) and "mathtext" not in s.lower()]
    assert not found, "\n".join(found)
