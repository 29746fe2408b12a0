"""RNN, LSTM, GRU sequence layers (layers/recurrent.py): parameters, both impls, layers,
directions, batch_first, dropout between layers, recording."""
import numpy as np
import pytest

import minigrad
from layers import GRU, LSTM, RNN

T, N, D, H = 3, 2, 2, 2
CLASSES = {"rnn": RNN, "lstm": LSTM, "gru": GRU}


def _tensor(rng, *shape, device=None, grad=True):
    return minigrad.tensor(rng.standard_normal(shape), dtype="float64", device=device,
                           requires_grad=grad)


def _call(module, x, state, impl):
    """The outputs as a flat tuple: (output, h_n) or (output, h_n, c_n)."""
    output, final = module(x, state, impl=impl)
    return (output, *final) if isinstance(final, tuple) else (output, final)


def _state(rng, kind, layers_dirs, device=None):
    if kind == "lstm":
        return (_tensor(rng, layers_dirs, N, H, device=device),
                _tensor(rng, layers_dirs, N, H, device=device))
    return _tensor(rng, layers_dirs, N, H, device=device)


def test_parameter_names_shapes_and_order_are_pytorchs():
    lstm = LSTM(5, 4, num_layers=2, bidirectional=True)
    expected = []
    for layer, width in ((0, 5), (1, 8)):          # layer 1 reads both directions: 2H
        for suffix in ("", "_reverse"):
            expected += [(f"weight_ih_l{layer}{suffix}", (16, width)),
                         (f"weight_hh_l{layer}{suffix}", (16, 4)),
                         (f"bias_ih_l{layer}{suffix}", (16,)),
                         (f"bias_hh_l{layer}{suffix}", (16,))]
    assert [(n, p.shape) for n, p in lstm.named_parameters()] == expected
    assert list(lstm.state_dict()) == [n for n, _ in expected]
    assert [n for n, _ in GRU(5, 4, bias=False).named_parameters()] == [
        "weight_ih_l0", "weight_hh_l0"]
    assert GRU(5, 4).weight_hh_l0.shape == (12, 4)
    for p in lstm.parameters():                    # U(-1/sqrt(H), 1/sqrt(H)) everywhere
        values = p.detach().numpy()
        assert np.all(np.abs(values) <= 0.5) and values.std() > 0.2


def test_lstm_forget_bias_in_every_layer_and_direction():
    lstm = LSTM(3, 4, num_layers=2, bidirectional=True, forget_bias=1.0)
    for name, p in lstm.named_parameters():
        if name.startswith("bias_ih"):
            np.testing.assert_array_equal(p.detach().numpy()[4:8], 1.0)
        if name.startswith("bias_hh"):
            np.testing.assert_array_equal(p.detach().numpy()[4:8], 0.0)
    lstm.reset_parameters()                        # a re-init keeps the setting
    np.testing.assert_array_equal(lstm.bias_ih_l1_reverse.detach().numpy()[4:8], 1.0)


CONFIGS = [dict(), dict(num_layers=2), dict(bidirectional=True),
           dict(num_layers=2, bidirectional=True, batch_first=True)]


@pytest.mark.parametrize("kind", ["rnn", "lstm", "gru"])
@pytest.mark.parametrize("config", CONFIGS, ids=["plain", "2layers", "bidir", "2layers-bidir-bf"])
@pytest.mark.parametrize("with_state", [False, True])
def test_explicit_and_autograd_agree(rng, kind, config, with_state):
    module = CLASSES[kind](D, H, dtype="float64", **config)
    dirs = 2 if config.get("bidirectional") else 1
    state = _state(rng, kind, config.get("num_layers", 1) * dirs) if with_state else None
    x = _tensor(rng, N, T, D) if config.get("batch_first") else _tensor(rng, T, N, D)
    states = [] if state is None else list(state) if kind == "lstm" else [state]
    leaves = [x, *module.parameters(), *states]
    results = {}
    for impl in ("explicit", "autograd"):
        for leaf in leaves:
            leaf.grad = None
        outputs = _call(module, x, state, impl)
        upstream = np.random.default_rng(1)
        loss = sum((o * minigrad.tensor(upstream.standard_normal(o.shape))).sum()
                   for o in outputs)
        loss.backward()
        results[impl] = [o.detach().numpy() for o in outputs] + [l.grad.numpy() for l in leaves]
    for a, b in zip(results["explicit"], results["autograd"]):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("kind", ["rnn", "lstm", "gru"])
@pytest.mark.parametrize("impl", ["explicit", "autograd"])
def test_gradcheck_two_layers_bidirectional_with_state(rng, kind, impl):
    # kept tiny (T=2, N=1, D=1, H=2): every parameter of 4 layer-directions is checked by
    # central differences, each a full forward; the guard device runs the cell and
    # single-layer gradchecks (test_rnn/lstm/gru, test_recurrent_sequence)
    module = CLASSES[kind](1, H, num_layers=2, bidirectional=True, batch_first=True,
                           dtype="float64")
    x = minigrad.tensor(rng.standard_normal((1, 2, 1)), dtype="float64", requires_grad=True)
    state = tuple(minigrad.tensor(rng.standard_normal((4, 1, H)), dtype="float64",
                                  requires_grad=True) for _ in range(2 if kind == "lstm" else 1))

    def run(x, *rest):
        return _call(module, x, rest[:2] if kind == "lstm" else rest[0], impl)
    # two of the four layer-directions' weights (the first forward, the last reverse) keep
    # the run short; the others are checked by the explicit/autograd agreement test
    weights = [p for name, p in module.named_parameters()
               if name.endswith("_l0") or name.endswith("_l1_reverse")]
    assert minigrad.gradcheck(run, [x, *state, *weights])


def test_unbatched_input_matches_a_batch_of_one(rng):
    gru = GRU(D, H, num_layers=2, dtype="float64")
    x = _tensor(rng, T, D, grad=False)
    h0 = _tensor(rng, 2, H, grad=False)
    with minigrad.no_grad():
        output, h_n = gru(x, h0)
        output1, h_n1 = gru(x.reshape(T, 1, D), h0.reshape(2, 1, H))
    assert output.shape == (T, H) and h_n.shape == (2, H)
    np.testing.assert_allclose(output.numpy(), output1.numpy()[:, 0], rtol=1e-12)


def test_output_shapes():
    lstm = LSTM(D, H, num_layers=3, bidirectional=True, batch_first=True)
    output, (h_n, c_n) = lstm(minigrad.zeros(N, T, D))
    assert output.shape == (N, T, 2 * H)
    assert h_n.shape == c_n.shape == (6, N, H)


@minigrad.no_grad()
def test_dropout_only_between_layers_and_only_in_training(rng):
    x = _tensor(rng, T, N, D, grad=False)
    one_layer = RNN(D, H, dropout=0.5, dtype="float64")
    plain = RNN(D, H, dtype="float64")
    plain.load_state_dict(one_layer.state_dict())
    # one layer: nothing lies between layers, so nothing is dropped
    np.testing.assert_array_equal(one_layer(x)[0].numpy(), plain(x)[0].numpy())
    two = GRU(D, 8, num_layers=2, dropout=0.5, dtype="float64")
    two_plain = GRU(D, 8, num_layers=2, dtype="float64")
    two_plain.load_state_dict(two.state_dict())
    assert not np.allclose(two(x)[0].numpy(), two_plain(x)[0].numpy())
    two.eval()
    np.testing.assert_array_equal(two(x)[0].numpy(), two_plain(x)[0].numpy())


@pytest.mark.parametrize("impl", ["explicit", "autograd"])
def test_recording_api(rng, impl):
    lstm = LSTM(D, H, num_layers=2, bidirectional=True, dtype="float64", record=True,
                impl=impl)
    x = _tensor(rng, T, N, D)
    output, (h_n, c_n) = lstm(x)
    gates = lstm.gates
    assert len(gates) == 2 and set(gates[0]) == {"i", "f", "g", "o"}
    assert gates[1]["f"].shape == (T, N, 2 * H)
    assert lstm.hidden_grads == [None, None]            # no backward yet
    upstream = rng.standard_normal((T, N, 2 * H))
    (output * minigrad.tensor(upstream)).sum().backward()
    hidden, cells = lstm.hidden_grads, lstm.cell_grads
    assert hidden[0].shape == cells[1].shape == (T, N, 2 * H)
    # the last layer's outputs are its states: their total gradient at the end of each
    # direction is just the upstream gradient (nothing comes from later steps or layers)
    np.testing.assert_allclose(hidden[1].numpy()[T - 1, :, :H], upstream[T - 1, :, :H])
    np.testing.assert_allclose(hidden[1].numpy()[0, :, H:], upstream[0, :, H:])
    # the gates rebuild the output: c = f c_prev + i g, h = o tanh(c) (forward direction)
    g1 = {k: v.numpy()[:, :, :H] for k, v in gates[1].items()}
    c = np.zeros((N, H))
    for t in range(T):
        c = g1["f"][t] * c + g1["i"][t] * g1["g"][t]
        np.testing.assert_allclose(g1["o"][t] * np.tanh(c), output.detach().numpy()[t, :, :H],
                                   rtol=1e-10)


def test_recorded_gradients_agree_between_impls(rng):
    x = _tensor(rng, T, N, D)
    upstream = minigrad.tensor(rng.standard_normal((T, N, H)))
    recorded = {}
    for impl in ("explicit", "autograd"):
        minigrad.manual_seed(0)
        gru = GRU(D, H, num_layers=2, dtype="float64", impl=impl)
        gru.record = True                                 # switch on after construction
        (gru(x)[0] * upstream).sum().backward()
        recorded[impl] = [g.numpy() for g in gru.hidden_grads]
        assert [set(g) for g in gru.gates] == [{"r", "z", "n"}] * 2
    for a, b in zip(recorded["explicit"], recorded["autograd"]):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)


def test_recording_off_says_how_to_switch_it_on():
    rnn = RNN(D, H)
    rnn(minigrad.zeros(T, N, D))
    with pytest.raises(RuntimeError, match="record=True"):
        rnn.hidden_grads
    with pytest.raises(RuntimeError, match="LSTM only"):
        RNN(D, H, record=True).cell_grads


def test_runs_on_the_guard_device(rng):
    gru = GRU(D, H, num_layers=2, bidirectional=True, device="guard", record=True)
    x = minigrad.tensor(rng.standard_normal((T, N, D)), dtype="float32", device="guard",
                        requires_grad=True)
    output, h_n = gru(x)
    output.sum().backward()
    assert x.grad.device == "guard" and gru.hidden_grads[0].device == "guard"


def test_errors_name_shapes_and_dtypes():
    lstm = LSTM(D, H, num_layers=2)
    with pytest.raises(ValueError, match="input_size=2"):
        lstm(minigrad.zeros(T, N, D + 1))
    with pytest.raises(ValueError, match=r"\(2, 2, 2\)"):
        lstm(minigrad.zeros(T, N, D), (minigrad.zeros(1, N, H), minigrad.zeros(1, N, H)))
    with pytest.raises(TypeError, match="dtype"):
        lstm(minigrad.zeros(T, N, D, dtype="float64"))
    with pytest.raises(ValueError, match="4-d|shape"):
        lstm(minigrad.zeros(1, T, N, D))
    with pytest.raises(ValueError, match="nonlinearity"):
        RNN(D, H, nonlinearity="gelu")
    with pytest.raises(ValueError, match="dropout"):
        GRU(D, H, dropout=1.5)
