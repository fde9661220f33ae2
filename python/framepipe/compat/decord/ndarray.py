"""Decord's NDArray and device contexts."""
import numpy as np

import framepipe


class DECORDContext:
    """A device: cpu(n) or gpu(n), as Decord names them."""
    _names = {1: "cpu", 2: "gpu"}

    def __init__(self, device_type, device_id=0):
        self.device_type = int(device_type)
        self.device_id = int(device_id)

    @property
    def device_name(self):
        return self._names.get(self.device_type, "unknown")

    def __eq__(self, other):
        return isinstance(other, DECORDContext) and (self.device_type, self.device_id) == (
            other.device_type, other.device_id)

    def __hash__(self):
        return hash((self.device_type, self.device_id))

    def __repr__(self):
        return "%s(%d)" % (self.device_name, self.device_id)


def cpu(dev_id=0):
    return DECORDContext(1, dev_id)


def gpu(dev_id=0):
    return DECORDContext(2, dev_id)


def check_context(ctx):
    """The context a reader was given: cpu, or a clear error for anything else."""
    if ctx is None:
        return cpu(0)
    if not isinstance(ctx, DECORDContext):
        raise TypeError("ctx must be decord.cpu(n) or decord.gpu(n), not %r" % (ctx,))
    if ctx.device_type != 1:
        from .base import _twin
        raise _twin(framepipe.UnsupportedError)(
            "%r: framepipe decodes on the CPU only for now; use decord.cpu(0)" % (ctx,))
    return ctx


class NDArray:
    """Decord's array: ``asnumpy()`` is the numpy array itself (a view, no copy); it also
    speaks the buffer, ``__array__`` and DLPack protocols."""
    __slots__ = ("_array", "ctx")

    def __init__(self, array, ctx=None):
        self._array = array
        self.ctx = ctx or cpu(0)

    def asnumpy(self):
        return self._array

    def __array__(self, dtype=None):
        return self._array if dtype is None else self._array.astype(dtype, copy=False)

    def __dlpack__(self, stream=None):
        return self._array.__dlpack__()

    def __dlpack_device__(self):
        return self._array.__dlpack_device__()

    def to_dlpack(self):
        return self._array.__dlpack__()

    @property
    def shape(self):
        return self._array.shape

    @property
    def dtype(self):
        return str(self._array.dtype)

    @property
    def ndim(self):
        return self._array.ndim

    @property
    def size(self):
        return self._array.size

    def __len__(self):
        return len(self._array)

    def __getitem__(self, key):
        part = self._array[key]
        return NDArray(part, self.ctx) if isinstance(part, np.ndarray) else part

    def __repr__(self):
        return "<decord.NDArray %s %s @%r>" % ("x".join(map(str, self.shape)), self.dtype, self.ctx)


def array(source, ctx=None):
    """An NDArray of a numpy array (or anything numpy takes)."""
    return NDArray(np.asarray(source), ctx)
