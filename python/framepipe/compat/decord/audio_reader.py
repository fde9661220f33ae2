"""Decord's AudioReader and AVReader over framepipe.AudioReader."""
import numpy as np

import framepipe

from . import bridge
from .base import translate
from .ndarray import NDArray, check_context
from .video_reader import VideoReader, _indices, _source


class AudioReader:
    """decord.AudioReader(uri, ctx=cpu(0), sample_rate=44100, mono=True): (channels, samples)
    float32, resampled to ``sample_rate`` as Decord does by default. ``add_padding()`` puts
    zeros before the first sample so that sample 0 plays at time 0, as Decord's does."""

    @translate
    def __init__(self, uri, ctx=None, sample_rate=44100, mono=True):
        check_context(ctx)
        self._ctx = ctx
        self._reader = framepipe.AudioReader(_source(uri), sample_rate=None if sample_rate in (None, -1)
                                             else int(sample_rate), mono=bool(mono))
        self.sample_rate = self._reader.sample_rate
        self._array = self._reader.array
        self._padding = 0

    def __len__(self):
        return self._array.shape[1]

    def shape(self):
        return self._array.shape

    def duration(self):
        return len(self) / self.sample_rate

    def _out(self, a):
        return bridge.bridge_out(NDArray(a, self._ctx))

    @translate
    def __getitem__(self, idx):
        if isinstance(idx, slice):
            return self._out(self._array[:, idx])
        i = int(idx)
        if i < 0:
            i += len(self)
        if not 0 <= i < len(self):
            raise IndexError("audio sample %d is out of range [0, %d)" % (int(idx), len(self)))
        return self._out(self._array[:, i:i + 1])

    @translate
    def get_batch(self, indices):
        idx = _indices(indices, len(self))
        if len(idx) and (idx.min() < 0 or idx.max() >= len(self)):
            raise IndexError("audio samples out of range [0, %d)" % len(self))
        return self._out(self._array[:, idx])

    def get_num_padding(self):
        """Samples of silence before the stream's first, to reach time 0 (start x rate)."""
        return max(0, int(round(self._reader.start * self.sample_rate)))

    def add_padding(self):
        """Puts get_num_padding() zeros before the first sample (once); returns how many."""
        if not self._padding:
            self._padding = self.get_num_padding()
            if self._padding:
                zeros = np.zeros((self._array.shape[0], self._padding), dtype=np.float32)
                self._array = np.concatenate([zeros, self._array], axis=1)
        return self._padding

    def get_info(self):
        r = self._reader
        print("audio stream [%d]: %s, %d channel%s at %d Hz, %d samples (%.3f s), starts at %.6f s" %
              (r.stream, r.codec, r.channels, "" if r.channels == 1 else "s", r.sample_rate, len(r), r.duration,
               r.start))


class AVReader:
    """decord.AVReader(uri, ctx=cpu(0), sample_rate=44100, mono=True, width=-1, height=-1,
    num_threads=0, fault_tol=-1): frames with the audio that plays while each is shown.
    ``av[i]`` is (audio, frame); ``av[a:b]`` and ``get_batch`` are ([audio per frame], frames)."""

    @translate
    def __init__(self, uri, ctx=None, sample_rate=44100, mono=True, width=-1, height=-1, num_threads=0,
                 fault_tol=-1):
        source = _source(uri)
        self._audio = AudioReader(source, ctx, sample_rate, mono)
        self._video = VideoReader(source, ctx, width=width, height=height, num_threads=num_threads,
                                  fault_tol=fault_tol)

    def __len__(self):
        return len(self._video)

    def _audio_for(self, idx):
        chunks = self._audio._reader.for_frames(self._video._reader, idx.tolist())
        return [self._audio._out(c) for c in chunks]

    @translate
    def __getitem__(self, idx):
        if isinstance(idx, slice):
            return self.get_batch(range(*idx.indices(len(self))))
        i = int(idx) + (len(self) if int(idx) < 0 else 0)
        frame = self._video[i]
        return self._audio_for(np.array([i]))[0], frame

    @translate
    def get_batch(self, indices):
        idx = _indices(indices, len(self))
        return self._audio_for(idx), self._video.get_batch(idx)
