"""hw2.affine: affine_forward, then affine_backward: out and the three gradients."""


def cases(rng):
    return [dict(name="affine, N=2 D=3 H=4", inputs=dict(
        x=rng.standard_normal((2, 3)), w=rng.standard_normal((3, 4)), b=rng.standard_normal(4),
        g=rng.standard_normal((2, 4))))]


def run(case, params, arrays):
    from toygrad import affine_backward, affine_forward
    out, cache = affine_forward(arrays["x"], arrays["w"], arrays["b"])
    dx, dw, db = affine_backward(arrays["g"], cache)
    return {"out": out, "dx": dx, "dw": dw, "db": db}
