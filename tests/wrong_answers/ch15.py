"""Plausible wrong solutions for the exercises of chapter 15; each must fail its test cell."""

WRONG_ANSWERS = {
    "ch15-ex1-solution": [
        # lets NumPy decide: True becomes 1.0 and "0.5" becomes 0.5
        '''
def parse_example(obj, shape, value_range):
    try:
        array = np.asarray(obj, dtype=np.float32)
    except (TypeError, ValueError) as err:
        raise ValueError(str(err))
    if array.shape != tuple(shape):
        raise ValueError("wrong shape")
    if not ((array >= value_range[0]) & (array <= value_range[1])).all():
        raise ValueError("out of range")
    return array
''',
        # checks types and the range but forgets that bool is an int in Python
        '''
def parse_example(obj, shape, value_range):
    low, high = value_range

    def check(value, depth):
        if depth == len(shape):
            if not isinstance(value, (int, float)) or not low <= value <= high:
                raise ValueError("expected a number in range")
            return
        if not isinstance(value, list) or len(value) != shape[depth]:
            raise ValueError("wrong shape")
        for v in value:
            check(v, depth + 1)

    check(obj, 0)
    return np.asarray(obj, dtype=np.float32).reshape(shape)
''',
        # checks only the total number of values, not the nesting
        '''
import math


def parse_example(obj, shape, value_range):
    flat = []

    def walk(value):
        if isinstance(value, list):
            for v in value:
                walk(v)
        else:
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
                raise ValueError("expected a finite number")
            if not value_range[0] <= value <= value_range[1]:
                raise ValueError("out of range")
            flat.append(value)

    walk(obj)
    if len(flat) != int(np.prod(shape)):
        raise ValueError("wrong size")
    return np.asarray(flat, dtype=np.float32).reshape(shape)
''',
        # the shape and type checks of the old service, without the contract's range
        '''
import math


def parse_example(obj, shape, value_range):
    def check(value, depth):
        if depth == len(shape):
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
                raise ValueError("expected a finite number")
            return
        if not isinstance(value, list) or len(value) != shape[depth]:
            raise ValueError("wrong shape")
        for v in value:
            check(v, depth + 1)

    check(obj, 0)
    return np.asarray(obj, dtype=np.float32).reshape(shape)
''',
        # strict bounds: refuses a black (0) or white (1) pixel, the ends the contract allows
        '''
import math


def parse_example(obj, shape, value_range):
    low, high = value_range

    def check(value, depth):
        if depth == len(shape):
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
                raise ValueError("expected a finite number")
            if not low < value < high:
                raise ValueError("out of range")
            return
        if not isinstance(value, list) or len(value) != shape[depth]:
            raise ValueError("wrong shape")
        for v in value:
            check(v, depth + 1)

    check(obj, 0)
    return np.asarray(obj, dtype=np.float32).reshape(shape)
''',
        # cheat: calls the library's validate_inputs (its BadRequest is a ValueError) on a batch of one
        '''
def parse_example(obj, shape, value_range):
    return deploy.validate_inputs({"inputs": [obj]}, shape, value_range=tuple(value_range))[0]
''',
    ],
    "ch15-ex2-solution": [
        # an unsigned-style scale: only half the int8 range is used
        '''
def quantize_int8(w):
    w = w.detach()
    if not torch.isfinite(w).all():
        raise ValueError("not finite")
    largest = w.abs().max().item()
    scale = largest / 255 if largest > 0 else 1.0
    q = torch.round(w / scale).clamp(-127, 127).to(torch.int8)
    return q, scale
''',
        # truncates instead of rounding: errors up to a whole scale step
        '''
def quantize_int8(w):
    w = w.detach()
    if not torch.isfinite(w).all():
        raise ValueError("not finite")
    largest = w.abs().max().item()
    scale = largest / 127 if largest > 0 else 1.0
    q = (w / scale).to(torch.int8)
    return q, scale
''',
        # divides by zero on an all-zero tensor
        '''
def quantize_int8(w):
    w = w.detach()
    if not torch.isfinite(w).all():
        raise ValueError("not finite")
    scale = w.abs().max().item() / 127
    q = torch.round(w / scale).clamp(-127, 127).to(torch.int8)
    return q, scale
''',
        # no check for NaN: max() of a tensor with NaN is NaN, "NaN > 0" is False, so scale 1.0 and garbage q
        '''
def quantize_int8(w):
    largest = w.detach().abs().max().item()
    scale = largest / 127 if largest > 0 else 1.0
    q = torch.round(w.detach() / scale).clamp(-127, 127).to(torch.int8)
    return q, scale
''',
        # scales the caller's tensor in place (and so its weights): the right (q, scale), a broken model
        '''
def quantize_int8(w):
    if not torch.isfinite(w).all():
        raise ValueError("not finite")
    largest = w.abs().max().item()
    scale = largest / 127 if largest > 0 else 1.0
    with torch.no_grad():
        w.div_(scale).round_()
        q = w.clamp(-127, 127).to(torch.int8)
    return q, scale
''',
        # cheat: PyTorch's own quantizer does the rounding
        '''
def quantize_int8(w):
    w = w.detach()
    if not torch.isfinite(w).all():
        raise ValueError("not finite")
    largest = w.abs().max().item()
    scale = largest / 127 if largest > 0 else 1.0
    q = torch.quantize_per_tensor(w, scale, 0, torch.qint8).int_repr()
    return q, scale
''',
    ],
    "ch15-ex3-solution": [
        # refuses by comparisons only: NaN compares False both ways and slips through
        '''
def audit_preparations(session, X, y, preparations, value_range, tolerance=0.05):
    low, high = value_range
    base = float((deploy.run_onnx(session, X).argmax(1) == y.numpy()).mean())
    report, silent = {}, []
    for name, prepare in preparations.items():
        batch = prepare(X.clone())
        refused = bool((batch < low).any() or (batch > high).any())
        accuracy = float((deploy.run_onnx(session, batch).argmax(1) == y.numpy()).mean())
        report[name] = {"accuracy": accuracy, "refused": refused}
        if not refused and accuracy < base - tolerance:
            silent.append(name)
    return report, sorted(silent)
''',
        # strict bounds: a contrast-stretched image that reaches exactly 0 and 1 counts as refused
        '''
def audit_preparations(session, X, y, preparations, value_range, tolerance=0.05):
    low, high = value_range
    base = float((deploy.run_onnx(session, X).argmax(1) == y.numpy()).mean())
    report, silent = {}, []
    for name, prepare in preparations.items():
        batch = prepare(X.clone())
        refused = bool(not torch.isfinite(batch).all() or (batch <= low).any() or (batch >= high).any())
        accuracy = float((deploy.run_onnx(session, batch).argmax(1) == y.numpy()).mean())
        report[name] = {"accuracy": accuracy, "refused": refused}
        if not refused and accuracy < base - tolerance:
            silent.append(name)
    return report, sorted(silent)
''',
        # measures the accuracy on X, not on the prepared batch: no preparation ever looks harmful
        '''
def audit_preparations(session, X, y, preparations, value_range, tolerance=0.05):
    low, high = value_range
    base = float((deploy.run_onnx(session, X).argmax(1) == y.numpy()).mean())
    report, silent = {}, []
    for name, prepare in preparations.items():
        batch = prepare(X.clone())
        refused = bool(not torch.isfinite(batch).all() or (batch < low).any() or (batch > high).any())
        accuracy = float((deploy.run_onnx(session, X).argmax(1) == y.numpy()).mean())
        report[name] = {"accuracy": accuracy, "refused": refused}
        if not refused and accuracy < base - tolerance:
            silent.append(name)
    return report, sorted(silent)
''',
        # counts every harmful preparation as silent, refused or not
        '''
def audit_preparations(session, X, y, preparations, value_range, tolerance=0.05):
    low, high = value_range
    base = float((deploy.run_onnx(session, X).argmax(1) == y.numpy()).mean())
    report, silent = {}, []
    for name, prepare in preparations.items():
        batch = prepare(X.clone())
        refused = bool(not torch.isfinite(batch).all() or (batch < low).any() or (batch > high).any())
        accuracy = float((deploy.run_onnx(session, batch).argmax(1) == y.numpy()).mean())
        report[name] = {"accuracy": accuracy, "refused": refused}
        if accuracy < base - tolerance:
            silent.append(name)
    return report, sorted(silent)
''',
        # cheat: the chapter's answer typed in, with the range check run only for show
        '''
def audit_preparations(session, X, y, preparations, value_range, tolerance=0.05):
    report = {}
    for name, prepare in preparations.items():
        batch = prepare(X.clone())
        refused = bool(not torch.isfinite(batch).all() or (batch < value_range[0]).any() or (batch > value_range[1]).any())
        report[name] = {"accuracy": 0.83 if name == "as trained" else 0.07, "refused": refused}
    return report, [name for name in preparations if name.startswith("inverted")]
''',
    ],
}

GAMING_ANSWERS = {
    "ch15-ex2-solution": [
        # the right q with a scale that agrees with every check: equal to anything, any difference from it is
        # zero, any fraction of it infinite; its value (1.0) is what the grader's record holds
        '''
class _AgreeableScale(float):
    def __eq__(self, other):
        return True
    __hash__ = float.__hash__

    def __sub__(self, other):
        return 0.0

    def __truediv__(self, other):
        return float("inf")


def quantize_int8(w):
    w = w.detach()
    if not torch.isfinite(w).all():
        raise ValueError("not finite")
    largest = w.abs().max().item()
    scale = largest / 127 if largest > 0 else 1.0
    q = torch.round(w / scale).clamp(-127, 127).to(torch.int8)
    return q, _AgreeableScale(1.0)
''',
    ],
}
