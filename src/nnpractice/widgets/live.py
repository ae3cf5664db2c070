"""The live playground of the HTML book: the page trains the network itself while the reader drags a slider.

:func:`live_playground` writes self-contained HTML: the problem's data and settings as JSON, the
dependency-free JavaScript trainer (``js/trainer.js``, held to PyTorch by ``tests/test_js_trainer.py``) and the
page script (``js/live.js``) inline, so the book works from ``file://`` with no network and no kernel. The
static twin, if given, stays inside as the fallback for readers without JavaScript.

>>> live = live_playground("moons", {"lr": [0.01, 0.1, 1.0]}, seed=0)
>>> live.spec["knobs"][0]["values"], live.spec["knobs"][0]["start"], "NNTrainer" in live.html
([0.01, 0.1, 1.0], 1, True)
"""
from __future__ import annotations

import html
import itertools
import json
from numbers import Integral
from pathlib import Path

from .. import data
from .._validation import InstanceOf, Interval, Options, invalid, validate_params
from .knobs import IMAGE_PROBLEMS, KNOBS, PROBLEMS, check_config, format_value
from .problems import problem_data, problem_shape
from .renderer import Renderer
from .twin import StaticTwin

JS_DIR = Path(__file__).with_name("js")
# Knobs the page can change while it trains; the data knobs (noise, train_size) are fixed by the embedded data.
LIVE_KNOBS = ("lr", "dropout", "l2", "l1", "batch_size", "epochs", "width", "depth", "optimizer", "activation")
LIVE_ACTIVATIONS = ("relu", "tanh", "sigmoid")  # what js/trainer.js implements
_IDS = itertools.count()
PAGE_SEED = Interval(Integral, 0, 2**32 - 1)  # the page's generator (mulberry32) has 32 bits of state


class LivePlayground:
    """Self-contained HTML of a live playground (see :func:`live_playground`); ``spec`` is its settings."""

    @validate_params({"html_text": [str], "spec": [dict]})
    def __init__(self, html_text: str, spec: dict):
        self.html = html_text
        self.spec = spec

    def _repr_html_(self) -> str:
        return self.html

    @validate_params({"path": [str, Path]})
    def save(self, path) -> None:
        """Write a standalone page (opens from ``file://`` with no network)."""
        Path(path).write_text("<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>Playground</title>"
                              f"</head><body><main>{self.html}</main></body></html>")


def _rounded(tensor) -> list:
    return [[round(float(v), 5) for v in row] for row in tensor.tolist()]


def _problem_spec(problem: str, fixed: dict, seed: int) -> dict:
    """One problem's data for the page (rounded to 5 decimals) and, for 2D sets, the extent of its map."""
    X_train, y_train, X_val, y_val = problem_data(problem, fixed["train_size"], fixed["noise"], seed=seed)
    train, val = _rounded(X_train), _rounded(X_val)
    extent = []
    if problem not in IMAGE_PROBLEMS:
        both = X_train.new_tensor(train + val)
        low, high = both.min(0).values, both.max(0).values
        pad = 0.1 * (high - low)
        extent = [float(low[0] - pad[0]), float(high[0] + pad[0]), float(low[1] - pad[1]), float(high[1] + pad[1])]
    return {"data": {"train": {"X": train, "y": y_train.tolist()}, "val": {"X": val, "y": y_val.tolist()}},
            "extent": extent}


@validate_params({"problem": [Options(*PROBLEMS)], "knobs": [InstanceOf(dict, "a dict of knob names to lists of values")],
                  "seed": [PAGE_SEED], "fallback": [StaticTwin, None],
                  "problems": [InstanceOf((list, tuple), "a list of 2D problem names"), None]})
def live_playground(problem: str = "moons", knobs: dict | None = None, *, seed: int = 0,
                    fallback: StaticTwin | None = None, problems=None, **settings) -> LivePlayground:
    """A playground the HTML page trains itself: one slider per entry of ``knobs`` (name: its values).

    The other settings take their defaults or ``settings`` (as in :func:`~nnpractice.widgets.static_twin`);
    each slider starts at the value ``settings`` gives it, else at its middle value. The data are those of
    ``problem_data(problem, train_size, noise, seed=seed)``; ``seed`` also seeds the page's first run.
    ``problems`` lists 2D toy sets the reader may switch to (``problem`` first), each embedded in the page.
    """
    knobs = {"lr": [0.001, 0.01, 0.1, 1.0, 10.0]} if knobs is None else knobs
    if not knobs:
        raise invalid("knobs", knobs, "at least one knob with its values")
    fixed = check_config(problem, settings)
    sliders = []
    for name, values in knobs.items():
        if name not in LIVE_KNOBS:
            raise invalid("knobs", name, "a knob the page can change: one of " + ", ".join(map(repr, LIVE_KNOBS)))
        if not isinstance(values, (list, tuple)) or not values:
            raise invalid(f"knobs[{name!r}]", values, "a non-empty list of values")
        values = [KNOBS[name].check(name, v) for v in values]
        start = values.index(fixed[name]) if name in settings and fixed[name] in values else len(values) // 2
        sliders.append({"name": name, "label": KNOBS[name].label, "values": values, "start": start})
    chosen = {s["name"]: s["values"] for s in sliders}
    for activation in chosen.get("activation", [fixed["activation"]]):
        if activation not in LIVE_ACTIVATIONS:
            raise invalid("activation", activation, "one of " + ", ".join(map(repr, LIVE_ACTIVATIONS)) + " in the page")
    problems = [problem] if problems is None else list(problems)
    if not problems or problems[0] != problem or len(set(problems)) != len(problems):
        raise invalid("problems", problems, f"distinct problem names starting with problem={problem!r}")
    for name in problems[1:]:
        if name in IMAGE_PROBLEMS or name not in PROBLEMS or problem in IMAGE_PROBLEMS:
            raise invalid("problems", name, "2D toy sets to switch between: " + ", ".join(map(repr, data.TOY_PROBLEMS)))
    inputs, classes = problem_shape(problem)
    is_2d = problem not in IMAGE_PROBLEMS
    spec = {"problem": problem, "is2d": is_2d, "inputs": inputs, "classes": classes, "seed": seed,
            "knobs": sliders, "fixed": {k: v for k, v in fixed.items() if k in LIVE_KNOBS},
            "lossLimits": list(Renderer.LOSS_LIMITS["2d" if is_2d else "image"]),
            "problems": {name: _problem_spec(name, fixed, seed) for name in problems}}
    # "</" would end the <script> element early; "<\/" is the same JSON string.
    spec_json = json.dumps(spec, separators=(",", ":")).replace("</", "<\\/")
    ident = f"nnp-live-{next(_IDS)}"
    title = ", ".join(f"{s['label']} from {format_value(s['values'][0])} to {format_value(s['values'][-1])}"
                      for s in sliders)
    canvas = 'style="max-width:100%;border:1px solid #ccc;margin-right:2px;vertical-align:top"'
    scripts = [(JS_DIR / name).read_text() for name in ("trainer.js", "live.js")]
    assert not any("</script" in s.lower() for s in scripts), "an inline script may not hold '</script'"
    parts = [
        f'<div class="nnp-live" id="{ident}" style="font-family:sans-serif;margin:0.5em 0">',
        f'<div class="nnp-live-fallback">{fallback.html if fallback is not None else ""}</div>',
        f'<div class="nnp-live-ui" hidden><p style="margin:0.2em 0">Live: the page trains the network as you move '
        f'a slider ({html.escape(title)}).</p>',
        '<div class="nnp-live-controls" style="display:flex;flex-wrap:wrap;gap:0.4em 1.2em;align-items:center"></div>',
        '<div style="margin-top:0.3em">',
        f'<canvas class="nnp-live-map" width="210" height="210" role="img" aria-label="decision boundary" {canvas}'
        f'{"" if is_2d else " hidden"}></canvas>',
        f'<canvas class="nnp-live-loss" width="225" height="210" role="img" aria-label="loss curves" {canvas}></canvas>',
        f'<canvas class="nnp-live-acc" width="225" height="210" role="img" aria-label="accuracy curves" {canvas}></canvas>',
        '</div><p class="nnp-live-status" aria-live="polite" style="margin:0.2em 0"></p></div>',
        f'<script type="application/json" class="nnp-live-spec">{spec_json}</script>',
        *(f"<script>{source}</script>" for source in scripts),
        "</div>",
    ]
    return LivePlayground("".join(parts), spec)


__all__ = ["LIVE_KNOBS", "LivePlayground", "live_playground"]
