# framepipe.AudioReader (issue 20): samples checked against `ffmpeg -f f32le` sample for
# sample, start times against ffprobe, and audio aligned to video frames against ffprobe's
# frame times.
import json
import subprocess

import numpy as np
import pytest


def ffmpeg_samples(path, channels, rate=None):
    cmd = ["ffmpeg", "-v", "error", "-i", str(path), "-f", "f32le", "-ac", str(channels)]
    cmd += ["-ar", str(rate)] if rate else []
    raw = subprocess.run(cmd + ["-"], check=True, capture_output=True).stdout
    return np.frombuffer(raw, dtype=np.float32).reshape(-1, channels).T


def first_audio_time(path):
    out = json.loads(subprocess.run(["ffprobe", "-v", "error", "-select_streams", "a:0", "-show_entries",
                                     "frame=best_effort_timestamp_time", "-of", "json",
                                     str(path)], check=True, capture_output=True, text=True).stdout)
    return float(out["frames"][0]["best_effort_timestamp_time"])


@pytest.fixture(scope="module")
def stereo(tmp_path_factory):
    """Two tones, left 440 Hz and right 1000 Hz, as Opus in WebM and as MP3 (which starts late:
    the encoder's delay)."""
    d = tmp_path_factory.mktemp("stereo")
    files = []
    for name, codec in (("tones.webm", "libopus"), ("tones.mp3", "libmp3lame")):
        subprocess.run(["ffmpeg", "-v", "error", "-f", "lavfi", "-i", "sine=f=440:sample_rate=44100", "-f", "lavfi",
                        "-i", "sine=f=1000:sample_rate=44100", "-filter_complex", "[0][1]amerge=inputs=2", "-t", "3",
                        "-c:a", codec, str(d / name)], check=True)
        files.append(d / name)
    return files


@pytest.mark.parametrize("rate", [None, 16000, 44100])
@pytest.mark.parametrize("mono", [True, False])
def test_samples_are_ffmpegs_sample_for_sample(fp, media, stereo, rate, mono):
    for path in stereo + [media / "h264_audio.mp4"]:
        a = fp.AudioReader(str(path), sample_rate=rate, mono=mono)
        want_channels = 1 if mono or path.suffix == ".mp4" else 2
        assert a.channels == want_channels and a.sample_rate == (rate or a.sample_rate)
        ref = ffmpeg_samples(path, a.channels, rate)
        assert a.shape == ref.shape, path
        assert np.abs(a.array - ref).max() <= 1e-6, path  # float rounding at most
        assert a.start == pytest.approx(first_audio_time(path), abs=1e-6), path


def test_ranges_are_views_and_times_map_to_samples(fp, stereo):
    a = fp.AudioReader(str(stereo[1]), mono=False)  # the MP3: start is not 0
    assert a.start > 0.02
    part = a[1000:5000]
    assert part.shape == (2, 4000) and np.shares_memory(part, a.array)
    assert np.array_equal(part, a.array[:, 1000:5000]) and np.array_equal(a.samples(1000, 5000), part)
    assert np.array_equal(a[7], a.array[:, 7]) and np.array_equal(a[-1], a.array[:, -1])
    assert np.array_equal(a[10:100:3], a.array[:, 10:100:3])
    k = a.index_at(a.start + 1.0)
    assert k == a.sample_rate and a.time_of(k) == pytest.approx(a.start + 1.0)
    assert a.between(a.start + 0.5, a.start + 1.5).shape == (2, a.sample_rate)
    assert a.index_at(-100) == 0 and a.index_at(1e9) == len(a)
    # the channels are the tones they were made of: left 440 Hz, right 1000 Hz
    spectrum = np.abs(np.fft.rfft(a.array[:, :a.sample_rate], axis=1))
    assert list(np.argmax(spectrum, axis=1)) == [440, 1000]


def test_audio_for_frames_is_what_plays_while_each_frame_shows(fp, media):
    path = media / "h264_audio.mp4"
    video, audio = fp.VideoReader(str(path)), fp.AudioReader(str(path), sample_rate=16000)
    probe = json.loads(subprocess.run(["ffprobe", "-v", "error", "-select_streams", "v:0", "-show_entries",
                                       "frame=best_effort_timestamp_time:stream=duration", "-of", "json", str(path)],
                                      check=True, capture_output=True, text=True).stdout)
    t = [float(f["best_effort_timestamp_time"]) for f in probe["frames"]]
    t.append(t[-1] + (t[-1] - t[-2]))  # the last frame shows for one frame interval
    idx = [0, 1, 50, len(video) - 1]
    ranges = audio.ranges_for_frames(video, idx)
    for i, (a, b) in zip(idx, ranges):
        assert a == round((t[i] - audio.start) * 16000) and b == min(round((t[i + 1] - audio.start) * 16000), len(audio))
    chunks = audio.for_frames(video, idx)
    assert [c.shape for c in chunks] == [(1, b - a) for a, b in ranges]
    assert np.array_equal(chunks[2], audio.array[:, ranges[2][0]:ranges[2][1]])
    # consecutive frames tile the audio: nothing lost, nothing twice
    every = audio.ranges_for_frames(video, range(len(video)))
    assert all(b0 == a1 for (_, b0), (a1, _) in zip(every, every[1:]))
    with pytest.raises(IndexError):
        audio.ranges_for_frames(video, [len(video)])


def test_bad_audio_input_is_a_clear_error(fp, media, tmp_path):
    with pytest.raises(fp.OpenError, match="has no audio stream"):
        fp.AudioReader(str(media / "shapes.mp4"))
    with pytest.raises(FileNotFoundError):
        fp.AudioReader(str(tmp_path / "missing.wav"))
    text = tmp_path / "notes.mp3"
    text.write_text("not audio\n" * 100)
    with pytest.raises(fp.OpenError, match="notes.mp3"):
        fp.AudioReader(str(text))
    with pytest.raises(fp.ConfigError, match="sample_rate"):
        fp.AudioReader(str(media / "h264_audio.mp4"), sample_rate=0)
    with pytest.raises(fp.OpenError, match="no audio stream 0"):
        fp.AudioReader(str(media / "h264_audio.mp4"), stream=0)
    cut = tmp_path / "cut.mp4"
    data = (media / "h264_audio.mp4").read_bytes()
    cut.write_bytes(data[: len(data) // 2])  # a truncated file: what can be read, or a clear error
    try:
        a = fp.AudioReader(str(cut))
        assert len(a) < len(fp.AudioReader(str(media / "h264_audio.mp4")))
    except fp.Error as e:
        assert "cut.mp4" in str(e)


def test_cli_tensors_write_the_audio_of_each_clip(cli, media, tmp_path):
    path = media / "h264_audio.mp4"
    out = tmp_path / "t"
    p = subprocess.run([cli, "tensors", str(path), "--sample", "clips:8:2:3", "--size", "32x32", "--out", str(out),
                        "--audio", "16000"], capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    rows = [json.loads(line) for line in (out / "batches.jsonl").read_text().splitlines()]
    assert len(rows) == 3
    probe = json.loads(subprocess.run(["ffprobe", "-v", "error", "-select_streams", "v:0", "-show_entries",
                                       "frame=best_effort_timestamp_time", "-of", "json", str(path)],
                                      check=True, capture_output=True, text=True).stdout)
    t = [float(f["best_effort_timestamp_time"]) for f in probe["frames"]]
    start = first_audio_time(path)
    ref = ffmpeg_samples(path, 1, 16000)
    audio = np.load(out / rows[0]["audio_file"])
    longest = max(r["audio"][1] - r["audio"][0] for r in rows)
    assert audio.shape == (3, 1, longest) and audio.dtype == np.float32
    for k, r in enumerate(rows):
        first, last = r["frames"][0], r["frames"][-1]
        a, b = r["audio"]
        assert a == round((t[first] - start) * 16000) and b == round((t[last + 1] - start) * 16000)
        assert np.array_equal(audio[k, :, : b - a], ref[:, a:b]) and not audio[k, :, b - a:].any()
