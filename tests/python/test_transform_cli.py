"""`framepipe transform`: timing and audio checked with ffprobe, pictures with the ffmpeg CLI's
own decode of the input and of the output."""
import json
import subprocess

import numpy as np
import pytest


def transform(cli, src, dst, ops, *extra, check=True):
    p = subprocess.run([cli, "transform", str(src), str(dst), "--ops", ops, *map(str, extra)],
                       capture_output=True, text=True)
    if check and p.returncode != 0:
        raise AssertionError(f"exit {p.returncode}: {p.stderr}")
    return p


def frame_times(path):
    out = subprocess.run(["ffprobe", "-v", "error", "-select_streams", "v:0", "-show_entries", "frame=pts_time",
                          "-of", "json", str(path)], check=True, capture_output=True, text=True).stdout
    return [f["pts_time"] for f in json.loads(out)["frames"] if "pts_time" in f]


def audio_packets(path):
    """(pts_time, size, md5 of the payload) of every audio packet."""
    out = subprocess.run(["ffprobe", "-v", "error", "-select_streams", "a", "-show_data_hash", "md5",
                          "-show_entries", "packet=pts_time,size,data_hash", "-of", "json", str(path)],
                         check=True, capture_output=True, text=True).stdout
    return [(p["pts_time"], p["size"], p["data_hash"]) for p in json.loads(out)["packets"]]


def stream_info(path):
    out = subprocess.run(["ffprobe", "-v", "error", "-show_entries", "stream=codec_type,codec_name,width,height,sample_rate",
                          "-of", "json", str(path)], check=True, capture_output=True, text=True).stdout
    return json.loads(out)["streams"]


def decode(path, index, w, h, vf=""):
    chain = f"select=eq(n\\,{index})" + ("," + vf if vf else "")
    raw = subprocess.run(["ffmpeg", "-v", "error", "-i", str(path), "-vf", chain, "-vsync", "passthrough",
                          "-frames:v", "1", "-pix_fmt", "rgb24", "-f", "rawvideo", "-"],
                         check=True, capture_output=True).stdout
    return np.frombuffer(raw, np.uint8).reshape(h, w, 3).astype(np.int16)


def test_audio_is_copied_packet_for_packet_and_every_timestamp_kept(cli, media, tmp_path):
    src, dst = media / "h264_audio.mp4", tmp_path / "gray.mp4"
    transform(cli, src, dst, "gray")
    assert not (tmp_path / "gray.part.mp4").exists()
    assert [s["codec_type"] for s in stream_info(dst)] == ["video", "audio"]
    assert audio_packets(dst) == audio_packets(src)
    assert frame_times(dst) == frame_times(src)
    # gray: the three channels agree, and follow the source's brightness
    out, ref = decode(dst, 50, 320, 240), decode(src, 50, 320, 240)
    assert np.abs(out[..., 0] - out[..., 1]).max() <= 2
    luma = ref @ np.array([0.299, 0.587, 0.114])
    assert np.abs(out[..., 0] - luma).mean() < 4


@pytest.mark.parametrize("name", ["vfr.mkv", "start_offset.mkv", "h264.ts", "vp9_odd.webm"])
def test_variable_rate_offsets_and_odd_sizes_keep_their_times(cli, media, tmp_path, name):
    dst = tmp_path / "out.mp4"
    transform(cli, media / name, dst, "median=3")
    assert frame_times(dst) == frame_times(media / name)


def test_resize_and_flip_match_ffmpegs_own(cli, media, tmp_path):
    dst = tmp_path / "small.mkv"
    transform(cli, media / "h264_bframes.mp4", dst, "resize=160x120,flip=h", "--crf", "12")
    assert stream_info(dst)[0]["width"] == 160 and stream_info(dst)[0]["height"] == 120
    out = decode(dst, 30, 160, 120)
    ref = decode(media / "h264_bframes.mp4", 30, 160, 120, "scale=160:120:flags=area,hflip")
    assert np.abs(out - ref).mean() < 4
    unflipped = decode(media / "h264_bframes.mp4", 30, 160, 120, "scale=160:120:flags=area")
    assert np.abs(out - unflipped).mean() > np.abs(out - ref).mean() * 2


def test_errors(cli, media, tmp_path):
    p = transform(cli, media / "h264_audio.mp4", tmp_path / "x.mp4", "swirl=3", check=False)
    assert p.returncode == 2 and "unknown operation 'swirl'" in p.stderr and "canny=LOW:HIGH" in p.stderr
    p = transform(cli, media / "h264_audio.mp4", tmp_path / "x.mp4", "gaussian=4", check=False)
    assert p.returncode == 2 and "odd" in p.stderr
    p = transform(cli, tmp_path / "missing.mp4", tmp_path / "x.mp4", "gray", check=False)
    assert p.returncode == 3 and "missing.mp4" in p.stderr
    p = transform(cli, media / "text.mp4", tmp_path / "x.mp4", "gray", check=False)
    assert p.returncode == 3 and "text.mp4" in p.stderr
    p = transform(cli, media / "h264_audio.mp4", tmp_path / "no" / "dir" / "x.mp4", "gray", check=False)
    assert p.returncode == 1 and "x.part.mp4" in p.stderr
    assert not list(tmp_path.glob("**/*.part.*"))


def test_audio_the_container_cannot_hold_is_reencoded_to_aac_in_sync(cli, tmp_path):
    src, dst = tmp_path / "pcm.mkv", tmp_path / "out.mp4"
    subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-f", "lavfi", "-i", "testsrc2=s=320x240:r=25:d=3", "-f",
                    "lavfi", "-i", "sine=frequency=500:sample_rate=48000:d=3", "-c:v", "libx264", "-c:a",
                    "pcm_s16le", str(src)], check=True)
    p = transform(cli, src, dst, "gray")
    assert "re-encoded to AAC" in p.stderr
    assert [(s["codec_type"], s["codec_name"]) for s in stream_info(dst)] == [("video", "h264"), ("audio", "aac")]

    def pcm(path):
        raw = subprocess.run(["ffmpeg", "-v", "error", "-i", str(path), "-map", "0:a", "-f", "s16le", "-ac", "1",
                              "-ar", "48000", "-"], check=True, capture_output=True).stdout
        return np.frombuffer(raw, np.int16).astype(np.float64)

    a, b = pcm(src), pcm(dst)
    assert abs(len(b) - len(a)) < 0.01 * len(a)
    n = min(len(a), len(b))
    snr = 10 * np.log10((a[:n] ** 2).mean() / ((a[:n] - b[:n]) ** 2).mean())
    assert snr > 20, snr  # the same tone, in place: no shift, no drift
