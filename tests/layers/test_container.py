"""Tests of layers/container.py (Sequential)."""
from collections import OrderedDict

import numpy as np
import pytest

import minigrad
from layers import Dropout, Identity, Linear, Sequential


def model(device=None):
    return Sequential(Linear(3, 8, device=device), Dropout(0.1), Linear(8, 2, device=device))


def test_indexing_len_iteration():
    m = model()
    assert len(m) == 3
    assert isinstance(m[0], Linear) and isinstance(m[-1], Linear) and isinstance(m[1], Dropout)
    assert [type(x).__name__ for x in m] == ["Linear", "Dropout", "Linear"]
    assert len(m[1:]) == 2 and isinstance(m[1:], Sequential)
    with pytest.raises(IndexError):
        m[3]
    m.append(Identity())
    assert len(m) == 4


def test_named_children_from_an_ordered_dict():
    m = Sequential(OrderedDict([("proj", Linear(2, 2)), ("drop", Dropout())]))
    assert list(m.state_dict()) == ["proj.weight", "proj.bias"]
    assert isinstance(m[0], Linear)


def test_state_dict_keys_and_torch_round_trip(device, rng):
    torch = pytest.importorskip("torch")
    ref = torch.nn.Sequential(torch.nn.Linear(3, 8), torch.nn.Dropout(0.1),
                              torch.nn.Linear(8, 2))
    m = model(device)
    assert list(m.state_dict()) == list(ref.state_dict())        # "0.weight", ..., "2.bias"
    assert [(n, p.shape) for n, p in m.named_parameters()] == \
        [(n, tuple(p.shape)) for n, p in ref.named_parameters()]
    m.load_state_dict({k: v.detach().numpy() for k, v in ref.state_dict().items()})
    m.eval()
    ref.eval()
    x_np = rng.standard_normal((5, 3)).astype(np.float32)
    out = m(minigrad.tensor(x_np, device=device))
    out.sum().backward()
    ref_out = ref(torch.tensor(x_np))
    ref_out.sum().backward()
    np.testing.assert_allclose(out.detach().numpy(), ref_out.detach().numpy(), atol=1e-5)
    for (name, p), (_, r) in zip(m.named_parameters(), ref.named_parameters()):
        np.testing.assert_allclose(p.grad.numpy(), r.grad.numpy(), atol=1e-5, err_msg=name)
