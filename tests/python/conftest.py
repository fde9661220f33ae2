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


@pytest.fixture(scope="session")
def fp():
    """The framepipe module of the build tree ($FRAMEPIPE_PYTHON_DIR, else build/python)."""
    import sys
    where = os.environ.get("FRAMEPIPE_PYTHON_DIR", str(ROOT / "build" / "python"))
    if not list(pathlib.Path(where).glob("framepipe*.so")):
        pytest.skip(f"the Python module is not built in {where} (FRAMEPIPE_PYTHON off)")
    if where not in sys.path:
        sys.path.insert(0, where)
    import framepipe
    return framepipe


def contract_colour(path):
    """The matrix and range DESIGN.md's colour contract applies to this file, for ffmpeg's scale."""
    import json
    s = json.loads(subprocess.run(
        ["ffprobe", "-v", "error", "-select_streams", "v:0", "-show_entries",
         "stream=height,pix_fmt,color_space,color_range", "-of", "json", str(path)],
        check=True, capture_output=True, text=True).stdout)["streams"][0]
    space = s.get("color_space", "unknown")
    matrix = {"bt709": "bt709", "smpte170m": "bt601", "bt470bg": "bt601", "bt2020nc": "bt2020"}.get(
        space, "bt709" if s["height"] > 576 else "bt601")
    full = s.get("color_range") == "pc" or s["pix_fmt"].startswith("yuvj")
    return matrix, "pc" if full else "tv"


def ffmpeg_all_rgb(path, pix="rgb24", autorotate=True):
    """Every frame the ffmpeg CLI decodes (-vsync passthrough), as an (N, H, W, C) array:
    upright as the display matrix says (the CLI's autorotate), or as stored."""
    import json
    import numpy as np
    s = json.loads(subprocess.run(
        ["ffprobe", "-v", "error", "-select_streams", "v:0", "-show_entries",
         "stream=width,height:stream_side_data=rotation", "-of", "json", str(path)],
        check=True, capture_output=True, text=True).stdout)["streams"][0]
    rotation = next((d["rotation"] for d in s.get("side_data_list", []) if "rotation" in d), 0)
    w, h = s["width"], s["height"]
    if autorotate and abs(rotation) % 180 == 90:
        w, h = h, w
    matrix, rng = contract_colour(path)
    vf = f"scale=in_color_matrix={matrix}:in_range={rng}" + (":out_range=pc" if pix == "gray" else "")
    raw = subprocess.run(["ffmpeg", "-nostdin", "-v", "error"] + ([] if autorotate else ["-noautorotate"]) +
                         ["-i", str(path), "-map", "0:v:0",
                          "-vf", vf, "-vsync", "passthrough", "-pix_fmt", pix, "-f", "rawvideo", "-"],
                         check=True, capture_output=True).stdout
    ch = 1 if pix == "gray" else 3
    return np.frombuffer(raw, dtype=np.uint8).reshape(-1, h, w, ch)


def ffprobe_frame_table(path):
    """(pts_time, key_frame) of every frame, from ffprobe."""
    import json
    out = subprocess.run(
        ["ffprobe", "-v", "error", "-select_streams", "v:0", "-show_entries",
         "frame=best_effort_timestamp_time,key_frame", "-of", "json", str(path)],
        check=True, capture_output=True, text=True).stdout
    return [(float(f["best_effort_timestamp_time"]), int(f["key_frame"])) for f in json.loads(out)["frames"]]
