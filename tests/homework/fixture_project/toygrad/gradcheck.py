"""Central-difference gradient check with minigrad's failure message format."""
import numpy as np


def gradcheck(f, inputs, grad_out, eps=1e-6, rtol=1e-5):
    """Check the analytic grads of sum(f(*inputs) * grad_out) against numeric ones.

    f returns (out, grads) with grads one array per input.
    """
    _, analytic = f(*inputs)
    for n, (x, g) in enumerate(zip(inputs, analytic)):
        for index in np.ndindex(x.shape):
            old = x[index]
            x[index] = old + eps
            plus = np.sum(f(*inputs)[0] * grad_out)
            x[index] = old - eps
            minus = np.sum(f(*inputs)[0] * grad_out)
            x[index] = old
            numeric = (plus - minus) / (2 * eps)
            error = abs(g[index] - numeric) / max(abs(g[index]) + abs(numeric), 1e-12)
            if error > rtol:
                raise AssertionError(
                    f"gradcheck failed for input {n} (shape {x.shape}) at index {index}: "
                    f"analytic {g[index]:.4g}, numeric {numeric:.4g}, relative error {error:.1e}")
