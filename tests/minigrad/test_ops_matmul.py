"""matmul: NumPy's rules (batched, broadcast, 1-D cases), gradients, errors, torch oracle."""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import minigrad as mg
from engine_checks import randn, host, check, torch_pair, torch_grads_match

SHAPES = [((3, 4), (4, 5)), ((4,), (4, 5)), ((3, 4), (4,)), ((4,), (4,)),
          ((2, 3, 4), (4, 5)), ((3, 4), (2, 4, 5)), ((2, 1, 3, 4), (5, 4, 2)),
          ((4,), (2, 4, 5)), ((2, 3, 4), (4,))]


@pytest.mark.parametrize("shapes", SHAPES, ids=str)
def test_matmul_values_and_gradients(shapes, device, rng):
    a, b = randn(rng, shapes[0], device), randn(rng, shapes[1], device)
    out = a @ b
    expected = np.matmul(host(a), host(b))
    assert out.shape == expected.shape
    np.testing.assert_allclose(host(out), expected, rtol=1e-12)
    check(lambda x, y: x @ y, a, b)
    check(mg.matmul, a, b)


def test_rmatmul_with_a_numpy_array(rng):
    a = rng.standard_normal((2, 3))
    b = randn(rng, (3, 4))
    np.testing.assert_allclose(host(a @ b), a @ host(b))


def test_shape_mismatch_names_both_shapes(device):
    a, b = mg.zeros(2, 3, device=device), mg.zeros(4, 5, device=device)
    with pytest.raises(ValueError, match=r"matmul: shapes \(2, 3\) and \(4, 5\) do not fit"):
        a @ b
    with pytest.raises(ValueError, match="at least 1 dim"):
        mg.matmul(mg.zeros((), device=device), a)
    with pytest.raises(ValueError, match="batch dims"):
        mg.zeros(2, 2, 3, device=device) @ mg.zeros(3, 3, 4, device=device)


def test_device_mismatch_is_a_clear_error():
    with pytest.raises(RuntimeError, match="one device"):
        mg.zeros(2, 3, device="cpu") @ mg.zeros(3, 4, device="guard")


@settings(max_examples=25, deadline=None)
@given(batch=st.lists(st.integers(1, 3), max_size=2), m=st.integers(1, 4), k=st.integers(1, 4),
       n=st.integers(1, 4), seed=st.integers(0, 1000))
def test_batched_matmul_matches_numpy(batch, m, k, n, seed):
    rng = np.random.default_rng(seed)
    a_np, b_np = rng.standard_normal((*batch, m, k)), rng.standard_normal((k, n))
    out = mg.tensor(a_np) @ mg.tensor(b_np)
    np.testing.assert_allclose(out.numpy(), a_np @ b_np, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("shapes", SHAPES, ids=str)
def test_matmul_against_torch(shapes, rng):
    torch = pytest.importorskip("torch")
    a, a_t = torch_pair(torch, rng.standard_normal(shapes[0]))
    b, b_t = torch_pair(torch, rng.standard_normal(shapes[1]))
    torch_grads_match(a @ b, a_t @ b_t, [a, b], [a_t, b_t], rng)


@pytest.mark.homework("hw1.matmul")
@pytest.mark.parametrize("shapes", [((3, 4), (4, 5)), ((2, 3, 4), (4, 5)), ((4,), (4, 5)),
                                    ((3, 4), (4,)), ((2, 1, 3, 4), (5, 4, 2))], ids=str)
def test_hw1_matmul_backward(shapes, rng):
    a, b = randn(rng, shapes[0]), randn(rng, shapes[1])
    check(lambda x, y: x @ y, a, b)
