"""hw1.mul_div: y = a * b and y = a / b, with broadcasting; values and both gradients."""
from ._engine import case, values_and_grads

OPS = {"mul": lambda a, b: a * b, "div": lambda a, b: a / b,
       "mul_number": lambda a: a * 2.5, "number_div": lambda b: 2.0 / b}


def cases(rng):
    a, b = rng.standard_normal((3, 4)), rng.standard_normal((3, 4))
    pos = abs(rng.standard_normal((1, 4))) + 0.5
    return [
        case("a * b, (3, 4) by (3, 4)", dict(a=a, b=b, g=rng.standard_normal((3, 4))), {"op": "mul"}),
        case("a * b broadcast, (3, 4) by (1, 4)", dict(a=a, b=pos, g=rng.standard_normal((3, 4))), {"op": "mul"}),
        case("a * 2.5", dict(a=a, g=rng.standard_normal((3, 4))), {"op": "mul_number"}),
        case("a / b broadcast, (3, 4) by (1, 4)", dict(a=a, b=pos, g=rng.standard_normal((3, 4))), {"op": "div"}),
        case("2 / b", dict(b=pos, g=rng.standard_normal((1, 4))), {"op": "number_div"},
             visibility="hidden"),
    ]


def run(case, params, arrays):
    names = [n for n in ("a", "b") if n in arrays]
    return values_and_grads(OPS[params["op"]], arrays, names, ["g"])
