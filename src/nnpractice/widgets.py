"""The live playground (ipywidgets) and its static twin for the HTML book.

A :class:`Playground` trains a small network on a 2D toy problem or a small image
set and redraws while it trains: move a slider and the decision boundary and the
loss curves change within a fraction of a second on a CPU. A chapter picks the
knobs it teaches::

    from nnpractice import widgets
    playground = widgets.Playground("moons", knobs=("lr", "optimizer"))
    playground            # the last expression of a cell shows it in Jupyter

The HTML book has no kernel, so a live widget renders there as an empty box.
:func:`static_twin` precomputes a sweep over one or two knobs and returns
self-contained HTML (inline PNG images and a one-line inline handler, no external
files or scripts) whose slider swaps the precomputed figures; tag the live cell
``remove-cell`` and the twin's cell ``remove-input``.

How it stays responsive: a slider change bumps a *generation* counter and hands the
new settings to one background worker. The worker waits a few milliseconds for the
changes to settle (a debounce), trains, and checks the counter before every batch:
a run whose settings are stale stops at once, so rapid changes never pile up
trainings and the last value always wins. A run whose loss explodes ends with
"diverged at epoch k" in the widget instead of a traceback, and a value outside
the allowed range is refused with a message.

>>> run = train_once("moons", {"epochs": 3}, seed=0)
>>> run.status, run.history.num_epochs
('completed', 3)
"""
from __future__ import annotations

import base64
import contextlib
import html
import io
import itertools
import math
import threading
import time
from dataclasses import dataclass, field
from numbers import Integral
from typing import Callable, Mapping, Sequence

import numpy as np
import torch
from torch import nn

from . import data, models
from ._validation import check_choice, check_positive, check_range
from .history import History

IMAGE_PROBLEMS = ("digits", "mnist1d")
PROBLEMS = data.TOY_PROBLEMS + IMAGE_PROBLEMS
OPTIMIZERS = ("sgd", "momentum", "adam", "rmsprop")
ACTIVATIONS = ("relu", "tanh", "sigmoid", "gelu")


# --------------------------------------------------------------------------- #
# Knobs: what a reader may change, its range, and how its slider looks
# --------------------------------------------------------------------------- #

@dataclass(frozen=True)
class Knob:
    """One setting of the playground: its label, its slider and what values it accepts.

    ``kind`` is ``"log"`` (a log-scale slider between ``low`` and ``high``),
    ``"float"`` or ``"int"`` (a linear slider), or ``"choice"`` (one of ``options``;
    numbers there get a slider, names a drop-down).
    """

    label: str
    kind: str
    low: float = 0.0
    high: float = 1.0
    step: float = 0.0
    options: tuple = ()

    def check(self, name: str, value):
        """Return ``value`` (normalized) if allowed, else raise ``ValueError`` saying why."""
        if self.kind == "choice":
            if isinstance(value, str) or not self.options or isinstance(self.options[0], str):
                return check_choice(name, value, self.options)
            # numeric choices: any value in the range is allowed programmatically
            lo, hi = min(self.options), max(self.options)
            if all(isinstance(o, Integral) for o in self.options):
                if isinstance(value, bool) or not isinstance(value, Integral) or not lo <= value <= hi:
                    raise ValueError(f"{name}={value!r} is not allowed: expected an integer from {lo} to {hi}.")
                return int(value)
            return float(check_range(name, value, lo, hi))
        if self.kind == "int":
            if isinstance(value, bool) or not isinstance(value, Integral) or not self.low <= value <= self.high:
                raise ValueError(
                    f"{name}={value!r} is not allowed: expected an integer from {int(self.low)} to {int(self.high)}.")
            return int(value)
        if self.kind == "log":
            return float(check_range(name, value, self.low, self.high))
        return float(check_range(name, value, self.low, self.high))


KNOBS: dict[str, Knob] = {
    "lr": Knob("learning rate", "log", 1e-4, 10.0),
    "dropout": Knob("dropout", "float", 0.0, 0.8, 0.05),
    "l2": Knob("L2 (weight decay)", "choice", options=(0.0, 1e-5, 1e-4, 1e-3, 3e-3, 1e-2, 3e-2, 1e-1)),
    "l1": Knob("L1", "choice", options=(0.0, 1e-5, 1e-4, 3e-4, 1e-3, 3e-3, 1e-2)),
    "batch_size": Knob("batch size", "choice", options=(4, 8, 16, 32, 64, 128, 256, 512)),
    "epochs": Knob("epochs", "int", 1, 100, 1),
    "width": Knob("hidden width", "choice", options=(1, 2, 4, 8, 16, 32, 64, 128, 256)),
    "depth": Knob("hidden layers", "int", 0, 4, 1),
    "optimizer": Knob("optimizer", "choice", options=OPTIMIZERS),
    "activation": Knob("activation", "choice", options=ACTIVATIONS),
    "noise": Knob("noise", "float", 0.0, 0.5, 0.05),
    "train_size": Knob("training examples", "choice", options=(25, 50, 100, 200, 400, 800, 1200)),
}

DEFAULTS_2D = {"lr": 0.1, "dropout": 0.0, "l2": 0.0, "l1": 0.0, "batch_size": 32, "epochs": 30,
               "width": 16, "depth": 2, "optimizer": "momentum", "activation": "tanh", "noise": 0.2,
               "train_size": 200}
DEFAULTS_IMAGE = {"lr": 0.1, "dropout": 0.0, "l2": 0.0, "l1": 0.0, "batch_size": 32, "epochs": 15,
                  "width": 64, "depth": 1, "optimizer": "sgd", "activation": "relu", "noise": 0.0,
                  "train_size": 400}
VAL_SIZE = {"2d": 200, "image": 400}


def default_config(problem: str) -> dict:
    """The settings a playground on ``problem`` starts from (every knob has one)."""
    check_choice("problem", problem, PROBLEMS)
    return dict(DEFAULTS_IMAGE if problem in IMAGE_PROBLEMS else DEFAULTS_2D)


def check_config(problem: str, config: Mapping) -> dict:
    """The full settings (defaults filled in), or ``ValueError`` naming the first bad one."""
    full = default_config(problem)
    for name, value in config.items():
        if name not in KNOBS:
            raise ValueError(f"{name!r} is not a knob: expected one of {', '.join(map(repr, KNOBS))}.")
        full[name] = KNOBS[name].check(name, value)
    return full


# --------------------------------------------------------------------------- #
# Data (cached) and one training run
# --------------------------------------------------------------------------- #

_DATA_CACHE: dict = {}
_IMAGE_SOURCES: dict = {}


def _image_source(problem: str):
    if problem not in _IMAGE_SOURCES:
        if problem == "digits":
            X, y = data.load_digits()
        else:
            X_a, y_a, X_b, y_b = data.load_mnist1d(2000, seed=42)
            X, y = torch.cat([X_a, X_b]), torch.cat([y_a, y_b])
            X = (X - X.mean()) / X.std()
        order = torch.randperm(len(X), generator=torch.Generator().manual_seed(0))
        _IMAGE_SOURCES[problem] = (X[order], y[order])
    return _IMAGE_SOURCES[problem]


def problem_data(problem: str, train_size: int, noise: float, *, seed: int = 0):
    """``(X_train, y_train, X_val, y_val)`` for a playground problem (cached).

    Toy problems draw ``train_size`` training and 200 validation points with
    ``noise``; image sets take the first ``train_size`` examples of a fixed shuffle
    for training, the last 400 for validation, and add Gaussian input noise.
    """
    check_choice("problem", problem, PROBLEMS)
    key = (problem, train_size, round(float(noise), 6), seed)
    if key not in _DATA_CACHE:
        if problem in IMAGE_PROBLEMS:
            X, y = _image_source(problem)
            n_val = VAL_SIZE["image"]
            if train_size > len(X) - n_val:
                raise ValueError(f"train_size={train_size!r} is not allowed for {problem!r}: "
                                 f"expected at most {len(X) - n_val}.")
            X_train, y_train, X_val, y_val = X[:train_size], y[:train_size], X[-n_val:], y[-n_val:]
            if noise > 0:
                gen = torch.Generator().manual_seed(seed + 1)
                X_train = X_train + noise * torch.randn(X_train.shape, generator=gen)
                X_val = X_val + noise * torch.randn(X_val.shape, generator=gen)
        else:
            n_val = VAL_SIZE["2d"]
            X, y = data.make_toy(problem, train_size + n_val, noise=float(noise), seed=seed)
            X_train, y_train, X_val, y_val = X[:train_size], y[:train_size], X[train_size:], y[train_size:]
        if len(_DATA_CACHE) > 64:
            _DATA_CACHE.clear()
        _DATA_CACHE[key] = (X_train, y_train, X_val, y_val)
    return _DATA_CACHE[key]


def make_optimizer(name: str, params, lr: float, weight_decay: float = 0.0) -> torch.optim.Optimizer:
    """``"sgd"``, ``"momentum"`` (SGD with 0.9), ``"adam"`` or ``"rmsprop"``; L2 as weight decay."""
    check_choice("optimizer", name, OPTIMIZERS)
    if name == "sgd":
        return torch.optim.SGD(params, lr=lr, weight_decay=weight_decay)
    if name == "momentum":
        return torch.optim.SGD(params, lr=lr, momentum=0.9, weight_decay=weight_decay)
    if name == "adam":
        return torch.optim.Adam(params, lr=lr, weight_decay=weight_decay)
    return torch.optim.RMSprop(params, lr=lr, weight_decay=weight_decay)


def warm_up() -> None:
    """Build each optimizer once: the first construction in a process costs seconds here."""
    p = [torch.zeros(1, requires_grad=True)]
    for name in OPTIMIZERS:
        make_optimizer(name, p, 0.1)


class Aborted(Exception):
    """Raised inside a run whose settings went stale (a newer slider value arrived)."""


@dataclass
class Run:
    """One finished (or stopped) training run of the playground."""

    problem: str
    config: dict
    history: History
    model: nn.Module
    status: str
    data: tuple
    seconds: float = 0.0
    extra: dict = field(default_factory=dict)

    @property
    def diverged(self) -> bool:
        return self.history.diverged


def build_model(problem: str, config: Mapping, seed: int = 0) -> nn.Module:
    """The MLP of a playground run, initialized from its own generator (global RNG untouched)."""
    in_features, out = (2, 2) if problem not in IMAGE_PROBLEMS else (64 if problem == "digits" else 40, 10)
    net = models.mlp(in_features, [config["width"]] * config["depth"], out,
                     activation=config["activation"], dropout=config["dropout"])
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for m in net.modules():
            if isinstance(m, nn.Linear):  # PyTorch's default: U(-1/sqrt(fan_in), 1/sqrt(fan_in))
                bound = 1.0 / math.sqrt(m.in_features)
                m.weight.uniform_(-bound, bound, generator=gen)
                m.bias.uniform_(-bound, bound, generator=gen)
    return net


def train_once(problem: str, config: Mapping | None = None, *, seed: int = 0,
               should_stop: Callable[[], bool] | None = None,
               on_epoch: Callable[[Run], None] | None = None, divergence_factor: float = 10.0) -> Run:
    """Train the playground's model once with ``config`` (missing knobs take their defaults).

    ``should_stop()`` is asked before every batch; when it says yes the run raises
    :class:`Aborted`. ``on_epoch(run)`` sees the run after every epoch (for
    streaming figures). A run whose epoch loss is not finite, or exceeds
    ``divergence_factor`` times its first batch's loss, ends with status
    ``"diverged at epoch k"``.
    """
    check_choice("problem", problem, PROBLEMS)
    config = check_config(problem, config or {})
    X_train, y_train, X_val, y_val = problem_data(problem, config["train_size"], config["noise"], seed=seed)
    model = build_model(problem, config, seed)
    weights = [m.weight for m in model.modules() if isinstance(m, nn.Linear)]
    opt = make_optimizer(config["optimizer"], model.parameters(), config["lr"], config["l2"])
    l1 = config["l1"]
    n, bs = len(X_train), config["batch_size"]
    gen = torch.Generator().manual_seed(seed)
    history = History()
    history.status = "running"
    run = Run(problem, config, history, model, "running", (X_train, y_train, X_val, y_val))
    start = time.perf_counter()
    first_loss = None
    loss_fn = nn.functional.cross_entropy
    for epoch in range(1, config["epochs"] + 1):
        model.train()
        order = torch.randperm(n, generator=gen)
        Xs, ys = X_train[order], y_train[order]
        loss_sum = torch.zeros(())
        correct = torch.zeros((), dtype=torch.long)
        for i in range(0, n, bs):
            if should_stop is not None and should_stop():
                raise Aborted
            xb, yb = Xs[i:i + bs], ys[i:i + bs]
            out = model(xb)
            loss = loss_fn(out, yb)
            total = loss + l1 * sum(w.abs().sum() for w in weights) if l1 > 0 else loss
            opt.zero_grad(set_to_none=True)
            total.backward()
            opt.step()
            if first_loss is None:
                first_loss = loss.item()
            loss_sum += loss.detach() * len(xb)
            correct += (out.detach().argmax(1) == yb).sum()
        train_loss = loss_sum.item() / n
        if not math.isfinite(train_loss) or train_loss > divergence_factor * max(first_loss, 1e-12):
            history.diverged, history.diverged_at = True, epoch
            history.status = f"diverged at epoch {epoch}"
            break
        model.eval()
        with torch.no_grad():
            out_val = model(X_val)
            val_loss = loss_fn(out_val, y_val).item()
            val_acc = (out_val.argmax(1) == y_val).float().mean().item()
        history.log({"train_loss": train_loss, "train_accuracy": correct.item() / n,
                     "val_loss": val_loss if math.isfinite(val_loss) else float("nan"), "val_accuracy": val_acc})
        run.seconds = time.perf_counter() - start
        if on_epoch is not None:
            on_epoch(run)
    if history.status == "running":
        history.status = "completed"
    run.status = history.status
    run.seconds = time.perf_counter() - start
    return run


# --------------------------------------------------------------------------- #
# Drawing: one persistent matplotlib figure whose artists are updated per frame
# --------------------------------------------------------------------------- #

def _fmt(value) -> str:
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


class Renderer:
    """Draws a run: decision boundary (2D problems), loss and accuracy curves; returns PNG bytes.

    Axes, ticks and labels are the slow part of a matplotlib figure, and they do not
    change while a run streams: they are drawn once into a background, and each
    frame only redraws the heat map, points, curves and titles on top of it (blitting).
    A frame then costs a few tens of milliseconds.
    """

    LOSS_LIMITS = {"2d": (0.01, 3.0), "image": (0.003, 10.0)}

    def __init__(self, problem: str, *, dpi: int = 72, resolution: int = 60):
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure

        self.problem = problem
        self.is_2d = problem not in IMAGE_PROBLEMS
        self.resolution = resolution
        panels = 3 if self.is_2d else 2
        self.figure = Figure(figsize=(4.2 * panels, 3.6), dpi=dpi)
        self.canvas = FigureCanvasAgg(self.figure)
        axes = self.figure.subplots(1, panels)
        self.ax_loss, self.ax_acc = axes[-2], axes[-1]
        self._grid_key = None
        self._background_key = None
        self.dynamic = []
        if self.is_2d:
            self.ax_map = axes[0]
            self.image = self.ax_map.imshow(np.full((resolution, resolution), 0.5), origin="lower", cmap="RdBu_r",
                                            vmin=0, vmax=1, alpha=0.8, aspect="auto", interpolation="bilinear",
                                            animated=True)
            self.points = self.ax_map.scatter([], [], c=[], cmap="RdBu_r", vmin=0, vmax=1, edgecolors="k",
                                              s=14, linewidths=0.5, animated=True)
            self.ax_map.set_xlabel("$x_1$")
            self.ax_map.set_ylabel("$x_2$")
            self.ax_map.set_title("decision boundary")
            self.figure.colorbar(self.image, ax=self.ax_map, label="P(class 1)")
            self.dynamic += [self.image, self.points]
        self.lines = {}
        for ax, metric, ylabel in ((self.ax_loss, "loss", "cross-entropy loss"), (self.ax_acc, "accuracy", "accuracy")):
            for split, style, name in (("train", "-", "train"), ("val", "--", "validation")):
                (line,) = ax.plot([], [], style, color="C0" if split == "train" else "C1", label=name, animated=True)
                self.lines[f"{split}_{metric}"] = line
                self.dynamic.append(line)
            ax.set_xlabel("epoch")
            ax.set_ylabel(ylabel)
            ax.legend(loc="upper right" if metric == "loss" else "lower right")
        self.ax_loss.set_yscale("log")
        self.ax_loss.set_ylim(*self.LOSS_LIMITS["2d" if self.is_2d else "image"])
        self.ax_loss.set_title("loss (log scale)")
        self.ax_acc.set_ylim(0, 1.02)
        self.acc_text = self.ax_acc.text(0.5, 1.04, "", transform=self.ax_acc.transAxes, ha="center",
                                         va="bottom", fontsize=12, animated=True)
        self.title = self.figure.text(0.5, 0.97, "", ha="center", va="top", fontsize=13, animated=True)
        self.alarm = self.ax_loss.text(0.5, 0.5, "", transform=self.ax_loss.transAxes, ha="center", va="center",
                                       fontsize=14, color="#b00020", animated=True)
        self.dynamic += [self.acc_text, self.title, self.alarm]
        self.figure.subplots_adjust(left=0.07 if self.is_2d else 0.09, right=0.98, bottom=0.16, top=0.8,
                                    wspace=0.35)

    def _set_grid(self, X):
        X = X.numpy()
        pad = 0.25
        (x0, y0), (x1, y1) = X.min(0) - pad, X.max(0) + pad
        key = (round(float(x0), 3), round(float(y0), 3), round(float(x1), 3), round(float(y1), 3))
        if key != self._grid_key:
            gx, gy = np.meshgrid(np.linspace(x0, x1, self.resolution), np.linspace(y0, y1, self.resolution))
            self._grid = torch.tensor(np.stack([gx.ravel(), gy.ravel()], 1), dtype=torch.float32)
            self.image.set_extent((x0, x1, y0, y1))
            self.ax_map.set_xlim(x0, x1)
            self.ax_map.set_ylim(y0, y1)
            self._grid_key = key

    def draw(self, run: Run, *, title: str | None = None, colors: int | None = None) -> bytes:
        """Update the figure to show ``run`` and return it as PNG bytes (``colors``: a smaller palette PNG)."""
        from PIL import Image

        h = run.history
        epochs = max(run.config["epochs"], 1)
        if self.is_2d:
            X_train, y_train = run.data[0], run.data[1]
            self._set_grid(torch.cat([run.data[0], run.data[2]]))
            model = run.model
            was_training = model.training
            model.eval()
            with torch.no_grad():
                prob = torch.softmax(model(self._grid), 1)[:, 1]
            model.train(was_training)
            prob = torch.nan_to_num(prob, nan=0.5).reshape(self.resolution, self.resolution).numpy()
            self.image.set_data(prob)
            self.points.set_offsets(X_train.numpy())
            self.points.set_array(y_train.numpy().astype(float))
        for key, line in self.lines.items():
            values = h[key] if key in h else []
            line.set_data(range(1, len(values) + 1), values)
        acc = h["val_accuracy"][-1] if "val_accuracy" in h and h["val_accuracy"] else float("nan")
        state = run.status if run.status != "running" else f"epoch {h.num_epochs}/{epochs}"
        self.acc_text.set_text(f"validation accuracy {acc:.0%}" if math.isfinite(acc) else "validation accuracy")
        self.title.set_text(title if title is not None else state)
        self.alarm.set_text(f"{run.status}:\nthe loss exploded" if h.diverged else "")
        background_key = (epochs, self._grid_key)
        if background_key != self._background_key:
            for ax in (self.ax_loss, self.ax_acc):
                ax.set_xlim(0.5, epochs + 0.5)
            self.canvas.draw()  # everything but the animated artists
            self._background = self.canvas.copy_from_bbox(self.figure.bbox)
            self._background_key = background_key
        else:
            self.canvas.restore_region(self._background)
        for artist in self.dynamic:
            self.figure.draw_artist(artist)
        width, height = self.canvas.get_width_height()
        image = Image.frombuffer("RGBA", (width, height), self.canvas.buffer_rgba(), "raw", "RGBA", 0, 1)
        buf = io.BytesIO()
        image = image.convert("RGB")
        if colors is None:
            image.save(buf, format="png", compress_level=1)
        else:
            image.quantize(colors).save(buf, format="png", optimize=True)
        return buf.getvalue()


# --------------------------------------------------------------------------- #
# The live playground
# --------------------------------------------------------------------------- #

def _make_control(name: str, knob: Knob, value, problem: str):
    import ipywidgets as W

    style = {"description_width": "initial"}
    layout = W.Layout(width="300px")
    if knob.kind == "log":
        lo, hi = math.log10(knob.low), math.log10(knob.high)
        return W.FloatLogSlider(value=value, base=10, min=lo, max=hi, step=0.05, description=knob.label,
                                continuous_update=False, readout_format=".3g", style=style, layout=layout)
    if knob.kind == "float":
        return W.FloatSlider(value=value, min=knob.low, max=knob.high, step=knob.step, description=knob.label,
                             continuous_update=False, readout_format=".2f", style=style, layout=layout)
    if knob.kind == "int":
        return W.IntSlider(value=value, min=int(knob.low), max=int(knob.high), step=int(knob.step or 1),
                           description=knob.label, continuous_update=False, style=style, layout=layout)
    options = list(knob.options)
    if name == "train_size" and problem in IMAGE_PROBLEMS:
        options = [o for o in (50, 100, 200, 400, 800, 1200) if o <= len(_image_source(problem)[0]) - VAL_SIZE["image"]]
    if isinstance(options[0], str):
        return W.Dropdown(options=options, value=value, description=knob.label, style=style, layout=layout)
    if value not in options:
        options = sorted(set(options) | {value})
    return W.SelectionSlider(options=[(_fmt(o), o) for o in options], value=value, description=knob.label,
                             continuous_update=False, style=style, layout=layout)


class Playground:
    """A live training playground: sliders for the chosen ``knobs``, a figure that streams.

    ``problem``: a 2D toy set (``"moons"``, ``"circles"``, ``"xor"``, ``"spiral"``,
    ``"gaussian"``: decision boundary, loss and accuracy) or an image set
    (``"digits"``, ``"mnist1d"``: loss and accuracy). ``knobs``: the names of
    :data:`KNOBS` that get a control; every other setting stays at its default or
    at the value given as a keyword (``Playground("moons", ("lr",), epochs=20)``).

    In code: ``playground.controls["lr"].value = 0.1`` is what moving the slider
    does; :meth:`set` does the same after checking the values; :meth:`wait` blocks
    until the figure shows the latest settings; ``playground.run`` is that run.
    """

    def __init__(self, problem: str = "moons", knobs: Sequence[str] = ("lr",), *, seed: int = 0,
                 debounce: float = 0.03, frame_interval: float = 0.15, **settings):
        import ipywidgets as W

        check_choice("problem", problem, PROBLEMS)
        if isinstance(knobs, str):
            knobs = (knobs,)
        knobs = tuple(knobs)
        for name in knobs:
            check_choice("knobs", name, KNOBS)
        check_range("debounce", debounce, 0.0, 5.0)
        check_positive("frame_interval", frame_interval)
        self.problem, self.knobs, self.seed = problem, knobs, seed
        self.debounce, self.frame_interval = debounce, frame_interval
        self.fixed = check_config(problem, settings)
        warm_up()  # the first optimizer construction costs seconds: pay it before the reader moves anything
        if problem in IMAGE_PROBLEMS:
            _image_source(problem)
        self.renderer = Renderer(problem)
        self.controls = {name: _make_control(name, KNOBS[name], self.fixed[name], problem) for name in knobs}
        self.status = W.HTML(value="")
        self.image = W.Image(format="png", layout=W.Layout(max_width="100%"))
        rows = [W.HBox(list(self.controls.values())[i:i + 3]) for i in range(0, len(knobs), 3)]
        self.widget = W.VBox([*rows, self.status, self.image])
        self.run: Run | None = None
        self.started = self.finished = self.aborted = self.refused = 0
        self._cond = threading.Condition()
        self._generation = 0
        self._pending: dict | None = None
        self._busy = False
        self._thread: threading.Thread | None = None
        self._frame_lock = threading.Lock()
        self._accepted = dict(self.fixed)
        for control in self.controls.values():
            control.observe(self._on_change, names="value")
        # The first run happens now, in the caller's thread, with the global RNG left as it was.
        with torch.random.fork_rng(devices=[]):
            self._train(dict(self.fixed), self._generation)

    # -- what the reader sees ------------------------------------------------
    def _ipython_display_(self):
        from IPython.display import display

        display(self.widget)

    @property
    def config(self) -> dict:
        """The settings the controls show now (plus the fixed ones)."""
        return {**self.fixed, **{name: c.value for name, c in self.controls.items()}}

    def _say(self, text: str, kind: str = "info") -> None:
        color = {"info": "#333", "error": "#b00020", "warn": "#a15c00"}[kind]
        self.status.value = f"<span style='color:{color};font-family:sans-serif'>{html.escape(text)}</span>"

    # -- changes ---------------------------------------------------------------
    def set(self, **values) -> None:
        """Move the controls to ``values`` (checked first: a bad value raises ``ValueError``)."""
        for name in values:
            if name not in self.controls:
                raise ValueError(f"{name!r} has no control in this playground: expected one of "
                                 f"{', '.join(map(repr, self.controls))}.")
        config = check_config(self.problem, {**self.config, **values})
        with self._hold():
            for name in values:
                self.controls[name].value = config[name]
        self._request(config)

    _holding = False

    @contextlib.contextmanager
    def _hold(self):
        """Move controls from code without each move starting a run of its own."""
        self._holding = True
        try:
            yield
        finally:
            self._holding = False

    def _on_change(self, change) -> None:
        if self._holding:
            return
        try:
            config = check_config(self.problem, self.config)
        except ValueError as error:
            self.refused += 1
            owner = change["owner"]
            with self._hold():  # put the control back to the last value that was accepted
                for knob, control in self.controls.items():
                    if control is owner:
                        control.value = self._accepted[knob]
            self._say(f"Refused: {error} The figure still shows the last valid setting.", "error")
            return
        self._request(config)

    def _request(self, config: dict) -> None:
        self._accepted = dict(config)
        with self._cond:
            self._generation += 1
            self._pending = config
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._worker, name="nnpractice-playground", daemon=True)
                self._thread.start()
            self._cond.notify_all()

    def _worker(self) -> None:
        while True:
            with self._cond:
                while self._pending is None:
                    self._cond.wait()
                while True:  # debounce: start only when no newer change came for `debounce` seconds
                    generation = self._generation
                    self._cond.wait(self.debounce)
                    if generation == self._generation:
                        break
                config, self._pending = self._pending, None
                self._busy = True
            try:
                self._train(config, generation)
            finally:
                with self._cond:
                    self._busy = False
                    self._cond.notify_all()

    def _stale(self, generation: int) -> bool:
        return generation != self._generation

    def _train(self, config: dict, generation: int) -> None:
        self.started += 1
        self._say(f"training: {self._describe(config)} …")
        last_frame = [time.perf_counter()]

        def on_epoch(run):
            now = time.perf_counter()
            if now - last_frame[0] >= self.frame_interval and not self._stale(generation):
                self._show(run, generation)
                last_frame[0] = time.perf_counter()

        try:
            run = train_once(self.problem, config, seed=self.seed, should_stop=lambda: self._stale(generation),
                             on_epoch=on_epoch)
        except Aborted:
            self.aborted += 1
            return
        except Exception as error:  # never a traceback in the widget
            self._say(f"Training failed: {type(error).__name__}: {error}", "error")
            return
        if self._stale(generation):
            self.aborted += 1
            return
        self._show(run, generation)
        self.run = run
        self.finished += 1
        acc = run.history["val_accuracy"][-1] if run.history.num_epochs else float("nan")
        if run.diverged:
            self._say(f"{run.status}: {self._describe(config)}. The loss exploded; try a smaller learning rate.",
                      "warn")
        else:
            self._say(f"{run.status} in {run.seconds:.2f} s: {self._describe(config)}; "
                      f"validation accuracy {acc:.1%}")

    def _show(self, run: Run, generation: int) -> None:
        with self._frame_lock:
            png = self.renderer.draw(run)
            if not self._stale(generation):
                self.image.value = png

    def _describe(self, config: Mapping) -> str:
        return ", ".join(f"{KNOBS[k].label} {_fmt(config[k])}" for k in self.knobs)

    def wait(self, timeout: float = 60.0) -> Run | None:
        """Block until the latest change has been trained and drawn; return that run."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while self._pending is not None or self._busy:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError(f"the playground was still training after {timeout} s")
                self._cond.wait(left)
        return self.run


# --------------------------------------------------------------------------- #
# The static twin
# --------------------------------------------------------------------------- #

_TWIN_IDS = itertools.count()

# One inline handler, shared by every slider of a twin: show the image whose data-k is the
# slider positions joined by "_", and each slider's value label. Only single quotes inside:
# the handler lives in a double-quoted attribute.
_HANDLER = (
    "var t=this.closest('.nnp-twin'),s=t.querySelectorAll('input.nnp-s'),"
    "k=Array.prototype.map.call(s,function(e){return e.value}).join('_');"
    "t.querySelectorAll('[data-k]').forEach(function(e){e.style.display=e.getAttribute('data-k')==k?'':'none'});"
    "t.querySelectorAll('[data-v]').forEach(function(e){var a=e.getAttribute('data-v').split('_');"
    "e.style.display=s[+a[0]].value==a[1]?'':'none'})"
)


class StaticTwin:
    """Self-contained HTML with a slider that swaps precomputed figures (see :func:`static_twin`).

    ``runs`` maps each combination of knob values to its :class:`Run`, so a chapter
    can assert what its figures show.
    """

    def __init__(self, html_text: str, runs: dict, knobs: tuple, values: tuple):
        self.html = html_text
        self.runs = runs
        self.knobs = knobs
        self.values = values

    def _repr_html_(self) -> str:
        return self.html

    def save(self, path) -> None:
        """Write a standalone page (opens from ``file://`` with no network)."""
        from pathlib import Path

        Path(path).write_text(f"<!DOCTYPE html><html><head><meta charset='utf-8'></head><body>{self.html}</body></html>")


def static_twin(problem: str = "moons", knob: str = "lr", values: Sequence | None = None, *,
                knob2: str | None = None, values2: Sequence | None = None, start: int | None = None,
                start2: int | None = None, seed: int = 0, dpi: int = 90, **settings) -> StaticTwin:
    """Precompute the playground over one knob (or two) and return its static HTML twin.

    Every combination of ``values`` (and ``values2`` for ``knob2``) is trained once
    with the other settings at their defaults or ``settings``, drawn, and inlined as
    a base64 PNG. The HTML holds range inputs and a one-line inline handler that
    swaps the visible image: no external files or scripts, so it works in the built
    book opened from ``file://`` with the network off. ``start`` (``start2``) is the index
    shown first; ``dpi`` sets the resolution of the figures (and the size of the page).
    """
    check_choice("problem", problem, PROBLEMS)
    check_choice("knob", knob, KNOBS)
    axes = [(knob, values)]
    if knob2 is not None:
        check_choice("knob2", knob2, KNOBS)
        if knob2 == knob:
            raise ValueError(f"knob2={knob2!r} is not allowed: expected a knob other than knob={knob!r}.")
        axes.append((knob2, values2))
    elif values2 is not None:
        raise ValueError("values2 is given but knob2 is not: name the second knob too.")
    checked = []
    for name, vals in axes:
        if vals is None:
            spec = KNOBS[name]
            vals = list(spec.options) if spec.kind == "choice" else (
                list(np.logspace(math.log10(spec.low), math.log10(spec.high), 6)) if spec.kind == "log"
                else list(np.linspace(spec.low, spec.high, 5)))
        vals = list(vals)
        if not vals:
            raise ValueError(f"values for {name!r} is empty: expected at least one value.")
        checked.append((name, [KNOBS[name].check(name, v) for v in vals]))
    fixed = check_config(problem, settings)
    starts = []
    for (_name, vals), s in zip(checked, (start, start2)):
        s = len(vals) // 2 if s is None else s
        if isinstance(s, bool) or not isinstance(s, Integral) or not 0 <= s < len(vals):
            raise ValueError(f"start={s!r} is not allowed: expected an index from 0 to {len(vals) - 1}.")
        starts.append(s)
    check_positive("dpi", dpi, integer=True)
    warm_up()
    renderer = Renderer(problem, dpi=dpi)
    runs, images = {}, []
    for index in itertools.product(*(range(len(vals)) for _, vals in checked)):
        config = dict(fixed)
        combo = tuple(vals[i] for (_, vals), i in zip(checked, index))
        for (name, _), value in zip(checked, combo):
            config[name] = value
        with torch.random.fork_rng(devices=[]):
            run = train_once(problem, config, seed=seed)
        runs[combo if len(combo) > 1 else combo[0]] = run
        label = ", ".join(f"{KNOBS[n].label} = {_fmt(v)}" for (n, _), v in zip(checked, combo))
        png = renderer.draw(run, title=f"{label}: {run.status}", colors=96)
        images.append(("_".join(map(str, index)), label, base64.b64encode(png).decode("ascii")))
    twin_id = f"nnp-twin-{next(_TWIN_IDS)}"
    shown = "_".join(map(str, starts))
    parts = [f'<div class="nnp-twin" id="{twin_id}" style="font-family:sans-serif;margin:0.5em 0">']
    for a, ((name, vals), s) in enumerate(zip(checked, starts)):
        labels = "".join(f'<span data-v="{a}_{i}" style="{"" if i == s else "display:none"}">{html.escape(_fmt(v))}'
                         f'</span>' for i, v in enumerate(vals))
        parts.append(f'<div style="margin:0.2em 0"><label>{html.escape(KNOBS[name].label)} '
                     f'<input type="range" class="nnp-s" min="0" max="{len(vals) - 1}" step="1" value="{s}" '
                     f'aria-label="{html.escape(KNOBS[name].label)}" style="width:260px;vertical-align:middle" '
                     f'oninput="{_HANDLER}"></label> <b>{labels}</b></div>')
    for key, label, b64 in images:
        style = "max-width:100%" + ("" if key == shown else ";display:none")
        parts.append(f'<img data-k="{key}" alt="{html.escape(label)}" style="{style}" '
                     f'src="data:image/png;base64,{b64}">')
    parts.append("</div>")
    names = tuple(n for n, _ in checked)
    return StaticTwin("".join(parts), runs, names, tuple(tuple(v) for _, v in checked))


__all__ = ["KNOBS", "Knob", "PROBLEMS", "Playground", "Renderer", "Run", "StaticTwin", "Aborted",
           "check_config", "default_config", "problem_data", "static_twin", "train_once", "warm_up",
           "make_optimizer", "build_model"]
