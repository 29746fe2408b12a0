"""PyTorch as the oracle: state dicts move across, outputs and gradients agree (float32)."""
import numpy as np
import pytest

import minigrad
import layers

torch = pytest.importorskip("torch")

T, N, D, H = 5, 3, 4, 6


@pytest.fixture(autouse=True, scope="module")
def _one_torch_thread():
    """Tiny tensors: torch's thread pool only adds overhead (and spins on a busy machine)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def _to_minigrad(torch_module, module):
    module.load_state_dict({k: v.detach().numpy() for k, v in torch_module.state_dict().items()})


def _flat(result):
    """(output, h_n) / (output, (h_n, c_n)) / h / (h, c) -> a flat list."""
    if not isinstance(result, tuple):
        return [result]
    flat = []
    for item in result:
        flat.extend(item if isinstance(item, tuple) else (item,))
    return flat


def _compare(torch_module, module, torch_args, upstream_seed=1, impl="explicit"):
    """Forward both, backward the same random upstream gradients, compare everything."""
    for leaf in _leaves(torch_args):
        leaf.grad = None
    args = [minigrad.tensor(_flat_arg(a).detach().numpy(), requires_grad=True)
            if a is not None else None for a in torch_args]
    args = [_rebuild(a, t) for a, t in zip(args, torch_args)]
    torch_out = _flat(torch_module(*torch_args))
    ours = _flat(module(*args, impl=impl))
    assert len(ours) == len(torch_out)
    rng = np.random.default_rng(upstream_seed)
    upstream = [rng.standard_normal(o.shape).astype(np.float32) for o in torch_out]
    torch.autograd.backward(torch_out, [torch.from_numpy(u) for u in upstream])
    sum((o * minigrad.tensor(u)).sum() for o, u in zip(ours, upstream)).backward()
    for a, b in zip(ours, torch_out):
        np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), rtol=1e-4, atol=1e-5)
    torch_params = dict(torch_module.named_parameters())
    for name, p in module.named_parameters():
        np.testing.assert_allclose(p.grad.numpy(), torch_params[name].grad.numpy(),
                                   rtol=1e-4, atol=1e-5, err_msg=name)
    for ours_leaf, torch_leaf in zip(_leaves(args), _leaves(torch_args)):
        np.testing.assert_allclose(ours_leaf.grad.numpy(), torch_leaf.grad.numpy(),
                                   rtol=1e-4, atol=1e-5)


def _flat_arg(a):
    return a[0] if isinstance(a, tuple) else a


def _rebuild(ours, theirs):
    """Tuple states (h, c) become pairs of our tensors."""
    if isinstance(theirs, tuple):
        return tuple(minigrad.tensor(t.detach().numpy(), requires_grad=True) for t in theirs)
    return ours


def _leaves(args):
    out = []
    for a in args:
        out.extend(a if isinstance(a, tuple) else (a,) if a is not None else ())
    return out


def _randn(*shape):
    return torch.randn(*shape, requires_grad=True)


CONFIGS = [dict(), dict(num_layers=2, bidirectional=True), dict(batch_first=True, num_layers=2),
           dict(bias=False, bidirectional=True), dict(nonlinearity="relu")]


@pytest.mark.parametrize("kind", ["RNN", "LSTM", "GRU"])
@pytest.mark.parametrize("config", CONFIGS, ids=["plain", "2layers-bidir", "bf-2layers",
                                                 "nobias-bidir", "relu"])
def test_sequence_layers_match_pytorch(kind, config):
    if "nonlinearity" in config and kind != "RNN":
        pytest.skip("nonlinearity is an RNN argument")
    torch.manual_seed(0)
    torch_module = getattr(torch.nn, kind)(D, H, **config)
    module = getattr(layers, kind)(D, H, **config)
    assert list(module.state_dict()) == list(torch_module.state_dict())
    _to_minigrad(torch_module, module)
    dirs_layers = config.get("num_layers", 1) * (2 if config.get("bidirectional") else 1)
    x = _randn(N, T, D) if config.get("batch_first") else _randn(T, N, D)
    state = _randn(dirs_layers, N, H)
    if kind == "LSTM":
        state = (state, _randn(dirs_layers, N, H))
    _compare(torch_module, module, [x, state])
    if config.get("bidirectional") and config.get("num_layers"):
        torch_module.zero_grad()   # the op-composed path too (the other configs: test_recurrent.py)
        module.zero_grad()
        _compare(torch_module, module, [x, state], impl="autograd")


@pytest.mark.parametrize("kind", ["RNN", "LSTM", "GRU"])
def test_sequence_layers_without_initial_state(kind):
    torch.manual_seed(1)
    torch_module = getattr(torch.nn, kind)(D, H, num_layers=2)
    module = getattr(layers, kind)(D, H, num_layers=2)
    _to_minigrad(torch_module, module)
    _compare(torch_module, module, [_randn(T, N, D)])


@pytest.mark.parametrize("kind", ["RNNCell", "LSTMCell", "GRUCell"])
@pytest.mark.parametrize("impl", ["explicit", "autograd"])
def test_cells_match_pytorch(kind, impl):
    torch.manual_seed(2)
    torch_module = getattr(torch.nn, kind)(D, H)
    module = getattr(layers, kind)(D, H)
    assert list(module.state_dict()) == list(torch_module.state_dict())
    _to_minigrad(torch_module, module)
    state = (_randn(N, H), _randn(N, H)) if kind == "LSTMCell" else _randn(N, H)
    _compare(torch_module, module, [_randn(N, D), state], impl=impl)


def test_state_dict_goes_back_to_pytorch():
    lstm = layers.LSTM(D, H, num_layers=2, forget_bias=1.0)
    torch_lstm = torch.nn.LSTM(D, H, num_layers=2)
    torch_lstm.load_state_dict({k: torch.from_numpy(v.numpy())
                               for k, v in lstm.state_dict().items()})
    x = np.random.default_rng(0).standard_normal((T, N, D)).astype(np.float32)
    with minigrad.no_grad():
        ours = lstm(minigrad.tensor(x))[0].numpy()
    np.testing.assert_allclose(ours, torch_lstm(torch.from_numpy(x))[0].detach().numpy(),
                               rtol=1e-4, atol=1e-5)


def test_unbatched_input_matches_pytorch():
    torch.manual_seed(3)
    torch_gru, gru = torch.nn.GRU(D, H), layers.GRU(D, H)
    _to_minigrad(torch_gru, gru)
    x = torch.randn(T, D)
    with minigrad.no_grad():
        output, h_n = gru(minigrad.tensor(x.numpy()))
    torch_output, torch_h_n = torch_gru(x)
    assert output.shape == tuple(torch_output.shape) and h_n.shape == tuple(torch_h_n.shape)
    np.testing.assert_allclose(output.numpy(), torch_output.detach().numpy(), rtol=1e-4,
                               atol=1e-5)
