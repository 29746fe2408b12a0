"""The sequence layers ``RNN``, ``LSTM`` and ``GRU``: PyTorch's arguments, parameters and
return values, many layers, both directions, and recording for the gradient lessons.

    lstm = LSTM(input_size=D, hidden_size=H, num_layers=2, bidirectional=True)
    output, (h_n, c_n) = lstm(x)        # x (T, N, D), or (N, T, D) with batch_first=True
    # output (T, N, 2H); h_n, c_n (num_layers * 2, N, H)

Each layer and direction is one ``RecurrentSequence`` Function (recurrent_sequence.py);
this module wires them: layer l reads layer l-1's output (both directions side by side,
forward first, as PyTorch), with dropout between layers while training.

Recording (``record=True`` or ``layer.record = True`` before the forward) keeps, per layer,
the gate activations of the last forward and, after a backward, the total gradients
dL/dh_t (and dL/dc_t): ``layer.gates[l]["f"]``, ``layer.hidden_grads[l]``,
``layer.cell_grads[l]``, Tensors of shape (T, N, H), or (T, N, 2H) when bidirectional
(forward direction first, as in the output).  Always time-major, whatever batch_first.
"""
import math

import minigrad
from minigrad.nn import Module, Parameter
from minigrad.nn import init
from minigrad import Tensor, backend

from .cell_base import check_dtype, check_impl
from .lstm import set_forget_bias_
from .recurrent_autograd import sequence_autograd
from .recurrent_sequence import MODES, Recording, RecurrentSequence

__all__ = ["RNNBase", "RNN", "LSTM", "GRU"]

_GATES = {"rnn_tanh": 1, "rnn_relu": 1, "lstm": 4, "gru": 3}


class RNNBase(Module):
    """The parameters, the layer/direction loop and the recording shared by RNN/LSTM/GRU.

    Parameters, per layer l and direction ('' or '_reverse'), in PyTorch's order:
    weight_ih_l{l} (G, D_l), weight_hh_l{l} (G, H), bias_ih_l{l} (G,), bias_hh_l{l} (G,),
    with D_0 = input_size, D_l = H * num_directions after, all U(-1/sqrt(H), 1/sqrt(H)).
    """

    def __init__(self, mode, input_size, hidden_size, num_layers=1, bias=True,
                 batch_first=False, dropout=0.0, bidirectional=False, device=None,
                 dtype=None, impl="explicit", record=False):
        super().__init__()
        name = type(self).__name__
        if mode not in MODES:
            raise ValueError(f"{name}: unknown mode {mode!r}, expected one of {MODES}")
        if input_size <= 0 or hidden_size <= 0 or num_layers < 1:
            raise ValueError(f"{name}: input_size, hidden_size and num_layers must be "
                             f"positive, got {input_size}, {hidden_size}, {num_layers}")
        if not 0.0 <= dropout <= 1.0:
            raise ValueError(f"{name}: dropout must be a probability in [0, 1], got {dropout}")
        self.mode, self.input_size, self.hidden_size = mode, input_size, hidden_size
        self.num_layers, self.bias, self.batch_first = num_layers, bias, batch_first
        self.dropout, self.bidirectional = float(dropout), bidirectional
        self.impl = check_impl(name, impl)
        self.record = record
        self._recordings = None
        xp = backend.get_backend(device).xp
        dtype = backend.float32 if dtype is None else backend.dtype_of(dtype)
        gates = _GATES[mode] * hidden_size
        directions = 2 if bidirectional else 1
        for layer in range(num_layers):
            layer_input = input_size if layer == 0 else hidden_size * directions
            for suffix in ("", "_reverse")[:directions]:
                shapes = {"weight_ih": (gates, layer_input), "weight_hh": (gates, hidden_size)}
                if bias:
                    shapes.update(bias_ih=(gates,), bias_hh=(gates,))
                for kind, shape in shapes.items():
                    # device= too: a host (NumPy) array alone would go to the default device
                    setattr(self, f"{kind}_l{layer}{suffix}",
                            Parameter(xp.zeros(shape, dtype=dtype), device=device))
        self.reset_parameters()

    @property
    def num_directions(self):
        return 2 if self.bidirectional else 1

    def reset_parameters(self):
        bound = 1.0 / math.sqrt(self.hidden_size)
        for weight in self.parameters():
            init.uniform_(weight, -bound, bound)

    def layer_weights(self, layer, direction=0):
        """(weight_ih, weight_hh, bias_ih, bias_hh) of one layer and direction (biases None
        when bias=False)."""
        suffix = "_reverse" if direction else ""
        kinds = ("weight_ih", "weight_hh") + (("bias_ih", "bias_hh") if self.bias else ())
        weights = tuple(getattr(self, f"{kind}_l{layer}{suffix}") for kind in kinds)
        return weights if self.bias else weights + (None, None)

    def extra_repr(self):
        text = f"{self.input_size}, {self.hidden_size}"
        if self.num_layers != 1:
            text += f", num_layers={self.num_layers}"
        for key, default in (("bias", True), ("batch_first", False), ("dropout", 0.0),
                             ("bidirectional", False)):
            if getattr(self, key) != default:
                text += f", {key}={getattr(self, key)}"
        return text

    # ------------------------------------------------------------------ forward
    def _check_input(self, input, hx):
        name = type(self).__name__
        if input.ndim not in (2, 3):
            raise ValueError(f"{name}: expected input of shape (T, N, D), (N, T, D) with "
                             f"batch_first=True, or unbatched (T, D); got {input.shape}")
        if input.shape[-1] != self.input_size:
            raise ValueError(f"{name}: input has {input.shape[-1]} features, expected "
                             f"input_size={self.input_size} (input shape {input.shape})")
        lstm = self.mode == "lstm"
        if hx is not None and lstm and not (isinstance(hx, (tuple, list)) and len(hx) == 2):
            raise TypeError(f"{name}: hx must be a tuple (h_0, c_0) of two tensors, each "
                            f"(num_layers * num_directions, N, H), got "
                            f"{type(hx).__name__}" + (f" of length {len(hx)}" if isinstance(
                                hx, (tuple, list)) else "") + "; pass lstm(x, (h_0, c_0))")
        if hx is not None and not lstm and not isinstance(hx, Tensor):
            raise TypeError(f"{name}: h_0 must be one tensor (num_layers * num_directions, "
                            f"N, H), got {type(hx).__name__} (a pair (h_0, c_0) is LSTM's)")
        states = () if hx is None else (hx if isinstance(hx, (tuple, list)) else (hx,))
        n = None if input.ndim == 2 else input.shape[0 if self.batch_first else 1]
        expected = (self.num_layers * self.num_directions,
                    *(() if n is None else (n,)), self.hidden_size)
        for state in states:
            if state.shape != expected:
                raise ValueError(f"{name}: initial state of shape {state.shape}, expected "
                                 f"{expected} (num_layers * num_directions, N, H)")
        check_dtype(name, [input, *states, self.weight_ih_l0])

    def _run(self, input, h0, c0, impl):
        """input (T, N, D), h0/c0 (L*dirs, N, H) or None -> output, [h_n..], [c_n..]."""
        lstm = self.mode == "lstm"
        if impl == "autograd" and h0 is None:       # the op path needs real state tensors
            shape = (self.num_layers * self.num_directions, input.shape[1], self.hidden_size)
            h0 = minigrad.zeros(*shape, dtype=input.dtype, device=input.device)
            c0 = h0 if lstm else None
        self._recordings = ([[Recording() for _ in range(self.num_directions)]
                             for _ in range(self.num_layers)] if self.record else None)
        layer_input, h_n, c_n = input, [], []
        for layer in range(self.num_layers):
            outputs = []
            for direction in range(self.num_directions):
                k = layer * self.num_directions + direction
                args = (layer_input, None if h0 is None else h0[k],
                        None if c0 is None else c0[k], *self.layer_weights(layer, direction))
                recording = None if self._recordings is None else self._recordings[layer][direction]
                if impl == "autograd":
                    result = sequence_autograd(self.mode, *args, reverse=direction == 1,
                                               recording=recording)
                else:
                    result = RecurrentSequence.apply(*args, mode=self.mode,
                                                     reverse=direction == 1,
                                                     recording=recording)
                outputs.append(result[0])
                h_n.append(result[1])
                if lstm:
                    c_n.append(result[2])
            layer_input = outputs[0] if len(outputs) == 1 else minigrad.cat(outputs, dim=2)
            if self.dropout and self.training and layer < self.num_layers - 1:
                from minigrad.nn import functional as F
                layer_input = F.dropout(layer_input, p=self.dropout, training=True)
        return layer_input, h_n, c_n

    def forward(self, input, hx=None, impl=None):
        """input (T, N, D) ((N, T, D) if batch_first, (T, D) unbatched) and an optional initial
        state (L * dirs, N, H) -- for LSTM a pair (h_0, c_0) -- as PyTorch's."""
        impl = check_impl(type(self).__name__, impl or self.impl)
        self._check_input(input, hx)
        unbatched = input.ndim == 2
        h0, c0 = (hx if hx is not None else (None, None)) if self.mode == "lstm" else (hx, None)
        if unbatched:                                 # (T, D) -> (T, 1, D), states (L, 1, H)
            input = input.reshape(input.shape[0], 1, input.shape[1])
            h0, c0 = [None if s is None else s.reshape(s.shape[0], 1, s.shape[1])
                      for s in (h0, c0)]
        elif self.batch_first:
            input = input.transpose(0, 1)             # (N, T, D) -> (T, N, D)
        output, h_n, c_n = self._run(input, h0, c0, impl)
        h_n = minigrad.stack(h_n, dim=0)              # (L * dirs, N, H)
        c_n = minigrad.stack(c_n, dim=0) if c_n else None
        if unbatched:
            output = output.reshape(output.shape[0], output.shape[2])
            h_n = h_n.reshape(h_n.shape[0], h_n.shape[2])
            c_n = None if c_n is None else c_n.reshape(c_n.shape[0], c_n.shape[2])
        elif self.batch_first:
            output = output.transpose(0, 1)           # (T, N, dirs*H) -> (N, T, dirs*H)
        return (output, (h_n, c_n)) if self.mode == "lstm" else (output, h_n)

    # ------------------------------------------------------------------ recording
    def _recorded(self, what):
        if self._recordings is None:
            raise RuntimeError(
                f"{type(self).__name__}.{what}: nothing recorded; switch recording on "
                f"(record=True, or layer.record = True) and run a forward first")
        return self._recordings

    @staticmethod
    def _join(arrays):
        """Per-direction (T, N, H) arrays -> one Tensor (T, N, dirs*H), or None."""
        if any(a is None for a in arrays):
            return None
        xp = backend.array_module(arrays[0])
        data = arrays[0] if len(arrays) == 1 else xp.concatenate(arrays, axis=-1)
        return minigrad.as_tensor(xp.ascontiguousarray(data))

    @property
    def gates(self):
        """Per layer, {gate name: Tensor (T, N, dirs*H)} of the last forward (LSTM: i, f, g, o;
        GRU: r, z, n; RNN: empty)."""
        return [{name: self._join([rec.gates[name] for rec in layer])
                 for name in layer[0].gates} for layer in self._recorded("gates")]

    @property
    def hidden_grads(self):
        """Per layer, the total dL/dh_t as a Tensor (T, N, dirs*H); None before a backward."""
        return [self._join([rec.read_grads()[0] for rec in layer])
                for layer in self._recorded("hidden_grads")]

    @property
    def cell_grads(self):
        """Per layer, the total dL/dc_t as a Tensor (T, N, dirs*H) (LSTM only)."""
        if self.mode != "lstm":
            raise RuntimeError(f"{type(self).__name__} has no cell state: cell_grads is "
                                 "LSTM only; hidden_grads holds dL/dh_t")
        return [self._join([rec.read_grads()[1] for rec in layer])
                for layer in self._recorded("cell_grads")]


class RNN(RNNBase):
    """PyTorch's ``nn.RNN(input_size, hidden_size, num_layers=1, nonlinearity='tanh',
    bias=True, batch_first=False, dropout=0.0, bidirectional=False)``.

    forward(input, h_0=None) -> (output (T, N, dirs*H), h_n (L*dirs, N, H)).
    """

    def __init__(self, input_size, hidden_size, num_layers=1, nonlinearity="tanh", bias=True,
                 batch_first=False, dropout=0.0, bidirectional=False, device=None,
                 dtype=None, impl="explicit", record=False):
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"RNN: nonlinearity must be 'tanh' or 'relu', got {nonlinearity!r}")
        self_kwargs = dict(num_layers=num_layers, bias=bias, batch_first=batch_first,
                           dropout=dropout, bidirectional=bidirectional, device=device,
                           dtype=dtype, impl=impl, record=record)
        super().__init__(f"rnn_{nonlinearity}", input_size, hidden_size, **self_kwargs)
        self.nonlinearity = nonlinearity


class LSTM(RNNBase):
    """PyTorch's ``nn.LSTM(input_size, hidden_size, num_layers=1, bias=True,
    batch_first=False, dropout=0.0, bidirectional=False)``, plus ``forget_bias``.

    forward(input, (h_0, c_0)=None) -> (output (T, N, dirs*H), (h_n, c_n) (L*dirs, N, H)).
    forget_bias: None keeps PyTorch's init; a number sets every layer's forget-gate slice of
    bias_ih to it and of bias_hh to 0 (so the gate starts at sigmoid(forget_bias)).
    """

    def __init__(self, input_size, hidden_size, num_layers=1, bias=True, batch_first=False,
                 dropout=0.0, bidirectional=False, device=None, dtype=None,
                 forget_bias=None, impl="explicit", record=False):
        super().__init__("lstm", input_size, hidden_size, num_layers=num_layers, bias=bias,
                         batch_first=batch_first, dropout=dropout,
                         bidirectional=bidirectional, device=device, dtype=dtype, impl=impl,
                         record=record)
        self.forget_bias = forget_bias
        self._set_forget_bias()

    def reset_parameters(self):
        super().reset_parameters()
        self._set_forget_bias()

    def _set_forget_bias(self):
        forget_bias = getattr(self, "forget_bias", None)     # None during RNNBase.__init__
        if forget_bias is not None:
            for layer in range(self.num_layers):
                for direction in range(self.num_directions):
                    _, _, b_ih, b_hh = self.layer_weights(layer, direction)
                    set_forget_bias_(b_ih, b_hh, forget_bias, self.hidden_size)


class GRU(RNNBase):
    """PyTorch's ``nn.GRU(input_size, hidden_size, num_layers=1, bias=True,
    batch_first=False, dropout=0.0, bidirectional=False)``.

    forward(input, h_0=None) -> (output (T, N, dirs*H), h_n (L*dirs, N, H)).
    """

    def __init__(self, input_size, hidden_size, num_layers=1, bias=True, batch_first=False,
                 dropout=0.0, bidirectional=False, device=None, dtype=None,
                 impl="explicit", record=False):
        super().__init__("gru", input_size, hidden_size, num_layers=num_layers, bias=bias,
                         batch_first=batch_first, dropout=dropout,
                         bidirectional=bidirectional, device=device, dtype=dtype, impl=impl,
                         record=record)
