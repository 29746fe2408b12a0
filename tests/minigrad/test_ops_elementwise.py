"""Elementwise ops: values against NumPy, gradients by gradcheck, PyTorch as a second opinion."""
import math

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st
from hypothesis.extra import numpy as hnp

import minigrad as mg
from engine_checks import leaf, randn, host, check, torch_pair, torch_grads_match

_erf = np.vectorize(math.erf)

# name -> (minigrad function, NumPy reference, needs positive input)
UNARY = {
    "neg": (lambda x: -x, lambda a: -a, False),
    "exp": (mg.exp, np.exp, False),
    "log": (mg.log, np.log, True),
    "sqrt": (mg.sqrt, np.sqrt, True),
    "tanh": (mg.tanh, np.tanh, False),
    "sigmoid": (mg.sigmoid, lambda a: 1 / (1 + np.exp(-a)), False),
    "relu": (mg.relu, lambda a: np.maximum(a, 0), False),
    "gelu": (mg.gelu, lambda a: 0.5 * a * (1 + _erf(a / np.sqrt(2))), False),
    "erf": (mg.erf, _erf, False),
    "gelu_tanh": (lambda x: mg.gelu(x, approximate="tanh"),
                  lambda a: 0.5 * a * (1 + np.tanh(np.sqrt(2 / np.pi) * (a + 0.044715 * a ** 3))),
                  False),
    "abs": (mg.abs, np.abs, False),
    "clip": (lambda x: x.clip(-0.5, 0.7), lambda a: np.clip(a, -0.5, 0.7), False),
    "clamp_min": (lambda x: x.clamp(min=0.1), lambda a: np.maximum(a, 0.1), False),
    "square": (lambda x: x ** 2, lambda a: a ** 2, False),
    "pow_half": (lambda x: x ** 0.5, np.sqrt, True),
    "rpow": (lambda x: 2.0 ** x, lambda a: 2.0 ** a, False),
    "rsub": (lambda x: 1.0 - x, lambda a: 1.0 - a, False),
    "rdiv": (lambda x: 3.0 / x, lambda a: 3.0 / a, True),
}


@pytest.mark.parametrize("name", sorted(UNARY))
def test_unary_values_and_gradients(name, device, rng):
    fn, reference, positive = UNARY[name]
    x = randn(rng, (2, 3), device, positive=positive)
    np.testing.assert_allclose(host(fn(x)), reference(host(x)), rtol=1e-6, atol=2e-7)
    check(fn, x)


@pytest.mark.parametrize("name", ["exp", "tanh", "sigmoid", "relu", "gelu", "erf", "abs"])
def test_unary_on_0d_tensor(name, device):
    fn, reference, _ = UNARY[name]
    x = leaf(0.3, device)
    assert fn(x).shape == ()
    np.testing.assert_allclose(host(fn(x)), reference(np.float64(0.3)), rtol=1e-14)
    check(fn, x)


def test_erf_is_math_erf_to_rounding_everywhere():
    """Cephes's rational approximations: within 4 units in the last place of math.erf in
    float64 from -30 to 30 (both branches and the switch points 1 and 8), 3 in float32; limits,
    signs and NaN as math.erf."""
    grid = np.concatenate([np.linspace(-30, 30, 24_001), [1.0, -1.0, 8.0, -8.0, 1e-300]])
    expected = _erf(grid)
    got = mg.erf(mg.tensor(grid, dtype="float64")).numpy()
    ulps = np.abs(got - expected) / np.spacing(np.abs(expected)).clip(np.finfo(float).tiny)
    assert ulps.max() <= 4, grid[np.argmax(ulps)]
    grid32 = grid.astype(np.float32)
    got32 = mg.erf(mg.tensor(grid32)).numpy()
    expected32 = _erf(grid32.astype(np.float64))
    assert got32.dtype == np.float32
    ulps32 = np.abs(got32 - expected32) / np.spacing(np.abs(expected32).astype(np.float32))
    assert ulps32.max() <= 3, grid32[np.argmax(ulps32)]
    special = mg.erf(mg.tensor([0.0, -0.0, np.inf, -np.inf, np.nan, 1e300, -1e300],
                               dtype="float64")).numpy()
    np.testing.assert_array_equal(special[[0, 2, 3, 5, 6]], [0.0, 1.0, -1.0, 1.0, -1.0])
    assert np.signbit(special[1]) and np.isnan(special[4])
    for value in (0.5, -2.0, 9.0):                           # 0-d, in each of the three ranges
        assert mg.erf(mg.tensor(value, dtype="float64")).item() == pytest.approx(
            math.erf(value), rel=1e-15)


def test_erf_of_a_large_array_is_done_in_pieces_with_the_same_values(rng):
    """Past CPU_PIECE elements erf runs piece by piece (cache-sized): the seams, a last
    partial piece and a non-contiguous input must not show."""
    from minigrad.ops.special import CPU_PIECE
    values = rng.standard_normal((3, CPU_PIECE // 2 + 7)) * 3       # 1.5 pieces and a bit
    x = mg.tensor(values.T, dtype="float64")                          # transposed: a copy
    np.testing.assert_allclose(mg.erf(x).numpy(), _erf(values.T), rtol=1e-15, atol=1e-300)


def test_relu_gives_positive_zero_and_zero_slope_at_zero():
    x = leaf([-1.0, 0.0, 2.0])
    y = mg.relu(x)
    assert not np.signbit(host(y)).any()          # +0, not -0 (x * mask would give -0)
    y.sum().backward()
    np.testing.assert_array_equal(host(x.grad), [0.0, 0.0, 1.0])


def test_sigmoid_does_not_overflow():
    y = mg.sigmoid(mg.tensor([-1000.0, 1000.0], dtype="float64"))
    np.testing.assert_array_equal(y.numpy(), [0.0, 1.0])


BINARY = {
    "add": (lambda a, b: a + b, np.add),
    "sub": (lambda a, b: a - b, np.subtract),
    "mul": (lambda a, b: a * b, np.multiply),
    "div": (lambda a, b: a / b, np.divide),
    "pow": (lambda a, b: a ** b, np.power),
}
SHAPES = [((3, 1, 4), (2, 4)), ((2, 3), ()), ((), (3,)), ((4,), (4,)), ((2, 1), (1, 3))]


@pytest.mark.parametrize("shapes", SHAPES, ids=str)
@pytest.mark.parametrize("name", sorted(BINARY))
def test_binary_broadcasting_values_and_gradients(name, shapes, device, rng):
    fn, reference = BINARY[name]
    a = randn(rng, shapes[0], device, positive=True)      # positive: pow and div stay defined
    b = randn(rng, shapes[1], device, positive=True)
    out = fn(a, b)
    assert out.shape == np.broadcast_shapes(*shapes)
    np.testing.assert_allclose(host(out), reference(host(a), host(b)), rtol=1e-12)
    check(fn, a, b)


@pytest.mark.parametrize("name", ["add", "sub", "mul", "div", "pow"])
def test_python_number_on_either_side(name, device, rng):
    fn, reference = BINARY[name]
    x = randn(rng, (2, 3), device, positive=True)
    np.testing.assert_allclose(host(fn(x, 1.5)), reference(host(x), 1.5))
    np.testing.assert_allclose(host(fn(1.5, x)), reference(1.5, host(x)))
    check(lambda t: fn(t, 1.5), x)
    check(lambda t: fn(1.5, t), x)


def test_only_one_operand_requires_grad(device, rng):
    a = randn(rng, (2, 3), device)
    b = randn(rng, (2, 3), device, requires_grad=False)
    (a * b).sum().backward()
    np.testing.assert_allclose(host(a.grad), host(b))
    assert b.grad is None


def test_float32_stays_float32_with_python_scalars():
    x = mg.ones(2, 3, requires_grad=True)
    y = (2.5 * x + 1) / 3.0 - x ** 2
    assert y.dtype == mg.float32
    y.sum().backward()
    assert x.grad.dtype == mg.float32


def test_mismatched_shapes_error_names_both_shapes(device):
    a, b = mg.zeros(2, 3, device=device), mg.zeros(4, 3, device=device)
    with pytest.raises(ValueError, match=r"add: shapes \(2, 3\) and \(4, 3\)"):
        a + b
    with pytest.raises(ValueError, match=r"mul: shapes \(2, 3\) and \(4, 3\)"):
        a * b


def test_clip_gradient_is_zero_where_clipped():
    x = leaf([-2.0, 0.0, 0.5, 3.0])
    x.clip(-1.0, 1.0).sum().backward()
    np.testing.assert_array_equal(host(x.grad), [0.0, 1.0, 1.0, 0.0])


def test_clip_with_tensor_bounds(device, rng):
    x = randn(rng, (3, 4), device)
    low = leaf(rng.standard_normal(4) - 1, device)
    high = leaf(rng.standard_normal((3, 1)) + 1, device)
    np.testing.assert_allclose(host(mg.clip(x, low, high)),
                               np.minimum(np.maximum(host(x), host(low)), host(high)))
    check(lambda a, lo, hi: mg.clamp(a, lo, hi), x, low, high)


def test_clip_needs_a_bound():
    with pytest.raises(ValueError, match="min and max"):
        mg.clip(mg.zeros(2), None, None)


def test_mul_and_div_save_only_what_backward_needs(rng):
    x = randn(rng, (2, 3))
    w = randn(rng, (2, 3), requires_grad=False)
    saved = (x * 2.0).grad_fn.saved              # d(2x)/dx = 2: keeps the number, no array
    assert 2.0 in saved and not any(hasattr(s, "dtype") for s in saved)
    saved = (x * w).grad_fn.saved                # d(xw)/dx = w: keeps w, not x
    assert any(s is w.data for s in saved) and not any(s is x.data for s in saved)
    saved = (w / x).grad_fn.saved                # d(w/x)/dx = -w/x^2: keeps both
    assert any(s is w.data for s in saved) and any(s is x.data for s in saved)


def test_gelu_rejects_unknown_approximation():
    with pytest.raises(ValueError, match="approximate"):
        mg.gelu(mg.zeros(2), approximate="fast")


def test_pow_gradient_of_exponent(device, rng):
    base, exponent = randn(rng, (2, 3), device, positive=True), randn(rng, (2, 3), device)
    check(lambda b, e: b ** e, base, exponent)


@settings(max_examples=25, deadline=None)
@given(shapes=hnp.mutually_broadcastable_shapes(num_shapes=2, max_dims=3, max_side=4),
       seed=st.integers(0, 2 ** 16))
def test_broadcast_arithmetic_matches_numpy(shapes, seed):
    rng = np.random.default_rng(seed)
    a_np = rng.standard_normal(shapes.input_shapes[0])
    b_np = rng.standard_normal(shapes.input_shapes[1]) + 3.0       # keep away from 0
    a, b = leaf(a_np, requires_grad=False), leaf(b_np, requires_grad=False)
    for fn, reference in [(lambda x, y: x + y, np.add), (lambda x, y: x * y, np.multiply),
                          (lambda x, y: x / y, np.divide), (mg.maximum, np.maximum)]:
        out = fn(a, b)
        assert out.shape == shapes.result_shape
        np.testing.assert_allclose(out.numpy(), reference(a_np, b_np))


@settings(max_examples=25, deadline=None)
@given(values=hnp.arrays(np.float64, hnp.array_shapes(max_dims=3, max_side=4),
                         elements=st.floats(-20, 20)))
def test_pointwise_matches_numpy(values):
    x = leaf(values, requires_grad=False)
    np.testing.assert_allclose(mg.tanh(x).numpy(), np.tanh(values))
    np.testing.assert_allclose(mg.sigmoid(x).numpy(), 1 / (1 + np.exp(-values)), atol=1e-15)
    np.testing.assert_allclose(mg.relu(x).numpy(), np.maximum(values, 0))
    # where erf(x / sqrt 2) ~ -1 (x << 0), 1 + erf keeps only erf's absolute accuracy, ~1 ulp
    # of 1, in ours and in the reference alike: compare gelu to |x| times a few ulp of 1
    scale = float(np.abs(values).max(initial=0))
    np.testing.assert_allclose(mg.gelu(x).numpy(), 0.5 * values * (1 + _erf(values / np.sqrt(2))),
                               rtol=1e-14, atol=1e-15 * scale)
    np.testing.assert_allclose(mg.erf(x).numpy(), _erf(values), rtol=1e-15, atol=1e-300)


TORCH_UNARY = ["exp", "tanh", "sigmoid", "relu", "gelu", "gelu_tanh", "erf", "abs", "log", "sqrt"]


@pytest.mark.parametrize("name", TORCH_UNARY)
def test_unary_against_torch(name, rng):
    torch = pytest.importorskip("torch")
    functions = {
        "exp": torch.exp, "tanh": torch.tanh, "sigmoid": torch.sigmoid, "relu": torch.relu,
        "gelu": torch.nn.functional.gelu, "abs": torch.abs, "log": torch.log, "sqrt": torch.sqrt,
        "gelu_tanh": lambda t: torch.nn.functional.gelu(t, approximate="tanh"), "erf": torch.erf,
    }
    fn, _, positive = UNARY[name]
    values = rng.standard_normal((3, 4))
    values = np.abs(values) + 0.5 if positive else values
    x, x_t = torch_pair(torch, values)
    torch_grads_match(fn(x), functions[name](x_t), [x], [x_t], rng, atol=1e-10)


@pytest.mark.parametrize("name", sorted(BINARY))
def test_binary_against_torch(name, rng):
    torch = pytest.importorskip("torch")
    functions = {"add": torch.add, "sub": torch.sub, "mul": torch.mul, "div": torch.div,
                 "pow": torch.pow}
    a, a_t = torch_pair(torch, np.abs(rng.standard_normal((3, 1, 4))) + 0.5)
    b, b_t = torch_pair(torch, np.abs(rng.standard_normal((2, 4))) + 0.5)
    torch_grads_match(BINARY[name][0](a, b), functions[name](a_t, b_t), [a, b], [a_t, b_t], rng)


# ---------------------------------------------------------------- homework 1 (one op each)
# Each test below calls exactly one op, so it grades exactly one hw1 region.

@pytest.mark.homework("hw1.mul_div")
def test_hw1_mul_backward(rng):
    a, b = randn(rng, (3, 4)), randn(rng, (3, 4))
    check(lambda x, y: x * y, a, b)
    check(lambda x: x * 2.5, a)                     # a number: only grad_a


@pytest.mark.homework("hw1.mul_div")
def test_hw1_div_backward(rng):
    a, b = randn(rng, (3, 4)), randn(rng, (3, 4), positive=True)
    check(lambda x, y: x / y, a, b)
    check(lambda y: 2.0 / y, b)                     # only grad_b: -2 / y^2


@pytest.mark.homework("hw1.pow")
def test_hw1_pow_backward(rng):
    base, exponent = randn(rng, (3, 4), positive=True), randn(rng, (3, 4))
    check(lambda b, e: b ** e, base, exponent)
    check(lambda b: b ** 3.0, base)                 # 3 b^2


@pytest.mark.homework("hw1.exp_log")
def test_hw1_exp_log_backward(rng):
    x = randn(rng, (3, 4), positive=True)
    check(mg.exp, x)
    check(mg.log, x)


@pytest.mark.homework("hw1.tanh_sigmoid")
def test_hw1_tanh_sigmoid_backward(rng):
    x = randn(rng, (3, 4))
    check(mg.tanh, x)
    check(mg.sigmoid, x)


@pytest.mark.homework("hw1.relu")
def test_hw1_relu_backward(rng):
    x = leaf([[-1.5, 0.0, 2.0], [0.3, -0.2, 4.0]])
    mg.relu(x).backward(leaf([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], requires_grad=False))
    np.testing.assert_array_equal(host(x.grad), [[0.0, 0.0, 3.0], [4.0, 0.0, 6.0]])
    check(mg.relu, randn(rng, (3, 4)))              # random values: none exactly 0
