"""The playground's problems: 2D toy sets drawn fresh, small image sets from a fixed shuffle (cached).

>>> X_train, y_train, X_val, y_val = problem_data("moons", 100, 0.2, seed=0)
>>> tuple(X_train.shape), tuple(X_val.shape)
((100, 2), (200, 2))
"""
from __future__ import annotations

from numbers import Integral, Real

import torch

from .. import augment, data
from .._validation import Interval, Options, invalid, validate_params
from .knobs import IMAGE_PROBLEMS, PROBLEMS

VAL_SIZE = {"2d": 200, "image": 400}

_DATA_CACHE: dict = {}
_IMAGE_SOURCES: dict = {}


@validate_params({"problem": [Options(*IMAGE_PROBLEMS)]})
def image_source(problem: str):
    """All examples of an image set, ``(X, y)``, in one fixed shuffled order (cached)."""
    if problem not in _IMAGE_SOURCES:
        if problem == "digits":
            X, y = data.load_digits()
        else:
            X_a, y_a, X_b, y_b = data.load_mnist1d(2000, seed=42)  # the data set's own seed, not the run's
            X, y = torch.cat([X_a, X_b]), torch.cat([y_a, y_b])
            X = (X - X.mean()) / X.std()
        order = torch.randperm(len(X), generator=torch.Generator().manual_seed(0))
        _IMAGE_SOURCES[problem] = (X[order], y[order])
    return _IMAGE_SOURCES[problem]


@validate_params({"problem": [Options(*PROBLEMS)]})
def problem_shape(problem: str) -> tuple[int, int]:
    """``(inputs, classes)`` of a problem's network."""
    if problem not in IMAGE_PROBLEMS:
        return 2, 2
    return (64 if problem == "digits" else 40), 10


@validate_params({"problem": [Options(*IMAGE_PROBLEMS)]})
def max_train_size(problem: str) -> int:
    """The most training examples an image set can give (the rest is the validation set)."""
    return len(image_source(problem)[0]) - VAL_SIZE["image"]


@validate_params({"problem": [Options(*PROBLEMS)], "train_size": [Interval(Integral, 1, None)],
                  "noise": [Interval(Real, 0.0, None)], "seed": [data.SEED]})
def problem_data(problem: str, train_size: int, noise: float, *, seed: int = 0):
    """``(X_train, y_train, X_val, y_val)`` for a playground problem (cached).

    Toy problems draw ``train_size`` training and 200 validation points with
    ``noise``; image sets take the first ``train_size`` examples of a fixed shuffle
    for training, the last 400 for validation, and add Gaussian input noise.
    """
    key = (problem, train_size, round(float(noise), 6), seed)
    if key not in _DATA_CACHE:
        if problem in IMAGE_PROBLEMS:
            X, y = image_source(problem)
            n_val = VAL_SIZE["image"]
            if train_size > len(X) - n_val:
                raise invalid("train_size", train_size, f"at most {len(X) - n_val} for {problem!r}")
            X_train, y_train, X_val, y_val = X[:train_size], y[:train_size], X[-n_val:], y[-n_val:]
            if noise > 0:
                gen = torch.Generator().manual_seed(seed + 1)
                # unclipped: standardized features are not pixels in [0, 1]
                X_train = augment.gaussian_noise(X_train, noise, clip=None, generator=gen)
                X_val = augment.gaussian_noise(X_val, noise, clip=None, generator=gen)
        else:
            n_val = VAL_SIZE["2d"]
            X, y = data.make_toy(problem, train_size + n_val, noise=float(noise), seed=seed)
            X_train, y_train, X_val, y_val = X[:train_size], y[:train_size], X[train_size:], y[train_size:]
        if len(_DATA_CACHE) > 64:
            _DATA_CACHE.clear()
        _DATA_CACHE[key] = (X_train, y_train, X_val, y_val)
    return _DATA_CACHE[key]


__all__ = ["VAL_SIZE", "image_source", "problem_shape", "max_train_size", "problem_data"]
