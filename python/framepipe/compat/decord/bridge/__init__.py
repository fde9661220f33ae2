"""Decord's bridges: what VideoReader returns. 'native' (decord NDArray, the default),
'numpy' (numpy arrays) and 'torch' (torch.Tensor, sharing the frames' memory). Decord's
'mxnet', 'tensorflow' and 'tvm' bridges are not supported: choosing one is a clear error.
The choice is per thread, as in Decord."""
import threading

import numpy as np

from ..base import DECORDError
from ..ndarray import NDArray

__all__ = ["bridge_in", "bridge_out", "set_bridge", "reset_bridge", "use_mxnet", "use_torch", "use_tensorflow",
           "use_tvm"]

_SUPPORTED = ("native", "numpy", "torch")
_DECORDS = ("mxnet", "tensorflow", "tvm")
_state = threading.local()


def _current():
    return getattr(_state, "name", "native")


def set_bridge(new_bridge):
    """Returns what a reader returns from now on in this thread: 'native', 'numpy' or 'torch'."""
    if new_bridge in _DECORDS:
        raise DECORDError("the %r bridge is not supported by framepipe's Decord layer (one of: %s)" %
                          (new_bridge, ", ".join(_SUPPORTED)))
    if new_bridge not in _SUPPORTED:
        raise DECORDError("unknown bridge %r (one of: %s)" % (new_bridge, ", ".join(_SUPPORTED)))
    if new_bridge == "torch":
        from .torchdl import try_import_torch
        try_import_torch()
    _state.name = new_bridge


def reset_bridge():
    _state.name = "native"


def bridge_out(native_arr):
    """A native NDArray as the current bridge's type."""
    name = _current()
    if name == "native":
        return native_arr
    array = native_arr.asnumpy() if isinstance(native_arr, NDArray) else np.asarray(native_arr)
    if name == "numpy":
        return array
    import torch
    return torch.from_numpy(array)


def bridge_in(arr):
    """Any bridge's array back as a native NDArray."""
    if isinstance(arr, NDArray):
        return arr
    if isinstance(arr, np.ndarray):
        return NDArray(arr)
    try:
        import torch
        if isinstance(arr, torch.Tensor):
            return NDArray(arr.detach().cpu().numpy())
    except ImportError:
        pass
    return NDArray(np.asarray(arr))


class _BridgeScope:
    def __init__(self, name):
        self._name = name
        self._prev = None

    def __enter__(self):
        self._prev = _current()
        set_bridge(self._name)
        return self

    def __exit__(self, *exc):
        _state.name = self._prev
        return False


def use_torch():
    return _BridgeScope("torch")


def use_mxnet():
    return _BridgeScope("mxnet")


def use_tensorflow():
    return _BridgeScope("tensorflow")


def use_tvm():
    return _BridgeScope("tvm")
