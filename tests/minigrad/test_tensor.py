"""Tensor: construction, dtypes, properties, conversions, autograd handles, repr, errors."""
import numpy as np
import pytest

import minigrad as mg
from minigrad import Tensor


def test_default_dtypes_follow_pytorch():
    assert mg.tensor([1.0, 2.0]).dtype == mg.float32           # Python floats: float32
    assert mg.tensor([1, 2]).dtype == mg.int64                 # Python ints: int64
    assert mg.tensor([True, False]).dtype == mg.bool_
    assert mg.tensor(np.zeros(2, np.float64)).dtype == mg.float64   # arrays keep theirs
    assert mg.tensor(np.float64(1.5)).dtype == mg.float64           # so do NumPy scalars
    assert mg.tensor([1, 2], dtype="float64").dtype == mg.float64
    assert mg.zeros(2, 3).dtype == mg.float32 and mg.arange(3).dtype == mg.int64


def test_requires_grad_on_integer_dtype_is_a_type_error():
    with pytest.raises(TypeError, match="only floating-point tensors can require gradients, "
                                        "got dtype int64"):
        mg.tensor([1, 2], requires_grad=True)
    with pytest.raises(TypeError, match="int64"):
        mg.arange(3).requires_grad_()


def test_bad_data_is_a_type_error():
    with pytest.raises(TypeError, match="cannot make a tensor from str"):
        Tensor("abc")


def test_properties(device):
    x = mg.zeros(2, 3, 4, device=device)
    assert x.shape == (2, 3, 4) and x.ndim == 3 and x.numel() == 24 and len(x) == 2
    assert x.size() == (2, 3, 4) and x.size(1) == 3 and x.size(-1) == 4
    assert x.device == device and x.is_leaf and x.grad_fn is None
    with pytest.raises(TypeError, match="0-d"):
        len(mg.tensor(1.0))


def test_numpy_item_tolist(device):
    x = mg.tensor([[1.0, 2.0]], device=device)
    np.testing.assert_array_equal(x.numpy(), [[1.0, 2.0]])
    assert isinstance(x.numpy(), np.ndarray)
    assert x.tolist() == [[1.0, 2.0]]
    assert x[0, 1].item() == 2.0 and float(x[0, 0]) == 1.0 and int(x[0, 1]) == 2
    with pytest.raises(ValueError, match=r"only one-element tensors .* shape \(1, 2\)"):
        x.item()
    with pytest.raises(RuntimeError, match="ambiguous"):
        bool(x)


def test_numpy_of_a_tensor_that_requires_grad_asks_for_detach():
    x = mg.ones(2, requires_grad=True)
    with pytest.raises(RuntimeError, match="detach"):
        x.numpy()
    np.testing.assert_array_equal(x.detach().numpy(), [1.0, 1.0])


def test_detach_shares_data_and_cuts_the_graph():
    x = mg.ones(2, requires_grad=True)
    y = (x * 2).detach()
    assert not y.requires_grad and y.grad_fn is None and y.is_leaf


def test_requires_grad_(device):
    x = mg.zeros(2, device=device)
    assert x.requires_grad_() is x and x.requires_grad
    y = x * 2
    with pytest.raises(RuntimeError, match="non-leaf"):
        y.requires_grad_(False)


def test_retain_grad_and_register_hook():
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    h = x * 3
    h.retain_grad()
    seen = []
    h.register_hook(lambda g: seen.append(g.numpy().copy()))
    x.register_hook(lambda g: g * 10)                  # a hook may replace the gradient
    (h * h).sum().backward()
    np.testing.assert_array_equal(h.grad.numpy(), [6.0, 12.0])      # dL/dh = 2h
    np.testing.assert_array_equal(seen[0], [6.0, 12.0])
    np.testing.assert_array_equal(x.grad.numpy(), [180.0, 360.0])   # 10 * 3 * 2h
    with pytest.raises(RuntimeError, match="does not require grad"):
        mg.zeros(2).register_hook(lambda g: g)


def test_repr():
    assert repr(mg.tensor([1.0, 2.0], device="cpu")) == "tensor([1., 2.])"
    assert repr(mg.tensor([1, 2], device="cpu")) == "tensor([1, 2], dtype=int64)"
    assert "requires_grad=True" in repr(mg.ones(1, requires_grad=True))
    assert "grad_fn=<MulBackward>" in repr(mg.ones(1, requires_grad=True) * 2)
    assert "device='guard'" in repr(mg.ones(1, device="guard"))


def test_tensor_of_a_tensor_keeps_its_device():
    # Parameter(t) as nn.Parameter: whatever the default device, t's device is kept
    for device in ("cpu", "guard"):
        assert mg.Tensor(mg.zeros(2, device=device)).device == device
        assert mg.nn.Parameter(mg.zeros(2, device=device)).device == device


def test_to_moves_between_devices_with_gradient():
    x = mg.tensor([1.0, 2.0], dtype="float64", device="cpu", requires_grad=True)
    assert x.to("cpu") is x
    y = x.to("guard")
    assert y.device == "guard"
    (y * y).sum().backward()
    assert x.grad.device == "cpu"
    np.testing.assert_array_equal(x.grad.numpy(), [2.0, 4.0])
    assert y.cpu().device == "cpu"
    with pytest.raises(ValueError, match="unknown device 'tpu'"):
        x.to("tpu")


def test_float_double_long():
    x = mg.tensor([1.5, 2.5])
    assert x.double().dtype == mg.float64 and x.double().float().dtype == mg.float32
    assert x.long().dtype == mg.int64 and x.long().tolist() == [1, 2]


def test_tensor_as_dict_key_and_in_lists():
    a, b = mg.zeros(2), mg.zeros(2)
    assert {a: 1, b: 2}[a] == 1                        # identity hashing despite elementwise ==
    assert a in [a] and (a == None) is False           # noqa: E711


def test_methods_exist_with_pytorch_spelling():
    x = mg.ones(2, 3, requires_grad=True)
    for name in ["exp", "log", "sqrt", "tanh", "sigmoid", "relu", "abs", "clip", "clamp", "sum",
                 "mean", "var", "std", "amax", "amin", "max", "min", "argmax", "reshape", "view",
                 "transpose", "permute", "swapaxes", "expand", "squeeze", "unsqueeze", "flatten",
                 "where", "masked_fill", "pad", "tril", "triu", "matmul", "neg", "gelu",
                 "index_select", "gather", "split", "chunk", "contiguous", "repeat"]:
        assert callable(getattr(x, name)), name
    assert x.T.shape == (3, 2) and x.mT.shape == (3, 2)
    for name in ["cat", "stack", "split", "chunk", "where", "tril", "triu", "pad", "gather"]:
        assert callable(getattr(mg, name)), name
