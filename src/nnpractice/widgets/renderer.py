"""Drawing a run: one persistent matplotlib figure whose changing artists are redrawn per frame.

>>> from nnpractice.widgets.runs import train_once
>>> png = Renderer("moons").draw(train_once("moons", {"epochs": 2}, seed=0))
>>> png[:4]
b'\\x89PNG'
"""
from __future__ import annotations

import io
import math
from numbers import Integral

import numpy as np
import torch

from .._validation import Interval, Options, validate_params
from .knobs import IMAGE_PROBLEMS, PROBLEMS
from .runs import RUN, Run


class Renderer:
    """Draws a run: decision boundary (2D problems), loss and accuracy curves; returns PNG bytes.

    Axes, ticks and labels are the slow part of a matplotlib figure, and they do not
    change while a run streams: they are drawn once into a background, and each
    frame only redraws the heat map, points, curves and titles on top of it (blitting).
    A frame then costs a few tens of milliseconds.
    """

    LOSS_LIMITS = {"2d": (0.01, 3.0), "image": (0.003, 10.0)}

    @validate_params({"problem": [Options(*PROBLEMS)], "dpi": [Interval(Integral, 10, 600)],
                      "resolution": [Interval(Integral, 2, 1000)]})
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

    def _draw_map(self, run: Run) -> None:
        """The class-1 probability over the window around all the points (``plots.probability_grid``)."""
        from ..plots import probability_grid

        X_train, y_train, X_val = run.data[0], run.data[1], run.data[2]
        gx, gy, prob = probability_grid(run.model, torch.cat([X_train, X_val]), resolution=self.resolution)
        x0, x1, y0, y1 = float(gx[0, 0]), float(gx[0, -1]), float(gy[0, 0]), float(gy[-1, 0])
        key = tuple(round(v, 3) for v in (x0, y0, x1, y1))
        if key != self._grid_key:  # the window moves only when the data change
            self.image.set_extent((x0, x1, y0, y1))
            self.ax_map.set_xlim(x0, x1)
            self.ax_map.set_ylim(y0, y1)
            self._grid_key = key
        self.image.set_data(np.nan_to_num(prob, nan=0.5))  # a diverged model's NaN reads as "no idea"
        self.points.set_offsets(X_train.numpy())
        self.points.set_array(y_train.numpy().astype(float))

    @validate_params({"run": [RUN], "title": [str, None],
                      "colors": [Interval(Integral, 2, 256), None]})
    def draw(self, run: Run, *, title: str | None = None, colors: int | None = None) -> bytes:
        """Update the figure to show ``run`` and return it as PNG bytes (``colors``: a smaller palette PNG)."""
        from PIL import Image

        h = run.history
        epochs = max(run.config["epochs"], 1)
        if self.is_2d:
            self._draw_map(run)
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


__all__ = ["Renderer"]
