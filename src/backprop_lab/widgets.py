"""The course's two interactive widgets, and the static figure that stands in for the first.

- :func:`gradient_flow_explorer` (chapter 6): sliders for depth, activation,
  initialisation, width, residual connections and seed; a plot of the gradient norm
  ``||dL/dW^(l)||`` and the activation spread ``std(a^(l))`` of every layer.
- :func:`small_multiples`: the same plot for a grid of depths x activations, as one
  static matplotlib figure, for readers of the HTML book.
- :func:`backprop_visualizer` (chapter 8): type a network's layer sizes, an input and a
  target; see every forward value and every gradient in a table, and a picture of the
  network coloured by gradient size.

Both widgets compute with :mod:`backprop_lab.network` (a real forward and backward pass
in NumPy, float64) and draw with one matplotlib figure that is never re-created: a
control change updates the data of the existing artists, renders the figure to PNG and
sets the value of an ``ipywidgets.Image``. That needs nothing beyond ipywidgets' own
``observe`` callbacks, works in Jupyter, JupyterLab and Colab without flicker, and keeps
the last picture in the saved widget state, which the HTML book displays.

Labels and messages come in English (``lang="en"``) or Bengali (``lang="bn"``). Widget
text is HTML, which the browser shapes; text inside the plots falls back to English where
this matplotlib cannot shape Bengali (see :func:`backprop_lab.plotting.can_shape_bengali`).

Each widget object holds its ipywidgets tree in ``.widget``; displaying the object (bare
as the last expression of a cell, or with ``display(obj)``) displays that tree. Its plain
text form lists only the settings, so notebooks that display it compare equal in nbval.
"""

from __future__ import annotations

import html
import io
import math
import re
from contextlib import contextmanager
from functools import lru_cache

import ipywidgets as W
import matplotlib
import numpy as np
from matplotlib import colormaps, ticker
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.collections import LineCollection
from matplotlib.colors import LogNorm
from matplotlib.figure import Figure
from PIL import Image

from . import i18n, network
from .plotting import LATIN_FALLBACK, OKABE_ITO, can_shape_bengali, register_bengali_font

__all__ = [
    "gradient_flow_explorer",
    "GradientFlowExplorer",
    "small_multiples",
    "StaticFigure",
    "backprop_visualizer",
    "BackpropVisualizer",
    "explorer_pass",
]

EXPLORER_ACTIVATIONS = ("sigmoid", "tanh", "relu", "leaky_relu", "gelu")
MAX_DEPTH = 60  # the explorer's deepest network
EXPLORER_BATCH = 16  # examples in the explorer's fixed random batch
VIS_MAX_LAYERS = 8  # the visualizer draws at most this many layers after the input...
VIS_MAX_WIDTH = 10  # ...each of at most this many neurons

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


# --- the gradient-flow explorer ----------------------------------------------------------
@lru_cache(maxsize=4)
def _draws(seed: int, width: int, batch: int) -> tuple[np.ndarray, np.ndarray, tuple[np.ndarray, ...]]:
    """The random numbers behind one explorer setting: a batch, targets, 60 N(0,1) matrices.

    Every init is a zero-mean normal, so a weight matrix is ``std * G`` with ``G`` drawn
    here once per (seed, width). Moving the depth, activation or init control then
    changes that setting only, never the random numbers behind it, and costs no new draws.
    The arrays are shared through the cache, so they are made read-only.
    """
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((width, batch))
    y = rng.standard_normal((width, batch))
    gs = tuple(rng.standard_normal((width, width)) for _ in range(MAX_DEPTH))
    for array in (x, y, *gs):
        array.setflags(write=False)
    return x, y, gs


def explorer_pass(depth: int, activation: str, init: str, width: int = 64, residual: bool = False,
                  seed: int = 0, batch: int = EXPLORER_BATCH) -> tuple[network.MLP, np.ndarray, np.ndarray, network.Pass]:
    """The explorer's computation: ``(net, x, y, result)`` for one setting.

    A ``depth``-layer MLP with every layer ``width`` wide (input included), ``activation``
    in layers ``1..D-1`` and identity in layer ``D``, weights drawn by ``init`` (biases 0),
    on a fixed random batch ``x`` (``width x batch``, N(0,1) entries) with targets ``y``
    (N(0,1)) and the ``mse`` loss; ``result`` holds every forward value and gradient.
    Deterministic for a given seed.
    """
    if not 1 <= depth <= MAX_DEPTH:
        raise ValueError(f"depth must be between 1 and {MAX_DEPTH}, got {depth}")
    x, y, gs = _draws(int(seed), int(width), int(batch))
    std = network.init_std(init, width, width)
    net = network.MLP(
        weights=[std * g for g in gs[:depth]],
        biases=[np.zeros((width, 1)) for _ in range(depth)],
        activations=[activation] * (depth - 1) + ["identity"],
        residual=residual,
    )
    return net, x, y, network.forward_backward(net, x, y, "mse")


class GradientFlowExplorer(_Display):
    """Sliders for depth, activation, initialisation, width, residual connections and seed.

    Attributes: ``controls`` (name -> ipywidget), ``figure`` (the one matplotlib Figure),
    ``image`` (the ipywidgets.Image showing it), ``summary`` (an HTML line), ``widget``
    (the whole VBox), ``grad_norms`` and ``activation_spread`` (the plotted numbers, entry
    ``l - 1`` for layer ``l``), ``network``, ``x``, ``y`` and ``result`` (the last pass).
    """

    def __init__(self, lang: str = "en", depth: int = 10, activation: str = "sigmoid", init: str = "naive",
                 width: int = 64, residual: bool = False, seed: int = 0):
        self.lang = i18n.check_lang(lang)
        words = i18n.column(_WORDS, lang)
        style = _description_style()
        self.controls = {
            "depth": W.IntSlider(value=depth, min=1, max=MAX_DEPTH, description=words["depth"], style=style),
            "activation": W.Dropdown(options=_dropdown_options(lang, EXPLORER_ACTIVATIONS), value=activation,
                                     description=words["activation"], style=style),
            "init": W.Dropdown(options=_dropdown_options(lang, network.INITS), value=init,
                               description=words["init"], style=style),
            # A wide net costs more per update, so width updates on release, not while dragging.
            "width": W.IntSlider(value=width, min=4, max=256, step=4, continuous_update=False,
                                 description=words["width"], style=style),
            "residual": W.Checkbox(value=residual, description=words["residual"], indent=False),
            "seed": W.BoundedIntText(value=seed, min=0, max=2**31 - 1, description=words["seed"], style=style,
                                     layout=W.Layout(width="12em")),
        }
        c = self.controls
        self._build_figure()
        self.image = W.Image(format="png", layout=W.Layout(max_width="100%", height="auto"))
        self.summary = W.HTML()
        self.widget = W.VBox([
            W.HBox([c["depth"], c["width"]]),
            W.HBox([c["activation"], c["init"]]),
            W.HBox([c["residual"], c["seed"]]),
            self.image,
            self.summary,
        ])
        self._held = 0
        for control in self.controls.values():
            control.observe(self._on_change, names="value")
        self.update()

    def _build_figure(self) -> None:
        lang = self.lang
        with _plot_style(lang):
            fig = self.figure = _new_figure(7.2, 2.7, dpi=80)
            self._axes = fig.subplots(1, 2)
            self._lines = []
            for ax, key, colour in zip(self._axes, ("grad", "spread"), OKABE_ITO):
                (line,) = ax.plot([], [], color=colour, marker="o", markersize=3, linewidth=1.5)
                self._lines.append(line)
                ax.set_yscale("log")
                ax.set_title(_plot_text(lang, key), fontsize=9)
                # Few ticks, no minor ticks: text is most of the cost of a redraw.
                ax.yaxis.set_major_locator(ticker.LogLocator(numticks=5))
                ax.yaxis.set_minor_locator(ticker.NullLocator())
                ax.xaxis.set_major_locator(ticker.MaxNLocator(nbins=5, integer=True))
                ax.grid(True, alpha=0.3)
                ax.spines[["top", "right"]].set_visible(False)
            fig.supxlabel(_plot_text(lang, "layer"), fontsize=9)
            # A fixed layout, computed once: tight_layout on every update would cost a draw.
            fig.subplots_adjust(left=0.09, right=0.98, bottom=0.2, top=0.88, wspace=0.28)

    def update(self) -> None:
        """Recompute for the current controls and redraw the figure in place."""
        s = self.settings()
        self.network, self.x, self.y, self.result = explorer_pass(
            s["depth"], s["activation"], s["init"], s["width"], s["residual"], s["seed"])
        with np.errstate(over="ignore", invalid="ignore"):
            self.grad_norms = self.result.grad_norms()
            self.activation_spread = self.result.activation_spread()
        layers = np.arange(1, s["depth"] + 1)
        for ax, line, values in zip(self._axes, self._lines, (self.grad_norms, self.activation_spread)):
            line.set_data(layers, _for_log_plot(values))
            ax.set_xlim(0.5, s["depth"] + 0.5)
            limits = _decade_limits(values)
            if limits is not None:  # otherwise keep the previous limits
                ax.set_ylim(*limits)
        self.image.value = _png(self.figure, self.lang)
        self.summary.value = self._summary()

    def _summary(self) -> str:
        words, g = i18n.column(_WORDS, self.lang), self.grad_norms
        parts = []
        if np.isfinite(g[0]) and np.isfinite(g[-1]) and g[-1] > 0:
            parts.append(words["ratio"].format(ratio=f"{g[0] / g[-1]:.1e}", D=len(g)))
        bad = np.concatenate([g, self.activation_spread])
        if not np.all(np.isfinite(bad) & (bad > 0)):
            parts.append(words["not_shown"])
        return html.escape(" ".join(parts))


def gradient_flow_explorer(lang: str = "en", **settings) -> GradientFlowExplorer:
    """The gradient-flow explorer of chapter 6, with labels in ``lang`` ("en" or "bn").

    ``settings`` give the starting values of the controls: ``depth`` (1..60),
    ``activation`` (sigmoid, tanh, relu, leaky_relu, gelu), ``init`` (naive, normal,
    xavier, he), ``width`` (4..256, a multiple of 4), ``residual`` (bool), ``seed``.
    Display the result (last expression of a cell, or ``display(...)``) to use it.
    """
    return GradientFlowExplorer(lang=lang, **settings)


def small_multiples(depths, activations, init: str = "xavier", lang: str = "en", width: int = 64,
                    residual: bool = False, seed: int = 0) -> Figure:
    """A static grid of the explorer's plot: one row per depth, one column per activation.

    Each panel shows the gradient norm ``||dL/dW^(l)||`` (solid) and the activation
    spread ``std(a^(l))`` (dashed) of every layer, on one shared log axis, computed by
    :func:`explorer_pass` with the given ``init``, ``width``, ``residual`` and ``seed``.
    Returns a :class:`StaticFigure` (a matplotlib Figure with an Agg canvas, not managed
    by pyplot), which a notebook displays as PNG when it is the cell's last expression;
    ``fig.savefig(...)`` works as usual.
    """
    i18n.check_lang(lang)
    depths, activations = list(depths), list(activations)
    if not depths or not activations:
        raise ValueError("give at least one depth and one activation")
    runs = {(d, a): explorer_pass(d, a, init, width, residual, seed)[3] for d in depths for a in activations}
    with np.errstate(over="ignore", invalid="ignore"):
        curves = {k: (r.grad_norms(), r.activation_spread()) for k, r in runs.items()}
    everything = np.concatenate([np.concatenate(c) for c in curves.values()])
    limits = _decade_limits(everything)
    with _plot_style(lang):
        fig = _new_figure(2.3 * len(activations) + 0.6, 1.9 * len(depths) + 0.9, dpi=100, cls=StaticFigure)
        fig.lang = lang
        axes = fig.subplots(len(depths), len(activations), squeeze=False, sharey=True)
        for i, d in enumerate(depths):
            for j, a in enumerate(activations):
                ax = axes[i][j]
                grad, spread = curves[(d, a)]
                layers = np.arange(1, d + 1)
                ax.plot(layers, _for_log_plot(grad), color=OKABE_ITO[0], marker="o", markersize=2, linewidth=1.2)
                ax.plot(layers, _for_log_plot(spread), color=OKABE_ITO[1], linestyle="--", linewidth=1.2)
                ax.set_yscale("log")
                if limits is not None:
                    ax.set_ylim(*limits)
                ax.set_xlim(0.5, d + 0.5)
                ax.xaxis.set_major_locator(ticker.MaxNLocator(nbins=4, integer=True))
                ax.yaxis.set_major_locator(ticker.LogLocator(numticks=5))
                ax.yaxis.set_minor_locator(ticker.NullLocator())
                ax.grid(True, alpha=0.3)
                ax.spines[["top", "right"]].set_visible(False)
                ax.set_title(f"{a}, D = {d}", fontsize=9)
        handles = [matplotlib.lines.Line2D([], [], color=OKABE_ITO[0], marker="o", markersize=2),
                   matplotlib.lines.Line2D([], [], color=OKABE_ITO[1], linestyle="--")]
        ncol = 2 if len(activations) > 1 else 1  # one panel is too narrow for a legend in one row
        fig.legend(handles, [_plot_text(lang, "grad"), _plot_text(lang, "spread")], loc="upper center", ncol=ncol,
                   frameon=False, fontsize=9)
        fig.supxlabel(_plot_text(lang, "layer"), fontsize=9)
        fig.tight_layout(rect=(0, 0, 1, 1 - 0.25 * (3 - ncol) / fig.get_figheight()))
    return fig


# --- the backprop visualizer ---------------------------------------------------------
class _InputError(ValueError):
    """Bad text typed into the visualizer: a message key of _WORDS and its fields."""

    def __init__(self, key: str, **fields):
        super().__init__(key)
        self.key, self.fields = key, fields

    def message(self, lang: str) -> str:
        key = "vec_length_one" if self.key == "vec_length" and self.fields.get("n") == 1 else self.key
        return i18n.say(_WORDS, key, lang, **self.fields)




def _entries(text: str) -> list[str]:
    """The comma-separated entries of ``text``; brackets are ignored, spaces also separate."""
    text = text.strip().strip("[]()").strip()
    if not text:
        return []
    if "," in text or ";" in text:
        return [part.strip() for part in re.split(r"[,;]", text)]
    return text.split()


def _parse_sizes(text: str) -> list[int]:
    parts = _entries(text)
    sizes = []
    for part in parts:
        if part == "":
            raise _InputError("sizes_empty")
        try:
            value = float(part)
        except ValueError:
            raise _InputError("sizes_format", item=part) from None
        if not math.isfinite(value) or value != int(value):
            raise _InputError("sizes_format", item=part)
        sizes.append(int(value))
    if len(sizes) < 2:
        raise _InputError("sizes_count")
    for n in sizes:
        if n < 1:
            raise _InputError("sizes_zero", n=n)
    if len(sizes) - 1 > VIS_MAX_LAYERS:
        raise _InputError("too_deep", max=VIS_MAX_LAYERS, n=len(sizes) - 1)
    if max(sizes) > VIS_MAX_WIDTH:
        raise _InputError("too_wide", max=VIS_MAX_WIDTH, n=max(sizes))
    return sizes


def _parse_vector(text: str, what: str) -> np.ndarray:
    values = []
    for part in _entries(text):
        if part == "":
            raise _InputError("vec_empty", what=what)
        try:
            values.append(float(part))
        except ValueError:
            raise _InputError("vec_number", what=what, item=part) from None
    values = np.array(values, dtype=np.float64)
    if not np.all(np.isfinite(values)):
        raise _InputError("vec_finite", what=what)
    return values


class BackpropVisualizer(_Display):
    """Every forward value and gradient of a small network you type in.

    Controls (``controls[name]``): ``sizes`` (text, e.g. "4,5,3,2": ``n_0, ..., n_D``),
    ``hidden`` (the activation of layers ``1..D-1``), ``output`` (the activation of layer
    ``D``), ``loss`` (mse or cross_entropy), ``init`` and ``seed`` (how the weights are
    drawn; biases are 0), ``x`` (the input, ``n_0`` numbers) and ``y`` (the target: ``n_D``
    numbers, or for cross-entropy also one class index).

    After each change: ``result`` is a :class:`backprop_lab.network.Pass` (dicts keyed by
    layer ``l``: ``z``, ``a``, ``delta``, ``dW``, ``db``; and ``loss``, ``dx``), ``network``
    the MLP, ``error`` None; ``table`` (HTML) and ``image`` (the picture) show them. If the
    input is invalid, ``error`` holds the message (in the widget's language), the message
    appears in ``message``, and the last valid result, table and picture stay.
    """

    def __init__(self, lang: str = "en", sizes: str = "4,5,3,2", hidden: str = "tanh", output: str = "identity",
                 loss: str = "mse", init: str = "xavier", seed: int = 0, x: str = "1, -0.5, 0.25, 2",
                 y: str = "0.5, -1"):
        self.lang = i18n.check_lang(lang)
        words = i18n.column(_WORDS, lang)
        style = _description_style()
        text_layout = W.Layout(width="22em")
        # Text boxes update on Enter or when they lose focus, not at every keystroke,
        # so that a half-typed "4,5," does not flash an error.
        self.controls = {
            "sizes": W.Text(value=sizes, description=words["sizes"], continuous_update=False, style=style,
                            layout=text_layout),
            "hidden": W.Dropdown(options=network.ACTIVATIONS, value=hidden, description=words["hidden"], style=style),
            "output": W.Dropdown(options=network.ACTIVATIONS, value=output, description=words["output"], style=style),
            "loss": W.Dropdown(options=_dropdown_options(lang, network.LOSSES), value=loss,
                               description=words["loss"], style=style),
            "init": W.Dropdown(options=_dropdown_options(lang, network.INITS), value=init,
                               description=words["init"], style=style),
            "seed": W.BoundedIntText(value=seed, min=0, max=2**31 - 1, description=words["seed"], style=style,
                                     layout=W.Layout(width="12em")),
            "x": W.Text(value=x, description=words["x"], continuous_update=False, style=style, layout=text_layout),
            "y": W.Text(value=y, description=words["y"], continuous_update=False, style=style, layout=text_layout),
        }
        c = self.controls
        self.result: network.Pass | None = None
        self.network: network.MLP | None = None
        self.error: str | None = None
        self.message = W.HTML()
        self.table = W.HTML()
        self.image = W.Image(format="png", layout=W.Layout(max_width="100%", height="auto"))
        self._build_figure()
        self.widget = W.VBox([
            W.HBox([c["sizes"], c["loss"]]),
            W.HBox([c["hidden"], c["output"]]),
            W.HBox([c["init"], c["seed"]]),
            W.HBox([c["x"], c["y"]]),
            self.message,
            self.image,
            self.table,
        ])
        self._held = 0
        for control in self.controls.values():
            control.observe(self._on_change, names="value")
        self.update()

    # The computation --------------------------------------------------------------------
    def _read(self) -> tuple[network.MLP, np.ndarray, np.ndarray, str]:
        s, words = self.settings(), i18n.column(_WORDS, self.lang)
        sizes = _parse_sizes(s["sizes"])
        x = _parse_vector(s["x"], words["x"])
        if x.size != sizes[0]:
            raise _InputError("vec_length", what=words["x"], n=sizes[0], layer=0, m=x.size)
        y = _parse_vector(s["y"], words["y"])
        n_out = sizes[-1]
        if s["loss"] == "cross_entropy":
            y = self._class_target(y, n_out)
        elif y.size != n_out:
            raise _InputError("vec_length", what=words["y"], n=n_out, layer=len(sizes) - 1, m=y.size)
        net = network.init_mlp(sizes, hidden=s["hidden"], output=s["output"], init=s["init"], seed=s["seed"])
        return net, x[:, None], y[:, None], s["loss"]

    @staticmethod
    def _class_target(y: np.ndarray, n_out: int) -> np.ndarray:
        """A one-hot column from a class index, or a probability vector checked as such."""
        if y.size == n_out and np.all(y >= 0) and abs(y.sum() - 1.0) < 1e-9:
            return y
        if y.size == 1 and n_out > 1 and y[0] == int(y[0]) and 0 <= y[0] < n_out:
            return np.eye(n_out)[int(y[0])]
        raise _InputError("ce_target", last=n_out - 1, n=n_out)

    def update(self) -> None:
        """Read the controls; recompute and redraw, or show a message and keep the last result."""
        words = i18n.column(_WORDS, self.lang)
        try:
            net, x, y, loss = self._read()
            result = network.forward_backward(net, x, y, loss)
            values = [result.loss, *result.a.values(), *result.z.values(), *result.dW.values(), *result.delta.values()]
            if not all(np.all(np.isfinite(v)) for v in values):
                raise _InputError("overflow")
        except _InputError as bad:
            self.error = bad.message(self.lang)
            kept = f" {words['kept']}" if self.result is not None else ""
            self.message.value = f'<span style="color:#D55E00">⚠ {html.escape(self.error + kept)}</span>'
            return
        self.network, self.result, self.error = net, result, None
        self.message.value = ""
        self.table.value = self._table()
        self._draw()

    # The table --------------------------------------------------------------------------
    def _table(self) -> str:
        r, words = self.result, i18n.column(_WORDS, self.lang)
        cell = 'style="border:1px solid #bbb;padding:3px 6px;vertical-align:middle;text-align:center"'
        heads = [words["layer"], words["units"], "z", "a", "δ = ∂L/∂z", "∂L/∂b", "∂L/∂W", "‖∂L/∂W‖"]
        rows = ["<tr>" + "".join(f"<th {cell}>{h}</th>" for h in heads) + "</tr>"]
        dash = "—"
        rows.append(f"<tr><td {cell}>0</td><td {cell}>{r.a[0].shape[0]}</td><td {cell}>{dash}</td>"
                    f"<td {cell}>{_matrix_html(r.a[0])}</td>" + f"<td {cell}>{dash}</td>" * 4 + "</tr>")
        for l in range(1, r.depth + 1):
            entries = [str(l), str(r.z[l].shape[0])] + [_matrix_html(m) for m in (r.z[l], r.a[l], r.delta[l], r.db[l], r.dW[l])]
            entries.append(f"{np.linalg.norm(r.dW[l]):.3g}")
            rows.append("<tr>" + "".join(f"<td {cell}>{e}</td>" for e in entries) + "</tr>")
        rows.append(f'<tr><td {cell} colspan="2">{words["loss_row"]}</td><td {cell} colspan="6">{r.loss:.6g}</td></tr>')
        return ('<div style="overflow-x:auto"><table style="border-collapse:collapse;font-size:90%">'
                + "".join(rows) + "</table></div>")

    # The picture ------------------------------------------------------------------------
    def _build_figure(self) -> None:
        lang = self.lang
        with _plot_style(lang):
            fig = self.figure = _new_figure(7.2, 3.6, dpi=80)
            ax = self._ax = fig.add_axes((0.02, 0.04, 0.8, 0.86))
            ax.set_axis_off()
            cmap = colormaps["viridis"].with_extremes(under="#cccccc", bad="#cccccc")
            self._norm = LogNorm(vmin=1e-3, vmax=1.0)
            # The artists are made once and only their data change: the network's shape
            # may change, but a collection can hold any number of edges or neurons.
            self._edges = LineCollection([], cmap=cmap, norm=self._norm, linewidths=1.2, zorder=1)
            ax.add_collection(self._edges)
            self._inputs = ax.scatter([], [], s=160, facecolors="white", edgecolors="#333333", zorder=2)
            self._neurons = ax.scatter([], [], s=160, c=[], cmap=cmap, norm=self._norm, edgecolors="#333333", zorder=2)
            self._top = [ax.text(0, 0, "", ha="center", va="bottom", fontsize=9) for _ in range(VIS_MAX_LAYERS + 1)]
            self._bottom = [ax.text(0, 0, "", ha="center", va="top", fontsize=7, linespacing=1.1)
                            for _ in range(VIS_MAX_LAYERS + 1)]
            ax.set_title(_plot_text(lang, "flow"), fontsize=9)
            cax = fig.add_axes((0.85, 0.12, 0.025, 0.7))
            self._colorbar = fig.colorbar(self._neurons, cax=cax, extend="min")
            self._colorbar.set_label(_plot_text(lang, "size"), fontsize=8)

    def _draw(self) -> None:
        r = self.result
        sizes = self.network.sizes
        D, tallest = len(sizes) - 1, max(sizes)
        ys = [np.arange(n)[::-1] - (n - 1) / 2 for n in sizes]  # unit 1 on top, each layer centred
        edges, edge_values = [], []
        for l in range(1, D + 1):
            for i, yi in enumerate(ys[l]):
                for j, yj in enumerate(ys[l - 1]):
                    edges.append(((l - 1, yj), (l, yi)))
                    edge_values.append(abs(r.dW[l][i, j]))
        neuron_xy = np.array([(l, yv) for l in range(1, D + 1) for yv in ys[l]])
        neuron_values = np.concatenate([np.abs(r.delta[l][:, 0]) for l in range(1, D + 1)])
        everything = np.concatenate([edge_values, neuron_values])
        positive = everything[everything > 0]
        if positive.size:
            vmin, vmax = positive.min(), positive.max()
            if vmin == vmax:
                vmin, vmax = vmin / 10, vmax * 10
        else:
            vmin, vmax = 1e-3, 1.0  # every gradient is 0: all grey
        self._norm.vmin, self._norm.vmax = vmin, vmax
        self._edges.set_segments(edges)
        self._edges.set_array(np.array(edge_values))
        self._inputs.set_offsets(np.column_stack([np.zeros(sizes[0]), ys[0]]))
        self._neurons.set_offsets(neuron_xy)
        self._neurons.set_array(neuron_values)
        top, bottom = tallest / 2 + 0.15, -tallest / 2 - 0.15
        for l, (t, b) in enumerate(zip(self._top, self._bottom)):
            t.set_visible(l <= D)
            b.set_visible(1 <= l <= D)
            if l <= D:
                t.set_position((l, top))
                t.set_text(_plot_text(self.lang, "input") if l == 0 else f"l = {l}")
            if 1 <= l <= D:
                b.set_position((l - 0.5, bottom))
                b.set_text(f"‖∂L/∂W{_layer_sup(l)}‖\n{np.linalg.norm(r.dW[l]):.1e}")  # under W's edges
        self._ax.set_xlim(-0.5, D + 0.5)
        self._ax.set_ylim(-tallest / 2 - 1.1, tallest / 2 + 0.6)
        # Circles as wide as half the vertical spacing of neurons, at most 14 points across.
        spacing = self._ax.get_position().height * self.figure.get_figheight() * 72 / (tallest + 1.7)
        size = min(14.0, 0.5 * spacing) ** 2
        self._inputs.set_sizes([size])
        self._neurons.set_sizes([size])
        self.image.value = _png(self.figure, self.lang)


def _matrix_html(m: np.ndarray) -> str:
    """A small matrix (or column vector) as an HTML table with bracket-like side borders."""
    rows = "".join("<tr>" + "".join(f'<td style="padding:0 3px;text-align:right">{v:.4g}</td>' for v in row) + "</tr>"
                   for row in np.atleast_2d(m))
    return ('<table style="border-collapse:collapse;border-left:1px solid #333;border-right:1px solid #333;'
            f'margin:auto;font-family:monospace">{rows}</table>')


def backprop_visualizer(lang: str = "en", **settings) -> BackpropVisualizer:
    """The Backprop Visualizer of chapter 8, with labels and messages in ``lang`` ("en" or "bn").

    ``settings`` give the starting values of the controls as text or choices: ``sizes``
    ("4,5,3,2"), ``hidden``, ``output`` (activations), ``loss`` ("mse" or
    "cross_entropy"), ``init``, ``seed``, ``x`` and ``y`` (numbers separated by commas).
    """
    return BackpropVisualizer(lang=lang, **settings)
