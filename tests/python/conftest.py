# Where the media and the CLI are: set by ctest ($FRAMEPIPE_MEDIA, $FRAMEPIPE_CLI), else the
# default build tree.
import os
import pathlib
import subprocess

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def media():
    return pathlib.Path(os.environ.get("FRAMEPIPE_MEDIA", ROOT / "build" / "media"))


@pytest.fixture(scope="session")
def cli():
    return os.environ.get("FRAMEPIPE_CLI", str(ROOT / "build" / "apps" / "framepipe"))


def ffprobe_frames(path):
    """pts of every frame, from ffprobe (the count framepipe must agree with)."""
    import json
    out = subprocess.run(
        ["ffprobe", "-v", "error", "-select_streams", "v:0", "-show_entries", "frame=best_effort_timestamp",
         "-of", "json", str(path)], check=True, capture_output=True, text=True).stdout
    return [f["best_effort_timestamp"] for f in json.loads(out)["frames"]]


def ffmpeg_rgb(path, indices, width, height, matrix="bt601", rng="tv", pix="rgb24"):
    """Raw frames of the ffmpeg CLI for these indices, scaled as framepipe's stretch does."""
    import numpy as np
    frames = {}
    for i in sorted(set(indices)):
        vf = f"select=eq(n\\,{i}),scale=in_color_matrix={matrix}:in_range={rng}:w={width}:h={height}"
        raw = subprocess.run(["ffmpeg", "-v", "error", "-i", str(path), "-vf", vf, "-vsync", "passthrough",
                              "-frames:v", "1", "-pix_fmt", pix, "-f", "rawvideo", "-"],
                             check=True, capture_output=True).stdout
        ch = 1 if pix == "gray" else 3
        frames[i] = np.frombuffer(raw, dtype=np.uint8).reshape(height, width, ch)
    return frames
