"""The live playground: sliders, one background worker that trains, a figure that streams.

How it stays responsive: a slider change bumps a *generation* counter and hands the
new settings to one background worker. The worker waits a few milliseconds for the
changes to settle (a debounce), trains, and checks the counter before every batch:
a run whose settings are stale stops at once, so rapid changes never pile up
trainings and the last value always wins. A run whose loss explodes ends with
"diverged at epoch k" in the widget instead of a traceback, and a value outside
the allowed range is refused with a message.

>>> playground = Playground("xor", knobs=("lr",), epochs=2)
>>> playground.set(lr=0.05)
>>> playground.wait().config["lr"], playground.started
(0.05, 2)
>>> playground.close()
"""
from __future__ import annotations

import contextlib
import html
import math
import threading
import time
from numbers import Real
from typing import Mapping, Sequence

import torch

from .. import data, optimizers
from .._validation import Interval, Options, Sequences, check_choice, invalid, validate_params
from .knobs import IMAGE_PROBLEMS, KNOBS, PROBLEMS, Knob, check_config, format_value
from .problems import image_source, max_train_size
from .renderer import Renderer
from .runs import Aborted, Run, train_once


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
        options = [o for o in (50, 100, 200, 400, 800, 1200) if o <= max_train_size(problem)]
    if isinstance(options[0], str):
        return W.Dropdown(options=options, value=value, description=knob.label, style=style, layout=layout)
    if value not in options:
        options = sorted(set(options) | {value})
    return W.SelectionSlider(options=[(format_value(o), o) for o in options], value=value, description=knob.label,
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
    until the figure shows the latest settings; ``playground.run`` is that run;
    :meth:`close` ends the worker thread.
    """

    @validate_params({"problem": [Options(*PROBLEMS)], "knobs": [str, Sequences(str)], "seed": [data.SEED],
                      "debounce": [Interval(Real, 0.0, 5.0)],
                      "frame_interval": [Interval(Real, 0, None, closed="neither")]})
    def __init__(self, problem: str = "moons", knobs: Sequence[str] = ("lr",), *, seed: int = 0,
                 debounce: float = 0.03, frame_interval: float = 0.15, **settings):
        import ipywidgets as W

        knobs = (knobs,) if isinstance(knobs, str) else tuple(knobs)
        for name in knobs:
            check_choice("knobs", name, KNOBS)
        self.problem, self.knobs, self.seed = problem, knobs, seed
        self.debounce, self.frame_interval = debounce, frame_interval
        self.fixed = check_config(problem, settings)
        optimizers.warm_up()  # the first optimizer construction costs seconds: pay it before the reader moves anything
        if problem in IMAGE_PROBLEMS:
            image_source(problem)
        self.renderer = Renderer(problem)
        self.controls = {name: _make_control(name, KNOBS[name], self.fixed[name], problem) for name in knobs}
        self.status = W.HTML(value="")
        self.image = W.Image(format="png", layout=W.Layout(max_width="100%"))
        rows = [W.HBox(list(self.controls.values())[i:i + 3]) for i in range(0, len(knobs), 3)]
        self.widget = W.VBox([*rows, self.status, self.image])
        self.run: Run | None = None
        self.started = self.finished = self.aborted = self.refused = 0
        self._cond = threading.Condition()  # guards _generation, _pending, _busy and _closed
        self._generation = 0
        self._pending: dict | None = None
        self._busy = False
        self._closed = False
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
        """Move the controls to ``values`` (checked first: a bad value raises and moves nothing)."""
        for name, value in values.items():
            if name not in self.controls:
                raise invalid(name, value, "a knob with a control in this playground: one of "
                              + ", ".join(map(repr, self.controls)))
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
            if self._closed:
                raise RuntimeError("this playground is closed: build a new one")
            self._generation += 1
            self._pending = config
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._worker, name="nnpractice-playground", daemon=True)
                self._thread.start()
            self._cond.notify_all()

    def _worker(self) -> None:
        while True:
            with self._cond:
                while self._pending is None and not self._closed:
                    self._cond.wait()
                if self._closed:
                    return
                while True:  # debounce: start only when no newer change came for `debounce` seconds
                    generation = self._generation
                    self._cond.wait(self.debounce)
                    if self._closed:
                        return
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
        return ", ".join(f"{KNOBS[k].label} {format_value(config[k])}" for k in self.knobs)

    @validate_params({"timeout": [Interval(Real, 0, None, closed="neither")]})
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

    def close(self) -> None:
        """End the worker thread (after the run in progress); the controls stop training."""
        with self._cond:
            self._closed = True
            self._generation += 1  # a run in progress is stale now: it stops at its next batch
            self._pending = None
            self._cond.notify_all()
        if self._thread is not None:
            self._thread.join()
        for control in self.controls.values():
            control.unobserve(self._on_change, names="value")


__all__ = ["Playground"]
