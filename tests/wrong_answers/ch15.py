"""Plausible wrong solutions for the exercises of chapter 15; each must fail its test cell."""

WRONG_ANSWERS = {
    "ch15-ex1-solution": [
        # lets NumPy decide: True becomes 1.0 and "0.5" becomes 0.5
        '''
def parse_example(obj, shape):
    try:
        array = np.asarray(obj, dtype=np.float32)
    except (TypeError, ValueError) as err:
        raise ValueError(str(err))
    if array.shape != tuple(shape):
        raise ValueError("wrong shape")
    return array
''',
        # checks types but forgets that bool is an int in Python, and forgets NaN
        '''
import math


def parse_example(obj, shape):
    def check(value, depth):
        if depth == len(shape):
            if not isinstance(value, (int, float)):
                raise ValueError("expected a number")
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


def parse_example(obj, shape):
    flat = []

    def walk(value):
        if isinstance(value, list):
            for v in value:
                walk(v)
        else:
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
                raise ValueError("expected a finite number")
            flat.append(value)

    walk(obj)
    if len(flat) != int(np.prod(shape)):
        raise ValueError("wrong size")
    return np.asarray(flat, dtype=np.float32).reshape(shape)
''',
        # cheat: calls the library's validate_inputs (its BadRequest is a ValueError) on a batch of one
        '''
def parse_example(obj, shape):
    return deploy.validate_inputs({"inputs": [obj]}, shape)[0]
''',
    ],
    "ch15-ex2-solution": [
        # an unsigned-style scale: only half the int8 range is used
        '''
def quantize_int8(w):
    largest = w.abs().max().item()
    scale = largest / 255 if largest > 0 else 1.0
    q = torch.round(w / scale).clamp(-127, 127).to(torch.int8)
    return q, scale
''',
        # truncates instead of rounding: errors up to a whole scale step
        '''
def quantize_int8(w):
    largest = w.abs().max().item()
    scale = largest / 127 if largest > 0 else 1.0
    q = (w / scale).to(torch.int8)
    return q, scale
''',
        # divides by zero on an all-zero tensor
        '''
def quantize_int8(w):
    scale = w.abs().max().item() / 127
    q = torch.round(w / scale).clamp(-127, 127).to(torch.int8)
    return q, scale
''',
    ],
}
