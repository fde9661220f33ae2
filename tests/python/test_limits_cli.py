"""Resource limits on the command line (issue 19): a stream that never ends (a FIFO fed by the
ffmpeg CLI for as long as it is read) is read as it comes, in bounded memory, and left when
the sample is complete; a spec that needs the end is refused at once instead of waiting for
it; a header claiming a huge extradata box is read in bounded memory."""
import json
import os
import struct
import subprocess
import time

import pytest


def run_measured(cmd, tmp_path, timeout=60):
    """(exit code, stdout, stderr, peak resident KiB) of this one command. The peak is the
    process's own VmHWM, sampled every 10 ms (getrusage's for a child starts from its
    parent's size, which is pytest's with torch loaded)."""
    out, err = tmp_path / "stdout", tmp_path / "stderr"
    with open(out, "w") as o, open(err, "w") as e:
        proc = subprocess.Popen([str(c) for c in cmd], stdout=o, stderr=e)
        peak, deadline = 0, time.time() + timeout
        while proc.poll() is None:
            try:
                for line in open(f"/proc/{proc.pid}/status"):
                    if line.startswith("VmHWM:"):
                        peak = max(peak, int(line.split()[1]))
            except (OSError, ValueError):
                pass
            if time.time() > deadline:
                proc.kill()
                raise AssertionError(f"{cmd[1]} did not end within {timeout} s")
            time.sleep(0.01)
    return proc.returncode, out.read_text(), err.read_text(), peak


@pytest.fixture
def endless_fifo(tmp_path):
    fifo = tmp_path / "live.ts"
    os.mkfifo(fifo)
    feed = subprocess.Popen(["ffmpeg", "-v", "error", "-re", "-f", "lavfi", "-i", "testsrc=size=160x120:rate=25",
                             "-c:v", "libx264", "-g", "25", "-f", "mpegts", "-y", str(fifo)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    yield fifo
    feed.kill()
    feed.wait()


def test_endless_fifo_is_sampled_as_it_comes_and_left_when_done(cli, endless_fifo, tmp_path):
    # mpegts from the ffmpeg CLI starts at 1.4 s; the two times come 2 s into the stream.
    start = time.time()
    rc, _, err, rss = run_measured([cli, "frames", endless_fifo, "--times", "2.5,3.3", "--out", tmp_path / "f"], tmp_path)
    assert rc == 0, err
    assert time.time() - start < 30
    lines = [json.loads(line) for line in (tmp_path / "f" / "frames.jsonl").read_text().splitlines()]
    assert [round(x["t"], 2) for x in lines] == [2.52, 3.32]  # the first frame at or past each time (25 fps)
    assert rss < 512 * 1024


def test_endless_fifo_refuses_a_spec_that_needs_its_end(cli, endless_fifo, tmp_path):
    p = subprocess.run([cli, "frames", str(endless_fifo), "--indices", "0,10", "--out", str(tmp_path / "f")],
                       capture_output=True, text=True, timeout=60)
    assert p.returncode == 2, p.stderr
    assert "cannot be decided frame by frame on a live stream" in p.stderr


def test_huge_extradata_claim_is_read_in_bounded_memory(cli, tmp_path):
    """Every box from moov down to avcC claims 1 GiB more than the file has."""
    src = tmp_path / "src.mp4"
    subprocess.run(["ffmpeg", "-v", "error", "-f", "lavfi", "-i", "testsrc=size=64x48:rate=10:duration=1", "-c:v",
                    "libx264", "-pix_fmt", "yuv420p", str(src)], check=True)
    data = bytearray(src.read_bytes())
    for tag in [b"moov", b"trak", b"mdia", b"minf", b"stbl", b"stsd", b"avc1", b"avcC"]:
        i = data.find(tag)
        size = struct.unpack(">I", data[i - 4:i])[0]
        data[i - 4:i] = struct.pack(">I", size + 0x3FF00000)
    bad = tmp_path / "bigextra.mp4"
    bad.write_bytes(bytes(data))
    rc, out, err, rss = run_measured([cli, "probe", "--json", bad], tmp_path)
    assert rss < 768 * 1024, err  # KiB; a sanitizer build alone takes ~400 MB here, a touched 1 GiB claim more
    if rc == 0:  # described as what it is: no frames that can be read
        assert json.loads(out)["video"]["frames"] == 0
    else:
        assert rc == 3 and str(bad) in err, err
