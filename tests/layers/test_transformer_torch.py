"""PyTorch state dicts load into the Transformer layers and give the same numbers (float32)."""
import numpy as np
import pytest

import minigrad
from layers.transformer import Transformer, TransformerDecoderLayer, TransformerEncoderLayer

torch = pytest.importorskip("torch")

E, NH, FF, N, T, S = 8, 2, 16, 3, 4, 5


def _load(theirs, mine):
    with torch.no_grad():                          # non-trivial norms and biases
        for p in theirs.parameters():
            p.add_(torch.randn(p.shape) * 0.1)
    missing = mine.load_state_dict({k: v.numpy() for k, v in theirs.state_dict().items()})
    assert not missing.missing_keys and not missing.unexpected_keys
    theirs.eval()
    mine.eval()


def _compare(theirs, mine, inputs, masks, rng):
    t_in = [torch.tensor(a, requires_grad=True) for a in inputs]
    m_in = [minigrad.tensor(a, requires_grad=True) for a in inputs]
    t_out = theirs(*t_in, **{k: torch.tensor(v) for k, v in masks.items()})
    m_out = mine(*m_in, **{k: minigrad.tensor(v) for k, v in masks.items()})
    grad = rng.standard_normal(t_out.shape).astype(np.float32)
    t_out.backward(torch.tensor(grad))
    m_out.backward(minigrad.tensor(grad))
    np.testing.assert_allclose(m_out.detach().numpy(), t_out.detach().numpy(), atol=2e-5)
    for m, t in zip(m_in, t_in):
        np.testing.assert_allclose(m.grad.numpy(), t.grad.numpy(), atol=1e-4)
    theirs_params = dict(theirs.named_parameters())
    for name, p in mine.named_parameters():
        np.testing.assert_allclose(p.grad.numpy(), theirs_params[name].grad.numpy(),
                                   atol=2e-4, err_msg=name)


def _seq(rng, L, batch_first):
    return rng.standard_normal((N, L, E) if batch_first else (L, N, E)).astype(np.float32)


@pytest.mark.parametrize("norm_first", [False, True])
@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("activation", ["relu", "gelu"])
def test_encoder_layer(rng, norm_first, batch_first, activation):
    options = dict(dropout=0.0, activation=activation, batch_first=batch_first,
                   norm_first=norm_first)
    theirs = torch.nn.TransformerEncoderLayer(E, NH, FF, **options)
    mine = TransformerEncoderLayer(E, NH, FF, **options)
    _load(theirs, mine)
    padding = np.zeros((N, T), dtype=bool)
    padding[0, -2:] = True
    masks = dict(src_mask=np.triu(np.ones((T, T), dtype=bool), 1),
                 src_key_padding_mask=padding)
    _compare(theirs, mine, [_seq(rng, T, batch_first)], masks, rng)


@pytest.mark.parametrize("norm_first", [False, True])
@pytest.mark.parametrize("batch_first", [False, True])
def test_decoder_layer(rng, norm_first, batch_first):
    options = dict(dropout=0.0, batch_first=batch_first, norm_first=norm_first)
    theirs = torch.nn.TransformerDecoderLayer(E, NH, FF, **options)
    mine = TransformerDecoderLayer(E, NH, FF, **options)
    _load(theirs, mine)
    memory_padding = np.zeros((N, S), dtype=bool)
    memory_padding[1, -1] = True
    causal = np.triu(np.full((T, T), -np.inf, dtype=np.float32), 1)   # PyTorch's float mask
    masks = dict(tgt_mask=causal, memory_key_padding_mask=memory_padding)
    _compare(theirs, mine, [_seq(rng, T, batch_first), _seq(rng, S, batch_first)], masks, rng)


@pytest.mark.parametrize("norm_first", [False, True])
def test_transformer(rng, norm_first):
    options = dict(num_encoder_layers=2, num_decoder_layers=2, dim_feedforward=FF,
                   dropout=0.0, norm_first=norm_first)
    theirs = torch.nn.Transformer(E, NH, **options)
    mine = Transformer(E, NH, **options)
    assert list(mine.state_dict()) == list(theirs.state_dict())
    _load(theirs, mine)
    src_padding = np.zeros((N, S), dtype=bool)
    src_padding[2, -2:] = True
    masks = dict(tgt_mask=Transformer.generate_square_subsequent_mask(T).numpy(),
                 src_key_padding_mask=src_padding, memory_key_padding_mask=src_padding)
    _compare(theirs, mine, [_seq(rng, S, False), _seq(rng, T, False)], masks, rng)
