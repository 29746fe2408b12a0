"""Layer misuse a student hits (issue 12): dtypes, LSTM states, batch mismatches."""
import numpy as np
import pytest

import minigrad
from layers import GRU, LSTM, RNN, Linear, LSTMCell, MultiheadAttention


@pytest.mark.parametrize("dtype", ["float64", "int64"])
def test_linear_refuses_an_input_of_another_dtype_as_torch(dtype):
    torch = pytest.importorskip("torch")
    with pytest.raises(RuntimeError):              # the oracle: torch refuses both
        torch.nn.Linear(3, 2)(torch.zeros(4, 3, dtype=getattr(torch, dtype)))
    with pytest.raises(TypeError, match=f"Linear: expected input of dtype float32 .*got {dtype}"):
        Linear(3, 2)(minigrad.zeros(4, 3, dtype=dtype))


def test_linear_in_float64_takes_float64():
    layer = Linear(3, 2, dtype="float64")
    assert layer(minigrad.zeros(4, 3, dtype="float64")).dtype == np.float64
    with pytest.raises(TypeError, match="expected input of dtype float64"):
        layer(minigrad.zeros(4, 3))


@pytest.mark.parametrize("layer", [Linear(4, 4), LSTM(4, 4), GRU(4, 4), RNN(4, 4),
                                   MultiheadAttention(4, 2)])
def test_every_layer_raises_type_error_on_a_float64_input(layer):
    x = minigrad.zeros(3, 2, 4, dtype="float64")
    with pytest.raises(TypeError, match="dtype"):
        layer(x, x, x) if isinstance(layer, MultiheadAttention) else layer(x)


def test_lstm_given_a_tensor_instead_of_a_pair():
    lstm = LSTM(3, 4)
    x, h0 = minigrad.zeros(5, 2, 3), minigrad.zeros(1, 2, 4)
    with pytest.raises(TypeError, match=r"LSTM: hx must be a tuple \(h_0, c_0\).*got Tensor"):
        lstm(x, h0)
    with pytest.raises(TypeError, match="got tuple of length 1"):
        lstm(x, (h0,))
    out, (h, c) = lstm(x, (h0, h0))                # the right form still works
    assert h.shape == c.shape == (1, 2, 4)


def test_lstm_cell_given_a_tensor_instead_of_a_pair():
    cell = LSTMCell(3, 4)
    x, h = minigrad.zeros(2, 3), minigrad.zeros(2, 4)
    with pytest.raises(TypeError, match=r"LSTMCell: hx must be a tuple \(h, c\).*got Tensor"):
        cell(x, h)
    with pytest.raises(TypeError, match="got tuple of length 3"):
        cell(x, (h, h, h))
    h1, c1 = cell(x, (h, h))                        # the right form still works
    assert h1.shape == c1.shape == (2, 4)


def test_gru_given_a_pair_instead_of_a_tensor():
    h0 = minigrad.zeros(1, 2, 4)
    with pytest.raises(TypeError, match="GRU: h_0 must be one tensor"):
        GRU(3, 4)(minigrad.zeros(5, 2, 3), (h0, h0))


@pytest.mark.parametrize("batch_first", [False, True])
def test_multihead_attention_with_query_and_key_batches_of_different_sizes(batch_first):
    mha = MultiheadAttention(8, 2, batch_first=batch_first)
    shape = (lambda L, N: (N, L, 8)) if batch_first else (lambda L, N: (L, N, 8))
    q, kv = minigrad.zeros(*shape(5, 2)), minigrad.zeros(*shape(6, 3))
    with pytest.raises(ValueError, match=r"MultiheadAttention: query .* key .* same batch"):
        mha(q, kv, kv)
    with pytest.raises(ValueError, match="same length S"):
        mha(q, minigrad.zeros(*shape(6, 2)), minigrad.zeros(*shape(7, 2)))
