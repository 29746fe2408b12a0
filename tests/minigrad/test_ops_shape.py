"""Shape ops: values against NumPy, gradients by gradcheck, errors, PyTorch as oracle."""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st
from hypothesis.extra import numpy as hnp

import minigrad as mg
from engine_checks import leaf, randn, host, check, torch_pair, torch_grads_match

# name -> (minigrad call, NumPy reference), on an input of shape (2, 3, 4)
SINGLE = {
    "reshape": (lambda x: x.reshape(4, 6), lambda a: a.reshape(4, 6)),
    "reshape_tuple_infer": (lambda x: x.reshape((3, -1)), lambda a: a.reshape(3, -1)),
    "view": (lambda x: x.view(-1), lambda a: a.reshape(-1)),
    "permute": (lambda x: x.permute(2, 0, 1), lambda a: a.transpose(2, 0, 1)),
    "permute_negative": (lambda x: x.permute(-1, 0, -2), lambda a: a.transpose(2, 0, 1)),
    "transpose": (lambda x: x.transpose(0, -1), lambda a: a.swapaxes(0, 2)),
    "swapaxes": (lambda x: x.swapaxes(1, 2), lambda a: a.swapaxes(1, 2)),
    "swapdims": (lambda x: mg.swapdims(x, -2, -1), lambda a: a.swapaxes(1, 2)),
    "T": (lambda x: x.T, lambda a: a.transpose(2, 1, 0)),
    "mT": (lambda x: x.mT, lambda a: a.swapaxes(-1, -2)),
    "expand": (lambda x: x[:, :1].expand(5, 2, 3, 4), lambda a: np.broadcast_to(a[:, :1], (5, 2, 3, 4))),
    "expand_keep": (lambda x: x[:, :1].expand(-1, 3, -1), lambda a: np.broadcast_to(a[:, :1], (2, 3, 4))),
    "expand_as": (lambda x: x[:1].expand_as(x), lambda a: np.broadcast_to(a[:1], a.shape)),
    "unsqueeze": (lambda x: x.unsqueeze(1), lambda a: a[:, None]),
    "unsqueeze_end": (lambda x: x.unsqueeze(-1), lambda a: a[..., None]),
    "squeeze_all": (lambda x: x[:1, :, None].squeeze(), lambda a: a[0]),
    "squeeze_dim": (lambda x: x[:1].squeeze(0), lambda a: a[0]),
    "squeeze_not_one": (lambda x: x.squeeze(1), lambda a: a),     # size 3: kept, as PyTorch
    "flatten": (lambda x: x.flatten(), lambda a: a.reshape(-1)),
    "flatten_range": (lambda x: x.flatten(1), lambda a: a.reshape(2, 12)),
    "flatten_first_two": (lambda x: x.flatten(0, 1), lambda a: a.reshape(6, 4)),
    "pad_last": (lambda x: mg.pad(x, (1, 2)), lambda a: np.pad(a, [(0, 0), (0, 0), (1, 2)])),
    "pad_two_dims": (lambda x: x.pad((0, 1, 2, 0), value=-1.0),
                     lambda a: np.pad(a, [(0, 0), (2, 0), (0, 1)], constant_values=-1.0)),
    "tril": (lambda x: x.tril(), lambda a: np.tril(a)),
    "triu_diag": (lambda x: mg.triu(x, 1), lambda a: np.triu(a, 1)),
    "tril_negative": (lambda x: x.tril(-1), lambda a: np.tril(a, -1)),
    "repeat": (lambda x: x.repeat(2, 1, 3), lambda a: np.tile(a, (2, 1, 3))),
    "repeat_new_dim": (lambda x: x.repeat(2, 1, 1, 2), lambda a: np.tile(a, (2, 1, 1, 2))),
    "contiguous": (lambda x: x.contiguous(), lambda a: a),
    "clone": (lambda x: x.clone(), lambda a: a),
    "to_float32": (lambda x: x.to(dtype="float32") * 1.0, lambda a: a.astype(np.float32)),
}


@pytest.mark.parametrize("name", sorted(SINGLE))
def test_shape_op_values_and_gradients(name, device, rng):
    fn, reference = SINGLE[name]
    x = randn(rng, (2, 3, 4), device)
    out = fn(x)
    np.testing.assert_allclose(host(out), reference(host(x)), rtol=1e-6)
    if name != "to_float32":
        check(fn, x)


def test_to_float32_and_back_sends_gradient_in_the_input_dtype():
    x = leaf([1.0, 2.0])
    y = x.float()
    assert y.dtype == mg.float32
    (y * 3).sum().backward()
    assert x.grad.dtype == mg.float64
    np.testing.assert_array_equal(host(x.grad), [3.0, 3.0])


def test_expand_gradient_sums_the_copies():
    x = leaf([[1.0], [2.0]])
    x.expand(2, 3).sum().backward()
    np.testing.assert_array_equal(host(x.grad), [[3.0], [3.0]])


@pytest.mark.parametrize("dim", [0, 1, -1])
def test_cat(dim, device, rng):
    shapes = {0: [(1, 3), (2, 3)], 1: [(2, 1), (2, 4)], -1: [(2, 2), (2, 1)]}[dim]
    parts = [randn(rng, s, device) for s in shapes] + [randn(rng, shapes[0], device)]
    out = mg.cat(parts, dim=dim)
    np.testing.assert_array_equal(host(out), np.concatenate([host(p) for p in parts], axis=dim))
    check(lambda *ts: mg.cat(ts, dim), *parts)


@pytest.mark.parametrize("dim", [0, 1, 2, -1, -3])
def test_stack(dim, device, rng):
    parts = [randn(rng, (2, 3), device) for _ in range(3)]
    out = mg.stack(parts, dim=dim)
    np.testing.assert_array_equal(host(out), np.stack([host(p) for p in parts], axis=dim))
    check(lambda *ts: mg.stack(ts, dim), *parts)


@pytest.mark.parametrize("sections, dim", [(2, 0), (3, 1), ([1, 4, 0], 1), ((2, 3), -1)])
def test_split(sections, dim, device, rng):
    x = randn(rng, (3, 5), device)
    pieces = x.split(sections, dim)
    assert isinstance(pieces, tuple)
    if isinstance(sections, int):
        expected = np.split(host(x), range(sections, x.shape[dim], sections), axis=dim)
    else:
        expected = np.split(host(x), np.cumsum(sections)[:-1], axis=dim)
    assert len(pieces) == len(expected)
    for piece, want in zip(pieces, expected):
        np.testing.assert_array_equal(host(piece), want)
    check(lambda t: mg.split(t, sections, dim), x)


def test_split_gradient_when_only_some_pieces_are_used():
    x = leaf(np.arange(6.0))
    first, second, third = x.split(2)
    (second * 3).sum().backward()
    np.testing.assert_array_equal(host(x.grad), [0, 0, 3, 3, 0, 0])


@pytest.mark.parametrize("size, chunks, expected", [(6, 3, [2, 2, 2]), (5, 2, [3, 2]),
                                                    (6, 4, [2, 2, 2]), (2, 5, [1, 1])])
def test_chunk_sizes_as_pytorch(size, chunks, expected, device, rng):
    x = randn(rng, (2, size), device)
    pieces = x.chunk(chunks, dim=1)
    assert [p.shape[1] for p in pieces] == expected
    check(lambda t: mg.chunk(t, chunks, -1), x)


def test_chunk_and_split_errors():
    x = mg.zeros(2, 6)
    with pytest.raises(ValueError, match="chunks must be a positive int"):
        x.chunk(0)
    with pytest.raises(ValueError, match=r"sections \[2, 2\] add up to 4 .* size 6"):
        x.split([2, 2], dim=1)
    with pytest.raises(ValueError, match="positive"):
        x.split(0)


def test_cat_error_names_both_shapes_and_the_dim(device):
    a, b = mg.zeros(2, 3, device=device), mg.zeros(4, 5, device=device)
    with pytest.raises(ValueError, match=r"\(2, 3\).*\(4, 5\).*differ in dim 1.*along dim 0"):
        mg.cat([a, b])
    with pytest.raises(ValueError, match=r"stack: tensor 0 has shape \(2, 3\) but tensor 1 "
                                         r"has shape \(4, 5\)"):
        mg.stack([a, b])
    with pytest.raises(ValueError, match="number of dims"):
        mg.cat([a, mg.zeros(2, device=device)])
    with pytest.raises(IndexError, match="dim 2 is out of range"):
        mg.cat([a, a], dim=2)
    with pytest.raises(ValueError, match="non-empty"):
        mg.cat([])
    with pytest.raises(TypeError, match="item 1 is a list"):
        mg.stack([a, [1.0]])


def test_cat_of_different_devices_or_dtypes_is_a_clear_error():
    a = mg.zeros(2, 3, device="cpu")
    with pytest.raises(RuntimeError, match=r"cat: tensor 0 is on cpu but tensor 1 is on guard"):
        mg.cat([a, mg.zeros(2, 3, device="guard")])
    with pytest.raises(TypeError, match=r"stack: tensor 0 has dtype float32 but tensor 1 has float64"):
        mg.stack([a, mg.zeros(2, 3, dtype="float64", device="cpu")])


def test_expand_errors(device):
    x = mg.zeros(2, 3, device=device)
    with pytest.raises(ValueError, match=r"dim 1 of a tensor of shape \(2, 3\) has size 3 and "
                                         r"cannot expand to 4"):
        x.expand(2, 4)
    with pytest.raises(ValueError, match="at least 2"):
        x.expand(3)
    with pytest.raises(ValueError, match="-1 at new leading dim"):
        x.expand(-1, 2, 3)


def test_reshape_and_permute_errors(device):
    x = mg.zeros(2, 3, device=device)
    with pytest.raises(ValueError, match=r"reshape: cannot reshape a tensor of shape \(2, 3\) "
                                         r"\(6 elements\) to \(4, 2\)"):
        x.reshape(4, 2)
    with pytest.raises(ValueError, match="not a permutation"):
        x.permute(0, 0)
    with pytest.raises(ValueError, match="not a permutation"):
        x.permute(0, 5)
    with pytest.raises(IndexError, match="transpose: dim 2 is out of range"):
        x.transpose(0, 2)
    with pytest.raises(IndexError, match="unsqueeze: dim 3 is out of range"):
        x.unsqueeze(3)
    with pytest.raises(IndexError, match="squeeze: dim -3"):
        x.squeeze(-3)
    with pytest.raises(ValueError, match="start_dim 1 comes after end_dim 0"):
        x.flatten(1, 0)


def test_pad_and_triangle_errors():
    x = mg.zeros(2, 3)
    with pytest.raises(ValueError, match="even number"):
        mg.pad(x, (1, 2, 3))
    with pytest.raises(ValueError, match="non-negative"):
        mg.pad(x, (-1, 0))
    with pytest.raises(ValueError, match="tril: expected at least 2 dims"):
        mg.zeros(3).tril()
    with pytest.raises(ValueError, match="repeat"):
        x.repeat(2)


def test_flatten_and_squeeze_of_0d():
    x = leaf(2.0)
    assert x.flatten().shape == (1,) and x.squeeze().shape == () and x.unsqueeze(0).shape == (1,)
    assert x.T.shape == () and x.permute().shape == ()


@settings(max_examples=25, deadline=None)
@given(values=hnp.arrays(np.float64, hnp.array_shapes(min_dims=1, max_dims=4, max_side=3)),
       data=st.data())
def test_permute_and_flatten_match_numpy(values, data):
    x = leaf(values, requires_grad=False)
    order = data.draw(st.permutations(range(values.ndim)))
    np.testing.assert_array_equal(x.permute(*order).numpy(), values.transpose(order))
    start = data.draw(st.integers(0, values.ndim - 1))
    end = data.draw(st.integers(start, values.ndim - 1))
    merged = int(np.prod(values.shape[start:end + 1]))
    np.testing.assert_array_equal(x.flatten(start, end).numpy(),
                                  values.reshape(values.shape[:start] + (merged,) + values.shape[end + 1:]))
    dim = data.draw(st.integers(-values.ndim, values.ndim - 1))
    np.testing.assert_array_equal(mg.stack([x, x], dim).numpy(), np.stack([values, values], dim))
    np.testing.assert_array_equal(mg.cat([x, x], dim).numpy(), np.concatenate([values, values], dim))


@settings(max_examples=25, deadline=None)
@given(shapes=hnp.mutually_broadcastable_shapes(num_shapes=1, max_dims=3, max_side=4))
def test_expand_matches_numpy_broadcast_to(shapes):
    values = np.arange(float(np.prod(shapes.input_shapes[0]))).reshape(shapes.input_shapes[0])
    x = leaf(values, requires_grad=False)
    np.testing.assert_array_equal(x.expand(shapes.result_shape).numpy(),
                                  np.broadcast_to(values, shapes.result_shape))


TORCH_SHAPE_OPS = {
    "permute": (lambda x: x.permute(2, 0, 1), lambda t: t.permute(2, 0, 1)),
    "transpose": (lambda x: x.transpose(0, -1), lambda t: t.transpose(0, -1)),
    "expand": (lambda x: x[:, :1].expand(5, -1, 3, 4), lambda t: t[:, :1].expand(5, -1, 3, 4)),
    "squeeze_unsqueeze": (lambda x: x.unsqueeze(1).squeeze(1), lambda t: t.unsqueeze(1).squeeze(1)),
    "flatten": (lambda x: x.flatten(1), lambda t: t.flatten(1)),
    "pad": (lambda x: mg.pad(x, (1, 2, 0, 1), value=0.5),
            lambda t: __import__("torch").nn.functional.pad(t, (1, 2, 0, 1), value=0.5)),
    "tril": (lambda x: x.tril(1), lambda t: t.tril(1)),
    "triu": (lambda x: x.triu(-1), lambda t: t.triu(-1)),
    "repeat": (lambda x: x.repeat(1, 2, 1, 2), lambda t: t.repeat(1, 2, 1, 2)),
    "chunk": (lambda x: x.chunk(3, -1), lambda t: t.chunk(3, -1)),
    "split": (lambda x: x.split([1, 2], 1), lambda t: t.split([1, 2], 1)),
    "cat": (lambda x: mg.cat([x, x * 2], 1), lambda t: __import__("torch").cat([t, t * 2], 1)),
    "stack": (lambda x: mg.stack([x, x * 2], -1), lambda t: __import__("torch").stack([t, t * 2], -1)),
}


@pytest.mark.parametrize("name", sorted(TORCH_SHAPE_OPS))
def test_shape_ops_against_torch(name, rng):
    torch = pytest.importorskip("torch")
    fn, fn_t = TORCH_SHAPE_OPS[name]
    x, x_t = torch_pair(torch, rng.standard_normal((2, 3, 4)))
    out, out_t = fn(x), fn_t(x_t)
    torch_grads_match(out, out_t, [x], [x_t], rng)
