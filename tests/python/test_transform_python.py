# framepipe.transform with a Python function on every frame (issue 20): the output's frame
# times and audio packets are the source's (ffprobe, ffmpeg's framemd5), and the function's
# edits are what ffmpeg decodes from it.
import json
import subprocess

import numpy as np
import pytest

from conftest import ffmpeg_rgb


def frame_times(path):
    out = json.loads(subprocess.run(["ffprobe", "-v", "error", "-select_streams", "v:0", "-show_entries",
                                     "frame=best_effort_timestamp_time:stream=width,height", "-of", "json", str(path)],
                                    check=True, capture_output=True, text=True).stdout)
    return [float(f["best_effort_timestamp_time"]) for f in out["frames"]], out["streams"][0]


def audio_packets(path):
    """(pts, md5) of every audio packet, as ffmpeg's framemd5 of a stream copy lists them."""
    out = subprocess.run(["ffmpeg", "-v", "error", "-i", str(path), "-map", "0:a", "-c", "copy", "-f", "framemd5",
                          "-"], check=True, capture_output=True, text=True).stdout
    rows = [line.split(",") for line in out.splitlines() if line and not line.startswith("#")]
    return [(int(r[2]), r[5].strip()) for r in rows]


def test_a_python_function_edits_every_frame_and_keeps_time_and_audio(fp, media, tmp_path):
    src, dst = media / "h264_audio.mp4", tmp_path / "inverted.mp4"
    seen = []

    def invert(frame):
        assert frame.dtype == np.uint8 and frame.shape[2] == 3
        seen.append(frame.shape)
        frame[:] = 255 - frame  # in place, returns None

    done = []
    r = fp.transform(str(src), str(dst), invert, progress=lambda d, t: done.append((d, t)))
    times, _ = frame_times(src)
    assert r["frames"] == len(times) == len(seen) and done[-1] == (len(times), len(times))
    out_times, _ = frame_times(dst)
    assert out_times == pytest.approx(times, abs=1e-6)
    assert audio_packets(dst) == audio_packets(src) and r["audio_packets"] == len(audio_packets(src))
    h, w = seen[0][:2]
    for i in (0, 37, len(times) - 1):
        got, ref = ffmpeg_rgb(dst, [i], w, h)[i], ffmpeg_rgb(src, [i], w, h)[i]
        # the edit, through x264's loss: near the inverse, far from the source
        assert np.abs(got.astype(int) - (255 - ref.astype(int))).mean() < 6, i
        assert np.abs(got.astype(int) - ref.astype(int)).mean() > 60, i


def test_a_returned_array_may_change_the_size(fp, media, tmp_path):
    src, dst = media / "h264_audio.mp4", tmp_path / "half.mp4"
    r = fp.transform(src, dst, lambda f: np.ascontiguousarray(f[::2, ::2]))
    _, stream = frame_times(dst)
    _, source = frame_times(src)
    assert (stream["width"], stream["height"]) == (source["width"] // 2, source["height"] // 2)
    assert r["frames"] == len(frame_times(src)[0])


def test_a_bad_function_is_a_clear_error_and_leaves_no_output(fp, media, tmp_path):
    src = media / "h264_audio.mp4"
    with pytest.raises(fp.ConfigError, match=r"\(H, W, 3\) uint8 array.*float32"):
        fp.transform(src, tmp_path / "f.mp4", lambda f: f.astype(np.float32))

    class Mine(Exception):
        pass

    def boom(frame):
        raise Mine("a bug in user code")

    with pytest.raises(Mine, match="a bug in user code"):
        fp.transform(src, tmp_path / "boom.mp4", boom)
    with pytest.raises(fp.ConfigError, match="not both"):
        fp.transform(src, tmp_path / "both.mp4", lambda f: None, ops="gray")
    count = iter(range(1000))
    with pytest.raises(fp.ConfigError, match="same size"):  # 10 frames, then another size
        fp.transform(src, tmp_path / "grow.mp4", lambda f: np.zeros((16 if next(count) < 10 else 32, 16, 3), np.uint8))
    # what was written before the error stays a playable file (as the CLI's transform does)
    assert [p.name for p in tmp_path.iterdir()] == ["grow.mp4"]
    assert len(frame_times(tmp_path / "grow.mp4")[0]) == 10
    r = fp.transform(src, tmp_path / "gray.mp4", ops="gray")  # framepipe's operations, as the CLI's --ops
    assert r["frames"] == len(frame_times(src)[0])
