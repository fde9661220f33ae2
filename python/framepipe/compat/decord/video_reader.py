"""Decord's VideoReader over framepipe.VideoReader."""
import os

import numpy as np

import framepipe

from . import bridge
from .base import DECORDLimitReachedError, _twin, translate
from .ndarray import NDArray, check_context


def _source(uri):
    """A path, bytes, or a file object (read whole: framepipe takes bytes in memory)."""
    if hasattr(uri, "read"):
        data = uri.read()
        if not isinstance(data, (bytes, bytearray, memoryview)):
            raise TypeError("a file object given to VideoReader must be opened in binary mode ('rb')")
        return bytes(data)
    if isinstance(uri, os.PathLike):
        return os.fspath(uri)
    return uri


def _indices(indices, length):
    """Decord's index arguments: ints, lists, ranges, numpy arrays (float ones too), an
    NDArray or a torch tensor; negative counts from the end."""
    if isinstance(indices, NDArray):
        indices = indices.asnumpy()
    elif hasattr(indices, "detach") and hasattr(indices, "numpy"):
        indices = indices.detach().cpu().numpy()
    a = np.asarray(indices)
    if a.dtype.kind == "f":
        a = a.astype(np.int64)  # Decord truncates float indices
    a = a.astype(np.int64, copy=False).reshape(-1)
    return np.where(a < 0, a + length, a)


class VideoReader:
    """decord.VideoReader(uri, ctx=cpu(0), width=-1, height=-1, num_threads=0, fault_tol=-1)."""

    @translate
    def __init__(self, uri, ctx=None, width=-1, height=-1, num_threads=0, fault_tol=-1):
        check_context(ctx)
        self._ctx = ctx
        self._fault_tol = float(fault_tol)
        if width == 0 or height == 0:
            raise ValueError("width and height must be -1 (from the source) or positive")
        # Decord raises where FFmpeg's decoder refuses a packet (a frame it cannot give), and
        # returns what the decoder concealed otherwise; fault_tol >= 0 instead limits the damage
        # concealed, checked after each request (_check_faults). strict="lost" is that rule.
        self._reader = framepipe.VideoReader(_source(uri), width=int(width), height=int(height),
                                             num_threads=int(num_threads),
                                             strict="lost" if self._fault_tol < 0 else False)
        self._pos = 0
        meta = self._reader.metadata
        self._start = meta.get("start_time") or 0.0
        num, _, den = (meta.get("avg_frame_rate") or "0/1").partition("/")
        stated = float(num) / float(den) if den and float(den) else 0.0
        self._avg_fps = stated or float(meta.get("fps") or 0.0)  # the container's claim, else measured

    def __len__(self):
        return len(self._reader)

    # Frames ---------------------------------------------------------------------------------

    def _out(self, frames):
        self._check_faults(frames)
        return bridge.bridge_out(NDArray(frames, self._ctx))

    def _check_faults(self, frames):
        if self._fault_tol < 0:
            return
        recovered = int(self._reader.stats["damage_reports"])
        limit = self._fault_tol * len(self) if self._fault_tol < 1 else self._fault_tol
        if recovered > limit:
            raise DECORDLimitReachedError("%d damaged frames were concealed (of %d), more than fault_tol %s allows" %
                                          (recovered, len(self), self._fault_tol))

    @translate
    def __getitem__(self, idx):
        if isinstance(idx, slice):
            return self.get_batch(range(*idx.indices(len(self))))
        return self._out(self._reader[int(idx)])  # negative counts from the end

    @translate
    def get_batch(self, indices):
        """Frames of ``indices`` as one (N, H, W, 3) array, in the order given."""
        idx = _indices(indices, len(self))
        return self._out(self._reader.get_batch(idx))

    @translate
    def next(self):
        if self._pos >= len(self):
            raise StopIteration
        frame = self[self._pos]
        self._pos += 1
        return frame

    def __next__(self):
        return self.next()

    def __iter__(self):
        return self

    @translate
    def seek(self, pos):
        """next() returns frame ``pos`` (Decord's seek lands on the key frame before; framepipe's
        frames are exact either way)."""
        self._pos = self._position(pos)

    @translate
    def seek_accurate(self, pos):
        self._pos = self._position(pos)

    def skip_frames(self, num=1):
        self._pos = min(len(self), self._pos + int(num))

    def _position(self, pos):
        pos = int(pos)
        if pos < 0:
            pos += len(self)
        if not 0 <= pos < len(self):
            raise _twin(framepipe.OutOfRangeError)("seek to frame %d, out of range [0, %d)" % (pos, len(self)))
        return pos

    # What the stream is -----------------------------------------------------------------------

    def get_avg_fps(self):
        """The stream's average frame rate as the container states it."""
        return self._avg_fps

    @translate
    def get_key_indices(self):
        return [int(i) for i in self._reader.get_key_indices()]

    @translate
    def get_frame_timestamp(self, idx):
        """(N, 2) float32 seconds, relative to the stream's start: when each frame is shown and
        when the next one is."""
        single = np.ndim(idx) == 0
        i = _indices([idx] if single else idx, len(self))
        ts = self._reader.get_frame_timestamp(i.tolist()) - self._start
        return ts.astype(np.float32)
