"""framepipe as Decord: ``from framepipe.compat import decord`` (or a ``decord`` shim that
re-exports this package) and Decord code runs unchanged, with framepipe's frames (frame i is
the i-th frame ``ffmpeg -i X -vsync passthrough`` decodes).

What follows Decord: ``VideoReader(uri, ctx=cpu(0), width=-1, height=-1, num_threads=0,
fault_tol=-1)`` with the context positional or by name, ``vr[i]`` / ``vr[a:b]`` /
``get_batch`` returning ``NDArray`` (``.asnumpy()`` is a view, no copy) or, after
``bridge.set_bridge('torch')``, ``torch.Tensor``; float index arrays; file objects;
``get_key_indices()`` as a list; ``get_frame_timestamp`` relative to the stream's start;
``get_avg_fps()`` as the container states it; ``seek``, ``seek_accurate``, ``next``,
``skip_frames``; ``VideoLoader``; errors are ``base.DECORDError`` (each also the framepipe
error it was, so ``IndexError`` still catches an index out of range).

What differs, by choice: a corrupt packet is an error when a request reaches it (Decord's
own behaviour on such files) unless ``fault_tol`` >= 0, in which case frames FFmpeg
conceals are returned and counted, and more than ``fault_tol`` of them (a count, or a share
of the frames when below 1) raise ``DECORDLimitReachedError``. ``gpu(n)`` is an
``UnsupportedError`` until framepipe decodes on GPUs. ``AudioReader`` resamples to 44100 Hz by
default, as Decord's; ``AVReader`` pairs each frame with the samples that play while it shows.
"""
from . import base, bridge, ndarray
from . import ndarray as nd
from .base import DECORDError, DECORDLimitReachedError
from .ndarray import NDArray, DECORDContext, cpu, gpu
from .video_reader import VideoReader
from .video_loader import VideoLoader
from .audio_reader import AudioReader, AVReader

__version__ = "0.6.0+framepipe"

__all__ = ["VideoReader", "VideoLoader", "AudioReader", "AVReader", "NDArray", "cpu", "gpu", "bridge", "base", "nd", "ndarray",
           "DECORDError", "DECORDLimitReachedError"]


def install(name="decord"):
    """Makes ``import decord`` -- and ``decord.bridge``, ``decord.bridge.torchdl``, ... -- this
    package, for code that imports Decord by name. One module object per name, so a bridge set
    through one name holds through the other."""
    import importlib
    import importlib.abc
    import importlib.util
    import sys

    here = __name__

    class _Alias(importlib.abc.MetaPathFinder, importlib.abc.Loader):
        def find_spec(self, fullname, path=None, target=None):
            if fullname == name or fullname.startswith(name + "."):
                return importlib.util.spec_from_loader(fullname, self)
            return None

        def create_module(self, spec):
            return importlib.import_module(here + spec.name[len(name):])

        def exec_module(self, module):
            module.__spec__ = importlib.util.find_spec(module.__name__)  # its own spec, not the alias's

    if name not in _installed:
        sys.meta_path.insert(0, _Alias())
        _installed.add(name)
    sys.modules[name] = sys.modules[here]


_installed = set()
