import numpy as np
import pytest

from toygrad import square_backward, tanh_backward, tanh_forward
from toygrad.gradcheck import gradcheck


def test_tanh_forward_values():
    # not homework: runs in no problem's selection
    y, _ = tanh_forward(np.array([0.0]))
    assert y[0] == 0.0


@pytest.mark.homework("hw1.square")
def test_square_backward_by_hand():
    # d(x^2)/dx at x = 3 is 6; times an upstream grad of 0.5 gives 3.
    assert square_backward(np.array([3.0]), np.array([0.5]))[0] == pytest.approx(3.0)


@pytest.mark.homework("hw1.square")
def test_square_backward_gradcheck(rng):
    x = rng.standard_normal((3, 4))
    g = rng.standard_normal((3, 4))
    gradcheck(lambda x: (x * x, [square_backward(x, g)]), [x], g)


@pytest.mark.homework("hw1.tanh")
def test_tanh_backward_at_zero():
    # tanh'(0) = 1
    assert tanh_backward(np.array([2.0]), np.array([0.0]))[0] == pytest.approx(2.0)


@pytest.mark.homework("hw1.tanh")
def test_tanh_backward_gradcheck(rng):
    x = rng.standard_normal((3, 4))
    g = rng.standard_normal((3, 4))

    def f(x):
        y, saved = tanh_forward(x)
        return y, [tanh_backward(g, saved)]

    gradcheck(f, [x], g)
