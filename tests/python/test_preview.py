"""run --preview: the page, the annotated picture and the results, checked in headless Chromium
(Debian's chromium) and with plain HTTP clients; several viewers; a stalled viewer neither
stops the run nor holds it at its end."""
import json
import re
import shutil
import socket
import subprocess
import threading
import time
import urllib.request

import numpy as np
import pytest


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class LiveRun:
    """A live source (the ffmpeg CLI at real time) and `framepipe run --preview 0` on it; the
    preview's URL taken from the run's stderr."""

    def __init__(self, cli, tmp_path, seconds=5, extra=()):
        port = free_port()
        self.source = subprocess.Popen(
            ["ffmpeg", "-nostdin", "-v", "quiet", "-re", "-f", "lavfi", "-i", f"testsrc2=size=320x240:rate=25:duration={seconds + 3}",
             "-c:v", "libx264", "-preset", "ultrafast", "-g", "25", "-f", "mpegts", f"tcp://127.0.0.1:{port}?listen=1"])
        time.sleep(0.5)
        self.out = tmp_path / "r.jsonl"
        self.run = subprocess.Popen([cli, "run", "builtin:motion", f"tcp://127.0.0.1:{port}", "--preview", "0",
                                     "--duration", str(seconds), "--out", str(self.out), *extra],
                                    stderr=subprocess.PIPE, text=True)
        self.stderr = []
        self.url = None
        found = threading.Event()

        def read():
            for line in self.run.stderr:
                self.stderr.append(line)
                m = re.search(r"preview at (http://\S+)", line)
                if m and not found.is_set():
                    self.url = m.group(1)
                    found.set()
            found.set()

        threading.Thread(target=read, daemon=True).start()
        assert found.wait(15) and self.url, "".join(self.stderr)

    def wait(self, timeout=30):
        rc = self.run.wait(timeout=timeout)
        self.source.kill()
        self.source.wait()
        return rc


def jpegs(url, count, timeout=10):
    """The first `count` pictures of /video, each decoded by the ffmpeg CLI to RGB."""
    stream = urllib.request.urlopen(url + "video", timeout=timeout)
    assert stream.headers["Content-Type"].startswith("multipart/x-mixed-replace")
    out, data = [], b""
    while len(out) < count:
        data += stream.read1(65536)
        m = re.search(rb"Content-Length: (\d+)\r\n\r\n", data)
        if m and len(data) >= m.end() + int(m.group(1)):
            out.append(data[m.end():m.end() + int(m.group(1))])
            data = data[m.end() + int(m.group(1)):]
    stream.close()
    pictures = []
    for j in out:
        raw = subprocess.run(["ffmpeg", "-v", "error", "-f", "image2pipe", "-i", "-", "-f", "rawvideo", "-pix_fmt",
                              "rgb24", "-"], input=j, check=True, capture_output=True).stdout
        pictures.append(np.frombuffer(raw, np.uint8).reshape(240, 320, 3))
    return pictures


def test_the_page_in_headless_chromium_shows_the_video_and_results(cli, tmp_path):
    chromium = shutil.which("chromium")
    if not chromium:
        pytest.skip("Debian's chromium is not installed (scripts/install-deps.sh installs it)")
    live = LiveRun(cli, tmp_path, seconds=16)
    try:
        deadline = time.monotonic() + 10
        while json.loads(urllib.request.urlopen(live.url + "results", timeout=10).read())["count"] == 0:
            assert time.monotonic() < deadline, "no results"
            time.sleep(0.2)
        shot = tmp_path / "shot.png"
        flags = [chromium, "--headless=new", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
                 "--window-size=1000,600", "--timeout=3000"]
        subprocess.run(flags + [f"--screenshot={shot}", live.url], capture_output=True, timeout=60)
        for _ in range(3):  # a loaded machine may dump the page before its first poll came back
            dom = subprocess.run(flags + ["--dump-dom", live.url], capture_output=True, text=True, timeout=60).stdout
            if re.search(r'<span id="count">[1-9]', dom):
                break
        second = jpegs(live.url, 2)  # another viewer meanwhile
    finally:
        assert live.wait() == 0, "".join(live.stderr)
    raw = subprocess.run(["ffmpeg", "-v", "error", "-i", str(shot), "-f", "rawvideo", "-pix_fmt", "rgb24", "-"],
                         check=True, capture_output=True).stdout
    img = np.frombuffer(raw, np.uint8).reshape(600, 1000, 3)
    left = img[:, :600].astype(int)
    shown = np.abs(left - np.array([0x11, 0x11, 0x11])).sum(axis=2) > 30
    assert shown.mean() > 0.3, "no video on the page"
    # builtin:motion's boxes and labels are drawn in its class's colour (230, 25, 75): over 3% of
    # the picture's side of the screenshot; no undrawn testsrc2 frame comes near (< 0.01%).
    drawn = (np.abs(left - np.array([230, 25, 75])).max(axis=2) <= 20).mean()
    assert drawn > 0.003, f"no boxes drawn on the picture ({drawn:.4%} of its pixels in their colour)"
    count = int(re.search(r'<span id="count">(\d+)</span>', dom).group(1))
    assert count > 0, "the results panel did not update"
    assert len(second) == 2 and all(p.std() > 10 for p in second)


def test_pictures_have_the_results_drawn_and_two_viewers_get_them(cli, tmp_path):
    live = LiveRun(cli, tmp_path)
    try:
        time.sleep(1.0)
        got = {}
        threads = [threading.Thread(target=lambda k=k: got.__setitem__(k, jpegs(live.url, 3))) for k in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
        results = json.loads(urllib.request.urlopen(live.url + "results", timeout=10).read())
        page = urllib.request.urlopen(live.url, timeout=10).read().decode()
    finally:
        assert live.wait() == 0, "".join(live.stderr)
    assert len(got) == 2 and all(len(v) == 3 for v in got.values())
    assert results["count"] > 0 and results["results"] and {m["stage"] for m in results["metrics"]} == {
        "decode", "infer", "write"}
    assert '<img id="video" src="/video"' in page and "http" not in page.replace("http-equiv", "")  # self-contained
    assert any(r.get("objects") for r in results["results"])  # boxes to draw on the pictures

def test_a_stalled_viewer_neither_stops_the_run_nor_holds_its_end(cli, tmp_path):
    live = LiveRun(cli, tmp_path, seconds=4, extra=("--metrics", str(tmp_path / "metrics.json")))
    host, port = re.match(r"http://([\d.]+):(\d+)/", live.url).groups()
    stalled = socket.create_connection((host, int(port)))
    stalled.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    stalled.sendall(b"GET /video HTTP/1.1\r\nHost: x\r\n\r\n")  # and never reads
    rc = live.wait(timeout=40)  # a viewer that held the run's end would keep it past this
    stalled.close()
    assert rc == 0, "".join(live.stderr)
    rows = [json.loads(l) for l in live.out.read_text().splitlines()]
    # The run kept the source's pace (25 a second, for 4 s) and dropped nothing: the stalled
    # viewer took nothing from its throughput.
    assert len(rows) >= 90, len(rows)
    metrics = json.loads((tmp_path / "metrics.json").read_text())
    assert [m["stage"] for m in metrics] == ["decode", "infer", "write"], metrics
    assert all(m["dropped"] == 0 for m in metrics), metrics
