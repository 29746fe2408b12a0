"""out = x @ w + b; x: (N, D), w: (D, H), b: (H,), out: (N, H)."""


def affine_forward(x, w, b):
    return x @ w + b, (x, w)


def affine_backward(dout, cache):
    """dout: (N, H) -> (dx (N, D), dw (D, H), db (H,))."""
    x, w = cache
    db = dout.sum(axis=0)
    ### BEGIN SOLUTION hw2.affine
    ### TODO: dx, (N, D): one matrix product of dout and w.
    dx = dout @ w.T
    ### END SOLUTION
    return dx, affine_weight_grad(dout, x), db


def affine_weight_grad(dout, x):
    if dout.ndim != 2:
        raise ValueError(f"affine_weight_grad: dout must be (N, H), got shape {dout.shape}")
    ### BEGIN SOLUTION hw2.affine
    ### TODO: dw, (D, H): one matrix product of x and dout.
    dw_total = x.T @ dout
    return dw_total
    ### END SOLUTION
