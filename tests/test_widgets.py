"""The two widgets, driven programmatically: numbers against torch.autograd, in-place redraws,
messages in both languages, and a display that notebooks can compare in strict nbval."""

import io
import re

import ipywidgets
import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from PIL import Image  # noqa: E402
from test_network import torch_pass  # noqa: E402

from backprop_lab import relative_error, widgets  # noqa: E402
from backprop_lab.widgets import backprop_visualizer, explorer_pass, gradient_flow_explorer, small_multiples  # noqa: E402

BENGALI = re.compile("[\u0980-\u09ff]")


def png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    return Image.open(io.BytesIO(data)).size


# --- the gradient-flow explorer --------------------------------------------------------------
@pytest.fixture(scope="module")
def explorer():
    return gradient_flow_explorer("en")


def test_explorer_controls(explorer):
    c = explorer.controls
    assert set(c) == {"depth", "activation", "init", "width", "residual", "seed"}
    assert isinstance(c["depth"], ipywidgets.IntSlider) and (c["depth"].min, c["depth"].max) == (1, 60)
    assert [v for _, v in c["activation"].options] == ["sigmoid", "tanh", "relu", "leaky_relu", "gelu"]
    assert [v for _, v in c["init"].options] == ["naive", "normal", "xavier", "he"]
    assert (c["width"].min, c["width"].max) == (4, 256)
    assert isinstance(c["residual"], ipywidgets.Checkbox)
    assert isinstance(explorer.widget, ipywidgets.VBox) and explorer.image in explorer.widget.children


def test_explorer_displays_as_its_widget_with_a_deterministic_text_form():
    a, b = gradient_flow_explorer("en", depth=7), gradient_flow_explorer("en", depth=7)
    bundle = a._repr_mimebundle_()
    assert bundle["application/vnd.jupyter.widget-view+json"]["model_id"] == a.widget.model_id
    assert bundle["text/plain"] == b._repr_mimebundle_()["text/plain"] == repr(a)
    assert bundle["text/plain"] == ("GradientFlowExplorer(lang='en', depth=7, activation='sigmoid', init='naive', "
                                    "width=64, residual=False, seed=0)")


def test_explorer_labels_are_translated():
    bn = gradient_flow_explorer("bn")
    assert bn.controls["depth"].description.startswith("গভীরতা")
    assert bn.controls["activation"].description == "সক্রিয়করণ ফাংশন"
    assert bn.controls["init"].description == "ইনিশিয়ালাইজেশন"
    labels = [label for label, _ in bn.controls["init"].options]
    assert any(BENGALI.search(label) for label in labels)
    assert [label for label, _ in gradient_flow_explorer("en").controls["init"].options][0].startswith("naive")
    assert BENGALI.search(bn.summary.value)
    titles = [ax.get_title() for ax in bn.figure.axes]
    assert all(BENGALI.search(t) for t in titles)
    with pytest.raises(ValueError, match="'en' or 'bn'"):
        gradient_flow_explorer("fr")


def test_plot_labels_fall_back_to_english_where_bengali_cannot_be_shaped(monkeypatch):
    monkeypatch.setattr(widgets.display, "can_shape_bengali", lambda: False)
    bn = gradient_flow_explorer("bn")
    assert [ax.get_title() for ax in bn.figure.axes][0].startswith("gradient norm")
    assert bn.controls["activation"].description == "সক্রিয়করণ ফাংশন"  # HTML: the browser shapes it


@pytest.mark.parametrize("settings", [
    dict(depth=12, activation="sigmoid", init="naive"),
    dict(depth=8, activation="gelu", init="he", width=16),
    dict(depth=9, activation="tanh", init="xavier", residual=True, seed=3),
    dict(depth=5, activation="leaky_relu", init="normal", width=8),
])
def test_explorer_grad_norms_agree_with_autograd(explorer, settings):
    explorer.set(**{"width": 64, "residual": False, "seed": 0, **settings})
    net = explorer.network
    assert net.depth == settings["depth"] and explorer.grad_norms.shape == (settings["depth"],)
    _, _, As, _, dWs, _, _ = torch_pass(net, explorer.x, explorer.y, "mse")
    torch_norms = np.array([np.linalg.norm(dW) for dW in dWs])  # Frobenius
    assert relative_error(explorer.grad_norms, torch_norms) < 1e-12
    torch_spread = np.array([a.std() for a in As])  # over units and batch
    assert relative_error(explorer.activation_spread, torch_spread) < 1e-12
    # The plotted lines hold exactly these numbers.
    grad_line, spread_line = (ax.lines[0] for ax in explorer.figure.axes)
    np.testing.assert_array_equal(grad_line.get_ydata(), explorer.grad_norms)
    np.testing.assert_array_equal(spread_line.get_ydata(), explorer.activation_spread)


def test_explorer_weights_are_drawn_by_the_chosen_init(explorer):
    explorer.set(depth=3, width=256, init="he", activation="relu", residual=False, seed=0)
    W = explorer.network.weights[1]
    assert W.var() == pytest.approx(2 / 256, rel=0.02)
    explorer.set(init="naive")
    assert explorer.network.weights[1].std() == pytest.approx(0.01, rel=0.02)


def test_sigmoid_with_naive_init_vanishes_where_relu_with_he_does_not(explorer):
    explorer.set(depth=30, width=64, activation="sigmoid", init="naive", residual=False, seed=0)
    sigmoid = explorer.grad_norms.copy()
    explorer.set(activation="relu", init="he")
    relu = explorer.grad_norms.copy()
    assert sigmoid[0] < 1e-30 * relu[0]
    assert sigmoid[0] / sigmoid[-1] < 1e-30  # layer 1 gets almost nothing...
    assert 0.1 < relu[0] / relu[-1] < 10  # ...while with relu and He every layer gets about the same
    assert 0.1 < explorer.activation_spread[-2] / explorer.activation_spread[0] < 10


def test_deeper_sigmoid_nets_vanish_more(explorer):
    ratios = []
    for depth in (5, 10, 20, 40):
        explorer.set(depth=depth, activation="sigmoid", init="xavier", width=64, residual=False, seed=0)
        ratios.append(explorer.grad_norms[0] / explorer.grad_norms[-1])
    assert all(deeper < 1e-2 * shallower for shallower, deeper in zip(ratios, ratios[1:]))


def test_tanh_with_normal_init_saturates(explorer):
    explorer.set(depth=20, activation="tanh", init="normal", width=64, residual=False, seed=0)
    hidden = explorer.activation_spread[:-1]  # the output layer is linear
    assert np.all(hidden > 0.9)  # almost every unit sits at -1 or +1
    slopes = 1 - np.tanh(explorer.result.z[10]) ** 2
    assert np.median(slopes) < 0.01
    explorer.set(init="xavier")
    assert np.all(explorer.activation_spread[:-1] < 0.7)


def test_residual_connections_keep_the_gradient_of_a_deep_sigmoid_net(explorer):
    explorer.set(depth=30, activation="sigmoid", init="xavier", width=64, residual=False, seed=0)
    plain = explorer.grad_norms[0]
    explorer.controls["residual"].value = True
    assert explorer.network.skips == tuple(range(1, 30))
    assert explorer.grad_norms[0] > 1e10 * plain


def test_explorer_is_deterministic_for_a_seed(explorer):
    explorer.set(depth=10, activation="tanh", init="xavier", width=32, residual=False, seed=4)
    first = explorer.grad_norms.copy()
    explorer.controls["seed"].value = 5
    assert not np.allclose(explorer.grad_norms, first)
    explorer.controls["seed"].value = 4
    np.testing.assert_array_equal(explorer.grad_norms, first)
    np.testing.assert_array_equal(gradient_flow_explorer(depth=10, activation="tanh", init="xavier", width=32,
                                                         seed=4).grad_norms, first)


@pytest.mark.parametrize("name, value", [("depth", 17), ("activation", "gelu"), ("init", "he"), ("width", 20),
                                         ("residual", True), ("seed", 11)])
def test_every_explorer_control_recomputes_and_redraws_in_place(name, value):
    explorer = gradient_flow_explorer("en", depth=12, activation="tanh", init="xavier", width=32)
    figure, lines, image = explorer.figure, [ax.lines[0] for ax in explorer.figure.axes], explorer.image
    before_png, before_norms = image.value, explorer.grad_norms.copy()
    explorer.controls[name].value = value
    assert explorer.settings()[name] == value
    assert explorer.figure is figure and len(figure.axes) == 2  # no new figure, no new axes...
    assert [ax.lines[0] for ax in figure.axes] == lines and all(len(ax.lines) == 1 for ax in figure.axes)  # ...or lines
    assert explorer.image is image and image.value != before_png
    assert png_size(image.value) == png_size(before_png)
    assert explorer.grad_norms.shape != before_norms.shape or not np.array_equal(explorer.grad_norms, before_norms)
    assert explorer.grad_norms.shape == (explorer.settings()["depth"],)


def test_set_updates_once_and_refuses_unknown_controls(monkeypatch):
    explorer = gradient_flow_explorer()
    calls = []
    monkeypatch.setattr(widgets.explorer, "_png", lambda fig, lang: calls.append(1) or b"\x89PNG fake")
    explorer.set(depth=20, activation="relu", init="he")
    assert len(calls) == 1
    with pytest.raises(KeyError, match="no such control: colour"):
        explorer.set(colour="red")


def test_zero_gradients_are_left_out_of_the_log_plot_and_said():
    explorer = gradient_flow_explorer("en", depth=10, activation="relu", init="he", width=64)
    limits = explorer.figure.axes[0].get_ylim()
    # A 4-wide relu net 60 layers deep dies: some layer outputs 0 for every example.
    explorer.set(depth=60, width=4)
    assert np.all(explorer.grad_norms == 0) and np.any(explorer.activation_spread == 0)
    assert "leaves them out" in explorer.summary.value and "times the gradient" not in explorer.summary.value
    assert np.all(np.isnan(explorer.figure.axes[0].lines[0].get_ydata()))  # nothing to draw on a log axis
    assert explorer.figure.axes[0].get_ylim() == limits  # so the axis keeps its last limits


def test_small_multiples_is_a_static_grid_of_the_same_numbers():
    fig = small_multiples([5, 20], ["sigmoid", "relu", "tanh"], init="xavier", lang="en")
    assert isinstance(fig, matplotlib.figure.Figure) and plt.get_fignums() == []  # not managed by pyplot
    png_size(fig._repr_png_())  # ...yet a notebook displays it
    assert len(fig.axes) == 6
    ax = fig.axes[1 * 3 + 1]  # row: depth 20, column: relu
    assert ax.get_title() == "relu, D = 20"
    _, _, _, result = explorer_pass(20, "relu", "xavier")
    np.testing.assert_array_equal(ax.lines[0].get_ydata(), result.grad_norms())
    np.testing.assert_array_equal(ax.lines[1].get_ydata(), result.activation_spread())
    fig.canvas.draw()
    bn = small_multiples([5], ["gelu"], init="he", lang="bn")
    assert any(BENGALI.search(t.get_text()) for t in bn.legends[0].get_texts())


# --- the backprop visualizer ------------------------------------------------------------------
def assert_matches_autograd(vis, loss):
    r, net = vis.result, vis.network
    x, y = r.a[0], _target(vis, net.sizes[-1], loss)
    L, zs, As, dzs, dWs, dbs, _ = torch_pass(net, x, y, loss)
    assert r.loss == pytest.approx(L, rel=1e-13)
    for l in range(1, net.depth + 1):
        for mine, theirs in [(r.z[l], zs[l - 1]), (r.a[l], As[l - 1]), (r.delta[l], dzs[l - 1]),
                             (r.dW[l], dWs[l - 1]), (r.db[l], dbs[l - 1])]:
            assert mine.shape == theirs.shape
            assert relative_error(mine, theirs) < 1e-12


def _target(vis, n_out, loss):
    values = [float(v) for v in vis.controls["y"].value.split(",")]
    if loss == "cross_entropy" and len(values) == 1 and n_out > 1:
        return np.eye(n_out)[:, [int(values[0])]]
    return np.array(values)[:, None]


def test_visualizer_default_network_matches_autograd():
    vis = backprop_visualizer("en")
    assert vis.error is None and vis.network.sizes == [4, 5, 3, 2]
    assert set(vis.controls) == {"sizes", "hidden", "output", "loss", "init", "seed", "x", "y"}
    assert_matches_autograd(vis, "mse")
    assert f"{vis.result.loss:.6g}" in vis.table.value
    assert f"{vis.result.dW[2][1, 3]:.4g}" in vis.table.value


@pytest.mark.parametrize("hidden, output, loss, y", [
    ("sigmoid", "sigmoid", "mse", "0.2, 0.9"),
    ("relu", "identity", "cross_entropy", "1"),
    ("gelu", "identity", "cross_entropy", "0.25, 0.75"),
    ("leaky_relu", "tanh", "mse", "-0.3, 0.3"),
])
def test_visualizer_matches_autograd_for_each_choice(hidden, output, loss, y):
    vis = backprop_visualizer("en")
    vis.set(sizes="3, 4, 4, 2", hidden=hidden, output=output, loss=loss, x="0.5, -1.5, 2", y=y, seed=2)
    assert vis.error is None
    assert_matches_autograd(vis, loss)


def test_a_class_index_is_a_one_hot_target():
    vis = backprop_visualizer("en", loss="cross_entropy", y="1")
    index = vis.result.loss
    vis.controls["y"].value = "0, 1"
    assert vis.result.loss == pytest.approx(index, rel=1e-15)


INVALID = [  # (change, words of the English message, words of the Bengali message)
    (dict(sizes="3,,x"), "empty entry", "কমার মাঝে"),
    (dict(sizes="4, x, 2"), "“x” is not one", "“x” তেমন নয়"),
    (dict(sizes="4, 2.5, 2"), "whole numbers", "পূর্ণসংখ্যা"),
    (dict(sizes="4, 0, 2"), "at least 1; one is 0", "অন্তত 1"),
    (dict(sizes="4"), "at least two layer sizes", "অন্তত দুটি"),
    (dict(sizes=""), "at least two layer sizes", "অন্তত দুটি"),
    (dict(sizes="4,3,3,3,3,3,3,3,3,2"), "At most 8 layers", "সর্বোচ্চ 8টি স্তর"),
    (dict(sizes="4, 50, 2"), "At most 10 neurons", "সর্বোচ্চ 10টি নিউরন"),
    (dict(x="1, 2, 3"), "must have 4 numbers (the size of layer 0); it has 3", "4টি সংখ্যা থাকতে হবে"),
    (dict(x="1, two, 3, 4"), "“two” is not a number", "“two” কোনো সংখ্যা নয়"),
    (dict(x="1, nan, 3, 4"), "finite", "সসীম"),
    (dict(x="1, inf, 3, 4"), "finite", "সসীম"),
    (dict(x="1, 2,, 4"), "empty entry", "কমার মাঝে"),
    (dict(y="1, 2, 3"), "must have 2 numbers (the size of layer 3)", "2টি সংখ্যা থাকতে হবে"),
    (dict(loss="cross_entropy", y="0.5, 0.6"), "class index from 0 to 1", "শ্রেণির সূচক"),
    (dict(loss="cross_entropy", y="2"), "class index from 0 to 1", "শ্রেণির সূচক"),
    (dict(loss="cross_entropy", output="sigmoid", y="1"), "output activation must be identity", "হতে হবে identity"),
    (dict(loss="cross_entropy", output="tanh", y="1"), "with tanh the softmax", "tanh দিলে সফটম্যাক্স"),
    (dict(sizes="2, 2", hidden="identity", output="identity", init="normal", x="1e300, -1e300", y="0, 0"),
     "overflowed", "সীমা ছাড়িয়ে"),
]


@pytest.mark.parametrize("lang", ["en", "bn"])
@pytest.mark.parametrize("change, en_text, bn_text", INVALID,
                         ids=[",".join(f"{k}={v[:12]}" for k, v in c.items()) for c, _, _ in INVALID])
def test_invalid_input_gives_a_message_and_keeps_the_last_result(lang, change, en_text, bn_text):
    vis = backprop_visualizer(lang)
    good = vis.result, vis.network, vis.table.value, vis.image.value
    vis.set(**change)  # no exception escapes
    assert vis.error is not None
    expected, other = (en_text, bn_text) if lang == "en" else (bn_text, en_text)
    assert expected in vis.error and other not in vis.error
    assert expected in vis.message.value
    assert bool(BENGALI.search(vis.error)) == (lang == "bn")
    assert (vis.result, vis.network, vis.table.value, vis.image.value) == good  # the last good result stays
    assert "Traceback" not in vis.message.value
    # A valid input afterwards clears the message.
    vis.set(sizes="4,5,3,2", hidden="tanh", output="identity", loss="mse", init="xavier", x="1, 2, 3, 4", y="0, 1")
    assert vis.error is None and vis.message.value == "" and vis.result is not good[0]


@pytest.mark.parametrize("name, value", [("hidden", "relu"), ("output", "sigmoid"), ("init", "he"), ("seed", 9),
                                         ("x", "0, 0, 1, 1"), ("y", "2, 2"), ("sizes", None), ("loss", None)])
def test_every_visualizer_control_recomputes(name, value):
    vis = backprop_visualizer("en")
    before = vis.result
    image = vis.image.value
    if name == "sizes":  # a new shape needs a matching x and y: set all three, one update
        vis.set(sizes="4, 6, 6, 3", y="1, 0, 0")
    elif name == "loss":
        vis.set(loss="cross_entropy", y="0")
    else:
        vis.controls[name].value = value
    assert vis.error is None
    assert vis.result is not before and vis.result.loss != before.loss
    assert vis.image.value != image


def test_the_picture_is_redrawn_in_place_with_one_circle_per_neuron_and_one_line_per_weight():
    vis = backprop_visualizer("en")
    figure, image = vis.figure, vis.image
    vis.set(sizes="3, 7, 5, 4, 2", x="1, 0, -1", y="0.5, 0.5")
    assert vis.figure is figure and vis.image is image and len(figure.axes) == 2  # network axes + colour bar
    assert len(vis._neurons.get_offsets()) == 7 + 5 + 4 + 2
    assert len(vis._inputs.get_offsets()) == 3
    assert len(vis._edges.get_segments()) == 3 * 7 + 7 * 5 + 5 * 4 + 4 * 2
    r = vis.result
    np.testing.assert_array_equal(vis._neurons.get_array(),
                                  np.concatenate([np.abs(r.delta[l][:, 0]) for l in range(1, 5)]))
    assert np.abs(r.dW[1][0, 0]) == vis._edges.get_array()[0]
    # colours are log-scaled over the range of the values shown
    assert isinstance(vis._neurons.norm, matplotlib.colors.LogNorm)
    positive = [v for v in np.concatenate([vis._neurons.get_array(), vis._edges.get_array()]) if v > 0]
    assert vis._neurons.norm.vmin == min(positive) and vis._neurons.norm.vmax == max(positive)
    png_size(vis.image.value)


def test_visualizer_text_form_is_deterministic_and_bengali_labels():
    a, b = backprop_visualizer("bn"), backprop_visualizer("bn")
    assert a._repr_mimebundle_()["text/plain"] == b._repr_mimebundle_()["text/plain"] == repr(a)
    assert "model_id" not in repr(a) and "0x" not in repr(a)
    assert a.controls["sizes"].description == "স্তরের আকার"
    assert a.controls["init"].description == "ইনিশিয়ালাইজেশন"
    assert "স্তর" in a.table.value and "লস" in a.table.value


def test_notebooks_displaying_the_widgets_give_the_same_text_output_twice(tmp_path):
    """What strict nbval checks: execute a notebook twice and compare every text output."""
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(src) for src in [
        "from backprop_lab.widgets import gradient_flow_explorer, backprop_visualizer",
        "explorer = gradient_flow_explorer('bn', depth=20)\nexplorer",
        "display(explorer)\nexplorer.set(activation='relu', init='he')\nprint(explorer.grad_norms[:3])",
        "vis = backprop_visualizer('en')\nvis",
        "vis.controls['sizes'].value = '3,,x'\nprint(vis.error)\ndisplay(vis)",
    ]]

    def text_outputs():
        run = nbformat.from_dict(nb)
        nbclient.NotebookClient(run, timeout=300, kernel_name="python3",
                                resources={"metadata": {"path": str(tmp_path)}}).execute()
        return [(o.get("text"), (o.get("data") or {}).get("text/plain")) for c in run.cells for o in c.outputs]

    first, second = text_outputs(), text_outputs()
    assert first == second
    shown = [plain for _, plain in first if plain]
    assert shown[0].startswith("GradientFlowExplorer(lang='bn', depth=20")
    assert any(plain.startswith("BackpropVisualizer(") for plain in shown)
    assert not any(re.search("0x[0-9a-f]+|[0-9a-f]{32}", plain) for plain in shown)


def test_a_one_number_vector_is_asked_for_in_the_singular():
    from backprop_lab.widgets import backprop_visualizer

    vis = backprop_visualizer("en", sizes="2,3,1", x="1,2", y="1,2")
    assert "must have 1 number (" in vis.error and "numbers" not in vis.error
