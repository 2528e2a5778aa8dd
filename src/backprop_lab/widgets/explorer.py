"""The gradient-flow explorer (chapter 6): sliders for depth, activation, initialisation,
width, residual connections and seed, and the per-layer gradient norms and activation
spreads they produce; :func:`small_multiples`, its static stand-in for the HTML book."""

from __future__ import annotations

import html
from functools import lru_cache

import ipywidgets as W
import matplotlib
import numpy as np
from matplotlib.figure import Figure

from .. import i18n, network
from ..plotting import OKABE_ITO
from .display import (
    _WORDS,
    StaticFigure,
    _decade_limits,
    _description_style,
    _Display,
    _dropdown_options,
    _for_log_plot,
    _new_figure,
    _plot_style,
    _plot_text,
    _png,
    _seed_control,
    _style_log_axes,
)

EXPLORER_ACTIVATIONS = ("sigmoid", "tanh", "relu", "leaky_relu", "gelu")
MAX_DEPTH = 60  # the explorer's deepest network
EXPLORER_BATCH = 16  # examples in the explorer's fixed random batch


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
            "seed": _seed_control(seed, lang),
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
        self._connect()

    def _build_figure(self) -> None:
        lang = self.lang
        with _plot_style(lang):
            fig = self.figure = _new_figure(7.2, 2.7, dpi=80)
            self._axes = fig.subplots(1, 2)
            self._lines = []
            for ax, key, colour in zip(self._axes, ("grad", "spread"), OKABE_ITO):
                (line,) = ax.plot([], [], color=colour, marker="o", markersize=3, linewidth=1.5)
                self._lines.append(line)
                _style_log_axes(ax, xbins=5)
                ax.set_title(_plot_text(lang, key), fontsize=9)
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
                _style_log_axes(ax, xbins=4)
                if limits is not None:
                    ax.set_ylim(*limits)
                ax.set_xlim(0.5, d + 0.5)
                ax.set_title(f"{a}, D = {d}", fontsize=9)
        handles = [matplotlib.lines.Line2D([], [], color=OKABE_ITO[0], marker="o", markersize=2),
                   matplotlib.lines.Line2D([], [], color=OKABE_ITO[1], linestyle="--")]
        ncol = 2 if len(activations) > 1 else 1  # one panel is too narrow for a legend in one row
        fig.legend(handles, [_plot_text(lang, "grad"), _plot_text(lang, "spread")], loc="upper center", ncol=ncol,
                   frameon=False, fontsize=9)
        fig.supxlabel(_plot_text(lang, "layer"), fontsize=9)
        fig.tight_layout(rect=(0, 0, 1, 1 - 0.25 * (3 - ncol) / fig.get_figheight()))
    return fig
