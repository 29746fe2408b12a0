"""RecurrentSequence, the one-Function-per-layer BPTT driver (layers/recurrent_sequence.py)."""
import numpy as np
import pytest

import minigrad
import layers.recurrent_sequence as sequence_module
from layers.recurrent_sequence import Recording, RecurrentSequence
from recurrent_testing import install_numeric_step_backwards

T, N, D, H = 3, 2, 2, 2
GATES = {"rnn_tanh": 1, "rnn_relu": 1, "lstm": 4, "gru": 3}


def _inputs(rng, device, mode, with_state=True, bias=True):
    """x, h0, c0, W_ih, W_hh, b_ih, b_hh as float64 tensors (None where absent)."""
    G = GATES[mode] * H

    def t(*shape):
        return minigrad.tensor(rng.standard_normal(shape), dtype="float64", device=device,
                               requires_grad=True)
    h0 = t(N, H) if with_state else None
    c0 = t(N, H) if with_state and mode == "lstm" else None
    return [t(T, N, D), h0, c0, t(G, D), t(G, H), t(G) if bias else None,
            t(G) if bias else None]


def _run(mode, reverse):
    return lambda *a: RecurrentSequence.apply(*a, mode=mode, reverse=reverse)


@pytest.mark.homework("hw2.bptt")
@pytest.mark.parametrize("mode", ["rnn_tanh", "lstm", "gru"])
@pytest.mark.parametrize("reverse", [False, True])
def test_bptt_gradcheck_with_reference_steps(monkeypatch, device, rng, mode, reverse):
    # The step backwards are replaced by central differences of the step forwards, so this
    # checks the BPTT driver alone: the loop order, the carried dL/dh (and dL/dc), the
    # sums over steps and the reverse direction.
    install_numeric_step_backwards(monkeypatch, sequence_module)
    inputs = _inputs(rng, device, mode)
    assert minigrad.gradcheck(_run(mode, reverse), inputs)


@pytest.mark.homework("hw2.bptt")
def test_bptt_gradcheck_without_state_or_bias(monkeypatch, rng):
    install_numeric_step_backwards(monkeypatch, sequence_module)
    inputs = _inputs(rng, "cpu", "gru", with_state=False, bias=False)
    assert minigrad.gradcheck(_run("gru", False), inputs)


@pytest.mark.parametrize("mode", ["rnn_tanh", "rnn_relu", "lstm", "gru"])
@pytest.mark.parametrize("reverse", [False, True])
def test_sequence_gradcheck(device, rng, mode, reverse):
    assert minigrad.gradcheck(_run(mode, reverse), _inputs(rng, device, mode))


def test_one_graph_node_per_layer(rng):
    x, h0, c0, *weights = _inputs(rng, "cpu", "lstm")
    output, h_n, c_n = RecurrentSequence.apply(x, h0, c0, *weights, mode="lstm")
    assert output.grad_fn is h_n.grad_fn is c_n.grad_fn
    assert output.grad_fn.name == "RecurrentSequence"
    np.testing.assert_array_equal(output.detach().numpy()[-1], h_n.detach().numpy())


def test_reverse_direction_is_the_forward_one_on_flipped_time(rng):
    x, h0, c0, *weights = _inputs(rng, "cpu", "gru")
    out_rev, h_rev = RecurrentSequence.apply(x, h0, None, *weights, mode="gru", reverse=True)
    flipped = minigrad.tensor(x.detach().numpy()[::-1].copy(), dtype="float64",
                              device=x.device)
    out_fwd, h_fwd = RecurrentSequence.apply(flipped, h0, None, *weights, mode="gru")
    np.testing.assert_allclose(out_rev.detach().numpy(), out_fwd.detach().numpy()[::-1],
                               rtol=1e-12)
    np.testing.assert_allclose(h_rev.detach().numpy(), h_fwd.detach().numpy(), rtol=1e-12)


def test_recording_hidden_grads_are_the_totals(rng):
    x, h0, c0, *weights = _inputs(rng, "cpu", "lstm")
    recording = Recording()
    output, h_n, c_n = RecurrentSequence.apply(x, h0, c0, *weights, mode="lstm",
                                               recording=recording)
    assert set(recording.gates) == {"i", "f", "g", "o"}
    assert recording.hidden_grads is None
    grad_out = rng.standard_normal((T, N, H))
    grad_hn = rng.standard_normal((N, H))
    ((output * minigrad.tensor(grad_out, device=x.device)).sum()
     + (h_n * minigrad.tensor(grad_hn, device=x.device)).sum()).backward()
    # at the last step nothing comes back from the future: dL/dh_{T-1} = grad_out + grad_h_n
    np.testing.assert_allclose(recording.hidden_grads[-1], grad_out[-1] + grad_hn, rtol=1e-12)
    # dL/dh_0 (before the first step) is what reaches h0
    assert recording.hidden_grads.shape == (T, N, H) == recording.cell_grads.shape
    # c_n got no gradient, so at the last step dL/dc = dL/dh * o * (1 - tanh(c)^2)
    o = recording.gates["o"][-1]
    c_last = c_n.detach().numpy()
    np.testing.assert_allclose(recording.cell_grads[-1],
                               (grad_out[-1] + grad_hn) * o * (1 - np.tanh(c_last) ** 2),
                               rtol=1e-12)


def test_bad_mode():
    x = minigrad.zeros(T, N, D)
    with pytest.raises(ValueError, match="mode"):
        RecurrentSequence.apply(x, None, None, minigrad.zeros(H, D), minigrad.zeros(H, H),
                                mode="elman")
