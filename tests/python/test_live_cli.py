"""`framepipe run` on live streams: a server on loopback made with the ffmpeg CLI (MPEG-TS over
TCP; HTTP, RTMP, UDP) or GStreamer's RTSP server, killed and restarted mid-run; a slow model in
`latest` mode; a slow reader of the results."""
import json
import os
import pathlib
import socket
import subprocess
import time

import pytest

from conftest import ROOT, ffprobe_frames


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def serve(port, size="320x240", rate=25, still=None, media=None):
    """An ffmpeg CLI that waits for one client on tcp://127.0.0.1:port and streams a test
    pattern (or one still picture, over and over; or a media file's packets as they are) to
    it in real time (H.264 in MPEG-TS)."""
    if media:
        return subprocess.Popen(["ffmpeg", "-nostdin", "-v", "quiet", "-re", "-i", str(media), "-c", "copy", "-f",
                                 "mpegts", f"tcp://127.0.0.1:{port}?listen=1"])
    source = (["-loop", "1", "-framerate", str(rate), "-i", str(still)] if still else
              ["-f", "lavfi", "-i", f"testsrc2=s={size}:r={rate}"])
    return subprocess.Popen(
        ["ffmpeg", "-nostdin", "-v", "quiet", "-re", *source, "-c:v", "libx264", "-preset", "ultrafast",
         "-tune", "zerolatency", "-g", str(rate), "-pix_fmt", "yuv420p", "-f", "mpegts",
         f"tcp://127.0.0.1:{port}?listen=1"])


def wait_listening(port, timeout=10):
    deadline = time.time() + timeout
    while time.time() < deadline:
        out = subprocess.run(["ss", "-ltn"], capture_output=True, text=True).stdout
        if f":{port} " in out:
            return
        time.sleep(0.05)
    raise AssertionError(f"nothing listens on {port}")


def stop(p):
    p.kill()
    p.wait()


def lines(path):
    return [json.loads(line) for line in open(path)]


def run_while_serving(server, port, cmd, timeout=60):
    """Runs `cmd` to its end against `server` (listening on `port`), then stops the server."""
    try:
        wait_listening(port)
        return subprocess.run([str(c) for c in cmd], capture_output=True, text=True, timeout=timeout)
    finally:
        stop(server)


def wait_for_a_result(run, cmd, timeout=30):
    """Waits until the run started with `cmd` has written its first frame's result line (into
    NAME.part.EXT), or has ended: a build with sanitizers on a busy machine may take seconds to
    connect, and a server killed before that would test the wrong thing."""
    final = pathlib.Path(str(cmd[cmd.index("--out") + 1]))
    out = final.with_name(final.stem + ".part" + final.suffix)
    deadline = time.time() + timeout
    while time.time() < deadline and run.poll() is None:
        if out.exists() and b'"frame":' in out.read_bytes():
            return
        time.sleep(0.05)


def run_through_an_outage(start_server, port, cmd, up_s, down_s=1.5):
    """Runs `cmd` in the background; the server it reads is killed `up_s` seconds after the
    start, and not before frames have come for 1.5 s (a slow start, under ASan or after a
    startup gap, would leave too few), so the connection drops; it refuses connections for
    `down_s`, then comes back. Returns (exit code, stderr)."""
    server = start_server()
    try:
        wait_listening(port)
        started = time.time()
        run = subprocess.Popen([str(c) for c in cmd], stderr=subprocess.PIPE, text=True)
        wait_for_a_result(run, cmd)
        first_frame = time.time()
        time.sleep(max(0.0, started + up_s - time.time(), first_frame + 1.5 - time.time()))
        stop(server)
        time.sleep(down_s)
        server = start_server()
        _, err = run.communicate(timeout=40)
    finally:
        stop(server)
    return run.returncode, err


def test_reconnects_after_the_server_drops_and_reports_the_gap(cli, tmp_path):
    port = free_port()
    out = tmp_path / "live.jsonl"
    rc, err = run_through_an_outage(
        lambda: serve(port), port,
        [cli, "run", "builtin:motion", f"tcp://127.0.0.1:{port}", "--timeout", "2", "--duration", "9",
         "--annotate", tmp_path / "live.mp4", "--out", out], up_s=2.5)
    assert rc == 0, err
    rows = lines(out)  # every line whole: the file was closed and renamed
    gaps = [r["gap"] for r in rows if "gap" in r]
    assert len(gaps) == 1, rows[:3]
    g = gaps[0]
    # (start is counted from when the stream opened, which a slow build reaches late)
    assert g["attempts"] >= 1 and g["end"] > g["start"] > 0 and g["last_t"] >= 0 and g["next_t"] >= 0
    assert g["end"] - g["start"] >= 1.0, "the server was down for 1.5 s"
    frames = [r for r in rows if "frame" in r]
    before = [r for r in frames if r["connection"] == 0]
    after = [r for r in frames if r["connection"] == 1]
    assert before and after, "results on both sides of the outage"
    # nothing invented: no result was received during the outage
    assert all(not (g["start"] < r["wall"] < g["end"]) for r in frames)
    # the annotated copy holds exactly the frames that have results, its clock rising across
    # the reconnect (the new connection's clock starts again; it is shifted to follow on)
    pts = ffprobe_frames(tmp_path / "live.mp4")
    assert len(pts) == len(frames)
    assert all(b > a for a, b in zip(pts, pts[1:]))


def audio_packets(path):
    """(pts seconds, duration seconds, md5 of the data) of every audio packet, from ffprobe."""
    out = subprocess.run(["ffprobe", "-v", "error", "-select_streams", "a:0", "-show_entries",
                          "packet=pts_time,duration_time,data_hash", "-show_data_hash", "md5", "-of", "json",
                          str(path)], check=True, capture_output=True, text=True).stdout
    return [(float(p["pts_time"]), float(p["duration_time"]), p["data_hash"]) for p in json.loads(out)["packets"]]


def test_a_live_annotated_copy_keeps_the_stream_audio_across_a_reconnect(cli, tmp_path):
    """A 20 s H.264 + AAC file is served packet for packet as a live MPEG-TS stream; the server
    is killed and restarted (from the start of the file) mid-run. The annotated copy holds the
    stream's audio: every packet byte-identical to the file's, none missing within a connection,
    the outage a pause of its real length, and audio and video shifted alike on both sides."""
    src = tmp_path / "av.mp4"
    subprocess.run(["ffmpeg", "-v", "error", "-f", "lavfi", "-i", "testsrc2=s=320x240:r=25", "-f", "lavfi", "-i",
                    "sine=f=440:sample_rate=48000", "-t", "20", "-c:v", "libx264", "-preset", "ultrafast", "-g", "25",
                    "-pix_fmt", "yuv420p", "-c:a", "aac", "-b:a", "96k", str(src)], check=True)
    port = free_port()
    out, video = tmp_path / "live.jsonl", tmp_path / "live.mp4"
    rc, err = run_through_an_outage(
        lambda: serve(port, media=src), port,
        [cli, "run", "builtin:motion", f"tcp://127.0.0.1:{port}", "--timeout", "2", "--duration", "8",
         "--annotate", video, "--out", out], up_s=3)
    assert rc == 0, err
    rows = lines(out)
    gaps = [r["gap"] for r in rows if "gap" in r]
    assert len(gaps) == 1, (gaps, err)
    frames = [r for r in rows if "frame" in r]
    source = audio_packets(src)
    copy = audio_packets(video)
    assert len(copy) > 100, err
    # split the copy into runs of consecutive packets of the source
    where = {h: i for i, (_, _, h) in enumerate(source)}
    assert len(where) == len(source), "the source's packets are told apart by their bytes"
    runs = []  # [first source index, last source index, first copy index, last copy index]
    for k, (_, _, h) in enumerate(copy):
        assert h in where, f"audio packet {k} of the copy is not one of the source's"
        i = where[h]
        if runs and i == runs[-1][1] + 1:
            runs[-1][1], runs[-1][3] = i, k
        else:
            runs.append([i, i, k, k])
    # one run per connection, each from the start of the file (the server starts over), none cut
    assert [r[0] for r in runs] == [0, 0], runs
    # on the copy's clock: rising, and the outage a pause about as long as it really was
    times = [t for t, _, _ in copy]
    assert all(b > a for a, b in zip(times, times[1:]))
    end0 = copy[runs[0][3]][0] + source[runs[0][1]][1]  # (MP4 stretches the last one over the pause)
    pause = copy[runs[1][2]][0] - end0
    outage = gaps[0]["end"] - gaps[0]["start"]
    assert abs(pause - outage) < 0.5, (pause, outage)
    # audio and video moved alike: per connection, copy time - source time of each audio
    # packet, less copy time - stream time of each frame, is the same (the server's own shift
    # of the file's times); the first connection keeps the stream's clock
    vpts = ffprobe_frames(video)
    assert len(vpts) == len(frames)
    vtb = 1 / 90000
    shifts = []
    for conn, (i0, _, k0, k1) in enumerate(runs):
        # one shift each, to the millisecond (a spread, not a set of rounded values: 6.8495
        # rounds to 6.849 or 6.85 as the float falls)
        audio_shift = [copy[k][0] - source[i0 + k - k0][0] for k in range(k0, k1 + 1)]
        assert max(audio_shift) - min(audio_shift) < 0.001, (min(audio_shift), max(audio_shift))
        video_shift = [p * vtb - r["t"] for p, r in zip(vpts, frames) if r["connection"] == conn]
        assert video_shift and max(video_shift) - min(video_shift) < 0.001, (min(video_shift), max(video_shift))
        shifts.append((audio_shift[0], video_shift[0]))
    assert abs(shifts[0][1]) < 0.001, shifts
    assert abs((shifts[0][0] - shifts[0][1]) - (shifts[1][0] - shifts[1][1])) <= 0.002, shifts


def test_latest_mode_keeps_a_slow_model_on_the_newest_frames(cli, tmp_path):
    port = free_port()
    server = serve(port, size="640x480", rate=25)
    out, metrics = tmp_path / "slow.jsonl", tmp_path / "metrics.json"
    # HOG on 640x480 takes several frame intervals per frame on this machine
    p = run_while_serving(server, port, [cli, "run", "builtin:hog-people", f"tcp://127.0.0.1:{port}", "--duration",
                                         "6", "--timeout", "3", "--model-threads", "1", "--out", out,
                                         "--metrics", metrics])
    assert p.returncode == 0, p.stderr
    frames = [r for r in lines(out) if "frame" in r]
    assert len(frames) >= 5
    ages = sorted(r["age_ms"] for r in frames)
    write = json.load(open(metrics))[2]
    assert write["dropped"] > 0, "a slow model in latest mode skips frames"
    # the age of what the model works on stays around one model call, it does not grow
    per_call = json.load(open(metrics))[1]["latency_ms"]["p95"]
    assert ages[-1] < 3 * per_call + 200, (ages[-5:], per_call)
    assert ages[-1] < 1500
    late = [r["age_ms"] for r in frames[len(frames) // 2:]]
    assert max(late) < 3 * per_call + 200


def test_a_slow_reader_of_the_results_keeps_memory_bounded(cli, media):
    """--out - into a pipe that is read slowly: the write stage blocks, the queue before it
    fills, decoding waits. Resident memory must not grow with the video."""
    # Under AddressSanitizer, freed memory waits in a quarantine (256 MB) before reuse, and
    # resident memory grows with every buffer freed; a small one keeps the test about framepipe.
    env = dict(os.environ)
    env["ASAN_OPTIONS"] = ":".join(filter(None, [env.get("ASAN_OPTIONS", ""), "quarantine_size_mb=4"]))
    p = subprocess.Popen([cli, "run", "builtin:motion", str(media / "real" / "vtest.avi"), "--out", "-"],
                         stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env)

    def rss_kb():
        for line in open(f"/proc/{p.pid}/status"):
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
        return 0

    samples = []
    lines_read = 0
    try:
        for _ in range(60):
            chunk = p.stdout.readline()
            if not chunk:
                break
            lines_read += 1
            time.sleep(0.05)  # a sink far slower than the pipeline
            if lines_read % 10 == 0:
                samples.append(rss_kb())
    finally:
        p.kill()
        p.wait()
    assert lines_read == 60
    # after the queues have filled (a second in), memory stays flat
    assert max(samples[2:]) - samples[2] < 20_000, samples


def test_a_stream_that_does_not_come_back_ends_the_run_as_transient(cli, tmp_path):
    port = free_port()
    server = serve(port)
    out = tmp_path / "gone.jsonl"
    try:
        wait_listening(port)
        cmd = [cli, "run", "builtin:motion", f"tcp://127.0.0.1:{port}", "--timeout", "2", "--reconnects", "2",
               "--out", str(out)]
        run = subprocess.Popen(cmd, stderr=subprocess.PIPE, text=True)
        wait_for_a_result(run, cmd)
        time.sleep(0.5)
    finally:
        stop(server)
    _, err = run.communicate(timeout=30)
    assert run.returncode == 4, err  # transient: a scheduler may retry
    rows = lines(out)
    gap = [r["gap"] for r in rows if "gap" in r]
    assert len(gap) == 1 and gap[0]["attempts"] == 2 and gap[0]["next_t"] == -1
    # a URL where nothing listens fails fast, as unusable input
    p = subprocess.run([cli, "run", "builtin:motion", f"tcp://127.0.0.1:{free_port()}", "--timeout", "1"],
                       capture_output=True, text=True, timeout=30)
    assert p.returncode in (3, 4) and "127.0.0.1" in p.stderr


@pytest.mark.parametrize("proto", ["http", "rtmp", "udp"])
def test_other_protocols_deliver_frames(cli, tmp_path, proto):
    """The ffmpeg CLI serves (HTTP and RTMP in listen mode) or sends (UDP) a stream on loopback."""
    port = free_port()
    fmt, extra, url = {
        "http": ("mpegts", ["-listen", "1"], f"http://127.0.0.1:{port}/s.ts"),
        "rtmp": ("flv", ["-listen", "1"], f"rtmp://127.0.0.1:{port}/live/s"),
        "udp": ("mpegts", [], f"udp://127.0.0.1:{port}"),
    }[proto]
    target = url + ("?pkt_size=1316" if proto == "udp" else "")
    out = tmp_path / "p.jsonl"
    # block: every frame that arrives is counted (latest would keep one of each burst, and a
    # loaded machine receives RTMP in bursts)
    # ffmpeg's HTTP server takes one client: --live spares the look that tells a live URL from
    # a file's (test_an_http_url_of_a_live_stream_is_run_live asks a server that takes several)
    cmd = [cli, "run", "builtin:motion", url, "--duration", "3", "--timeout", "5", "--queue", "block",
           "--out", str(out)] + (["--live"] if proto == "http" else [])
    server_cmd = ["ffmpeg", "-nostdin", "-v", "quiet", "-re", "-f", "lavfi", "-i", "testsrc2=s=320x240:r=25",
                  "-c:v", "libx264", "-preset", "ultrafast", "-tune", "zerolatency", "-g", "25", "-f", fmt,
                  *extra, target]
    if proto == "udp":  # the receiver binds first, then packets come
        run = subprocess.Popen(cmd, stderr=subprocess.PIPE, text=True)
        time.sleep(0.5)
        server = subprocess.Popen(server_cmd)
    else:
        server = subprocess.Popen(server_cmd)
        wait_listening(port)
        run = subprocess.Popen(cmd, stderr=subprocess.PIPE, text=True)
    try:
        _, err = run.communicate(timeout=30)
    finally:
        stop(server)
    assert run.returncode == 0, err
    frames = [r for r in lines(out) if "frame" in r]
    assert len(frames) >= 10, err
    assert all(r["t"] >= 0 and r["age_ms"] >= 0 for r in frames)


def test_a_missing_camera_fails_at_once_naming_it(cli, tmp_path):
    # /dev/videoN is live input through libavdevice's v4l2; a camera that is not there is not
    # retried: exit 3 (input unusable), the device named.
    dev = "/dev/video97"
    if os.path.exists(dev):
        pytest.skip(f"{dev} exists here")
    p = subprocess.run([cli, "run", "builtin:motion", dev, "--duration", "20", "--out", str(tmp_path / "r.jsonl")],
                       capture_output=True, text=True, timeout=30)
    assert p.returncode == 3, p.stderr
    assert dev in p.stderr and "V4L2" in p.stderr


def test_camera_options_are_checked_before_the_camera_is_opened(cli, tmp_path):
    """A camera's size, rate and pixel format are FFmpeg's v4l2 options (--input-option, as the
    ffmpeg CLI's -video_size ... before -i). Real ones pass the check and reach the open (exit 3:
    no such camera here); a misspelt one is a usage error naming it, with no camera needed."""
    dev = "/dev/video97"
    if os.path.exists(dev):
        pytest.skip(f"{dev} exists here")
    base = [cli, "run", "builtin:motion", dev, "--out", str(tmp_path / "r.jsonl")]
    good = ["--input-option", "video_size=1280x720", "--input-option", "framerate=30",
            "--input-option", "input_format=mjpeg"]
    p = subprocess.run(base + good, capture_output=True, text=True, timeout=30)
    assert p.returncode == 3 and dev in p.stderr, p.stderr
    p = subprocess.run(base + ["--input-option", "vidoe_size=1280x720"], capture_output=True, text=True, timeout=30)
    assert p.returncode == 2 and "vidoe_size" in p.stderr and "V4L2" in p.stderr, p.stderr
    p = subprocess.run(base + ["--input-option", "video_size"], capture_output=True, text=True, timeout=30)
    assert p.returncode == 2 and "KEY=VALUE" in p.stderr, p.stderr


def serve_rtsp(port, size="320x240", audio=False):
    """A real RTSP server (GStreamer's rtsp-server) on loopback: rtsp://127.0.0.1:port/s, with
    an Opus tone (audio=True) or a G.711 mu-law one (audio="pcmu") beside the video."""
    tone = "pcmu" if audio == "pcmu" else "audio" if audio else "none"
    return subprocess.Popen(["/usr/bin/python3", str(ROOT / "tests" / "support" / "rtsp_server.py"), str(port), size,
                             "25", tone], stdout=subprocess.DEVNULL)


@pytest.mark.parametrize("transport,audio", [("tcp", True), ("udp", False)])
def test_rtsp_reconnects_after_the_server_drops_and_reports_the_gap(cli, tmp_path, transport, audio):
    """RTSP as a camera speaks it: DESCRIBE/SETUP/PLAY, H.264 over RTP (with an Opus track
    beside it, which is set up and ignored), inside the RTSP connection (tcp, the default) or on
    UDP ports. The server is killed and restarted mid-run: over TCP the drop is seen at once,
    over UDP only when the read times out."""
    port = free_port()
    out = tmp_path / "rtsp.jsonl"
    rc, err = run_through_an_outage(
        lambda: serve_rtsp(port, audio=audio), port,
        [cli, "run", "builtin:motion", f"rtsp://127.0.0.1:{port}/s", "--rtsp-transport", transport,
         "--timeout", "2", "--duration", "10", "--out", out], up_s=3.5)
    assert rc == 0, err
    rows = lines(out)
    # GStreamer's server may take longer than --timeout to send its first frame on a loaded
    # machine: that is a gap before any frame (last_t -1), reported as it should be, and not
    # the outage this test makes.
    startup = [r["gap"] for r in rows if "gap" in r and r["gap"]["last_t"] < 0]
    gaps = [r["gap"] for r in rows if "gap" in r and r["gap"]["last_t"] >= 0]
    assert len(gaps) == 1 and len(startup) <= 1, (gaps, startup, err)
    g = gaps[0]
    assert g["attempts"] >= 1 and g["end"] - g["start"] >= 1.0 and g["last_t"] >= 0 and g["next_t"] >= 0
    frames = [r for r in rows if "frame" in r]
    first = frames[0]["connection"]  # 0, or 1 after a startup gap
    before = [r for r in frames if r["connection"] == first]
    # (on a loaded machine few frames may come before the drop, and a failed attempt counts as
    # a connection of its own)
    after = [r for r in frames if r["connection"] > first]
    assert len(before) >= 3 and len(after) >= 10, (len(before), len(after), err)
    assert all(not (g["start"] < r["wall"] < g["end"]) for r in frames)
    # the ball moves: the motion model sees it on both connections
    assert any(r["objects"] for r in before) and any(r["objects"] for r in after)
    # a connection's stream times rise
    for conn in (before, after):
        ts = [r["t"] for r in conn]
        assert all(b > a for a, b in zip(ts, ts[1:])), ts[:10]


def test_a_camera_with_g711_audio_records_it_as_aac_across_a_reconnect(cli, tmp_path):
    """An IP camera's usual audio, G.711 mu-law at 8 kHz, cannot go into MP4 as it is: the
    annotated copy re-encodes it to AAC, says so, and keeps the outage as a pause of its real
    length; on both sides of it the sound is the camera's 440 Hz tone."""
    import numpy as np
    port = free_port()
    out, video = tmp_path / "cam.jsonl", tmp_path / "cam.mp4"
    rc, err = run_through_an_outage(
        lambda: serve_rtsp(port, audio="pcmu"), port,
        [cli, "run", "builtin:motion", f"rtsp://127.0.0.1:{port}/s", "--timeout", "2", "--duration", "8",
         "--annotate", video, "--out", out], up_s=3)
    assert rc == 0, err
    assert "pcm_mulaw" in err and "re-encoded to AAC" in err, err
    gaps = [r["gap"] for r in lines(out) if "gap" in r]
    assert len(gaps) == 1, (gaps, err)
    from test_transform_cli import stream_info
    a = [s for s in stream_info(video) if s["codec_type"] == "audio"]
    assert len(a) == 1 and a[0]["codec_name"] == "aac" and int(a[0]["sample_rate"]) == 8000, a
    packets = audio_packets(video)
    times = [t for t, _, _ in packets]
    assert all(b > a for a, b in zip(times, times[1:]))
    steps = [b - a for a, b in zip(times, times[1:])]
    frame = 1024 / 8000
    assert sum(1 for d in steps if d > 2 * frame) == 1, "one pause: the outage"
    outage = gaps[0]["end"] - gaps[0]["start"]
    assert abs(max(steps) - frame - outage) < 0.5, (max(steps), outage)
    # the tone on each side of the pause, from the ffmpeg CLI's decode of the copy (its
    # aresample async fills the pause with silence, so a sample's place is its time)
    pause_at = times[steps.index(max(steps))] + frame
    pcm = np.frombuffer(subprocess.run(["ffmpeg", "-v", "error", "-i", str(video), "-map", "0:a", "-af", "aresample=async=1", "-f", "s16le",
                                        "-ac", "1", "-ar", "8000", "-"], check=True, capture_output=True).stdout,
                        dtype=np.int16).astype(np.float64)
    start = times[0]
    for lo, hi in ((start + 0.2, pause_at - 0.2), (pause_at + outage + 0.2, times[-1] - 0.2)):
        piece = pcm[int((lo - start) * 8000):int((hi - start) * 8000)]
        assert len(piece) >= 4000, (lo, hi)
        spectrum = np.abs(np.fft.rfft(piece * np.hanning(len(piece))))
        peak = np.fft.rfftfreq(len(piece), 1 / 8000)[spectrum.argmax()]
        assert abs(peak - 440) < 5, peak


def test_a_bad_rtsp_transport_is_a_config_error(cli):
    p = subprocess.run([cli, "run", "builtin:motion", "rtsp://127.0.0.1:9/s", "--rtsp-transport", "carrier-pigeon"],
                       capture_output=True, text=True, timeout=30)
    assert p.returncode == 2, p.stderr
    assert "carrier-pigeon" in p.stderr and "tcp" in p.stderr


def test_a_live_annotated_copy_is_at_the_source_size_with_boxes_in_source_pixels(cli, media, tmp_path):
    """A detector with a 128x128 letterboxed input on a 160x120 stream: the copy is recorded at
    160x120 (frames are captured at the source size and resized for the model), and the boxes
    land where the objects are. The stream shows one still picture (frame 12 of squares.mp4,
    taken out with the ffmpeg CLI), so every recorded frame can be held against it."""
    from test_transform_cli import decode, stream_info
    import numpy as np
    still = tmp_path / "still.png"
    subprocess.run(["ffmpeg", "-v", "error", "-i", str(media / "squares.mp4"), "-vf", "select=eq(n\\,12)",
                    "-vsync", "passthrough", "-frames:v", "1", str(still)], check=True)
    port = free_port()
    server = serve(port, still=still)
    out, video = tmp_path / "live.jsonl", tmp_path / "live.mp4"
    p = run_while_serving(server, port, [cli, "run", ROOT / "tests" / "models" / "squares.pt",
                                         f"tcp://127.0.0.1:{port}", "--duration", "3", "--timeout", "5",
                                         "--annotate", video, "--out", out])
    assert p.returncode == 0, p.stderr
    frames = [r for r in lines(out) if "frame" in r]
    assert len(frames) >= 5
    v = [s for s in stream_info(video) if s["codec_type"] == "video"][0]
    assert (v["width"], v["height"]) == (160, 120)
    assert len(ffprobe_frames(video)) == len(frames)
    # the objects of the still, found in source pixels
    green = [o for o in frames[-1]["objects"] if o["label"] == "green"]
    assert len(green) == 1, frames[-1]
    x1, y1, x2, y2 = (int(round(v)) for v in green[0]["box"])
    assert 0 <= x1 < x2 <= 160 and 0 <= y1 < y2 <= 120
    # where the same model puts it in the file's frame 12 (the decoder's fused resize there)
    subprocess.run([cli, "run", str(ROOT / "tests" / "models" / "squares.pt"), str(media / "squares.mp4"),
                    "--sample", "indices:12", "--out", str(tmp_path / "file.jsonl")], check=True, capture_output=True)
    in_file = [o for o in lines(tmp_path / "file.jsonl")[0]["objects"] if o["label"] == "green"][0]
    assert max(abs(a - b) for a, b in zip(green[0]["box"], in_file["box"])) < 3, (green, in_file)
    drawn, src = decode(video, len(frames) - 1, 160, 120), decode(still, 0, 160, 120)
    edge = np.abs(drawn[y1 + 12:y2 - 2, x2 - 1:x2 + 1] - src[y1 + 12:y2 - 2, x2 - 1:x2 + 1]).mean()
    corner = np.abs(drawn[70:120, 135:160] - src[70:120, 135:160]).mean()
    assert edge > 30 and corner < 6, (edge, corner)


def test_an_http_url_of_a_live_stream_is_run_live(cli, tmp_path):
    """An HTTP server that sends each client a live MPEG-TS (no length, no ranges: no duration,
    not seekable), as a camera or a broadcast does: the URL is run live without --live."""
    import http.server
    import threading

    class Live(http.server.BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def do_GET(self):
            self.send_response(200)
            self.send_header("Content-Type", "video/mp2t")
            self.end_headers()
            enc = subprocess.Popen(["ffmpeg", "-nostdin", "-v", "quiet", "-re", "-f", "lavfi", "-i",
                                    "testsrc2=s=320x240:r=25", "-c:v", "libx264", "-preset", "ultrafast", "-tune",
                                    "zerolatency", "-g", "25", "-f", "mpegts", "-"], stdout=subprocess.PIPE)
            try:
                while chunk := enc.stdout.read(1316 * 8):
                    self.wfile.write(chunk)
            except (BrokenPipeError, ConnectionResetError):
                pass
            finally:
                enc.kill()
                enc.wait()

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Live)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    out = tmp_path / "live.jsonl"
    try:
        p = subprocess.run([cli, "run", "builtin:motion", f"http://127.0.0.1:{server.server_address[1]}/cam.ts",
                            "--duration", "3", "--timeout", "5", "--out", str(out)], capture_output=True, text=True,
                           timeout=60)
    finally:
        server.shutdown()
    assert p.returncode == 0, p.stderr
    frames = [r for r in lines(out) if "frame" in r]
    assert len(frames) >= 10 and all("wall" in r and r["age_ms"] >= 0 for r in frames)  # a live run's lines
