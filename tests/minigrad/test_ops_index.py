"""Indexing, index_select and gather: values against NumPy, scatter-add gradients, errors."""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st
from hypothesis.extra import numpy as hnp

import minigrad as mg
from engine_checks import leaf, randn, host, check, torch_pair, torch_grads_match


def _indices(device):
    """name -> (index for minigrad, the same index for NumPy), on a (4, 3, 5) input."""
    ints = np.array([0, 2, 2, -1])                        # repeated and negative
    mask = np.array([True, False, True, True])
    return {
        "int": (1, 1),
        "negative_int": (-1, -1),
        "tuple_ints": ((2, -2), (2, -2)),
        "slice": (slice(1, 3), slice(1, 3)),
        "slice_step": (np.s_[::2, ::-1], np.s_[::2, ::-1]),
        "none": (np.s_[None, :, 1], np.s_[None, :, 1]),
        "ellipsis": (np.s_[..., 2], np.s_[..., 2]),
        "ellipsis_none": (np.s_[1, ..., None], np.s_[1, ..., None]),
        "list": ([0, 3, 0], [0, 3, 0]),
        "int_tensor_repeats": (mg.tensor(ints, device=device), ints),
        "int_tensor_2d": (mg.tensor([[0, 1], [1, 1]], device=device), np.array([[0, 1], [1, 1]])),
        "numpy_int": (np.int64(2), 2),
        "0d_int_tensor": (mg.tensor(3, device=device), 3),
        "bool_mask": (mg.tensor(mask, device=device), mask),
        "bool_mask_2d": (mg.tensor(np.eye(4, 3, dtype=bool), device=device), np.eye(4, 3, dtype=bool)),
        "mixed_slice_array": ((slice(None), mg.tensor([2, 0, 2], device=device)),
                              (slice(None), np.array([2, 0, 2]))),
        "mixed_int_array": ((1, slice(None), mg.tensor([4, 4], device=device)),
                            (1, slice(None), np.array([4, 4]))),
        "two_arrays": ((mg.tensor([0, 3, 0], device=device), mg.tensor([1, 2, 1], device=device)),
                       (np.array([0, 3, 0]), np.array([1, 2, 1]))),
        "mask_then_slice": ((mg.tensor(mask, device=device), slice(0, 2)), (mask, slice(0, 2))),
    }


NAMES = sorted(_indices("cpu"))


@pytest.mark.parametrize("name", NAMES)
def test_getitem_values_and_gradients(name, device, rng):
    index, numpy_index = _indices(device)[name]
    x = randn(rng, (4, 3, 5), device)
    np.testing.assert_array_equal(host(x[index]), host(x)[numpy_index])
    check(lambda t: t[index], x)


def test_repeated_indices_add_their_gradients(device):
    x = leaf([10.0, 20.0, 30.0], device)
    x[mg.tensor([0, 2, 2, 2, -3], device=device)].sum().backward()
    np.testing.assert_array_equal(host(x.grad), [2.0, 0.0, 3.0])


def test_basic_index_gradient_goes_to_the_picked_elements():
    x = leaf(np.zeros((2, 3)))
    (x[1, ::2] * leaf([5.0, 7.0], requires_grad=False)).sum().backward()
    np.testing.assert_array_equal(host(x.grad), [[0, 0, 0], [5, 0, 7]])


@pytest.mark.parametrize("index, message", [
    (5, r"index 5 is out of range for dim 0 of size 4 .*shape \(4, 3\)"),
    (-5, r"index -5 is out of range for dim 0 of size 4"),
    ((0, 3), r"index 3 is out of range for dim 1 of size 3 \(index \[0, 3\]"),
    ((slice(None), [0, 3]), r"index 3 is out of range for dim 1 of size 3"),
    ([1, 9], r"index 9 is out of range for dim 0 of size 4"),
    ((0, 0, 0), r"too many indices for a tensor of shape \(4, 3\)"),
])
def test_out_of_range_index_names_index_and_shape(index, message, device):
    x = mg.zeros(4, 3, device=device)
    with pytest.raises(IndexError, match=message):
        x[index]


def test_tensor_index_out_of_range_is_caught_before_the_backend(device):
    # CuPy would wrap an out-of-range integer array around instead of raising
    x = mg.zeros(4, 3, device=device)
    with pytest.raises(IndexError, match=r"index 4 is out of range for dim 0 of size 4 "
                                         r"\(index \[int64 array of shape \(2,\)\]"):
        x[mg.tensor([0, 4], device=device)]


def test_bad_mask_and_float_index(device):
    x = mg.zeros(4, 3, device=device)
    with pytest.raises(IndexError, match=r"boolean mask of shape \(3,\) does not match .*\(4,\)"):
        x[mg.tensor([True, False, True], device=device)]
    with pytest.raises(IndexError, match="integers or bools, got dtype float32"):
        x[mg.tensor([0.0, 1.0], device=device)]


def test_index_tensor_from_another_device_is_moved():
    x = randn(np.random.default_rng(0), (4, 3), "guard")
    np.testing.assert_array_equal(host(x[mg.tensor([3, 1])]), host(x)[[3, 1]])


@pytest.mark.parametrize("dim", [0, 1, -1])
def test_index_select(dim, device, rng):
    x = randn(rng, (4, 3), device)
    index = np.array([2, 0, 2])
    out = mg.index_select(x, dim, mg.tensor(index, device=device))
    np.testing.assert_array_equal(host(out), np.take(host(x), index, axis=dim))
    check(lambda t: t.index_select(dim, mg.tensor(index, device=device)), x)


def test_index_select_errors():
    x = mg.zeros(4, 3)
    with pytest.raises(IndexError, match=r"index_select: index 4 is out of range for dim 0 of size 4"):
        x.index_select(0, mg.tensor([0, 4]))
    with pytest.raises(IndexError, match="1-D integer"):
        x.index_select(0, mg.tensor([[0]]))


@pytest.mark.parametrize("dim, index", [
    (1, [[0, 0, 2], [1, 0, 1]]),            # same shape as x but for dim: full gather
    (0, [[1, 0, 1], [0, 0, 0], [1, 1, 1]]),
    (1, [[2], [0]]),                        # one pick per row: a target lookup
    (-1, [[1, 1]]),                         # smaller than x in the other dim
])
def test_gather(dim, index, device, rng):
    x = randn(rng, (2, 3), device)
    x3 = randn(rng, (3, 3), device)
    source = x3 if dim == 0 else x
    out = mg.gather(source, dim, mg.tensor(index, device=device))
    values = host(source)
    index_np = np.array(index)
    expected = np.empty(index_np.shape)
    for i, j in np.ndindex(*index_np.shape):
        expected[i, j] = values[index_np[i, j], j] if dim == 0 else values[i, index_np[i, j]]
    np.testing.assert_array_equal(host(out), expected)
    check(lambda t: t.gather(dim, mg.tensor(index, device=device)), source)


def test_gather_errors():
    x = mg.zeros(2, 3)
    with pytest.raises(IndexError, match=r"gather: index of shape \(2,\) does not fit"):
        x.gather(1, mg.tensor([0, 1]))
    with pytest.raises(IndexError, match=r"gather: index 3 is out of range for dim 1 of size 3"):
        x.gather(1, mg.tensor([[3], [0]]))


@settings(max_examples=25, deadline=None)
@given(values=hnp.arrays(np.float64, hnp.array_shapes(min_dims=1, max_dims=3, max_side=5)),
       data=st.data())
def test_basic_and_array_indexing_match_numpy(values, data):
    x = leaf(values, requires_grad=False)
    basic = data.draw(hnp.basic_indices(values.shape, allow_newaxis=True))
    np.testing.assert_array_equal(x[basic].numpy(), values[basic])
    picks = data.draw(st.lists(st.integers(-values.shape[0], values.shape[0] - 1), max_size=6))
    np.testing.assert_array_equal(x[mg.tensor(picks, dtype="int64")].numpy(),
                                  values[np.array(picks, dtype=np.int64)])


def test_indexing_against_torch(rng):
    torch = pytest.importorskip("torch")
    x, x_t = torch_pair(torch, rng.standard_normal((4, 3, 5)))
    index = [0, 2, 2, -1]
    outputs = [x[1:, index], x[..., 1], x[x.detach() > 0], x.gather(2, mg.tensor([[[0, 4]] * 3] * 4)),
               x.index_select(1, mg.tensor([2, 2]))]
    outputs_t = [x_t[1:, index], x_t[..., 1], x_t[x_t.detach() > 0],
                 x_t.gather(2, torch.tensor([[[0, 4]] * 3] * 4)), x_t.index_select(1, torch.tensor([2, 2]))]
    torch_grads_match(outputs, outputs_t, [x], [x_t], rng)


@pytest.mark.homework("hw1.getitem")
@pytest.mark.parametrize("index", [(1, slice(None)), (slice(0, 2), [0, 2, 2]), ([0, 1, 0], 3),
                                   (Ellipsis, slice(None, None, -1))], ids=str)
def test_hw1_getitem_backward(index, rng):
    x = randn(rng, (2, 4))
    check(lambda t: t[index], x)                     # [0, 2, 2], [0, 1, 0]: picks add up
