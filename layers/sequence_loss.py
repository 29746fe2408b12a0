"""Sequence losses with padding: padded steps add nothing to the value or the gradient.

A batch of sequences of different lengths is padded to one length T.  The loss must count the
real steps only: with lengths l_n (or a mask m[n, t] = 1 for a real step),

    sequence_cross_entropy = sum_{n, t: m[n,t]} -log softmax(logits[n, t])[y[n, t]] / sum m
    sequence_mse           = sum_{n, t: m[n,t]} sum_f (pred[n, t, f] - y[n, t, f])^2 / (sum m * F)

i.e. the mean over real tokens, the same as the loss over the unpadded sequences concatenated
(never a mean over each sequence first: that would weigh a short sequence's tokens more).
Padded positions get exactly zero gradient, and whatever the padding holds (logits or targets)
changes nothing.

Layout: ``batch_first=True`` (the default here) means logits (N, T, V) and targets (N, T);
``batch_first=False`` means logits (T, N, V) and targets (T, N), as a time-major LSTM gives.
``mask`` is in the targets' layout; ``lengths`` is always (N,).
"""
from minigrad import backend
from minigrad.ops.select import where
from minigrad.ops.loss import cross_entropy
from minigrad.tensor import Tensor

__all__ = ["sequence_mask", "sequence_cross_entropy", "sequence_mse"]

PAD_TARGET = -100      # the ignore_index cross_entropy leaves out; padded targets become it


def sequence_mask(lengths, T, device=None):
    """(N, T) bool Tensor, True at real steps: mask[n, t] = t < lengths[n].

    lengths: (N,) ints as a Tensor, an array or a list; each in [0, T].
    """
    if isinstance(lengths, Tensor):
        device = lengths.device if device is None else device
        lengths = lengths.data
    # as_array, not xp.asarray: lengths on another device (a guard Tensor for a CPU mask,
    # a host array for a GPU one) are moved, where xp.asarray would fail on them
    lengths = backend.as_array(lengths, device=device)
    xp = backend.array_module(lengths)
    if lengths.ndim != 1 or (lengths.size and lengths.dtype.kind not in "iu"):
        raise ValueError(f"sequence_mask: lengths must be a 1-dim sequence of ints (N,), got "
                         f"shape {tuple(lengths.shape)} dtype {lengths.dtype}")
    if lengths.size and (int(lengths.min()) < 0 or int(lengths.max()) > T):
        raise ValueError(f"sequence_mask: lengths must lie in [0, T={T}], got values in "
                         f"[{int(lengths.min())}, {int(lengths.max())}]")
    return Tensor(xp.arange(T)[None, :] < lengths[:, None], device=device)     # (N, T)


def _real_steps(op, shape, lengths, mask, batch_first, device):
    """The bool mask of real steps as an array in the targets' layout (N, T) or (T, N)."""
    if lengths is not None and mask is not None:
        raise ValueError(f"{op}: give lengths or mask, not both")
    if lengths is None and mask is None:
        return None
    if mask is None:
        N, T = shape if batch_first else shape[::-1]
        mask = sequence_mask(lengths, T, device=device).data
        if not batch_first:
            mask = mask.T                                         # (N, T) -> (T, N)
        if tuple(mask.shape) != tuple(shape):
            raise ValueError(f"{op}: {len(lengths)} lengths do not fit targets of shape "
                             f"{tuple(shape)} (batch_first={batch_first})")
        return mask
    mask = mask.data if isinstance(mask, Tensor) else mask
    if tuple(mask.shape) != tuple(shape) or mask.dtype != backend.bool_:
        raise ValueError(f"{op}: mask must be bool with the targets' shape {tuple(shape)}, got "
                         f"{getattr(mask, 'dtype', type(mask).__name__)} {tuple(mask.shape)}")
    return mask


def sequence_cross_entropy(logits, targets, lengths=None, mask=None, batch_first=True,
                           reduction="mean", label_smoothing=0.0):
    """Cross-entropy over real steps only.

    logits: (N, T, V) (batch_first) or (T, N, V); targets: int (N, T) or (T, N).
    lengths: (N,) real lengths, or mask: bool like targets (True = real), or neither (all real).
    reduction: "mean" over real tokens, "sum", or "none" -> per-step losses like targets
    (0 at padded steps).
    Padded targets become cross_entropy's ignore_index, so their rows get weight 0 in the
    forward and exactly 0 gradient in the backward (one loss kernel serves both cases).
    """
    op = "sequence_cross_entropy"
    if logits.ndim != 3 or tuple(targets.shape) != tuple(logits.shape[:2]):
        layout = "(N, T, V) and (N, T)" if batch_first else "(T, N, V) and (T, N)"
        raise ValueError(f"{op}: expected logits and targets of shapes {layout}, got "
                         f"{tuple(logits.shape)} and {tuple(targets.shape)}")
    real = _real_steps(op, targets.shape, lengths, mask, batch_first, logits.device)
    flat_targets = targets.data.reshape(-1)                      # (N*T,) in the given layout
    if real is not None:
        xp = logits.xp
        flat_targets = xp.where(real.reshape(-1), flat_targets, PAD_TARGET)
    V = logits.shape[2]
    flat_targets = Tensor(flat_targets, device=logits.device)   # device=: may be a host array
    loss = cross_entropy(logits.reshape(-1, V), flat_targets, ignore_index=PAD_TARGET,
                         reduction=reduction, label_smoothing=label_smoothing)
    return loss.reshape(tuple(targets.shape)) if reduction == "none" else loss


def sequence_mse(pred, target, lengths=None, mask=None, batch_first=True, reduction="mean"):
    """Squared error over real steps only.

    pred, target: (N, T, *F) (batch_first) or (T, N, *F), same shape; lengths (N,) or a bool
    mask (N, T) / (T, N).  "mean" divides by (real steps * features per step), "sum" sums,
    "none" returns the per-element squares (0 at padded steps).
    """
    op = "sequence_mse"
    if reduction not in ("mean", "sum", "none"):
        raise ValueError(f"{op}: reduction must be 'mean', 'sum' or 'none', got {reduction!r}")
    if tuple(pred.shape) != tuple(target.shape) or pred.ndim < 2:
        raise ValueError(f"{op}: pred and target must have one shape (N, T, ...) or "
                         f"(T, N, ...), got {tuple(pred.shape)} and {tuple(target.shape)}")
    real = _real_steps(op, pred.shape[:2], lengths, mask, batch_first, pred.device)
    diff = pred - target
    if real is not None:
        # where, not a product with the mask: 0 * (inf or nan) in a padded step would be nan
        real = real.reshape(tuple(real.shape) + (1,) * (pred.ndim - 2))
        diff = where(Tensor(real, device=pred.device), diff, 0.0)
    squares = diff * diff
    if reduction == "none":
        return squares
    total = squares.sum()
    if reduction == "sum":
        return total
    per_step = pred.numel() // (pred.shape[0] * pred.shape[1])   # F = prod of feature dims
    count = pred.shape[0] * pred.shape[1] if real is None else int(real.sum())
    return total / float(count * per_step)
