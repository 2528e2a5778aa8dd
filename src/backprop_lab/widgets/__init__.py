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

from .display import StaticFigure
from .explorer import (  # noqa: F401 (part of this package's interface)
    EXPLORER_ACTIVATIONS,
    EXPLORER_BATCH,
    MAX_DEPTH,
    GradientFlowExplorer,
    explorer_pass,
    gradient_flow_explorer,
    small_multiples,
)
from .visualizer import VIS_MAX_LAYERS, VIS_MAX_WIDTH, BackpropVisualizer, backprop_visualizer  # noqa: F401

__all__ = [
    "gradient_flow_explorer",
    "GradientFlowExplorer",
    "small_multiples",
    "StaticFigure",
    "backprop_visualizer",
    "BackpropVisualizer",
    "explorer_pass",
]
