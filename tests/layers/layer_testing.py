"""Helpers shared by the layer tests."""
import numpy as np

from minigrad import backend


def fill_(tensor, values):
    """Write host ``values`` (an array or a number, broadcast to tensor's shape) into
    ``tensor.data`` in place, on the tensor's own device and dtype.

    ``p.data[...] = numpy_array`` mixes a host array into a device array: it works on the
    CPU only (on the guard and cuda backends it raises), so tests fill parameters this way.
    """
    tensor.data[...] = backend.as_array(np.asarray(values), dtype=tensor.dtype,
                                        device=tensor.device)
    return tensor
