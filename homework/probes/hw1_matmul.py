"""hw1.matmul: y = a @ b for 2-d, batched, broadcast and 1-d operands."""
from ._engine import case, values_and_grads

SHAPES = [((3, 4), (4, 5)), ((2, 3, 4), (4, 5)), ((4,), (4, 5)), ((3, 4), (4,)),
          ((2, 1, 3, 4), (5, 4, 2))]


def cases(rng):
    found = []
    for i, (sa, sb) in enumerate(SHAPES):
        a, b = rng.standard_normal(sa), rng.standard_normal(sb)
        g = rng.standard_normal((a @ b).shape)
        found.append(case(f"{sa} @ {sb}", dict(a=a, b=b, g=g),
                          visibility="hidden" if i == len(SHAPES) - 1 else "visible"))
    return found


def run(case, params, arrays):
    return values_and_grads(lambda a, b: a @ b, arrays, ["a", "b"], ["g"])
