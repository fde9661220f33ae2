# framepipe.compat.decord, the Decord drop-in (issue 20): Decord's own tests run through it
# unchanged, and each convention it translates is checked against the ffmpeg CLI and ffprobe.
import json
import os
import subprocess
import sys

import numpy as np
import pytest

from conftest import ROOT, ffmpeg_rgb

HERE = os.path.dirname(os.path.abspath(__file__))
SHIM = os.path.join(HERE, "decord_shim")
PEERS = ROOT.parent / "shared" / "peers" / "decord"
PANCAKE = PEERS / "examples" / "flipping_a_pancake.mkv"
CORRUPTED = PEERS / "tests" / "test_data" / "corrupted.mp4"
needs_peers = pytest.mark.skipif(not PEERS.is_dir(), reason="Decord's tests are in ../shared/peers/decord")


@pytest.fixture(scope="module")
def decord(fp):
    from framepipe.compat import decord
    return decord


def ffprobe(path, entries, select="v:0"):
    return json.loads(subprocess.run(["ffprobe", "-v", "error", "-select_streams", select, "-show_entries", entries,
                                      "-of", "json", str(path)], check=True, capture_output=True, text=True).stdout)


@needs_peers
def test_decords_own_tests_pass_through_the_drop_in(fp, tmp_path):
    home = tmp_path / "home"
    (home / "Dev").mkdir(parents=True)
    (home / "Dev" / "decord").symlink_to(PEERS)  # test_threaded_bridge reads ~/Dev/decord/examples
    env = dict(os.environ, HOME=str(home),
               PYTHONPATH=os.pathsep.join([SHIM, os.path.dirname(fp.__file__)]))
    tests = PEERS / "tests" / "python" / "unittests"
    p = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-rA",
                        str(tests / "test_video_reader.py"), str(tests / "test_bridges.py")],
                       capture_output=True, text=True, cwd=tmp_path, env=env, timeout=600)
    assert p.returncode == 0, p.stdout[-4000:] + p.stderr[-2000:]
    assert "14 passed" in p.stdout and "failed" not in p.stdout, p.stdout[-2000:]
    assert p.stdout.count("PASSED") == 14  # every test by name, rotation included


def test_the_shim_name_and_the_package_are_one_module(fp, decord):
    import importlib
    decord.install("decord_alias_for_test")
    alias = importlib.import_module("decord_alias_for_test.bridge")
    assert alias is decord.bridge
    assert importlib.import_module("decord_alias_for_test.bridge.torchdl") is decord.bridge.torchdl


def test_frames_are_ffmpegs_and_asnumpy_is_a_view(decord, media):
    path = media / "h264_bframes.mp4"
    vr = decord.VideoReader(str(path), decord.cpu(0))  # the context positionally, as Decord allows
    ref = ffmpeg_rgb(path, [0, 7, 41, 99], vr[0].shape[1], vr[0].shape[0])
    nd = vr[41]
    assert isinstance(nd, decord.nd.NDArray) and nd.shape == ref[41].shape and nd.dtype == "uint8"
    assert nd.asnumpy() is nd.asnumpy() and np.array_equal(nd.asnumpy(), ref[41])
    batch = vr.get_batch(np.array([99.0, 0.9, 7.2]))  # float indices truncate, as in Decord
    assert batch.shape[0] == 3
    for got, i in zip(batch.asnumpy(), [99, 0, 7]):
        assert np.array_equal(got, ref[i]), i
    assert np.array_equal(vr[-1].asnumpy(), ref[99])
    assert np.array_equal(vr[40:42].asnumpy()[1], ref[41])
    # next() walks on from seek()
    vr.seek(7)
    assert np.array_equal(vr.next().asnumpy(), ref[7])
    vr.skip_frames(33)
    assert np.array_equal(vr.next().asnumpy(), ref[41])


def test_the_torch_bridge_shares_the_frames_memory(decord, media):
    torch = pytest.importorskip("torch")
    vr = decord.VideoReader(str(media / "shapes.mp4"))
    decord.bridge.set_bridge("torch")
    try:
        t = vr[5]
        assert isinstance(t, torch.Tensor) and t.dtype == torch.uint8
        back = decord.bridge.bridge_in(t)
        assert back.asnumpy().ctypes.data == t.data_ptr()
        b = vr.get_batch([1, 2])
        assert isinstance(b, torch.Tensor) and tuple(b.shape[:1]) == (2,)
    finally:
        decord.bridge.reset_bridge()
    assert isinstance(vr[5], decord.nd.NDArray)
    with pytest.raises(decord.DECORDError, match="not supported"):
        decord.bridge.set_bridge("mxnet")
    decord.bridge.set_bridge("numpy")
    try:
        assert isinstance(vr[5], np.ndarray)
    finally:
        decord.bridge.reset_bridge()


def test_a_file_object_reads_as_its_path(decord, media):
    path = media / "h264_bframes.mp4"
    with open(path, "rb") as f:
        from_file = decord.VideoReader(f)
    vr = decord.VideoReader(str(path))
    assert len(from_file) == len(vr) == 100
    assert np.array_equal(from_file[60].asnumpy(), vr[60].asnumpy())


def test_stream_facts_follow_decords_conventions(decord, media):
    path = media / "start_offset.mkv"
    vr = decord.VideoReader(str(path))
    probe = ffprobe(path, "frame=pts_time,key_frame:stream=start_time,avg_frame_rate")
    start = float(probe["streams"][0]["start_time"])
    assert start > 2  # the file starts late, so "relative to the start" is a real check
    pts = [float(f["pts_time"]) for f in probe["frames"]]
    ts = vr.get_frame_timestamp(range(len(vr)))
    assert ts.dtype == np.float32 and ts.shape == (len(pts), 2)
    assert np.allclose(ts[:, 0], np.array(pts) - start, atol=1e-4)
    assert np.allclose(ts[:-1, 1], ts[1:, 0])
    keys = vr.get_key_indices()
    assert isinstance(keys, list) and keys == [i for i, f in enumerate(probe["frames"]) if f["key_frame"]]
    num, den = map(int, probe["streams"][0]["avg_frame_rate"].split("/"))
    assert vr.get_avg_fps() == num / den


@needs_peers
def test_avg_fps_is_the_containers_not_the_measured_rate(decord, fp):
    vr = decord.VideoReader(str(PANCAKE))
    assert vr.get_avg_fps() == 30.0
    assert fp.VideoReader(str(PANCAKE)).get_avg_fps() != 30.0  # framepipe's own: frames / duration


def test_errors_are_decord_errors_and_keep_their_kind(decord, media):
    vr = decord.VideoReader(str(media / "shapes.mp4"))
    with pytest.raises(decord.DECORDError):
        vr[len(vr)]
    with pytest.raises(IndexError):
        vr.get_batch([0, len(vr) + 5])
    with pytest.raises(decord.DECORDError) as e:
        decord.VideoReader(str(media / "no_such_file.mp4"))
    assert "no_such_file.mp4" in str(e.value)
    import framepipe
    with pytest.raises(framepipe.UnsupportedError, match="CPU only"):
        decord.VideoReader(str(media / "shapes.mp4"), ctx=decord.gpu(0))


@needs_peers
def test_damage_is_an_error_unless_fault_tol_allows_it(decord, fp):
    vr = decord.VideoReader(str(CORRUPTED))
    assert len(vr) == 49
    assert vr.get_batch(range(25)).shape[0] == 25  # frames before the damage are fine
    with pytest.raises(decord.DECORDError, match="damaged"):
        vr.get_batch(range(40))
    tolerant = decord.VideoReader(str(CORRUPTED), fault_tol=100)
    frames = tolerant.get_batch(range(40)).asnumpy()
    assert np.array_equal(frames, fp.VideoReader(str(CORRUPTED)).get_batch(range(40)))  # FFmpeg's concealment
    strict_share = decord.VideoReader(str(CORRUPTED), fault_tol=0.0001)
    with pytest.raises(decord.DECORDLimitReachedError):
        strict_share.get_batch(range(40))


def test_video_loader_batches_over_videos(decord, media):
    paths = [str(media / "shapes.mp4"), str(media / "h264_bframes.mp4")]
    vl = decord.VideoLoader(paths, ctx=[decord.cpu(0)], shape=(4, 48, 64, 3), interval=1, skip=3, shuffle=0)
    readers = [decord.VideoReader(p, width=64, height=48) for p in paths]
    expected = []
    for v, r in enumerate(readers):
        s = 0
        while s + 6 < len(r):  # 4 frames, 2 apart
            expected.append((v, list(range(s, s + 8, 2))))
            s += 6 + 1 + 3
    assert len(vl) == len(expected)
    got = []
    for frames, idx in vl:
        idx = idx.asnumpy()
        v, frames_of = int(idx[0, 0]), idx[:, 1].tolist()
        assert frames.shape == (4, 48, 64, 3)
        assert np.array_equal(frames.asnumpy(), readers[v].get_batch(frames_of).asnumpy())
        got.append((v, frames_of))
    assert got == expected
    shuffled = decord.VideoLoader(paths, ctx=decord.cpu(0), shape=(4, 48, 64, 3), interval=1, skip=3, shuffle=2)
    order = [(int(i.asnumpy()[0, 0]), i.asnumpy()[:, 1].tolist()) for _, i in shuffled]
    assert sorted(order) == sorted(expected)


def ffmpeg_samples(path, channels, rate):
    raw = subprocess.run(["ffmpeg", "-v", "error", "-i", str(path), "-f", "f32le", "-ac", str(channels), "-ar",
                          str(rate), "-"], check=True, capture_output=True).stdout
    return np.frombuffer(raw, dtype=np.float32).reshape(-1, channels).T


@pytest.fixture(scope="module")
def tones(tmp_path_factory):
    """Stereo MP3 at 48 kHz (left 440 Hz, right 1000 Hz), which starts late (the encoder's delay)."""
    path = tmp_path_factory.mktemp("tones") / "tones.mp3"
    subprocess.run(["ffmpeg", "-v", "error", "-f", "lavfi", "-i", "sine=f=440:sample_rate=48000", "-f", "lavfi", "-i",
                    "sine=f=1000:sample_rate=48000", "-filter_complex", "[0][1]amerge=inputs=2", "-t", "2",
                    "-c:a", "libmp3lame", str(path)], check=True)
    return path


def test_audio_reader_follows_decords_calls_with_ffmpegs_samples(decord, tones, media):
    # Decord's test_audio_reader.py calls, on media made here (its own are not in its repository)
    ar = decord.AudioReader(str(tones), decord.cpu(0), mono=False)  # Decord resamples to 44100 by default
    ref = ffmpeg_samples(tones, 2, 44100)
    assert ar.shape() == ref.shape and ar.sample_rate == 44100
    assert np.abs(ar[:].asnumpy() - ref).max() <= 1e-6
    assert np.array_equal(ar[0].asnumpy(), ref[:, :1]) and np.array_equal(ar[-1].asnumpy(), ref[:, -1:])
    assert np.array_equal(ar[-20:-10].asnumpy(), ref[:, -20:-10])
    assert np.array_equal(ar.get_batch([-1, 0, 1, 2, 3]).asnumpy(), ref[:, [-1, 0, 1, 2, 3]])
    assert ar.duration() == pytest.approx(ref.shape[1] / 44100)
    resampled = decord.AudioReader(str(tones), decord.cpu(0), 4410)
    assert resampled.shape() == ffmpeg_samples(tones, 1, 4410).shape  # and downmixed (mono=True)
    with open(tones, "rb") as f:
        assert np.array_equal(decord.AudioReader(f, mono=False)[10].asnumpy(), ar[10].asnumpy())
    n = ar.add_padding()  # zeros up to time 0: the MP3's first sample plays at ~25 ms
    assert n == round(decord.AudioReader(str(tones))._reader.start * 44100) and n > 1000
    assert np.array_equal(ar[:n].asnumpy(), np.zeros((2, n))) and np.array_equal(ar[n:n + 5].asnumpy(), ref[:, :5])
    with pytest.raises(decord.DECORDError, match="no audio stream"):
        decord.AudioReader(str(media / "shapes.mp4"), decord.cpu(0))


def test_av_reader_pairs_each_frame_with_its_audio(decord, fp, media):
    path = media / "h264_audio.mp4"
    av = decord.AVReader(str(path), decord.cpu(0))
    video, audio = fp.VideoReader(str(path)), fp.AudioReader(str(path), sample_rate=44100)
    assert len(av) == len(video)
    samples, frame = av[10]
    (a, b), = audio.ranges_for_frames(video, [10])
    assert np.array_equal(frame.asnumpy(), video[10])
    assert np.array_equal(samples.asnumpy(), ffmpeg_samples(path, 1, 44100)[:, a:b]) and b - a == 44100 // 25
    chunks, frames = av.get_batch([-1, 0, 1])
    assert frames.shape[0] == 3 and [c.shape for c in chunks] == [
        (1, y - x) for x, y in audio.ranges_for_frames(video, [len(video) - 1, 0, 1])]
    chunks, frames = av[:]
    assert len(chunks) == len(av) == frames.shape[0]
    assert sum(c.shape[1] for c in chunks) == audio.ranges_for_frames(video, [len(av) - 1])[0][1] - \
        audio.ranges_for_frames(video, [0])[0][0]
    with pytest.raises(decord.DECORDError):
        decord.AVReader(str(media / "shapes.mp4"))
