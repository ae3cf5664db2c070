"""The live playground (ipywidgets) and its static twin for the HTML book.

A :class:`Playground` trains a small network on a 2D toy problem or a small image
set and redraws while it trains: move a slider and the decision boundary and the
loss curves change within a fraction of a second on a CPU. A chapter picks the
knobs it teaches::

    from nnpractice import widgets
    playground = widgets.Playground("moons", knobs=("lr", "optimizer"))
    playground            # the last expression of a cell shows it in Jupyter

The HTML book shows :func:`static_twin` instead: the same figures precomputed for a
sweep of one or two knobs, swapped by an HTML slider. One idea per file:

- ``knobs``: what a reader may change (:data:`KNOBS`), its range and defaults;
- ``problems``: the data of each problem (toy sets, digits, MNIST-1D);
- ``runs``: one training run, :func:`training.fit <nnpractice.training.fit>` plus two callbacks;
- ``renderer``: the figure, redrawn per frame;
- ``playground``: the live widget and its background worker;
- ``twin``: the static HTML twin;
- ``live``: the in-page playground of the HTML book (``js/trainer.js`` trains in the browser), with the
  twin inside as its fallback without JavaScript.

>>> run = train_once("moons", {"epochs": 3, "lr": 0.1}, seed=0)
>>> run.status, run.history.num_epochs, run.config["optimizer"]
('completed', 3, 'momentum')
"""
from .knobs import DEFAULTS_2D, DEFAULTS_IMAGE, IMAGE_PROBLEMS, KNOBS, PROBLEMS, Knob, check_config, default_config
from .live import LIVE_KNOBS, LivePlayground, live_playground
from .playground import Playground
from .problems import VAL_SIZE, problem_data
from .renderer import Renderer
from .runs import Aborted, Run, StopWhenStale, StreamEpochs, build_model, train_once
from .twin import StaticTwin, static_twin

__all__ = ["KNOBS", "Knob", "PROBLEMS", "IMAGE_PROBLEMS", "DEFAULTS_2D", "DEFAULTS_IMAGE", "VAL_SIZE",
           "Playground", "Renderer", "Run", "StaticTwin", "Aborted", "StopWhenStale", "StreamEpochs",
           "check_config", "default_config", "problem_data", "static_twin", "train_once", "build_model",
           "LIVE_KNOBS", "LivePlayground", "live_playground"]
