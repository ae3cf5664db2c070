"""forbid_ops and forbid_calls catch a forbidden operation under any name, and let the rest run."""
import doctest
import functools
import importlib
import math
import sys
import threading

import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F

from nnpractice import checkpoints, checks, deploy, search
from nnpractice.checks import CONVOLUTION_OPS, forbid_calls, forbid_ops

X, W, B = torch.randn(2, 3, 6, 6), torch.randn(4, 3, 3, 3), torch.randn(4)
CONV = F.conv2d  # a student's alias, bound before any check runs


def unfold_conv2d(x, weight, bias):
    """The allowed route: im2col with unfold, then one matrix product."""
    n, _, h, w = x.shape
    c_out, _, k, _ = weight.shape
    columns = F.unfold(x, k)  # [N, C_in*k*k, positions]
    return (weight.reshape(c_out, -1) @ columns + bias[:, None]).reshape(n, c_out, h - k + 1, w - k + 1)


CONVOLUTIONS_BY_ANOTHER_NAME = {
    "F.conv2d bound to another name": lambda: CONV(X, W, B),
    "torch.conv2d": lambda: torch.conv2d(X, W, B),
    "torch.convolution": lambda: torch.convolution(X, W, B, (1, 1), (0, 0), (1, 1), False, (0, 0), 1),
    "torch._convolution": lambda: torch._convolution(X, W, B, (1, 1), (0, 0), (1, 1), False, (0, 0), 1,
                                                     False, False, True, True),
    "torch.ops.aten.convolution.default": lambda: torch.ops.aten.convolution.default(
        X, W, B, [1, 1], [0, 0], [1, 1], False, [0, 0], 1),
    "torch.ops.aten.conv2d": lambda: torch.ops.aten.conv2d(X, W, B),
    "torch._C._nn.thnn_conv2d": lambda: torch._C._nn.thnn_conv2d(X, W, 3, B),
    "nn.Conv2d": lambda: nn.Conv2d(3, 4, 3)(X),
    "conv3d on a singleton depth": lambda: torch.conv3d(X[:, :, None], W[:, :, None], B),
    "conv_transpose2d": lambda: F.conv_transpose2d(X, W.transpose(0, 1)),
    "the gradient of a convolution": lambda: torch.nn.grad.conv2d_weight(X, W.shape, torch.randn(2, 4, 4, 4)),
}


@pytest.mark.parametrize("cheat", CONVOLUTIONS_BY_ANOTHER_NAME, ids=list(CONVOLUTIONS_BY_ANOTHER_NAME))
def test_forbid_ops_catches_every_convolution_entry_point(cheat):
    with pytest.raises(AssertionError, match=r"conv.*which this exercise forbids: use unfold"):
        with forbid_ops(*CONVOLUTION_OPS, reason="use unfold and matmul"):
            CONVOLUTIONS_BY_ANOTHER_NAME[cheat]()


def test_allowed_code_runs_and_the_checks_end_with_the_block():
    with forbid_ops(*CONVOLUTION_OPS, reason="use unfold"):
        mine = unfold_conv2d(X, W, B)
    assert torch.allclose(mine, F.conv2d(X, W, B), atol=1e-5)  # outside the block the real one runs again
    with pytest.raises(AssertionError):
        with forbid_ops("aten::convolution"):
            F.conv2d(X, W)
    assert F.conv2d(X, W).shape == (2, 4, 4, 4), "a violation must not leave the check switched on"


def test_the_dispatcher_sees_the_operator_a_composite_became():
    # aten::conv2d is not forbidden here: only the dispatch-level watch can see aten::convolution
    with pytest.raises(AssertionError, match=r"operator aten::convolution ran \(as aten.convolution.default\)"):
        with forbid_ops("aten::convolution"):
            F.conv2d(X, W)
    # ``a @ b`` is Tensor.__matmul__ at the torch level; the dispatcher runs aten::mm
    a, b = torch.randn(3, 4), torch.randn(4, 5)
    for call in (lambda: a @ b, lambda: a.mm(b), lambda: torch.mm(a, b), lambda: F.linear(a, b.T)):
        with pytest.raises(AssertionError, match="aten::mm"):
            with forbid_ops(torch.ops.aten.mm.default):
                call()


def test_a_composite_operator_is_caught_where_it_is_called():
    # the dispatcher never sees aten::linear (it becomes t + mm), so the torch-function watch must
    weight, bias = torch.randn(5, 4), torch.randn(5)
    calls = [lambda: F.linear(X[0, 0, :, :4], weight, bias), lambda: nn.Linear(4, 5)(X[0, 0, :, :4]),
             lambda: torch.ops.aten.linear(X[0, 0, :, :4], weight, bias)]
    for call in calls:
        with pytest.raises(AssertionError, match="operator aten::linear"):
            with forbid_ops("aten.linear", reason="multiply and add yourself"):
                call()
    with forbid_ops("aten::linear"):
        mine = X[0, 0, :, :4] @ weight.T + bias  # the same arithmetic, written out, is allowed
    assert torch.allclose(mine, F.linear(X[0, 0, :, :4], weight, bias))


def test_tensor_methods_and_functional_forms_are_one_operator():
    values, indices = F.max_pool2d(X, 2, return_indices=True)
    calls = [lambda: F.max_unpool2d(values, indices, 2), lambda: nn.MaxUnpool2d(2)(values, indices),
             lambda: torch._C._nn.max_unpool2d(values, indices, (6, 6)),
             lambda: torch.ops.aten.max_unpool2d.default(values, indices, [6, 6])]
    for call in calls:
        with pytest.raises(AssertionError, match="max_unpool2d"):
            with forbid_ops("aten::max_unpool2d"):
                call()
    with pytest.raises(AssertionError, match="Tensor.mm"):
        with forbid_ops("aten::mm"):
            X[0, 0].mm(X[0, 1])


def test_a_swallowed_violation_still_fails_the_block():
    def sneaky(x, w):
        try:
            return F.conv2d(x, w)
        except AssertionError:
            return torch.zeros(2, 4, 4, 4)
    with pytest.raises(AssertionError, match="aten::conv2d"):
        with forbid_ops(*CONVOLUTION_OPS):
            sneaky(X, W)


def test_convolution_group_holds_the_convolutions_and_not_unfold():
    for name in ("aten::convolution", "aten::conv2d", "aten::_convolution", "aten::thnn_conv2d",
                 "aten::conv_transpose2d", "aten::convolution_backward", "aten::mkldnn_convolution"):
        assert name in CONVOLUTION_OPS, name
    for name in ("aten::im2col", "aten::col2im", "aten::_convert_indices_from_coo_to_csr", "aten::mm"):
        assert name not in CONVOLUTION_OPS, name


@pytest.mark.parametrize("ops, kwargs, message", [
    ((), {}, r"ops=\(\) is not allowed: expected at least one operator"),
    (("aten::convolutoin",), {}, r"ops\[0\]='aten::convolutoin' is not allowed: .*did you mean 'aten::convolution'"),
    (("aten::mm", 3), {}, r"ops\[1\]=3 is not allowed: expected an operator such as 'aten::convolution'"),
    ((F.conv2d,), {}, r"ops\[0\]=<built-in method conv2d.* is not allowed"),
    (("aten::mm",), {"reason": 3}, r"reason=3 is not allowed: expected a string"),
])
def test_forbid_ops_refuses_bad_arguments(ops, kwargs, message):
    with pytest.raises(ValueError, match=message):
        forbid_ops(*ops, **kwargs)


def test_operator_names_in_every_accepted_spelling_mean_the_same():
    spellings = ["aten::convolution", "aten.convolution", "aten::convolution.default",
                 torch.ops.aten.convolution, torch.ops.aten.convolution.default]
    assert {frozenset(forbid_ops(s).ops) for s in spellings} == {frozenset({"aten::convolution"})}


# --------------------------------------------------------------------------- #
# forbid_calls
# --------------------------------------------------------------------------- #

EI = search.expected_improvement  # an alias bound before the check
SEARCH = importlib.import_module("nnpractice.search")
SHORTCUTS = {
    "an alias": lambda: EI([0.0], [1.0], 0.0),
    "getattr": lambda: getattr(search, "expected_" + "improvement")([0.0], [1.0], 0.0),
    "importlib": lambda: SEARCH.expected_improvement([0.0], [1.0], 0.0),
    "functools.partial": lambda: functools.partial(EI, best=0.0)([0.0], [1.0]),
    "a library function that calls it": lambda: search.bayesian_optimization(
        search.SearchSpace(lr=search.LogUniform(1e-3, 1.0)), lambda c, e: c["lr"], budget=6, max_epochs=1,
        num_initial=2, num_candidates=10),
}


@pytest.mark.parametrize("cheat", SHORTCUTS, ids=list(SHORTCUTS))
def test_forbid_calls_catches_the_library_shortcut_by_any_name(cheat):
    with pytest.raises(AssertionError, match=r"nnpractice\.search\.(\w+\.)?expected_improvement was called, .*: use math.erf"):
        with forbid_calls(search.expected_improvement, reason="use math.erf"):
            SHORTCUTS[cheat]()


@pytest.mark.filterwarnings("ignore::pytest.PytestUnhandledThreadExceptionWarning")  # the thread's own error
def test_forbid_calls_watches_threads_started_in_the_block_and_swallowed_errors():
    def in_a_thread():
        thread = threading.Thread(target=lambda: EI([0.0], [1.0], 0.0))
        thread.start()
        thread.join()
    with pytest.raises(AssertionError, match="expected_improvement was called"):
        with forbid_calls(search.expected_improvement):
            in_a_thread()

    def sneaky():
        try:
            return EI([0.0], [1.0], 0.0)
        except AssertionError:
            return EI([0.0], [1.0], 0.0)  # the profiler was switched off by the first error
    with pytest.raises(AssertionError, match="expected_improvement was called"):
        with forbid_calls(search.expected_improvement):
            sneaky()


def test_forbid_calls_catches_builtins_and_a_bound_method():
    erf = math.erf
    with pytest.raises(AssertionError, match="math.erf was called"):
        with forbid_calls(math.erf):
            erf(0.5)
    server_predict = deploy.PredictionServer.predict
    with pytest.raises(AssertionError, match="PredictionServer.predict was called"):
        with forbid_calls(server_predict):
            server_predict(object(), None)


def test_switching_the_profiler_off_is_a_violation():
    with pytest.raises(AssertionError, match="sys.setprofile was called inside forbid_calls"):
        with forbid_calls(search.expected_improvement):
            sys.setprofile(None)
            EI([0.0], [1.0], 0.0)


def test_allowed_code_runs_and_the_previous_profiler_comes_back():
    events = []

    def outer(frame, event, arg):
        events.append(event)
    old_sys, old_threading = sys.getprofile(), threading.getprofile()
    sys.setprofile(outer)
    threading.setprofile(outer)
    try:
        with forbid_calls(search.expected_improvement, deploy.validate_inputs):
            # other functions of the same modules (and other decorated library functions) are allowed
            z = float(deploy._as_float32_array([0.5])[0]) + math.erf(0.0) + len(checkpoints.config_tag({})) * 0
        assert sys.getprofile() is outer and threading.getprofile() is outer
        with pytest.raises(AssertionError):
            with forbid_calls(deploy.validate_inputs):
                deploy.validate_inputs({"inputs": [[1.0]]}, (1,))
        assert sys.getprofile() is outer and threading.getprofile() is outer
    finally:
        sys.setprofile(old_sys)
        threading.setprofile(old_threading)
    assert z == 0.5 and "call" in events, "the outer profiler kept running inside the block"


def test_a_decorated_function_is_watched_by_its_own_code_not_the_shared_wrapper():
    # validate_params gives every library function a wrapper with one shared code object:
    # forbidding one decorated function must not forbid all of them
    from nnpractice._validation import validate_params

    @validate_params({"x": [int]})
    def forbidden(x):
        return x

    @validate_params({"x": [int]})
    def allowed(x):
        return x

    assert forbidden.__code__ is allowed.__code__  # the situation this test is about
    with forbid_calls(forbidden, reason="r"):
        assert allowed(1) == 1
    with pytest.raises(AssertionError, match="forbidden was called"):
        with forbid_calls(forbidden, reason="r"):
            forbidden(1)


def test_nested_blocks_both_watch():
    with pytest.raises(AssertionError, match="validate_inputs was called"):
        with forbid_calls(deploy.validate_inputs):
            with forbid_calls(search.expected_improvement):
                deploy.validate_inputs({"inputs": [[1.0]]}, (1,))
    assert sys.getprofile() is None


@pytest.mark.parametrize("functions, kwargs, message", [
    ((), {}, r"functions=\(\) is not allowed: expected at least one function"),
    ((search.expected_improvement, 3), {}, r"functions\[1\]=3 is not allowed: expected a Python function"),
    ((torch.exp.__call__,), {}, None),  # a method-wrapper cannot be watched
    ((deploy.PredictionServer,), {}, r"functions\[0\]=<class .*PredictionServer'> is not allowed"),
    ((search.expected_improvement,), {"reason": None}, r"reason=None is not allowed: expected a string"),
])
def test_forbid_calls_refuses_bad_arguments(functions, kwargs, message):
    with pytest.raises(ValueError, match=message or "is not allowed: expected a Python function"):
        forbid_calls(*functions, **kwargs)


def test_the_docstring_examples_run():
    assert doctest.testmod(checks).failed == 0
