"""The static twin of a playground for the HTML book: a slider that swaps precomputed figures.

The HTML book has no kernel, so a live widget renders there as an empty box.
:func:`static_twin` precomputes a sweep over one or two knobs and returns
self-contained HTML (inline PNG images and a one-line inline handler, no external
files or scripts) whose slider swaps the precomputed figures; tag the live cell
``remove-cell`` and the twin's cell ``remove-input``.

>>> twin = static_twin("xor", "lr", [0.01, 0.1], epochs=2, seed=0)
>>> sorted(twin.runs), twin.html.count("<img")
([0.01, 0.1], 2)
"""
from __future__ import annotations

import base64
import html
import itertools
import math
from numbers import Integral
from pathlib import Path

import numpy as np
import torch

from .. import data, optimizers
from .._validation import InstanceOf, Interval, Options, invalid, validate_params
from .knobs import KNOBS, PROBLEMS, check_config, format_value
from .renderer import Renderer
from .runs import train_once

_TWIN_IDS = itertools.count()

# One inline handler, shared by every slider of a twin: show the image whose data-k is the
# slider positions joined by "_", and each slider's value label; each slider's aria-valuetext becomes its
# value as shown, and the status line (a polite live region) says which figure is shown, for screen readers.
# Only single quotes inside: the handler lives in a double-quoted attribute.
_HANDLER = (
    "var t=this.closest('.nnp-twin'),s=t.querySelectorAll('input.nnp-s'),"
    "k=Array.prototype.map.call(s,function(e){return e.value}).join('_');"
    "t.querySelectorAll('[data-k]').forEach(function(e){var on=e.getAttribute('data-k')==k;"
    "e.style.display=on?'':'none';if(on)t.querySelector('.nnp-twin-status').textContent=e.alt});"
    "t.querySelectorAll('[data-v]').forEach(function(e){var a=e.getAttribute('data-v').split('_'),"
    "on=s[+a[0]].value==a[1];e.style.display=on?'':'none';if(on)s[+a[0]].setAttribute('aria-valuetext',e.textContent)})"
)



class StaticTwin:
    """Self-contained HTML with a slider that swaps precomputed figures (see :func:`static_twin`).

    ``runs`` maps each combination of knob values to its :class:`~nnpractice.widgets.runs.Run`, so a
    chapter can assert what its figures show.
    """

    @validate_params({"html_text": [str], "runs": [dict], "knobs": [tuple], "values": [tuple]})
    def __init__(self, html_text: str, runs: dict, knobs: tuple, values: tuple):
        self.html = html_text
        self.runs = runs
        self.knobs = knobs
        self.values = values

    def _repr_html_(self) -> str:
        return self.html

    @validate_params({"path": [str, Path]})
    def save(self, path) -> None:
        """Write a standalone page (opens from ``file://`` with no network)."""
        title = html.escape(" and ".join(KNOBS[k].label for k in self.knobs))
        Path(path).write_text(f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>Playground: {title}"
                              f"</title></head><body>{self.html}</body></html>")


def _default_values(knob: str) -> list:
    """Five or six values across a knob's range when the caller names none."""
    spec = KNOBS[knob]
    if spec.kind == "choice":
        return list(spec.options)
    if spec.kind == "log":
        return list(np.logspace(math.log10(spec.low), math.log10(spec.high), 6))
    if spec.kind == "int":
        return sorted({int(round(v)) for v in np.linspace(spec.low, spec.high, 5)})
    return list(np.linspace(spec.low, spec.high, 5))


_VALUES = [InstanceOf((list, tuple), "a list of the knob's values"), None]
_START = [Interval(Integral, 0, None), None]


@validate_params({"problem": [Options(*PROBLEMS)], "knob": [Options(*KNOBS)], "values": _VALUES,
                  "knob2": [Options(*KNOBS), None], "values2": _VALUES, "start": _START, "start2": _START,
                  "seed": [data.SEED], "dpi": [Interval(Integral, 10, 600)]})
def static_twin(problem: str = "moons", knob: str = "lr", values=None, *, knob2: str | None = None,
                values2=None, start: int | None = None, start2: int | None = None, seed: int = 0,
                dpi: int = 90, **settings) -> StaticTwin:
    """Precompute the playground over one knob (or two) and return its static HTML twin.

    Every combination of ``values`` (and ``values2`` for ``knob2``) is trained once
    with the other settings at their defaults or ``settings``, drawn, and inlined as
    a base64 PNG. The HTML holds range inputs and a one-line inline handler that
    swaps the visible image: no external files or scripts, so it works in the built
    book opened from ``file://`` with the network off. ``start`` (``start2``) is the index
    shown first; ``dpi`` sets the resolution of the figures (and the size of the page).
    """
    axes = [("values", knob, values, "start", start)]
    if knob2 is not None:
        if knob2 == knob:
            raise invalid("knob2", knob2, f"a knob other than knob={knob!r}")
        axes.append(("values2", knob2, values2, "start2", start2))
    elif values2 is not None:
        raise invalid("values2", values2, "None when knob2 is None (name the second knob too)")
    checked, starts = [], []
    for values_name, name, vals, start_name, first in axes:
        vals = _default_values(name) if vals is None else list(vals)
        if not vals:
            raise invalid(values_name, vals, f"at least one value of {name!r}")
        checked.append((name, [KNOBS[name].check(name, v) for v in vals]))
        first = len(vals) // 2 if first is None else first
        if first >= len(vals):
            raise invalid(start_name, first, f"an index from 0 to {len(vals) - 1}")
        starts.append(first)
    fixed = check_config(problem, settings)
    optimizers.warm_up()
    renderer = Renderer(problem, dpi=dpi)
    runs, images = {}, []
    for index in itertools.product(*(range(len(vals)) for _, vals in checked)):
        config = dict(fixed)
        combo = tuple(vals[i] for (_, vals), i in zip(checked, index))
        for (name, _), value in zip(checked, combo):
            config[name] = value
        with torch.random.fork_rng(devices=[]):  # dropout draws from the global RNG: each run starts alike
            run = train_once(problem, config, seed=seed)
        runs[combo if len(combo) > 1 else combo[0]] = run
        label = ", ".join(f"{KNOBS[n].label} = {format_value(v)}" for (n, _), v in zip(checked, combo))
        png = renderer.draw(run, title=f"{label}: {run.status}", colors=96)
        images.append(("_".join(map(str, index)), f"{label}: {run.status}", base64.b64encode(png).decode("ascii")))
    twin_id = f"nnp-twin-{next(_TWIN_IDS)}"
    shown = "_".join(map(str, starts))
    parts = [f'<div class="nnp-twin" id="{twin_id}" style="font-family:sans-serif;margin:0.5em 0">']
    for a, ((name, vals), s) in enumerate(zip(checked, starts)):
        valuetext = html.escape(format_value(vals[s]))
        labels = "".join(f'<span data-v="{a}_{i}" style="{"" if i == s else "display:none"}">{html.escape(format_value(v))}'
                         f'</span>' for i, v in enumerate(vals))
        parts.append(f'<div style="margin:0.2em 0"><label>{html.escape(KNOBS[name].label)} '
                     f'<input type="range" class="nnp-s" min="0" max="{len(vals) - 1}" step="1" value="{s}" '
                     f'aria-label="{html.escape(KNOBS[name].label)}" aria-valuetext="{valuetext}" '
                     f'style="width:260px;vertical-align:middle" '
                     f'oninput="{_HANDLER}"></label> <b>{labels}</b></div>')
    shown_alt = next(alt for key, alt, _ in images if key == shown)
    # visually hidden (the figure's title says the same), read by screen readers when it changes
    parts.append('<p class="nnp-twin-status" role="status" aria-live="polite" style="position:absolute;'
                 'width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap;margin:0">'
                 f'{html.escape(shown_alt)}</p>')
    for key, label, b64 in images:
        style = "max-width:100%" + ("" if key == shown else ";display:none")
        parts.append(f'<img data-k="{key}" alt="{html.escape(label)}" style="{style}" '
                     f'src="data:image/png;base64,{b64}">')
    parts.append("</div>")
    names = tuple(n for n, _ in checked)
    return StaticTwin("".join(parts), runs, names, tuple(tuple(v) for _, v in checked))


__all__ = ["StaticTwin", "static_twin"]
