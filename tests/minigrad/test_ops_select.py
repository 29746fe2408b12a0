"""Selection ops: where, masked_fill, maximum/minimum, comparisons (values, gradients, torch)."""
import numpy as np
import pytest

import minigrad as mg
from engine_checks import leaf, randn, host, check, torch_pair, torch_grads_match

BINARY = {"maximum": (mg.maximum, np.maximum), "minimum": (mg.minimum, np.minimum)}
SHAPES = [((3, 1, 4), (2, 4)), ((2, 3), ()), ((), (3,)), ((4,), (4,)), ((2, 1), (1, 3))]


@pytest.mark.parametrize("shapes", SHAPES, ids=str)
@pytest.mark.parametrize("name", sorted(BINARY))
def test_maximum_minimum_broadcasting_values_and_gradients(name, shapes, device, rng):
    fn, reference = BINARY[name]
    a, b = randn(rng, shapes[0], device), randn(rng, shapes[1], device)   # ties: measure zero
    out = fn(a, b)
    assert out.shape == np.broadcast_shapes(*shapes)
    np.testing.assert_array_equal(host(out), reference(host(a), host(b)))
    check(fn, a, b)


def test_maximum_with_a_python_number(device, rng):
    x = randn(rng, (2, 3), device)
    np.testing.assert_array_equal(host(mg.maximum(x, 0.1)), np.maximum(host(x), 0.1))
    check(lambda t: mg.minimum(0.1, t), x)


def test_mismatched_shapes_error_names_the_op(device):
    a, b = mg.zeros(2, 3, device=device), mg.zeros(4, 3, device=device)
    with pytest.raises(ValueError, match=r"maximum: shapes \(2, 3\) and \(4, 3\)"):
        mg.maximum(a, b)
    with pytest.raises(ValueError, match=r"where: shapes"):
        mg.where(mg.zeros(5, 1, device=device) > 0, a, a)
    with pytest.raises(ValueError, match=r"lt: shapes \(2, 3\) and \(4, 3\)"):
        a < b


def test_maximum_and_minimum_split_ties_in_half():
    a, b = leaf([1.0, 2.0, 3.0]), leaf([1.0, 5.0, 0.0])
    mg.maximum(a, b).sum().backward()
    np.testing.assert_array_equal(host(a.grad), [0.5, 0.0, 1.0])
    np.testing.assert_array_equal(host(b.grad), [0.5, 1.0, 0.0])
    a.grad = b.grad = None
    mg.minimum(a, b).sum().backward()
    np.testing.assert_array_equal(host(a.grad), [0.5, 1.0, 0.0])


def test_where_broadcasts_and_routes_gradients(device, rng):
    condition = mg.tensor(rng.standard_normal((3, 1, 4)) > 0, device=device)
    a, b = randn(rng, (2, 4), device), randn(rng, (3, 2, 1), device)
    out = mg.where(condition, a, b)
    np.testing.assert_array_equal(host(out), np.where(condition.numpy(), host(a), host(b)))
    check(lambda x, y: mg.where(condition, x, y), a, b)
    check(lambda x: x.where(condition, 0.0), a)             # Tensor.where(cond, other)


def test_masked_fill(device, rng):
    x = randn(rng, (2, 3, 4), device)
    mask = mg.tensor(np.triu(np.ones((3, 4), bool), 1), device=device)
    out = x.masked_fill(mask, -1e9)
    np.testing.assert_array_equal(host(out), np.where(mask.numpy(), -1e9, host(x)))
    check(lambda t: t.masked_fill(mask, 0.0), x)
    with pytest.raises(TypeError, match="bool"):
        x.masked_fill(mg.zeros(3, 4, device=device), 0.0)
    with pytest.raises(ValueError, match="masked_fill"):
        x.masked_fill(mg.tensor(np.ones((5,), bool), device=device), 0.0)


def test_comparisons_give_bool_tensors_without_graph(device):
    x = leaf([1.0, 2.0, 3.0], device)
    for result, expected in [(x < 2, [1, 0, 0]), (x <= 2, [1, 1, 0]), (x > 2, [0, 0, 1]),
                             (x >= 2, [0, 1, 1]), (x == 2, [0, 1, 0]), (x != 2, [1, 0, 1]),
                             (2 > x, [1, 0, 0])]:
        assert result.dtype == mg.bool_ and not result.requires_grad
        np.testing.assert_array_equal(result.numpy(), np.array(expected, bool))
    assert (x == None) is False and (x != None) is True     # noqa: E711


@pytest.mark.parametrize("name", sorted(BINARY))
def test_maximum_minimum_against_torch(name, rng):
    torch = pytest.importorskip("torch")
    functions = {"maximum": torch.maximum, "minimum": torch.minimum}
    a, a_t = torch_pair(torch, rng.standard_normal((3, 1, 4)))
    b, b_t = torch_pair(torch, rng.standard_normal((2, 4)))
    torch_grads_match(BINARY[name][0](a, b), functions[name](a_t, b_t), [a, b], [a_t, b_t], rng)
