"""hw3.multihead: HeadsProjection (1 and 3 projections) and MergeHeadsProjection."""
from ._engine import case, values_and_grads

E, NH, N, T = 4, 2, 2, 3


def cases(rng):
    found = []
    for batch_first in (False, True):
        shape = (N, T, E) if batch_first else (T, N, E)
        for count in (1, 3):
            found.append(case(f"HeadsProjection count={count} batch_first={batch_first}", dict(
                x=rng.standard_normal(shape), w=rng.standard_normal((count * E, E)),
                b=rng.standard_normal(count * E),
                **{f"g{i}": rng.standard_normal((N, NH, T, E // NH)) for i in range(count)}),
                {"kind": "split", "count": count, "batch_first": batch_first}))
        found.append(case(f"MergeHeadsProjection batch_first={batch_first}", dict(
            h=rng.standard_normal((N, NH, T, E // NH)), w=rng.standard_normal((5, E)),
            b=rng.standard_normal(5), g0=rng.standard_normal(shape[:2] + (5,))),
            {"kind": "merge", "batch_first": batch_first}))
    return found


def run(case, params, arrays):
    from layers.multihead import HeadsProjection, MergeHeadsProjection
    if params["kind"] == "merge":
        return values_and_grads(lambda h, w, b: MergeHeadsProjection.apply(
            h, w, b, batch_first=params["batch_first"]), arrays, ["h", "w", "b"], ["g0"])
    count = params["count"]
    return values_and_grads(lambda x, w, b: HeadsProjection.apply(
        x, w, b, num_heads=NH, count=count, batch_first=params["batch_first"]),
        arrays, ["x", "w", "b"], [f"g{i}" for i in range(count)])
