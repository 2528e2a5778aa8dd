"""The backprop visualizer (chapter 8): a network's layer sizes, an input and a target typed
in; every forward value and gradient in a table, and the network drawn coloured by
gradient size. Typed text is parsed with messages in the reader's language."""

from __future__ import annotations

import html
import math
import re

import ipywidgets as W
import numpy as np
from matplotlib import colormaps
from matplotlib.collections import LineCollection
from matplotlib.colors import LogNorm

from .. import i18n, network
from .display import (
    _WORDS,
    _description_style,
    _Display,
    _dropdown_options,
    _layer_sup,
    _new_figure,
    _plot_style,
    _plot_text,
    _png,
    _seed_control,
)

VIS_MAX_LAYERS = 8  # the visualizer draws at most this many layers after the input...
VIS_MAX_WIDTH = 10  # ...each of at most this many neurons


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
    ``D``), ``loss`` (mse or cross_entropy, which takes logits and so needs the output
    activation identity; any other is refused with a message), ``init`` and ``seed`` (how the weights are
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
            "seed": _seed_control(seed, lang),
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
        self._connect()

    # The computation --------------------------------------------------------------------
    def _read(self) -> tuple[network.MLP, np.ndarray, np.ndarray, str]:
        s, words = self.settings(), i18n.column(_WORDS, self.lang)
        if s["loss"] == "cross_entropy" and s["output"] != "identity":
            raise _InputError("ce_output", output=s["output"])
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
