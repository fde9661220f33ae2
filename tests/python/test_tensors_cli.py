"""framepipe tensors against numpy: the ffmpeg CLI's raw frames, normalised here."""
import json
import subprocess

import numpy as np
import pytest

from conftest import ffmpeg_rgb, ffprobe_frames

MEAN = np.array([0.485, 0.456, 0.406])
STD = np.array([0.229, 0.224, 0.225])


def run_tensors(cli, path, out, *args):
    subprocess.run([cli, "tensors", str(path), "--out", str(out), *args], check=True, capture_output=True)
    rows = [json.loads(l) for l in (out / "batches.jsonl").read_text().splitlines()]
    batches = {}
    for r in rows:
        if r["file"] not in batches:
            batches[r["file"]] = np.load(out / r["file"])
    return rows, batches


def sample_frames_test(n, clip_len, interval, count):
    """MMAction2's SampleFrames at test time (uniform), with out_of_bound_opt='loop'."""
    ori = clip_len * interval
    avg = (n - ori + 1) / float(count)
    if n > ori - 1:
        offsets = (np.arange(count) * avg + avg / 2.0).astype(np.int64)
    else:
        offsets = np.zeros((count,), dtype=np.int64)
    inds = offsets[:, None] + np.arange(clip_len)[None, :] * interval
    return np.mod(inds, n)


@pytest.mark.parametrize("name", ["h264_bframes.mp4", "vfr.mkv", "hevc_10bit.mkv"])
def test_frames_nchw_f32_mean_std(cli, media, tmp_path, name):
    path = media / name
    rows, batches = run_tensors(cli, path, tmp_path, "--sample", "every:9", "--size", "64x48", "--batch", "4",
                                "--mean", "0.485,0.456,0.406", "--std", "0.229,0.224,0.225")
    n = len(ffprobe_frames(path))
    assert [r["frame"] for r in rows] == list(range(0, n, 9))
    # These files carry no colour tags and are 240 lines high: BT.601, limited range.
    ref = ffmpeg_rgb(path, [r["frame"] for r in rows], 64, 48, matrix="bt601")
    for r in rows:
        got = batches[r["file"]][r["row"]]
        assert got.dtype == np.float32 and got.shape == (3, 48, 64)
        want = ((ref[r["frame"]].astype(np.float64) / 255.0 - MEAN) / STD).transpose(2, 0, 1)
        assert np.abs(got - want).max() <= 1e-6, (name, r["frame"])
    pts = ffprobe_frames(path)
    assert [r["pts"] for r in rows] == [pts[r["frame"]] for r in rows]


def test_clips_ncthw_follow_sampleframes(cli, media, tmp_path):
    path = media / "h264_bframes.mp4"
    n = len(ffprobe_frames(path))
    rows, batches = run_tensors(cli, path, tmp_path, "--sample", "clips:8:3:5:uniform", "--size", "32x24",
                                "--batch", "2", "--mean", "0.5", "--std", "0.25")
    want_inds = sample_frames_test(n, 8, 3, 5)
    assert [r["frames"] for r in rows] == want_inds.tolist()
    assert [r["clip"] for r in rows] == list(range(5))
    ref = ffmpeg_rgb(path, want_inds.ravel().tolist(), 32, 24)
    for r in rows:
        got = batches[r["file"]][r["row"]]
        assert got.shape == (3, 8, 24, 32)
        clip = np.stack([ref[i] for i in r["frames"]])  # T H W C
        want = ((clip.astype(np.float64) / 255.0 - 0.5) / 0.25).transpose(3, 0, 1, 2)
        assert np.abs(got - want).max() <= 1e-6


def test_clips_past_the_end_and_layouts(cli, media, tmp_path):
    path = media / "hevc.mp4"
    n = len(ffprobe_frames(path))
    # Clips longer than the video: MMAction2 starts them at 0 and loops.
    rows, _ = run_tensors(cli, path, tmp_path / "a", "--sample", f"clips:{n}:2:2", "--size", "8x8", "--dtype", "u8",
                          "--layout", "nhwc")
    assert [r["frames"] for r in rows] == sample_frames_test(n, n, 2, 2).tolist()
    rows, batches = run_tensors(cli, path, tmp_path / "b", "--sample", "clips:4:1:3:uniform", "--size", "16x12",
                                "--dtype", "u8", "--layout", "nhwc", "--batch", "3")
    ref = ffmpeg_rgb(path, [i for r in rows for i in r["frames"]], 16, 12)
    arr = batches["batch_000000.npy"]
    assert arr.dtype == np.uint8 and arr.shape == (3, 4, 12, 16, 3)
    for r in rows:
        assert np.array_equal(arr[r["row"]], np.stack([ref[i] for i in r["frames"]]))


def test_clip_norm_and_gray(cli, media, tmp_path):
    path = media / "h264_bframes.mp4"
    rows, batches = run_tensors(cli, path, tmp_path / "a", "--sample", "clips:4:2:2", "--size", "32x24",
                                "--clip-norm")
    ref = ffmpeg_rgb(path, [i for r in rows for i in r["frames"]], 32, 24)
    for r in rows:
        clip = np.stack([ref[i] for i in r["frames"]]).astype(np.float64) / 255.0  # T H W C
        mean = clip.mean(axis=(0, 1, 2))
        std = clip.std(axis=(0, 1, 2))
        want = ((clip - mean) / std).transpose(3, 0, 1, 2)
        assert np.abs(batches[r["file"]][r["row"]] - want).max() <= 1e-5
    rows, batches = run_tensors(cli, path, tmp_path / "b", "--sample", "indices:5,2", "--size", "32x24",
                                "--pix", "gray", "--no-scale")
    refg = ffmpeg_rgb(path, [5, 2], 32, 24, pix="gray")
    arr = batches["batch_000000.npy"]
    assert arr.shape == (2, 1, 24, 32)
    assert np.array_equal(arr[0, 0], refg[5][:, :, 0].astype(np.float32))
    assert np.array_equal(arr[1, 0], refg[2][:, :, 0].astype(np.float32))


@pytest.mark.parametrize("args,code", [
    (["--sample", "clips:4:1"], 2),
    (["--sample", "every:3", "--layout", "ncthw"], 2),
    (["--sample", "every:3", "--dtype", "u8", "--mean", "0.5"], 2),
    (["--sample", "indices:100000"], 2),
])
def test_bad_requests_are_usage_errors(cli, media, tmp_path, args, code):
    p = subprocess.run([cli, "tensors", str(media / "hevc.mp4"), "--out", str(tmp_path), "--size", "8x8", *args],
                       capture_output=True, text=True)
    assert p.returncode == code, p.stderr
    assert "framepipe:" in p.stderr
