"""Homework 1: the backward of softmax and log_softmax (minigrad/ops/nn.py), one op per test.

(Values, dtypes and options of the functional API are tested in test_functional.py.)
"""
import numpy as np
import pytest

from minigrad.ops.nn import Softmax, LogSoftmax
from engine_checks import randn, check


@pytest.mark.homework("hw1.softmax")
@pytest.mark.parametrize("dim", [-1, 0, 1])
def test_hw1_softmax_backward(dim, rng):
    x = randn(rng, (3, 4, 5))
    check(lambda t: Softmax.apply(t, dim=dim), x)
    check(lambda t: LogSoftmax.apply(t, dim=dim), x)


@pytest.mark.homework("hw1.softmax")
def test_hw1_softmax_gradient_of_a_constant_shift_is_zero(rng):
    # softmax(x + c) = softmax(x): the gradient summed over dim is 0 for any upstream grad
    x = randn(rng, (2, 6))
    y = Softmax.apply(x, dim=-1)
    y.backward(randn(rng, (2, 6), requires_grad=False))
    np.testing.assert_allclose(x.grad.numpy().sum(axis=-1), 0.0, atol=1e-12)
