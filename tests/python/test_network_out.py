"""Writers to the network and to a live HLS playlist, read back by real servers on 127.0.0.1:
nginx with its RTMP module recording what `run --annotate rtmp://` publishes; the ffmpeg CLI
as the receiving end of tcp:// and udp:// (MPEG-TS) and as an RTMP server in listen mode;
.m3u8 segments and playlist written as they close; Python's VideoWriter to tcp://."""
import json
import os
import shutil
import signal
import socket
import subprocess
import time

import numpy as np
import pytest


def free_port(kind=socket.SOCK_STREAM):
    with socket.socket(socket.AF_INET, kind) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def count_frames(path):
    out = subprocess.run(["ffprobe", "-v", "error", "-count_frames", "-select_streams", "v:0", "-show_entries",
                          "stream=nb_read_frames,codec_name", "-of", "json", str(path)],
                         check=True, capture_output=True, text=True).stdout
    s = json.loads(out)["streams"][0]
    return int(s["nb_read_frames"]), s["codec_name"]


def has_audio(path):
    return "audio" in subprocess.run(["ffprobe", "-v", "error", "-show_entries", "stream=codec_type", "-of", "csv=p=0",
                                      str(path)], capture_output=True, text=True).stdout


@pytest.fixture(scope="module")
def clip(tmp_path_factory):
    d = tmp_path_factory.mktemp("net")
    clip = d / "clip.mp4"
    subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-f", "lavfi", "-i", "testsrc2=size=160x120:rate=25:duration=3",
                    "-f", "lavfi", "-i", "sine=duration=3", "-c:v", "libx264", "-g", "25", "-c:a", "aac", "-shortest",
                    str(clip)], check=True)
    return clip


def receiver(url, out, *extra):
    """The ffmpeg CLI receiving `url` into `out` (copying the streams)."""
    p = subprocess.Popen(["ffmpeg", "-nostdin", "-v", "error", "-y", *extra, "-i", url, "-c", "copy", str(out)],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    time.sleep(0.5)  # listening
    return p


def stop(p, timeout=20):
    try:
        p.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        p.terminate()  # ffmpeg finishes its output on SIGTERM
        p.wait(timeout=10)
    return p.stderr.read()


@pytest.mark.parametrize("scheme", ["tcp", "rtmp"])
def test_run_annotates_to_a_server_every_frame_with_sound(cli, clip, tmp_path, scheme):
    port = free_port()
    got = tmp_path / ("got.ts" if scheme == "tcp" else "got.flv")
    url = f"tcp://127.0.0.1:{port}" if scheme == "tcp" else f"rtmp://127.0.0.1:{port}/live/stream"
    server = receiver(url + ("?listen=1" if scheme == "tcp" else ""), got, *([] if scheme == "tcp" else ["-listen", "1"]))
    p = subprocess.run([cli, "run", "builtin:motion", str(clip), "--out", str(tmp_path / "r.jsonl"), "--annotate", url],
                       capture_output=True, text=True, timeout=60)
    said = stop(server)
    assert p.returncode == 0, p.stderr
    assert len((tmp_path / "r.jsonl").read_text().splitlines()) >= 75
    frames, codec = count_frames(got)
    assert (frames, codec) == (75, "h264"), said
    assert has_audio(got)


def transform_to(cli, clip, listen, send, got):
    """`transform` of the clip to `send`, received by the ffmpeg CLI listening on `listen` into
    `got`; the transform's exit status checked, the receiver's words returned."""
    server = receiver(listen, got)
    p = subprocess.run([cli, "transform", str(clip), send], capture_output=True, text=True, timeout=60)
    said = stop(server)
    assert p.returncode == 0, p.stderr
    return said


def test_udp_destination_arrives(cli, clip, tmp_path):
    port = free_port(socket.SOCK_DGRAM)
    got = tmp_path / "udp.ts"
    transform_to(cli, clip, f"udp://127.0.0.1:{port}?timeout=3000000", f"udp://127.0.0.1:{port}?pkt_size=1316", got)
    frames, codec = count_frames(got)
    assert codec == "h264" and frames >= 60  # datagrams on the loopback; most arrive


def test_hls_playlist_and_segments_as_the_run_goes(cli, clip, tmp_path):
    hls = tmp_path / "hls"
    hls.mkdir()
    p = subprocess.run([cli, "run", "builtin:motion", str(clip), "--out", str(tmp_path / "r.jsonl"), "--annotate",
                        str(hls / "live.m3u8")], capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, p.stderr
    playlist = (hls / "live.m3u8").read_text()
    segments = [l for l in playlist.splitlines() if l and not l.startswith("#")]
    assert len(segments) >= 2 and "#EXT-X-ENDLIST" in playlist, playlist
    assert all((hls / s).exists() for s in segments)
    assert not list(hls.glob("*.part*")), "an HLS playlist is written under its own name"
    assert count_frames(hls / "live.m3u8")[0] == 75


def test_python_writer_streams_to_tcp(fp, tmp_path):
    port = free_port()
    got = tmp_path / "py.ts"
    server = receiver(f"tcp://127.0.0.1:{port}?listen=1", got)
    frames = np.random.default_rng(0).integers(0, 256, (40, 48, 64, 3), dtype=np.uint8)
    with fp.VideoWriter(f"tcp://127.0.0.1:{port}", fps=25) as w:
        for f in frames:
            w.write(f)
    stop(server)
    assert count_frames(got) == (40, "h264")


def test_hls_of_a_live_run_is_readable_while_it_runs(cli, tmp_path):
    port = free_port()
    source = subprocess.Popen(["ffmpeg", "-nostdin", "-v", "quiet", "-re", "-f", "lavfi", "-i",
                               "testsrc2=size=160x120:rate=25:duration=8", "-c:v", "libx264", "-preset", "ultrafast",
                               "-g", "25", "-f", "mpegts", f"tcp://127.0.0.1:{port}?listen=1"])
    hls = tmp_path / "hls"
    hls.mkdir()
    time.sleep(0.5)
    run = subprocess.Popen([cli, "run", "builtin:motion", f"tcp://127.0.0.1:{port}", "--timeout", "3", "--duration", "5",
                            "--out", str(tmp_path / "r.jsonl"), "--annotate", str(hls / "live.m3u8")],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        playlist = hls / "live.m3u8"
        deadline = time.monotonic() + 6
        while time.monotonic() < deadline and not (playlist.exists() and "live0.ts" in playlist.read_text()):
            time.sleep(0.2)
        assert run.poll() is None, "the run ended before a segment could be watched"
        text = playlist.read_text()
        assert "live0.ts" in text and "#EXT-X-ENDLIST" not in text, text  # a segment out, the run going on
        assert count_frames(hls / "live0.ts")[0] > 0
    finally:
        out, err = run.communicate(timeout=30)
        source.wait(timeout=30)
    assert run.returncode == 0, err
    assert "#EXT-X-ENDLIST" in (hls / "live.m3u8").read_text()


@pytest.fixture
def nginx_rtmp(tmp_path):
    """nginx with its RTMP module on a free port, recording every stream published to /live."""
    module = "/usr/lib/nginx/modules/ngx_rtmp_module.so"
    if not (shutil.which("nginx") and os.path.exists(module)):
        pytest.skip("nginx with libnginx-mod-rtmp is not installed (scripts/install-deps.sh installs it)")
    port = free_port()
    root = tmp_path / "nginx"
    (root / "logs").mkdir(parents=True)
    (root / "rec").mkdir()
    conf = root / "nginx.conf"
    conf.write_text(f"""load_module {module};
daemon off;
master_process off;
pid {root}/nginx.pid;
error_log {root}/logs/error.log info;
events {{ worker_connections 64; }}
rtmp {{
  server {{
    listen 127.0.0.1:{port};
    application live {{
      live on;
      record all;
      record_path {root}/rec;
      record_unique off;
    }}
  }}
}}
""")
    p = subprocess.Popen(["nginx", "-c", str(conf), "-p", str(root)], stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        with socket.socket() as c:
            if c.connect_ex(("127.0.0.1", port)) == 0:
                break
        time.sleep(0.1)
    yield port, root / "rec"
    p.send_signal(signal.SIGQUIT)  # graceful: closes the recordings
    try:
        p.wait(timeout=10)
    except subprocess.TimeoutExpired:
        p.kill()


def test_run_publishes_to_nginx_rtmp(cli, clip, tmp_path, nginx_rtmp):
    port, rec = nginx_rtmp
    p = subprocess.run([cli, "run", "builtin:hog-people", str(clip), "--out", str(tmp_path / "r.jsonl"), "--annotate",
                        f"rtmp://127.0.0.1:{port}/live/cam"], capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stderr
    recorded = rec / "cam.flv"
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and not recorded.exists():
        time.sleep(0.2)
    time.sleep(0.5)  # nginx closes the recording when the publisher leaves
    frames, codec = count_frames(recorded)
    assert (frames, codec) == (75, "h264") and has_audio(recorded)


def test_python_hls_window_keeps_the_last_segments(fp, tmp_path):
    out = tmp_path / "win" / "w.m3u8"
    out.parent.mkdir()
    frames = np.random.default_rng(1).integers(0, 256, (25 * 9, 48, 64, 3), dtype=np.uint8)  # 9 s: 4-5 segments
    with fp.VideoWriter(out, fps=25, hls_window=2) as w:
        for f in frames:
            w.write(f)
    playlist = out.read_text()
    listed = [l for l in playlist.splitlines() if l and not l.startswith("#")]
    on_disk = sorted(p.name for p in out.parent.glob("*.ts"))
    assert len(listed) == 2 and "#EXT-X-MEDIA-SEQUENCE:0" not in playlist, playlist
    assert set(listed) <= set(on_disk) and len(on_disk) <= 3, on_disk  # older segments deleted


def test_srt_destination_every_frame(cli, clip, tmp_path):
    port = free_port(socket.SOCK_DGRAM)
    got = tmp_path / "srt.ts"
    said = transform_to(cli, clip, f"srt://127.0.0.1:{port}?mode=listener", f"srt://127.0.0.1:{port}?mode=caller", got)
    assert count_frames(got) == (75, "h264"), said  # all of it: the writer lingers until delivered
    assert has_audio(got)


def test_rtsp_publishing_to_a_server(cli, clip, tmp_path):
    """The ffmpeg CLI as an RTSP server in listen mode takes what `transform` publishes
    (ANNOUNCE + RECORD over TCP) and decodes it: every frame, and the sound."""
    port = free_port()
    crc = tmp_path / "rtsp.crc"
    server = subprocess.Popen(["ffmpeg", "-nostdin", "-v", "error", "-y", "-rtsp_flags", "listen", "-i",
                               f"rtsp://127.0.0.1:{port}/live", "-f", "framecrc", str(crc)],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    time.sleep(0.7)
    p = subprocess.run([cli, "transform", str(clip), f"rtsp://127.0.0.1:{port}/live"], capture_output=True, text=True,
                       timeout=60)
    said = stop(server)
    assert p.returncode == 0, p.stderr
    streams = [l.split(",")[0].strip() for l in crc.read_text().splitlines() if l and not l.startswith("#")]
    assert streams.count("0") == 75, said
    assert streams.count("1") > 0, said  # the audio


def test_a_destination_that_drops_never_stops_the_run(cli, tmp_path):
    """The receiving server killed mid-run and started again: the run ends normally with every
    result line, says the outage, and the second server gets the rest from a keyframe."""
    src_port, dst_port = free_port(), free_port()
    source = subprocess.Popen(["ffmpeg", "-nostdin", "-v", "quiet", "-re", "-f", "lavfi", "-i",
                               "testsrc2=size=160x120:rate=25:duration=14", "-c:v", "libx264", "-preset", "ultrafast",
                               "-g", "25", "-f", "mpegts", f"tcp://127.0.0.1:{src_port}?listen=1"])
    first, second = tmp_path / "first.ts", tmp_path / "second.ts"
    server = receiver(f"tcp://127.0.0.1:{dst_port}?listen=1", first)
    time.sleep(0.3)
    out = tmp_path / "r.jsonl"
    run = subprocess.Popen([cli, "run", "builtin:motion", f"tcp://127.0.0.1:{src_port}", "--duration", "10",
                            "--out", str(out), "--annotate", f"tcp://127.0.0.1:{dst_port}"],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        time.sleep(3)
        server.kill()  # the destination drops, without a word
        server.wait()
        time.sleep(2)
        server = receiver(f"tcp://127.0.0.1:{dst_port}?listen=1", second)
        _, err = run.communicate(timeout=60)
    finally:
        source.kill()
        source.wait()
    stop(server)
    assert run.returncode == 0, err
    rows = [json.loads(l) for l in out.read_text().splitlines()]
    assert len(rows) > 150 and all("frame" in r for r in rows)  # ~10 s at 25 fps, the analysis went on
    assert "the destination dropped at" in err and "back at" in err, err
    frames, codec = count_frames(second)
    assert codec == "h264" and frames > 25, frames  # the rest, from a keyframe


def test_cli_format_and_hls_window(cli, clip, tmp_path):
    """--format overrides the container a name implies; --hls-window keeps the last segments."""
    out = tmp_path / "copy.bin"
    p = subprocess.run([cli, "transform", str(clip), str(out), "--format", "mpegts"], capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    fmt = subprocess.run(["ffprobe", "-v", "error", "-show_entries", "format=format_name", "-of", "csv=p=0", str(out)],
                         capture_output=True, text=True).stdout.strip()
    assert fmt == "mpegts" and count_frames(out) == (75, "h264")
    hls = tmp_path / "w"
    hls.mkdir()
    p = subprocess.run([cli, "run", "builtin:motion", str(clip), "--annotate", str(hls / "a.m3u8"), "--hls-window", "1"],
                       capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    listed = [l for l in (hls / "a.m3u8").read_text().splitlines() if l and not l.startswith("#")]
    assert len(listed) == 1 and len(list(hls.glob("*.ts"))) <= 2, listed
