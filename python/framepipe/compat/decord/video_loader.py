"""Decord's VideoLoader: batches of frames over several videos."""
import numpy as np

from . import bridge
from .base import translate
from .ndarray import NDArray, check_context
from .video_reader import VideoReader


class VideoLoader:
    """decord.VideoLoader(uris, ctx, shape, interval, skip, shuffle, prefetch=0).

    shape: (batch, height, width, 3). A batch is ``batch`` frames of one video, ``interval``
    frames apart (0: consecutive); the next batch starts ``skip`` frames after the last one.
    shuffle: 0 videos and batches in order; 1 videos in random order, batches in order; 2
    batches in random order across videos; 3 videos in order, batches in random order in each.
    Each item is (frames, indices): frames (batch, height, width, 3), indices (batch, 2) of
    (video number, frame index). ``prefetch`` is accepted; framepipe reads each batch at once."""

    @translate
    def __init__(self, uris, ctx, shape, interval, skip, shuffle, prefetch=0):
        if isinstance(uris, str):
            uris = [uris]
        check_context(ctx[0] if isinstance(ctx, (list, tuple)) else ctx)
        if len(shape) != 4 or shape[3] != 3:
            raise ValueError("shape must be (batch, height, width, 3), given %r" % (shape,))
        self._batch, height, width = int(shape[0]), int(shape[1]), int(shape[2])
        if self._batch < 1 or interval < 0 or skip < 0:
            raise ValueError("batch must be >= 1, interval and skip >= 0")
        if shuffle not in (0, 1, 2, 3):
            raise ValueError("shuffle must be 0, 1, 2 or 3, given %r" % (shuffle,))
        self._readers = [VideoReader(u, width=width, height=height) for u in uris]
        self._plan = []  # per video, the frame indices of each batch
        step = int(interval) + 1
        for r in self._readers:
            batches, s = [], 0
            while s + (self._batch - 1) * step < len(r):
                batches.append(np.arange(s, s + self._batch * step, step))
                s = int(batches[-1][-1]) + 1 + int(skip)
            self._plan.append(batches)
        self._shuffle = shuffle
        self._rng = np.random.default_rng()
        self.reset()

    def __len__(self):
        return sum(len(b) for b in self._plan)

    def reset(self):
        videos = list(range(len(self._readers)))
        if self._shuffle == 1:
            self._rng.shuffle(videos)
        order = []
        for v in videos:
            batches = list(range(len(self._plan[v])))
            if self._shuffle == 3:
                self._rng.shuffle(batches)
            order += [(v, b) for b in batches]
        if self._shuffle == 2:
            self._rng.shuffle(order)
        self._order = order
        self._next = 0

    @translate
    def next(self):
        if self._next >= len(self._order):
            raise StopIteration
        v, b = self._order[self._next]
        self._next += 1
        idx = self._plan[v][b]
        frames = self._readers[v].get_batch(idx)
        pairs = np.stack([np.full(len(idx), v, dtype=np.int64), idx.astype(np.int64)], axis=1)
        return frames, bridge.bridge_out(NDArray(pairs))

    def __next__(self):
        return self.next()

    def __iter__(self):
        self.reset()
        return self
