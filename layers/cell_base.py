"""What the three recurrent cells share: the input projection, its gradients, sigmoid, and
the Module that owns a cell's weights.

Every cell (RNN, LSTM, GRU) starts a step the same way: it projects the input with
W_ih and the previous hidden state with W_hh into G = gates * H pre-activations

    a_t = x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh          (N, G)

so the weight gradients have the same form for all three, and for one step or a whole
sequence (the sequence layer stacks the T steps as T*N rows):

    dL/dW_ih = dA^T @ X        (G, N) @ (N, D) -> (G, D)
    dL/dW_hh = dA_h^T @ H_prev (G, N) @ (N, H) -> (G, H)
    dL/db    = sum over rows of dA

(dA_h, the gradient reaching h W_hh^T + b_hh, equals dA except in the GRU, whose candidate
gate multiplies the hidden projection by r.)
"""
import math

from minigrad import backend
from minigrad.nn import Module, Parameter
from minigrad.nn import init

__all__ = ["sigmoid", "project_inputs", "projection_grads", "RecurrentCellBase",
           "check_dtype", "check_impl"]


def sigmoid(a):
    """sigmoid(a) = 1 / (1 + exp(-a)), computed as 0.5 * tanh(a / 2) + 0.5.

    The two are equal (tanh(a/2) = (1 - e^-a) / (1 + e^-a)); this form never overflows
    (exp(-a) does for a < -88 in float32) and costs one tanh instead of an exp and a divide.
    """
    xp = backend.array_module(a)
    return 0.5 * xp.tanh(0.5 * a) + 0.5


def project_inputs(x, w_ih, b_ih=None, b_hh=None):
    """x (M, D) @ W_ih^T (D, G) + b_ih + b_hh -> (M, G): every row's input projection in one
    matrix product (M = T*N rows for a whole sequence).  Biases may be None."""
    x_proj = x @ w_ih.T                      # (M, D) @ (D, G) -> (M, G)
    biases = [b for b in (b_ih, b_hh) if b is not None]
    if biases:
        x_proj += sum(biases)                # the (G,) biases added first: one pass over (M, G)
    return x_proj


def projection_grads(ctx, grad_x_proj, x, w_ih, grad_h_proj, h_prev, bias_in_x_proj):
    """The gradients of x, W_ih, W_hh and the biases from the gradients of the projections.

    grad_x_proj: (M, G) dL/d(x W_ih^T + b_ih);  x: (M, D);  w_ih: (G, D)
    grad_h_proj: (M, G) dL/d(h W_hh^T + b_hh);  h_prev: (M, H)
    bias_in_x_proj: True when both biases were added to x_proj (RNN, LSTM): then
        dL/db_hh = dL/db_ih.
    Returns grad_x (M, D), grad_w_ih (G, D), grad_w_hh (G, H), grad_b_ih (G,), grad_b_hh (G,)
    (None for inputs that need no gradient, per ``ctx.needs_input_grad`` of the caller,
    whose inputs are ordered x, ..., w_ih, w_hh, b_ih, b_hh with the weights last).
    """
    need = ctx.needs_input_grad
    need_x, (need_w_ih, need_w_hh, need_b_ih, need_b_hh) = need[0], need[-4:]
    grad_x = grad_x_proj @ w_ih if need_x else None                  # (M, G) @ (G, D)
    grad_w_ih = grad_x_proj.T @ x if need_w_ih else None             # (G, M) @ (M, D)
    grad_w_hh = grad_h_proj.T @ h_prev if need_w_hh else None        # (G, M) @ (M, H)
    grad_b_ih = grad_x_proj.sum(axis=0) if need_b_ih else None
    if not need_b_hh:
        grad_b_hh = None
    elif bias_in_x_proj and grad_b_ih is not None:
        grad_b_hh = grad_b_ih.copy()         # a separate array: the two may be changed apart
    else:
        grad_b_hh = grad_h_proj.sum(axis=0)
    return grad_x, grad_w_ih, grad_w_hh, grad_b_ih, grad_b_hh


def check_dtype(op, tensors):
    """All floating tensors given (None skipped) share one dtype, else a clear error."""
    present = [t for t in tensors if t is not None]
    dtypes = {t.dtype for t in present}
    if len(dtypes) > 1:
        raise TypeError(f"{op}: input, states and weights must share one dtype, got "
                        f"{sorted(str(d) for d in dtypes)}; cast the input with .float()/"
                        ".double() or the module with .to(dtype=...)")


def check_impl(op, impl):
    """impl is "explicit" (hand-written kernels) or "autograd" (composed from ops)."""
    if impl not in ("explicit", "autograd"):
        raise ValueError(f"{op}: impl must be 'explicit' (hand-written kernels) or "
                         f"'autograd' (composed from ops), got {impl!r}")
    return impl


class RecurrentCellBase(Module):
    """The weights of one cell, as PyTorch's ``RNNCellBase`` names and initialises them.

    weight_ih (G, D), weight_hh (G, H), bias_ih (G,), bias_hh (G,) with G = num_gates * H,
    all drawn from U(-1/sqrt(H), 1/sqrt(H)) (PyTorch's default for every recurrent weight).
    """

    num_gates = 1

    def __init__(self, input_size, hidden_size, bias=True, device=None, dtype=None):
        super().__init__()
        if input_size <= 0 or hidden_size <= 0:
            raise ValueError(f"{type(self).__name__}: input_size and hidden_size must be "
                             f"positive, got {input_size} and {hidden_size}")
        self.input_size, self.hidden_size, self.bias = input_size, hidden_size, bias
        xp = backend.get_backend(device).xp
        dtype = backend.float32 if dtype is None else backend.dtype_of(dtype)
        gates = self.num_gates * hidden_size

        def param(*shape):
            # device= too: a host (NumPy) array alone would go to the default device
            return Parameter(xp.zeros(shape, dtype=dtype), device=device)

        self.weight_ih = param(gates, input_size)
        self.weight_hh = param(gates, hidden_size)
        if bias:
            self.bias_ih = param(gates)
            self.bias_hh = param(gates)
        else:
            self.register_parameter("bias_ih", None)
            self.register_parameter("bias_hh", None)
        self.reset_parameters()

    def reset_parameters(self):
        bound = 1.0 / math.sqrt(self.hidden_size)
        for weight in self.parameters():
            init.uniform_(weight, -bound, bound)

    def extra_repr(self):
        return f"{self.input_size}, {self.hidden_size}" + ("" if self.bias else ", bias=False")

    def _prepare(self, input, states):
        """Unbatched (D,) input -> (1, D); missing states -> zeros (N, H).

        Returns (input (N, D), states, unbatched flag)."""
        from minigrad import zeros
        if input.ndim not in (1, 2):
            raise ValueError(f"{type(self).__name__}: expected input of shape (N, D) or (D,),"
                             f" got {input.shape}")
        if input.shape[-1] != self.input_size:
            raise ValueError(f"{type(self).__name__}: input has {input.shape[-1]} features, "
                             f"expected input_size={self.input_size} (shape {input.shape})")
        unbatched = input.ndim == 1
        if unbatched:
            input = input.reshape(1, -1)
            states = [None if s is None else s.reshape(1, -1) for s in states]
        n = input.shape[0]
        states = [zeros(n, self.hidden_size, dtype=input.dtype, device=input.device)
                  if s is None else s for s in states]
        for s in states:
            if s.shape != (n, self.hidden_size):
                raise ValueError(f"{type(self).__name__}: state of shape {s.shape} does not "
                                 f"fit input {input.shape}; expected ({n}, {self.hidden_size})")
        check_dtype(type(self).__name__, [input, *states, self.weight_ih])
        return input, states, unbatched

    def _weights(self):
        return self.weight_ih, self.weight_hh, self.bias_ih, self.bias_hh
