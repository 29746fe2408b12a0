"""Layers put what they build on the device they are asked for, whatever the default device.

Tensor(host array) goes to the *default* device (as torch.tensor), so a layer that wraps a
NumPy array it made itself (xp is numpy on the CPU) without ``device=`` lands on the default
device instead: invisible while the default is the CPU.  Here the default is set to the other
device, so each such slip fails.
"""
import numpy as np
import pytest

import minigrad
from minigrad import backend
from layers import (GRU, LSTM, RNN, GRUCell, LSTMCell, RNNCell, TransformerLM, beam_search,
                    generate_square_subsequent_mask, greedy_decode, sequence_mask,
                    sinusoidal_table)
from layers.positional import rotary_angles


@pytest.fixture
def other_default(device):
    """The default device set to one other than ``device`` for the test, then restored."""
    if device == "cuda":
        pytest.skip("the cpu/guard pair is enough to catch a missing device=")
    saved = backend.default_device()
    backend.set_default_device("guard" if device == "cpu" else "cpu")
    yield
    backend.set_default_device(saved)


def _devices(module):
    return {t.device for t in list(module.parameters()) + list(module.buffers())}


@pytest.mark.parametrize("make", [
    lambda d: RNN(2, 3, num_layers=2, bidirectional=True, device=d),
    lambda d: LSTM(2, 3, device=d), lambda d: GRU(2, 3, device=d),
    lambda d: RNNCell(2, 3, device=d), lambda d: LSTMCell(2, 3, device=d),
    lambda d: GRUCell(2, 3, device=d),
    lambda d: TransformerLM(7, 4, 2, 1, 8, max_len=8, device=d),
    lambda d: TransformerLM(7, 4, 2, 1, 8, max_len=8, positional="learned", device=d),
], ids=["rnn", "lstm", "gru", "rnn_cell", "lstm_cell", "gru_cell", "lm", "lm_learned"])
def test_modules_build_on_the_requested_device(device, other_default, make):
    assert _devices(make(device)) == {device}


def test_functions_return_the_requested_device(device, other_default):
    assert sinusoidal_table(5, 4, device=device).device == device
    assert generate_square_subsequent_mask(3, device=device).device == device
    lengths = minigrad.tensor([2, 0], device="guard" if device == "cpu" else "cpu")
    np.testing.assert_array_equal(sequence_mask(lengths, 3, device=device).numpy(),
                                  [[True, True, False], [False, False, False]])
    cos, sin = rotary_angles(np.arange(3), 4, device=device)      # host positions
    assert backend.device_of(cos) == backend.device_of(sin) == device


def test_decoding_stays_on_the_model_device(device, other_default):
    model = TransformerLM(7, 4, 2, 1, 8, max_len=8, dropout=0.0, device=device)
    prefix = minigrad.tensor([[1, 2], [3, 4]], device=device)
    for use_cache in (True, False):
        assert greedy_decode(model, prefix, 3, use_cache=use_cache).device == device
    seq, log_probs = beam_search(model, prefix, 3, beam_size=2)
    assert seq.device == log_probs.device == device
