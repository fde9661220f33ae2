"""framepipe.torch: clips of a video corpus as PyTorch datasets.

    from framepipe.torch import ClipDataset, ClipIterableDataset, collate
    train = ClipDataset("videos.csv", "clips:16:2:1:random", size=112, mean=0.45, std=0.225)
    loader = torch.utils.data.DataLoader(train, batch_size=8, num_workers=2, collate_fn=collate)
    for epoch in range(10):
        train.set_epoch(epoch)          # a new draw of random clips, the same for the same seed
        for clips, labels in loader:    # clips (8, 3, 16, 112, 112) float32
            ...

The corpus is a folder (videos found under it, labelled by their sub-folder), a list of paths,
or a .csv / .jsonl file of ``path,label``. Every video is opened once, here, and its frame index
kept: the plan (which clips each item is) comes from the indices alone, and DataLoader workers
re-open readers from the kept index without scanning again (each worker holds at most
``open_readers`` open). A video that cannot be opened is skipped and listed in ``skipped``; one
that fails to decode later gives ``None``, which ``collate`` drops (and a line on stderr), so an
epoch never crashes on a bad file.

This module imports without torch; torch is imported when a dataset hands out a tensor (and
``ClipIterableDataset``, which must subclass torch's IterableDataset, on first use).
"""
import csv
import hashlib
import json
import os
import sys
from collections import OrderedDict

import framepipe

VIDEO_SUFFIXES = (".mp4", ".mkv", ".mov", ".avi", ".webm", ".m4v", ".ts", ".mpg", ".mpeg", ".ogv", ".flv", ".wmv")

__all__ = ["ClipDataset", "ClipIterableDataset", "collate", "read_corpus"]


def read_corpus(corpus):
    """[(path, label)] from a folder, a list of paths or (path, label) pairs, or a .csv/.jsonl file."""
    if isinstance(corpus, (list, tuple)):
        return [(os.fspath(c), None) if not isinstance(c, (list, tuple)) else (os.fspath(c[0]), c[1]) for c in corpus]
    path = os.fspath(corpus)
    if os.path.isdir(path):
        found = []
        for root, dirs, files in os.walk(path):
            dirs.sort()
            for name in sorted(files):
                if name.lower().endswith(VIDEO_SUFFIXES):
                    rel = os.path.relpath(root, path)
                    found.append((os.path.join(root, name), None if rel == "." else rel.split(os.sep)[0]))
        return found
    base = os.path.dirname(os.path.abspath(path))
    if path.endswith(".jsonl"):
        items = []
        with open(path) as f:
            for line in f:
                if line.strip():
                    row = json.loads(line)
                    items.append((os.path.join(base, row["path"]), row.get("label")))
        return items
    if path.endswith(".csv"):
        with open(path, newline="") as f:
            rows = [r for r in csv.reader(f) if r and not r[0].startswith("#")]
        if rows and rows[0][0].strip().lower() == "path":
            rows = rows[1:]
        return [(os.path.join(base, r[0].strip()), r[1].strip() if len(r) > 1 else None) for r in rows]
    raise framepipe.ConfigError("corpus %r: a folder, a list of paths, or a .csv / .jsonl of path,label" % path)


def _seed_for(seed, epoch, video):
    h = hashlib.blake2b(("%d/%d/%s" % (seed, epoch, video)).encode(), digest_size=8).digest()
    return int.from_bytes(h, "little") >> 1


def _with_seed(spec, seed):
    parts = [p for p in spec.split(":") if not p.startswith("seed=")]
    return ":".join(parts + ["seed=%d" % seed])


class _Plan:
    """The corpus opened once: each video's reader state (its index) and label."""

    def __init__(self, corpus, spec, labels, reader_options):
        if not spec.startswith("clips:"):
            raise framepipe.ConfigError("a clip dataset takes a clips: spec, not %r" % spec)
        self.spec = spec
        self.random = ":random" in spec
        self.videos, self.states, self.labels, self.skipped, self.clips_per_video = [], [], [], [], []
        items = read_corpus(corpus)
        names = sorted({lab for _, lab in items if lab is not None})
        self.classes = labels if labels is not None else names
        for path, label in items:
            try:
                reader = framepipe.VideoReader(path, **reader_options)
                clips = len(reader.sample_indices(spec))  # and the spec fits this video
            except framepipe.Error as e:
                self.skipped.append((path, "%s: %s" % (type(e).__name__, e)))
                continue
            self.videos.append(path)
            self.clips_per_video.append(clips)
            self.states.append(reader.__getstate__())
            self.labels.append(self.classes.index(label) if label in self.classes else -1)
        if self.skipped:
            print("framepipe: skipped %d of %d videos that cannot be read: %s" %
                  (len(self.skipped), len(items), "; ".join("%s (%s)" % s for s in self.skipped)), file=sys.stderr)
        self.reader_options = reader_options

    @staticmethod
    def _open_state(state):
        r = framepipe.VideoReader.__new__(framepipe.VideoReader)
        r.__setstate__(state)
        return r

    def items(self):
        return [(v, k) for v, n in enumerate(self.clips_per_video) for k in range(n)]

    def clip_indices(self, reader, video, clip, seed, epoch):
        spec = _with_seed(self.spec, _seed_for(seed, epoch, self.videos[video])) if self.random else self.spec
        return reader.sample_indices(spec)[clip]


class _Clips:
    """What both datasets share: the plan, readers opened per process, the tensor of a clip."""

    def __init__(self, corpus, spec, size, mean, std, layout, labels, transform, seed, resize, open_readers,
                 return_info, num_threads):
        options = {"num_threads": num_threads}
        self._plan = _Plan(corpus, spec, labels, options)
        self.size, self.mean, self.std, self.layout, self.resize = size, mean, std, layout, resize
        self.transform, self.seed, self.epoch = transform, int(seed), 0
        self.open_readers, self.return_info = int(open_readers), return_info
        self._readers = OrderedDict()
        self.failed = []  # (video, clip, reason) met in this process

    skipped = property(lambda self: list(self._plan.skipped), doc="videos left out: (path, reason)")
    videos = property(lambda self: list(self._plan.videos))
    classes = property(lambda self: list(self._plan.classes))

    def set_epoch(self, epoch):
        """The epoch's draw of random clips (and the iterable dataset's shuffle)."""
        self.epoch = int(epoch)

    def __getstate__(self):
        state = dict(self.__dict__)
        state["_readers"] = OrderedDict()  # workers open their own, from the kept indices
        return state

    def _reader(self, video):
        r = self._readers.pop(video, None)
        if r is None:
            r = self._plan._open_state(self._plan.states[video])
        self._readers[video] = r
        while len(self._readers) > self.open_readers:
            self._readers.popitem(last=False)
        return r

    def _clip(self, video, clip):
        import torch
        try:
            reader = self._reader(video)
            idx = self._plan.clip_indices(reader, video, clip, self.seed, self.epoch)
            t = reader.tensor([list(idx)], size=self.size, resize=self.resize, layout=self.layout, mean=self.mean,
                              std=self.std)
            x = torch.from_dlpack(t)[0]
        except framepipe.Error as e:
            self.failed.append((self._plan.videos[video], clip, str(e)))
            print("framepipe: skipped clip %d of %s: %s" % (clip, self._plan.videos[video], e), file=sys.stderr)
            return None
        if self.transform is not None:
            x = self.transform(x)
        label = self._plan.labels[video]
        if self.return_info:
            return x, label, {"video": self._plan.videos[video], "clip": clip, "frames": [int(i) for i in idx]}
        return x, label


class ClipDataset(_Clips):
    """Map-style: item i is one clip (in video order, ``clips_per_video`` of them each).

    ClipDataset(corpus, spec, size=None, mean=None, std=None, layout="ncthw", labels=None,
                transform=None, seed=0, resize="stretch", open_readers=8, return_info=False)

    An item is (clip, label): clip (3, T, H, W) float32 ("ncthw"; "ntchw" gives (T, 3, H, W)),
    label the class number of its video (-1 when unlabelled), or None when the clip cannot be
    decoded (``collate`` drops it). ``spec`` is a clips: sample spec; with ``random`` the draw
    depends on (seed, epoch, video) only, so it is the same in every worker and every run."""

    def __init__(self, corpus, spec, size=None, mean=None, std=None, layout="ncthw", labels=None, transform=None,
                 seed=0, resize="stretch", open_readers=8, return_info=False, num_threads=1):
        super().__init__(corpus, spec, size, mean, std, layout, labels, transform, seed, resize, open_readers,
                         return_info, num_threads)
        self._items = self._plan.items()

    def __len__(self):
        return len(self._items)

    def __getitem__(self, i):
        video, clip = self._items[i]
        return self._clip(video, clip)


def collate(batch):
    """DataLoader's default collation, without the items that could not be decoded (None)."""
    from torch.utils.data import default_collate
    kept = [b for b in batch if b is not None]
    if not kept:
        return None
    if len(kept[0]) == 3:  # return_info: infos stay a list
        clips, labels, infos = zip(*kept)
        return default_collate(list(zip(clips, labels))) + [list(infos)]
    return default_collate(kept)


def _iterable_class():
    import torch.utils.data

    class ClipIterableDataset(_Clips, torch.utils.data.IterableDataset):
        """Iterable: each epoch, every clip once across all ranks and DataLoader workers.

        ClipIterableDataset(corpus, spec, ..., seed=0, shuffle=True, rank=None, world_size=None)

        The epoch's clips are shuffled with (seed, epoch); rank r of world_size takes every
        world_size-th from r, and DataLoader worker w of n every n-th of those from w. rank and
        world_size default to torch.distributed's when it is initialised, else 0 and 1. A clip
        that cannot be decoded is skipped (and counted in ``failed`` of that worker)."""

        def __init__(self, corpus, spec, size=None, mean=None, std=None, layout="ncthw", labels=None, transform=None,
                     seed=0, resize="stretch", open_readers=8, return_info=False, num_threads=1, shuffle=True,
                     rank=None, world_size=None):
            _Clips.__init__(self, corpus, spec, size, mean, std, layout, labels, transform, seed, resize,
                            open_readers, return_info, num_threads)
            torch.utils.data.IterableDataset.__init__(self)
            self.shuffle = shuffle
            self.rank, self.world_size = rank, world_size

        def _share(self):
            rank, world = self.rank, self.world_size
            if rank is None or world is None:
                import torch.distributed as dist
                ok = dist.is_available() and dist.is_initialized()
                rank = (dist.get_rank() if ok else 0) if rank is None else rank
                world = (dist.get_world_size() if ok else 1) if world is None else world
            info = torch.utils.data.get_worker_info()
            workers, worker = (info.num_workers, info.id) if info else (1, 0)
            return rank, world, worker, workers

        def epoch_items(self):
            """This epoch's (video, clip) pairs, in the order the whole world reads them."""
            items = self._plan.items()
            if self.shuffle:
                g = torch.Generator()
                g.manual_seed(_seed_for(self.seed, self.epoch, "shuffle"))
                items = [items[i] for i in torch.randperm(len(items), generator=g).tolist()]
            return items

        def __iter__(self):
            rank, world, worker, workers = self._share()
            for video, clip in self.epoch_items()[rank::world][worker::workers]:
                item = self._clip(video, clip)
                if item is not None:
                    yield item

        def __len__(self):
            rank, world, _, _ = self._share()
            return len(self.epoch_items()[rank::world])

    ClipIterableDataset.__module__ = __name__
    return ClipIterableDataset


def __getattr__(name):
    if name == "ClipIterableDataset":
        cls = _iterable_class()
        globals()[name] = cls
        return cls
    raise AttributeError("module 'framepipe.torch' has no attribute %r" % name)
