"""framepipe.VideoWriter, checked by ffprobe and the ffmpeg CLI: timing at a rate and as given,
lossless round trips, audio copied in sync, errors that say what was expected, outputs that are
whole or kept under their part name; and `.ts` files and re-encodes without operations."""
import json
import subprocess

import numpy as np
import pytest


def probe(path, entries, stream="v:0"):
    out = subprocess.run(["ffprobe", "-v", "error", "-select_streams", stream, "-show_entries", entries, "-of", "json",
                          str(path)], check=True, capture_output=True, text=True).stdout
    return json.loads(out)


def frame_times(path):
    return [float(f["best_effort_timestamp_time"])
            for f in probe(path, "frame=best_effort_timestamp_time")["frames"]]


def decoded(path, w, h, pix="rgb24"):
    raw = subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-i", str(path), "-f", "rawvideo", "-pix_fmt", pix, "-"],
                         check=True, capture_output=True).stdout
    ch = 1 if pix == "gray" else 3
    return np.frombuffer(raw, np.uint8).reshape(-1, h, w, ch)


def noise(n, h, w, ch=3, seed=0):
    return np.random.default_rng(seed).integers(0, 256, (n, h, w, ch), dtype=np.uint8)


def test_frames_at_a_rate_get_pts_0_to_n_at_one_over_fps(fp, tmp_path):
    out = tmp_path / "rate.mp4"
    frames = noise(100, 48, 64)
    with fp.VideoWriter(out, fps=25) as w:
        for f in frames:
            w.write(f)
        assert w.time_base == (1, 25) and w.frames_written == 100
    assert frame_times(out) == pytest.approx([i / 25 for i in range(100)], abs=1e-6)
    s = probe(out, "stream=codec_name,width,height,avg_frame_rate")["streams"][0]
    assert (s["codec_name"], s["width"], s["height"], s["avg_frame_rate"]) == ("h264", 64, 48, "25/1")


@pytest.mark.parametrize("pix", ["rgb", "bgr"])
def test_ffv1_gives_back_exactly_the_pixels_written(fp, tmp_path, pix):
    out = tmp_path / f"lossless_{pix}.mkv"
    frames = noise(12, 37, 53, seed=1)  # odd sizes too
    with fp.VideoWriter(out, fps=30, codec="ffv1", pix=pix) as w:
        for f in frames:
            w.write(f)
    got = decoded(out, 53, 37)
    want = frames if pix == "rgb" else frames[..., ::-1]
    assert got.shape == want.shape and np.array_equal(got, want)


def test_gray_frames_round_trip_through_ffv1(fp, tmp_path):
    out = tmp_path / "gray.mkv"
    frames = noise(5, 32, 40, ch=1, seed=2)[..., 0]
    with fp.VideoWriter(out, fps=10, codec="ffv1") as w:
        for f in frames:
            w.write(f)  # (H, W): gray, decided by the first frame
    assert np.array_equal(decoded(out, 40, 32, "gray")[..., 0], frames)


def test_variable_rate_pts_come_back_as_given(fp, tmp_path):
    out = tmp_path / "vfr.mkv"
    pts = [0, 40, 100, 180, 200, 330, 400, 1000]
    with fp.VideoWriter(out, time_base=(1, 1000)) as w:
        for p, f in zip(pts, noise(len(pts), 48, 64)):
            w.write(f, pts=p)
    assert frame_times(out) == pytest.approx([p / 1000 for p in pts], abs=1e-6)


def test_audio_from_a_file_is_copied_in_sync(fp, tmp_path):
    src = tmp_path / "src.mp4"
    subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-f", "lavfi", "-i", "testsrc2=size=64x48:rate=25:duration=2",
                    "-f", "lavfi", "-i", "sine=frequency=440:duration=2", "-c:v", "libx264", "-c:a", "aac",
                    "-shortest", str(src)], check=True)
    out = tmp_path / "with_audio.mp4"
    with fp.VideoWriter(out, fps=25, audio_from=src) as w:
        for f in noise(50, 48, 64):
            w.write(f)
    a = probe(out, "stream=codec_name,duration", "a:0")["streams"][0]
    want = probe(src, "stream=codec_name,duration", "a:0")["streams"][0]
    assert a["codec_name"] == want["codec_name"] == "aac"
    assert float(a["duration"]) == pytest.approx(float(want["duration"]), abs=0.05)


def test_torch_tensors_and_other_arrays_are_frames(fp, tmp_path):
    torch = pytest.importorskip("torch")
    out = tmp_path / "torch.mkv"
    frames = noise(3, 16, 16, seed=3)
    with fp.VideoWriter(out, fps=5, codec="ffv1") as w:
        for f in frames:
            w.write(torch.from_numpy(f.copy()))
    assert np.array_equal(decoded(out, 16, 16), frames)


def test_an_exception_in_the_with_block_leaves_no_broken_file(fp, tmp_path):
    out = tmp_path / "broken.mp4"
    with pytest.raises(RuntimeError, match="user code"):
        with fp.VideoWriter(out, fps=25) as w:
            for f in noise(10, 48, 64):
                w.write(f)
            raise RuntimeError("user code")
    assert not out.exists()
    part = tmp_path / "broken.part.mp4"
    assert part.exists() and len(frame_times(part)) == 10  # whole, under its part name


def test_wrong_frames_get_errors_that_say_what_was_expected(fp, tmp_path):
    w = fp.VideoWriter(tmp_path / "bad.mp4", fps=25)
    with pytest.raises(fp.ConfigError, match=r"\(H, W, 3\) uint8 array.*float32"):
        w.write(np.zeros((48, 64, 3), np.float32))
    with pytest.raises(fp.ConfigError, match=r"\(H, W, 3\) uint8.*\(48, 64, 4\)"):
        w.write(np.zeros((48, 64, 4), np.uint8))
    w.write(np.zeros((48, 64, 3), np.uint8))
    with pytest.raises(fp.ConfigError, match="is 32x48, the video is 64x48"):
        w.write(np.zeros((48, 32, 3), np.uint8))
    with pytest.raises(fp.ConfigError, match="give fps"):
        fp.VideoWriter(tmp_path / "x.mp4")
    with pytest.raises(fp.ConfigError, match="does not take"):
        with fp.VideoWriter(tmp_path / "y.mp4", fps=25, pix_fmt="gbrp") as bad:
            bad.write(np.zeros((48, 64, 3), np.uint8))
    w.close()


def test_ts_files_hold_h264_from_every_writer(fp, cli, tmp_path):
    out = tmp_path / "w.ts"
    with fp.VideoWriter(out, fps=25, gop=10) as w:
        for f in noise(30, 48, 64):
            w.write(f)
    s = probe(out, "stream=codec_name")["streams"][0]
    assert s["codec_name"] == "h264" and len(frame_times(out)) == 30
    keys = [f["key_frame"] for f in probe(out, "frame=key_frame")["frames"]]
    at = [i for i, k in enumerate(keys) if k]
    assert at[0] == 0 and len(at) >= 3 and max(b - a for a, b in zip(at, at[1:] + [30])) <= 10, at  # gop=10
    src = tmp_path / "src.mkv"
    subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-f", "lavfi", "-i", "testsrc2=size=64x48:rate=25:duration=1",
                    "-f", "lavfi", "-i", "sine=duration=1", "-c:v", "libx264", "-c:a", "aac", "-shortest", str(src)],
                   check=True)
    p = subprocess.run([cli, "transform", str(src), str(tmp_path / "t.ts"), "--ops", "flip=h"], capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    assert probe(tmp_path / "t.ts", "stream=codec_name")["streams"][0]["codec_name"] == "h264"


def test_transform_without_operations_re_encodes_keeping_timing_and_sound(fp, cli, tmp_path):
    src = tmp_path / "src.mp4"
    subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-f", "lavfi", "-i", "testsrc2=size=64x48:rate=30:duration=2",
                    "-f", "lavfi", "-i", "sine=duration=2", "-c:v", "libx264", "-c:a", "aac", "-shortest", str(src)],
                   check=True)
    for route in ("cli", "python"):
        out = tmp_path / f"re_{route}.mp4"  # (MKV shifts both streams by the AAC priming, as the CLI does)
        if route == "cli":
            p = subprocess.run([cli, "transform", str(src), str(out)], capture_output=True, text=True)
            assert p.returncode == 0, p.stderr
        else:
            r = fp.transform(src, out)
            assert r["frames"] == 60
        assert frame_times(out) == pytest.approx(frame_times(src), abs=1e-3)
        assert probe(out, "stream=codec_name", "a:0")["streams"][0]["codec_name"] == "aac"


def snr(got, want):
    n = min(got.shape[1], want.shape[1])
    return 10 * np.log10(np.sum(want[:, :n] ** 2) / np.sum((got[:, :n] - want[:, :n]) ** 2))


def test_audio_from_an_array_round_trips(fp, tmp_path):
    rate, seconds = 48000, 2.0
    t = np.arange(int(rate * seconds)) / rate
    audio = np.stack([0.5 * np.sin(2 * np.pi * 440 * t), 0.3 * np.sin(2 * np.pi * 660 * t)]).astype(np.float32)
    for name, exact in (("a.mkv", True), ("a.mp4", False)):  # MKV holds float PCM as it is; MP4 gets AAC
        out = tmp_path / name
        with fp.VideoWriter(out, fps=25, audio=audio, audio_rate=rate) as w:
            for f in noise(50, 48, 64):
                w.write(f)
        assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []  # its scratch WAV is gone
        s = probe(out, "stream=codec_name,channels,sample_rate", "a:0")["streams"][0]
        assert (s["channels"], int(s["sample_rate"])) == (2, rate)
        raw = subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-i", str(out), "-map", "0:a:0", "-f", "f32le", "-"],
                             check=True, capture_output=True).stdout
        back = np.frombuffer(raw, np.float32).reshape(-1, 2).T  # as the ffmpeg CLI decodes it
        assert back.shape[1] / rate == pytest.approx(seconds, abs=0.03)
        if exact:
            assert s["codec_name"] == "pcm_f32le" and np.array_equal(back, audio)
        else:
            # The codec's tolerance: the ffmpeg CLI's own AAC round trip of the same samples.
            ref = tmp_path / "ref.m4a"
            subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-f", "f32le", "-ar", str(rate), "-ac", "2", "-i", "-",
                            "-c:a", "aac", str(ref)], input=audio.T.tobytes(), check=True)
            raw = subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-i", str(ref), "-f", "f32le", "-"],
                                 check=True, capture_output=True).stdout
            cli = np.frombuffer(raw, np.float32).reshape(-1, 2).T
            assert s["codec_name"] == "aac"
            assert snr(back, audio) >= snr(cli, audio) - 1.0, (snr(back, audio), snr(cli, audio))
    with pytest.raises(fp.ConfigError, match="audio_rate"):
        fp.VideoWriter(tmp_path / "x.mp4", fps=25, audio=audio)
