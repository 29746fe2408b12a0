import numpy as np
import pytest

from toygrad import affine_backward, affine_forward
from toygrad.gradcheck import gradcheck

pytestmark = pytest.mark.homework("hw2.affine")


def test_affine_backward_shapes(rng):
    x, w, b = rng.standard_normal((2, 3)), rng.standard_normal((3, 4)), rng.standard_normal(4)
    out, cache = affine_forward(x, w, b)
    dx, dw, db = affine_backward(np.ones_like(out), cache)
    assert (dx.shape, dw.shape, db.shape) == ((2, 3), (3, 4), (4,))


def test_affine_backward_gradcheck(rng):
    x, w, b = rng.standard_normal((2, 3)), rng.standard_normal((3, 4)), rng.standard_normal(4)
    g = rng.standard_normal((2, 4))

    def f(x, w, b):
        out, cache = affine_forward(x, w, b)
        return out, list(affine_backward(g, cache))

    gradcheck(f, [x, w, b], g)
