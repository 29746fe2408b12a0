"""gradcheck itself: it passes right backwards and catches wrong ones, naming the input."""
import numpy as np
import pytest

import minigrad as mg
from minigrad import Function, GradcheckError
from engine_checks import leaf, randn


class MatMulForgetsTranspose(Function):
    """dL/dA should be G @ B^T; this backward uses G @ B (shapes fit only when B is square)."""

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return a @ b

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved
        return grad @ b, a.T @ grad                # wrong for a, right for b


class SquareForgetsTwo(Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x * x

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved
        return grad * x                            # should be 2 x


class ScaleInPlace(Function):
    @staticmethod
    def forward(ctx, x):
        return 3 * x

    @staticmethod
    def backward(ctx, grad):
        grad *= 3                                  # changes the caller's array
        return grad


def test_right_backward_passes(rng):
    a, b = randn(rng, (3, 4)), randn(rng, (4, 2))
    assert mg.gradcheck(lambda x, y: (x @ y).tanh(), [a, b])


def test_forgotten_transpose_is_caught_on_the_right_input(rng):
    a, b = randn(rng, (3, 3)), randn(rng, (3, 3))
    with pytest.raises(GradcheckError, match=r"gradcheck failed for input 0 \(shape \(3, 3\)\) "
                                             r"at index .*relative error"):
        mg.gradcheck(MatMulForgetsTranspose.apply, [a, b])
    # b's gradient is right: with a fixed, the check passes
    assert mg.gradcheck(MatMulForgetsTranspose.apply, [a.detach(), b])


def test_forgotten_factor_two_is_caught_on_the_second_input(rng):
    x, y = randn(rng, (2, 3)), randn(rng, (2, 3))
    with pytest.raises(GradcheckError, match=r"input 1 .*relative error 3\.3"):  # |a-n|/(|a|+|n|) = 1/3
        mg.gradcheck(lambda p, q: p * 2 + SquareForgetsTwo.apply(q), [x, y])


def test_raise_exception_false_returns_false(rng):
    x = randn(rng, (2,))
    assert mg.gradcheck(SquareForgetsTwo.apply, [x], raise_exception=False) is False
    assert mg.gradcheck(lambda t: t * t, [x], raise_exception=False) is True


def test_backward_that_changes_its_incoming_gradient_is_caught(rng):
    with pytest.raises(GradcheckError, match="in place"):
        mg.gradcheck(ScaleInPlace.apply, [randn(rng, (3,))])


def test_float32_inputs_are_rejected():
    with pytest.raises(TypeError, match="input 0 has dtype float32; gradient checks need float64"):
        mg.gradcheck(lambda t: t * 2, [mg.ones(2, requires_grad=True)])


def test_non_leaf_input_and_no_grad_inputs_are_rejected(rng):
    x = randn(rng, (2,))
    with pytest.raises(ValueError, match="input 0 was made by an op"):
        mg.gradcheck(lambda t: t * 2, [x * 1])
    with pytest.raises(ValueError, match="no input requires grad"):
        mg.gradcheck(lambda t: t * 2, [x.detach()])


def test_gradcheck_restores_existing_grads(rng):
    x = randn(rng, (2,))
    (x * 5).sum().backward()
    mg.gradcheck(lambda t: t.exp(), [x])
    np.testing.assert_array_equal(x.grad.numpy(), [5.0, 5.0])


def test_numerical_grad_of_a_known_derivative():
    # L = sum(sin-free: x^3 * R); dL/dx = 3 x^2 R
    x = leaf([0.5, -1.0, 2.0])
    upstream = [np.array([1.0, 2.0, -1.0])]
    (grad,) = mg.numerical_grad(lambda t: t ** 3, [x], upstream=upstream)
    np.testing.assert_allclose(grad, 3 * np.array([0.25, 1.0, 4.0]) * upstream[0], rtol=1e-8)
    assert mg.numerical_grad(lambda t, c: t * c, [x, 2.0], upstream=upstream)[1] is None


def test_rel_error_values():
    assert mg.rel_error(np.array([1.0, 2.0]), np.array([1.0, 2.0])) == 0.0
    assert mg.rel_error(np.array([1.0]), np.array([3.0])) == pytest.approx(0.5)
    assert mg.rel_error(np.array([1.0]), np.array([-1.0])) == pytest.approx(1.0)
    assert mg.rel_error(mg.tensor([2.0], device="guard"), np.array([2.0])) == 0.0
    assert mg.rel_error(np.zeros(0), np.zeros(0)) == 0.0


def test_gradcheck_on_guard_device(rng):
    x = randn(rng, (2, 3), "guard")
    assert mg.gradcheck(lambda t: (t * t).sum(1), [x])
