"""Reductions: values against NumPy, gradients by gradcheck, ties, indices, PyTorch as oracle."""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st
from hypothesis.extra import numpy as hnp

import minigrad as mg
from engine_checks import leaf, randn, host, check, torch_pair, torch_grads_match

# name -> (minigrad call, NumPy reference), both taking (x, dim, keepdim)
REDUCTIONS = {
    "sum": (lambda x, d, k: x.sum(d, keepdim=k), lambda a, d, k: a.sum(axis=d, keepdims=k)),
    "mean": (lambda x, d, k: x.mean(d, keepdim=k), lambda a, d, k: a.mean(axis=d, keepdims=k)),
    "var": (lambda x, d, k: x.var(d, keepdim=k), lambda a, d, k: a.var(axis=d, ddof=1, keepdims=k)),
    "var0": (lambda x, d, k: x.var(d, keepdim=k, correction=0),
             lambda a, d, k: a.var(axis=d, keepdims=k)),
    "std": (lambda x, d, k: x.std(d, keepdim=k), lambda a, d, k: a.std(axis=d, ddof=1, keepdims=k)),
    "std_biased": (lambda x, d, k: x.std(d, unbiased=False, keepdim=k),
                   lambda a, d, k: a.std(axis=d, keepdims=k)),
    "amax": (lambda x, d, k: x.amax(d, keepdim=k), lambda a, d, k: a.max(axis=d, keepdims=k)),
    "amin": (lambda x, d, k: x.amin(d, keepdim=k), lambda a, d, k: a.min(axis=d, keepdims=k)),
}
DIMS = [None, 0, -1, (0, 2), (-1, 1)]


@pytest.mark.parametrize("keepdim", [False, True])
@pytest.mark.parametrize("dim", DIMS, ids=str)
@pytest.mark.parametrize("name", sorted(REDUCTIONS))
def test_reduction_values_and_gradients(name, dim, keepdim, device, rng):
    fn, reference = REDUCTIONS[name]
    x = randn(rng, (2, 3, 2), device)
    axis = tuple(d % 3 for d in dim) if isinstance(dim, tuple) else dim
    np.testing.assert_allclose(host(fn(x, dim, keepdim)), reference(host(x), axis, keepdim),
                               rtol=1e-12)
    check(lambda t: fn(t, dim, keepdim), x)


@pytest.mark.parametrize("name", sorted(REDUCTIONS))
def test_reduction_of_0d_tensor(name, device):
    fn, reference = REDUCTIONS[name]
    if name.startswith(("var", "std")):
        pytest.skip("variance of one element with correction 1 is nan, as in PyTorch")
    x = leaf(1.5, device)
    assert fn(x, None, False).shape == ()
    assert fn(x, 0, False).shape == ()                    # dim 0 of a 0-d tensor: allowed
    check(lambda t: fn(t, None, False), x)


def test_axis_alias_and_its_conflict_with_dim(rng):
    x = randn(rng, (2, 3), requires_grad=False)
    np.testing.assert_allclose(x.sum(axis=1).numpy(), x.sum(dim=1).numpy())
    np.testing.assert_allclose(mg.var(x, axis=0).numpy(), mg.var(x, 0).numpy())
    with pytest.raises(TypeError, match="not both"):
        x.sum(dim=0, axis=1)


@pytest.mark.parametrize("op", ["sum", "mean", "var", "std", "amax", "argmax", "any", "max"])
def test_bad_dim_is_an_index_error_naming_the_dim(op, device):
    x = mg.zeros(2, 3, device=device)
    with pytest.raises(IndexError, match=r"dim 2 is out of range .* 2 dims"):
        getattr(x, op)(2)


def test_var_correction_and_unbiased_aliases(rng):
    x = randn(rng, (5,), requires_grad=False)
    values = host(x)
    assert x.var().item() == pytest.approx(values.var(ddof=1))
    assert x.var(unbiased=False).item() == pytest.approx(values.var())
    assert x.var(correction=2).item() == pytest.approx(values.var(ddof=2))
    with pytest.raises(TypeError, match="not both"):
        x.var(unbiased=True, correction=1)


def test_var_gradient_by_hand():
    # var = sum((x - m)^2) / (n - 1); d var/d x_i = 2 (x_i - m) / (n - 1)
    x = leaf([1.0, 2.0, 6.0])
    x.var().backward()
    np.testing.assert_allclose(host(x.grad), 2 * (np.array([1, 2, 6]) - 3) / 2)


def test_amax_splits_gradient_among_ties(device):
    x = leaf([[1.0, 3.0, 3.0], [5.0, 2.0, 5.0]], device)
    x.amax(dim=1).sum().backward()
    np.testing.assert_array_equal(host(x.grad), [[0, 0.5, 0.5], [0.5, 0, 0.5]])
    x.grad = None
    x.max().backward()                                  # whole-tensor max: ties share too
    np.testing.assert_array_equal(host(x.grad), [[0, 0, 0], [0.5, 0, 0.5]])
    x.grad = None
    x.amin().backward()
    np.testing.assert_array_equal(host(x.grad), [[1, 0, 0], [0, 0, 0]])


@pytest.mark.parametrize("keepdim", [False, True])
@pytest.mark.parametrize("dim", [0, 1, -1])
@pytest.mark.parametrize("largest", [True, False])
def test_max_min_along_dim_returns_values_and_indices(largest, dim, keepdim, device, rng):
    x = randn(rng, (3, 4), device)
    result = x.max(dim, keepdim=keepdim) if largest else x.min(dim, keepdim=keepdim)
    assert isinstance(result, mg.MaxMin)
    values, indices = result                            # unpacks like torch.return_types.max
    assert result.values is values and result.indices is indices
    pick = np.argmax if largest else np.argmin
    expected_index = pick(host(x), axis=dim)
    expected_values = np.take_along_axis(host(x), np.expand_dims(expected_index, dim), dim)
    if not keepdim:
        expected_values = expected_values.squeeze(dim)
    else:
        expected_index = np.expand_dims(expected_index, dim)
    assert indices.dtype == mg.int64 and not indices.requires_grad
    np.testing.assert_array_equal(indices.numpy(), expected_index)
    np.testing.assert_array_equal(host(values), expected_values)
    check(lambda t: (t.max(dim, keepdim) if largest else t.min(dim, keepdim)).values, x)


def test_max_along_dim_gradient_goes_to_the_chosen_index_only():
    x = leaf([[2.0, 7.0, 7.0]])
    values, indices = x.max(1)
    values.sum().backward()
    assert indices.item() == 1                          # the first of the tied maxima
    np.testing.assert_array_equal(host(x.grad), [[0, 1, 0]])


def test_max_of_two_tensors_is_elementwise(rng):
    a, b = randn(rng, (3,)), randn(rng, (3,))
    np.testing.assert_array_equal(host(mg.max(a, b)), np.maximum(host(a), host(b)))
    np.testing.assert_array_equal(host(a.min(b)), np.minimum(host(a), host(b)))


def test_max_of_empty_tensor_is_an_error():
    with pytest.raises(ValueError, match=r"empty tensor of shape \(0, 3\)"):
        mg.zeros(0, 3).max()


@pytest.mark.parametrize("largest", [True, False])
def test_argmax_argmin(largest, device, rng):
    values = rng.standard_normal((3, 4))
    x = mg.tensor(values, device=device)
    arg, pick = (x.argmax, np.argmax) if largest else (x.argmin, np.argmin)
    flat = arg()
    assert flat.shape == () and flat.dtype == mg.int64 and flat.item() == pick(values)
    np.testing.assert_array_equal(arg(1).numpy(), pick(values, axis=1))
    np.testing.assert_array_equal(arg(0, keepdim=True).numpy(), pick(values, axis=0)[None])
    assert arg(keepdim=True).shape == (1, 1)


def test_argmax_has_no_gradient_path(rng):
    x = randn(rng, (3,))
    index = x.argmax()
    assert not index.requires_grad and index.grad_fn is None


def test_any_all(device):
    x = mg.tensor([[0.0, 1.0], [0.0, 0.0]], device=device)
    assert x.any().item() is True and x.all().item() is False
    np.testing.assert_array_equal(x.any(dim=1).numpy(), [True, False])
    np.testing.assert_array_equal((x == 0).all(dim=0).numpy(), [True, False])
    assert x.any(1, keepdim=True).shape == (2, 1) and x.any().dtype == mg.bool_


def test_sum_of_0d_result_is_an_array_not_a_numpy_scalar(rng):
    # NumPy reductions to 0-d return NumPy scalars; Tensor.data must stay an array
    total = randn(rng, (3,)).sum()
    assert isinstance(total.data, np.ndarray) and total.shape == ()


@settings(max_examples=25, deadline=None)
@given(values=hnp.arrays(np.float64, hnp.array_shapes(min_dims=1, max_dims=3, max_side=4),
                         elements=st.floats(-100, 100)),
       data=st.data())
def test_reductions_match_numpy(values, data):
    dim = data.draw(st.integers(-values.ndim, values.ndim - 1))
    keepdim = data.draw(st.booleans())
    x = leaf(values, requires_grad=False)
    np.testing.assert_allclose(x.sum(dim, keepdim).numpy(), values.sum(dim, keepdims=keepdim),
                               atol=1e-9)
    np.testing.assert_allclose(x.mean(dim, keepdim).numpy(), values.mean(dim, keepdims=keepdim),
                               atol=1e-9)
    np.testing.assert_array_equal(x.amax(dim, keepdim).numpy(), values.max(dim, keepdims=keepdim))
    np.testing.assert_array_equal(x.max(dim, keepdim).indices.numpy(),
                                  values.argmax(dim, keepdims=keepdim))
    np.testing.assert_allclose(x.var(dim, keepdim=keepdim, correction=0).numpy(),
                               values.var(dim, keepdims=keepdim), atol=1e-8)


TORCH_REDUCTIONS = ["sum", "mean", "var", "std", "amax", "amin", "max_dim", "min_dim", "max"]


@pytest.mark.parametrize("keepdim", [False, True])
@pytest.mark.parametrize("name", TORCH_REDUCTIONS)
def test_reductions_against_torch(name, keepdim, rng):
    torch = pytest.importorskip("torch")
    values = rng.standard_normal((2, 3, 4))
    x, x_t = torch_pair(torch, values)
    if name == "max":
        out, out_t = x.max(), x_t.max()
    elif name.endswith("_dim"):
        op = name[:3]
        out, out_t = getattr(x, op)(1, keepdim).values, getattr(x_t, op)(1, keepdim).values
        np.testing.assert_array_equal(getattr(x, op)(1, keepdim).indices.numpy(),
                                      getattr(x_t, op)(1, keepdim).indices.numpy())
    else:
        out, out_t = getattr(x, name)((0, 2), keepdim=keepdim), getattr(x_t, name)((0, 2), keepdim=keepdim)
    torch_grads_match(out, out_t, [x], [x_t], rng)


def test_amax_ties_against_torch(rng):
    torch = pytest.importorskip("torch")
    values = np.array([[1.0, 4.0, 4.0, 0.0], [2.0, 2.0, 2.0, 2.0]])
    x, x_t = torch_pair(torch, values)
    torch_grads_match(x.amax(1), x_t.amax(1), [x], [x_t], rng)


@pytest.mark.homework("hw1.sum_mean")
@pytest.mark.parametrize("dim,keepdim", [(None, False), (1, False), ((0, 2), True), (-1, True)])
def test_hw1_sum_mean_backward(dim, keepdim, rng):
    from minigrad.ops.reduce import Sum, Mean
    x = randn(rng, (2, 3, 4))
    check(lambda t: Sum.apply(t, dim=dim, keepdim=keepdim), x)
    check(lambda t: Mean.apply(t, dim=dim, keepdim=keepdim), x)
