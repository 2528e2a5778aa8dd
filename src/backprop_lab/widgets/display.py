"""What both widgets share: their words in both languages, the plot style and labels, PNG
rendering of a figure that is never re-created, log-scale helpers, and the display base
class that shows a widget's ipywidgets tree (and only its settings as plain text)."""

from __future__ import annotations

import io
import math
from contextlib import contextmanager

import ipywidgets as W
import matplotlib
import numpy as np
from matplotlib import ticker
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from PIL import Image

from .. import i18n
from ..plotting import LATIN_FALLBACK, can_shape_bengali, register_bengali_font

# Words of the widgets (HTML: the browser shapes Bengali, so no fallback is needed here).
_WORDS = i18n.table("widgets", {
    "depth": {"en": "depth D", "bn": "গভীরতা D"},
    "activation": {"en": "activation function", "bn": "সক্রিয়করণ ফাংশন"},
    "init": {"en": "initialisation", "bn": "ইনিশিয়ালাইজেশন"},
    "width": {"en": "width", "bn": "প্রস্থ"},
    "residual": {"en": "residual connections", "bn": "রেসিডুয়াল সংযোগ"},
    "seed": {"en": "seed", "bn": "সিড (seed)"},
    "naive": {"en": "naive: N(0, 0.01²)", "bn": "সরল: N(0, 0.01²)"},
    "normal": {"en": "normal: N(0, 1)", "bn": "নর্মাল: N(0, 1)"},
    "xavier": {"en": "Xavier (Glorot)", "bn": "Xavier (Glorot)"},
    "he": {"en": "He (Kaiming)", "bn": "He (Kaiming)"},
    "sizes": {"en": "layer sizes", "bn": "স্তরের আকার"},
    "hidden": {"en": "hidden activation", "bn": "লুকানো স্তরের সক্রিয়করণ"},
    "output": {"en": "output activation", "bn": "আউটপুট স্তরের সক্রিয়করণ"},
    "loss": {"en": "loss", "bn": "লস ফাংশন"},
    "mse": {"en": "mean squared error", "bn": "গড় বর্গ ত্রুটি"},
    "cross_entropy": {"en": "softmax cross-entropy", "bn": "সফটম্যাক্স ক্রস-এনট্রপি"},
    "x": {"en": "input x", "bn": "ইনপুট x"},
    "y": {"en": "target y", "bn": "লক্ষ্য মান y"},
    "layer": {"en": "layer l", "bn": "স্তর l"},
    "units": {"en": "units n<sub>l</sub>", "bn": "নিউরন n<sub>l</sub>"},
    "loss_row": {"en": "loss L", "bn": "লস L"},
    "ratio": {"en": "Layer 1 receives {ratio} times the gradient norm of layer {D}.",
              "bn": "স্তর 1-এর গ্রেডিয়েন্টের নর্ম স্তর {D}-এর নর্মের {ratio} গুণ।"},
    "not_shown": {"en": "Some values are 0, infinite or not a number; the log-scale plot leaves them out.",
                  "bn": "কিছু মান 0, অসীম বা সংখ্যা নয় (nan); লগ স্কেলের প্লটে সেগুলো দেখানো হয়নি।"},
    "sizes_format": {"en": "Layer sizes must be whole numbers separated by commas, e.g. 4,5,3,2; “{item}” is not one.",
                     "bn": "স্তরের আকারগুলো কমা দিয়ে আলাদা করা পূর্ণসংখ্যা হতে হবে, যেমন 4,5,3,2; “{item}” তেমন নয়।"},
    "sizes_empty": {"en": "The layer sizes have an empty entry between two commas.", "bn": "স্তরের আকারে দুটি কমার মাঝে কোনো সংখ্যা নেই।"},
    "sizes_count": {"en": "Give at least two layer sizes: the input and the output.", "bn": "অন্তত দুটি স্তরের আকার দাও: ইনপুট আর আউটপুট।"},
    "sizes_zero": {"en": "Every layer size must be at least 1; one is {n}.", "bn": "প্রতিটি স্তরের আকার অন্তত 1 হতে হবে; একটি আছে {n}।"},
    "too_deep": {"en": "At most {max} layers after the input can be drawn; you asked for {n}.",
                 "bn": "ইনপুটের পরে সর্বোচ্চ {max}টি স্তর আঁকা যায়; তুমি চেয়েছ {n}টি।"},
    "too_wide": {"en": "At most {max} neurons per layer can be drawn; one layer has {n}.",
                 "bn": "প্রতিটি স্তরে সর্বোচ্চ {max}টি নিউরন আঁকা যায়; একটি স্তরে আছে {n}টি।"},
    "vec_number": {"en": "{what}: “{item}” is not a number.", "bn": "{what}: “{item}” কোনো সংখ্যা নয়।"},
    "vec_empty": {"en": "{what}: there is an empty entry between two commas.", "bn": "{what}: দুটি কমার মাঝে কোনো সংখ্যা নেই।"},
    "vec_length": {"en": "{what} must have {n} numbers (the size of layer {layer}); it has {m}.",
                   "bn": "{what}-এ {n}টি সংখ্যা থাকতে হবে (স্তর {layer}-এর আকার); আছে {m}টি।"},
    "vec_length_one": {"en": "{what} must have 1 number (the size of layer {layer}); it has {m}.",
                       "bn": "{what}-এ 1টি সংখ্যা থাকতে হবে (স্তর {layer}-এর আকার); আছে {m}টি।"},
    "vec_finite": {"en": "{what}: every entry must be a finite number (no nan or inf).",
                   "bn": "{what}: প্রতিটি মান সসীম সংখ্যা হতে হবে (nan বা inf চলবে না)।"},
    "ce_target": {"en": "For softmax cross-entropy, the target y must be a class index from 0 to {last}, "
                        "or {n} probabilities that are at least 0 and add up to 1.",
                  "bn": "সফটম্যাক্স ক্রস-এনট্রপির জন্য লক্ষ্য মান y হয় 0 থেকে {last} পর্যন্ত একটি শ্রেণির সূচক, "
                        "নয়তো {n}টি সম্ভাবনা, যেগুলোর প্রতিটি 0 বা তার বেশি আর যাদের যোগফল 1।"},
    "ce_output": {"en": "Softmax cross-entropy takes the logits, so the output activation must be identity; "
                        "with {output} the softmax would act on squashed values, the bug of chapter 4.",
                  "bn": "সফটম্যাক্স ক্রস-এনট্রপি নেয় লজিট, তাই আউটপুট স্তরের সক্রিয়করণ হতে হবে identity; "
                        "{output} দিলে সফটম্যাক্স কাজ করত চেপে আনা মানের ওপর, অধ্যায় 4-এর সেই ভুল।"},
    "overflow": {"en": "The values overflowed (inf or nan): try smaller inputs or another initialisation.",
                 "bn": "মানগুলো সীমা ছাড়িয়ে গেছে (inf বা nan): ছোট ইনপুট বা অন্য ইনিশিয়ালাইজেশন চেষ্টা করো।"},
    "kept": {"en": "The last valid result is still shown.", "bn": "শেষ বৈধ ফলাফলটিই দেখানো হচ্ছে।"},
})

# Labels inside the plots, chosen by _plot_text.
# Plain Unicode, never mathtext ($...$): mathtext draws glyph by glyph, so it would break
# Bengali conjuncts in a mixed label, and it ignores the Latin fallback font.
_PLOT = i18n.table("plot labels", {
    "layer": {"en": "layer l", "bn": "স্তর l"},
    "grad": {"en": "gradient norm ‖∂L/∂W⁽ˡ⁾‖", "bn": "গ্রেডিয়েন্টের নর্ম ‖∂L/∂W⁽ˡ⁾‖"},
    "spread": {"en": "activation spread: std of a⁽ˡ⁾", "bn": "সক্রিয়করণের বিস্তার: a⁽ˡ⁾-এর আদর্শ বিচ্যুতি"},
    "flow": {"en": "gradient flow: |δ| in neurons, |∂L/∂W| on edges", "bn": "গ্রেডিয়েন্ট প্রবাহ: নিউরনে |δ|, সংযোগে |∂L/∂W|"},
    "size": {"en": "size (log scale; grey: 0)", "bn": "মান (লগ স্কেল; ধূসর: 0)"},
    "input": {"en": "input", "bn": "ইনপুট"},
})
_SUPERSCRIPT = str.maketrans("0123456789", "⁰¹²³⁴⁵⁶⁷⁸⁹")


def _layer_sup(l: int) -> str:
    """``(l)`` as a superscript, e.g. ``⁽³⁾``."""
    return "⁽" + str(l).translate(_SUPERSCRIPT) + "⁾"


def _plot_text(lang: str, key: str) -> str:
    """A plot label; English where this matplotlib cannot shape Bengali (like plotting.tr)."""
    return i18n.say(_PLOT, key, "bn" if lang == "bn" and can_shape_bengali() else "en")


@contextmanager
def _plot_style(lang: str):
    """The course's fonts for ``lang`` while building and drawing a figure.

    Used around every draw, not only when building: tick labels are created lazily at
    draw time, and a notebook may have changed the global rcParams in between.
    """
    family = [LATIN_FALLBACK]
    if lang == "bn" and can_shape_bengali():
        family = [register_bengali_font(), LATIN_FALLBACK]
    with matplotlib.rc_context({"font.family": family, "axes.unicode_minus": True, "mathtext.fontset": "dejavusans",
                                "font.size": 9}):
        yield


def _png(fig: Figure, lang: str) -> bytes:
    """Render ``fig`` with Agg and encode it as PNG.

    The fastest path we measured: ``canvas.draw`` plus Pillow with light compression
    (``savefig`` does the same draw plus bounding-box work; harder compression costs more
    time than the few kilobytes it saves).
    """
    with _plot_style(lang):
        fig.canvas.draw()
    width, height = fig.canvas.get_width_height()
    image = Image.frombuffer("RGBA", (width, height), fig.canvas.buffer_rgba(), "raw", "RGBA", 0, 1)
    buffer = io.BytesIO()
    image.save(buffer, format="png", compress_level=1)
    return buffer.getvalue()


def _new_figure(width_in: float, height_in: float, dpi: int, cls: type[Figure] = Figure) -> Figure:
    # A bare Figure with its own Agg canvas: pyplot never sees it, so a notebook shows
    # it only through the Image widget, never a second time as an inline plot.
    fig = cls(figsize=(width_in, height_in), dpi=dpi)
    FigureCanvasAgg(fig)
    return fig


class StaticFigure(Figure):
    """A matplotlib Figure that IPython displays as PNG even though pyplot does not manage it.

    Where matplotlib's inline backend is active, its own formatter draws the figure (once:
    the figure is not in pyplot's list, so it is not shown again at the end of the cell).
    """

    lang = "en"

    def _repr_png_(self) -> bytes:
        buffer = io.BytesIO()
        with _plot_style(self.lang):
            self.savefig(buffer, format="png", bbox_inches="tight")
        return buffer.getvalue()


def _decade_limits(values: np.ndarray) -> tuple[float, float] | None:
    """Log-axis limits at whole powers of ten around the finite positive ``values``.

    Whole decades keep the axis still while a seed changes the numbers a little.
    """
    good = values[np.isfinite(values) & (values > 0)]
    if good.size == 0:
        return None
    lo, hi = math.floor(math.log10(good.min())), math.ceil(math.log10(good.max()))
    if hi - lo < 2:
        lo, hi = lo - 1, hi + 1
    return 10.0**lo, 10.0**hi


def _for_log_plot(values: np.ndarray) -> np.ndarray:
    """``values`` with 0, inf and nan replaced by nan, which matplotlib leaves out."""
    values = np.asarray(values, dtype=np.float64)
    return np.where(np.isfinite(values) & (values > 0), values, np.nan)


def _style_log_axes(ax, xbins: int) -> None:
    """The explorer's axes, live or static: log y with few ticks, integer layers on x, a light grid."""
    ax.set_yscale("log")
    # Few ticks, no minor ticks: text is most of the cost of a redraw.
    ax.yaxis.set_major_locator(ticker.LogLocator(numticks=5))
    ax.yaxis.set_minor_locator(ticker.NullLocator())
    ax.xaxis.set_major_locator(ticker.MaxNLocator(nbins=xbins, integer=True))
    ax.grid(True, alpha=0.3)
    ax.spines[["top", "right"]].set_visible(False)


def _seed_control(seed: int, lang: str) -> W.BoundedIntText:
    """The seed box both widgets have: any seed NumPy's default_rng takes as an int32."""
    return W.BoundedIntText(value=seed, min=0, max=2**31 - 1, description=i18n.say(_WORDS, "seed", lang),
                            style=_description_style(), layout=W.Layout(width="12em"))


def _dropdown_options(lang: str, values) -> list[tuple[str, str]]:
    return [(i18n.column(_WORDS, lang).get(v, v), v) for v in values]


def _description_style() -> dict:
    return {"description_width": "initial"}  # show the whole label, never truncated


class _Display:
    """What both widgets share: named controls that trigger update(); displays as its
    ipywidgets tree and prints as its settings only (deterministic for nbval)."""

    widget: W.Widget
    controls: dict
    lang: str
    _held: int  # while > 0, control changes do not update (set() changes several at once)

    def update(self) -> None:
        raise NotImplementedError

    def _connect(self) -> None:
        """Make every control call update(), then draw the first time (the end of each __init__)."""
        self._held = 0
        for control in self.controls.values():
            control.observe(self._on_change, names="value")
        self.update()

    def _on_change(self, change) -> None:
        if not self._held:
            self.update()

    def set(self, **values) -> None:
        """Set several controls at once (e.g. ``set(depth=30, activation="relu")``), then update once."""
        unknown = sorted(set(values) - set(self.controls))
        if unknown:
            raise KeyError(f"no such control: {', '.join(unknown)}; the controls are {', '.join(self.controls)}")
        self._held += 1
        try:
            for name, value in values.items():
                self.controls[name].value = value
        finally:
            self._held -= 1
        self.update()

    def settings(self) -> dict:
        """The current value of every control."""
        return {name: control.value for name, control in self.controls.items()}

    def _settings(self) -> str:
        return ", ".join(f"{k}={v!r}" for k, v in {"lang": self.lang, **self.settings()}.items())

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self._settings()})"

    def _repr_mimebundle_(self, **kwargs):
        bundle = self.widget._repr_mimebundle_(**kwargs)
        bundle["text/plain"] = repr(self)  # no model id, no address
        return bundle
