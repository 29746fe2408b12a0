"""hw1.pow: y = b ** e (tensor exponent and number exponent)."""
from ._engine import case, values_and_grads


def cases(rng):
    base = abs(rng.standard_normal((3, 4))) + 0.5
    return [
        case("b ** e, both (3, 4)", dict(b=base, e=rng.standard_normal((3, 4)),
                                          g=rng.standard_normal((3, 4)))),
        case("b ** 3.0", dict(b=base, g=rng.standard_normal((3, 4))), {"number": 3.0}),
        case("b ** e broadcast, e (4,)", dict(b=base, e=rng.standard_normal(4),
                                              g=rng.standard_normal((3, 4))), visibility="hidden"),
    ]


def run(case, params, arrays):
    if "number" in params:
        return values_and_grads(lambda b: b ** params["number"], arrays, ["b"], ["g"])
    return values_and_grads(lambda b, e: b ** e, arrays, ["b", "e"], ["g"])
