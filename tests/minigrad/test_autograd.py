"""The backward pass: order, accumulation, graph lifetime, switches, hooks, errors."""
import numpy as np
import pytest

import minigrad as mg
from minigrad import Function
from engine_checks import leaf, randn, host, check


class Identity(Function):
    """The cheapest op there is: lets a test build a very long graph quickly."""

    @staticmethod
    def forward(ctx, x):
        return x

    @staticmethod
    def backward(ctx, grad):
        return grad


def test_backward_is_not_recursive_200000_op_chain():
    x = mg.tensor([1.0], requires_grad=True)
    y = x
    for _ in range(200_000):                     # recursion would fail past ~1,000
        y = Identity.apply(y)
    (y * 3).sum().backward()
    assert x.grad.item() == 3.0


def test_dropping_the_output_frees_the_graph():
    # Reference counting frees a graph (nodes hold no cycles: retain_grad's hook holds its
    # tensor weakly), so the cyclic collector is never needed for it.
    import gc
    import weakref
    x = mg.tensor(np.ones(4), requires_grad=True, device="cpu")
    y = x
    for _ in range(100):
        y = mg.tanh(y * x) - 0.5
    y.retain_grad()
    first = weakref.ref(y.grad_fn)
    gc.disable()
    try:
        del y
        assert first() is None
    finally:
        gc.enable()


def test_every_edge_is_none_or_a_node_and_output_index():
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    parts = mg.split(x * 2, 1)                   # a node with two outputs
    y = parts[1] * parts[0] + 3.0                # the Mul reads output 1 and output 0
    mul = y.grad_fn.edges[0][0]
    assert mul.edges == ((parts[1].grad_fn, 1), (parts[0].grad_fn, 0))
    assert y.grad_fn.edges[1] is None            # the Python number
    split = mul.edges[0][0]
    double = split.edges[0][0]
    assert double.edges[0][0] is x and double.edges[0][1] == 0     # a leaf: (leaf, 0)


def test_gradients_accumulate_across_backwards(device):
    x = leaf([1.0, 2.0], device)
    (x * x).sum().backward()
    (x * 3).sum().backward()
    np.testing.assert_array_equal(host(x.grad), [2 + 3, 4 + 3])


def test_second_backward_needs_retain_graph():
    x = leaf([1.0, 2.0])
    y = (x.exp() * 2).sum()
    y.backward(retain_graph=True)
    y.backward()                                 # allowed: the graph was retained
    np.testing.assert_allclose(host(x.grad), 4 * np.exp([1.0, 2.0]))
    with pytest.raises(RuntimeError, match="second time .*retain_graph=True"):
        y.backward()


def test_backward_of_non_scalar_needs_a_gradient():
    x = leaf([1.0, 2.0])
    y = x * 2
    with pytest.raises(RuntimeError, match=r"only for a one-element output, got shape \(2,\)"):
        y.backward()
    with pytest.raises(RuntimeError, match=r"gradient of shape \(3,\) given for an output of "
                                           r"shape \(2,\)"):
        y.backward(mg.zeros(3, dtype="float64", device=x.device))
    y.backward(mg.tensor([1.0, 10.0], dtype="float64", device=x.device))
    np.testing.assert_array_equal(host(x.grad), [2.0, 20.0])


def test_backward_gradient_on_another_device_is_a_clear_error():
    y = mg.ones(2, device="cpu", requires_grad=True) * 2
    with pytest.raises(RuntimeError, match=r"gradient on guard given for an output on cpu"):
        y.backward(mg.ones(2, device="guard"))


def test_backward_without_graph_is_an_error():
    with pytest.raises(RuntimeError, match="does not require grad"):
        mg.ones(2).sum().backward()


def test_no_grad_as_context_and_decorator():
    x = leaf([1.0])
    with mg.no_grad():
        y = x * 2
        with mg.enable_grad():
            z = x * 2
    assert not y.requires_grad and y.grad_fn is None and z.requires_grad

    @mg.no_grad()
    def f(t):
        return t * 2
    assert not f(x).requires_grad
    assert mg.grad_enabled()


def test_detect_anomaly_names_the_op_on_forward():
    x = leaf([-1.0, 1.0])
    with mg.detect_anomaly():
        with pytest.raises(RuntimeError, match=r"detect_anomaly: Log forward produced NaN or Inf"):
            with np.errstate(invalid="ignore"):
                mg.log(x)
    with np.errstate(invalid="ignore"):
        assert np.isnan(host(mg.log(x))[0])      # off again: no error


def test_detect_anomaly_names_the_op_on_backward():
    x = leaf([0.0, 1.0])
    y = mg.sqrt(x).sum()                         # d sqrt/dx = 1 / (2 sqrt(0)) = inf
    with mg.detect_anomaly():
        with pytest.raises(RuntimeError, match="Sqrt backward produced NaN or Inf"):
            with np.errstate(divide="ignore"):
                y.backward()


def test_diamond_graph_adds_both_paths(device):
    x = leaf([1.0, 2.0], device)
    a = x * 3
    y = (a * x + a.exp() + x).sum()              # x reaches y three ways, a two
    y.backward()
    # dy/dx = 6x (through a*x) + 3 exp(3x) + 1
    np.testing.assert_allclose(host(x.grad), 6 * np.array([1.0, 2.0]) + 3 * np.exp([3.0, 6.0]) + 1)
    check(lambda t: (t * 3) * t + (t * 3).exp() + t, leaf([0.1, 0.2], device))


def test_same_tensor_twice_in_one_op(device):
    x = leaf([3.0], device)
    (x * x).backward()
    assert host(x.grad)[0] == 6.0


class SplitHalves(Function):
    """Two outputs: the first and second half of a vector."""

    @staticmethod
    def forward(ctx, x):
        ctx.half = x.shape[0] // 2
        return x[:ctx.half], x[ctx.half:]

    @staticmethod
    def backward(ctx, grad_first, grad_second):
        return ctx.xp.concatenate([grad_first, grad_second])


def test_multi_output_function_gets_zeros_for_an_unused_output(device):
    x = leaf([1.0, 2.0, 3.0, 4.0], device)
    first, second = SplitHalves.apply(x)
    (first * 5).sum().backward()
    np.testing.assert_array_equal(host(x.grad), [5, 5, 0, 0])
    check(lambda t: SplitHalves.apply(t), leaf([1.0, 2.0, 3.0, 4.0], device))


class Cube(Function):
    """A user-defined Function, written the way function.py's docstring shows."""

    @staticmethod
    def forward(ctx, x, scale=1.0):
        ctx.scale = scale
        ctx.save_for_backward(x)
        return scale * x ** 3

    @staticmethod
    def backward(ctx, grad):                     # d(s x^3)/dx = 3 s x^2
        (x,) = ctx.saved
        return grad * 3 * ctx.scale * x * x


def test_user_defined_function(device, rng):
    x = randn(rng, (2, 3), device)
    y = Cube.apply(x, scale=2.0)
    assert y.grad_fn.name == "Cube"
    np.testing.assert_allclose(host(y), 2 * host(x) ** 3)
    check(lambda t: Cube.apply(t, scale=2.0), x)


class WrongCount(Function):
    @staticmethod
    def forward(ctx, a, b):
        return a + b

    @staticmethod
    def backward(ctx, grad):
        return grad                              # forgot b's gradient


def test_backward_returning_the_wrong_number_of_gradients_is_named():
    a, b = leaf([1.0]), leaf([2.0])
    with pytest.raises(RuntimeError, match="WrongCount.backward returned 1 gradients for 2 inputs"):
        WrongCount.apply(a, b).sum().backward()


def test_hooks_and_retain_grad_on_intermediate_tensors():
    x = leaf([1.0, -1.0])
    h = x * 2
    h.retain_grad()
    h.retain_grad()                              # twice: still stored once
    h.register_hook(lambda g: g * 0)            # cut the gradient here; .grad sees it (PyTorch)
    (h * h).sum().backward()
    np.testing.assert_array_equal(host(h.grad), [0.0, 0.0])
    np.testing.assert_array_equal(host(x.grad), [0.0, 0.0])


def test_leaf_grads_are_independent_arrays():
    a, b = leaf([1.0]), leaf([2.0])
    (a + b).sum().backward()                     # Add sends one array to both
    a.grad.data *= 100                           # e.g. an in-place gradient clip
    assert host(b.grad)[0] == 1.0


def test_device_mismatch_between_cpu_and_guard():
    a = mg.ones(2, 3, device="cpu")
    b = mg.ones(2, 3, device="guard")
    with pytest.raises(RuntimeError, match=r"Add: all tensors must be on one device, got "
                                           r"\(2, 3\) on cpu, \(2, 3\) on guard"):
        a + b


def test_int_outputs_carry_no_graph():
    x = leaf([1.0, 3.0, 2.0])
    values, indices = x.max(0)
    assert values.requires_grad and not indices.requires_grad
