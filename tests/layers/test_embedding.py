"""Tests of layers/embedding.py."""
import numpy as np
import pytest

import minigrad
from layers import Embedding


def test_names_init_and_padding_row(device):
    emb = Embedding(1000, 64, padding_idx=3, device=device)
    assert [(n, p.shape) for n, p in emb.named_parameters()] == [("weight", (1000, 64))]
    values = emb.weight.detach().numpy()
    assert not values[3].any()                             # the padding row starts at zero
    rest = np.delete(values, 3, axis=0)
    # N(0, 1) init: 63,936 samples, the std's relative error is ~0.3%
    assert abs(rest.std() - 1) < 0.02 and abs(rest.mean()) < 0.02


def test_negative_padding_idx_counts_from_the_end():
    assert Embedding(10, 2, padding_idx=-1).padding_idx == 9
    with pytest.raises(ValueError, match="padding_idx"):
        Embedding(10, 2, padding_idx=10)


def test_padding_row_stays_fixed_through_training(device):
    from minigrad import optim
    emb = Embedding(5, 3, padding_idx=0, device=device)
    opt = optim.SGD(emb.parameters(), lr=1.0)
    idx = minigrad.tensor([[0, 1, 0], [2, 0, 4]], device=device)
    (emb(idx) ** 2).sum().backward()
    opt.step()
    assert not emb.weight.detach().numpy()[0].any()


def test_torch_state_dict_gives_same_output_and_grads(device, rng):
    torch = pytest.importorskip("torch")
    ref = torch.nn.Embedding(7, 4, padding_idx=1)
    emb = Embedding(7, 4, padding_idx=1, device=device)
    emb.load_state_dict({k: v.detach().numpy() for k, v in ref.state_dict().items()})
    idx = np.array([[1, 2, 2, 6], [0, 1, 5, 2]])          # repeated and padding indices
    upstream = rng.standard_normal((2, 4, 4)).astype(np.float32)
    out = emb(minigrad.tensor(idx, device=device))
    out.backward(minigrad.tensor(upstream, device=device))
    ref_out = ref(torch.tensor(idx))
    ref_out.backward(torch.tensor(upstream))
    np.testing.assert_allclose(out.detach().numpy(), ref_out.detach().numpy(), atol=1e-6)
    np.testing.assert_allclose(emb.weight.grad.numpy(), ref.weight.grad.numpy(), atol=1e-5)
