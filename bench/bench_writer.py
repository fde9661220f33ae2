"""Writing video from Python: framepipe.VideoWriter against cv2.VideoWriter and against raw
frames piped to the ffmpeg CLI, on the same 1080p RGB frames, in one process.

    /usr/bin/python3 bench/bench_writer.py --build build [--frames 240]   (make bench-writer)

Every route encodes H.264 with libx264 preset veryfast crf 20 into an MP4 where it can choose
(cv2's FFmpeg backend takes only a fourcc: its own libx264 settings, noted in the row), from
the same (H, W, 3) uint8 frames held in memory. Best of --repeat runs; frames per second and
framepipe's time / the peer's (below 1: framepipe is faster).
"""
import argparse
import os
import subprocess
import sys
import tempfile
import time

import numpy as np


def frames_of(n, w, h):
    """n distinct frames with motion (noise is not what encoders meet)."""
    y, x = np.mgrid[0:h, 0:w]
    out = np.empty((n, h, w, 3), np.uint8)
    for i in range(n):
        out[i, ..., 0] = (x + 4 * i) & 255
        out[i, ..., 1] = (y + 2 * i) & 255
        out[i, ..., 2] = ((x ^ y) + i) & 255
    return out


def best_of(n, fn):
    best = None
    for _ in range(n):
        t0 = time.perf_counter()
        fn()
        dt = time.perf_counter() - t0
        best = dt if best is None else min(best, dt)
    return best


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default="build")
    ap.add_argument("--frames", type=int, default=240)
    ap.add_argument("--repeat", type=int, default=3)
    a = ap.parse_args()
    sys.path.insert(0, os.path.join(a.build, "python"))
    import framepipe
    w, h = 1920, 1080
    frames = frames_of(a.frames, w, h)
    tmp = tempfile.mkdtemp(prefix="fp_bench_writer_")

    def fp_write():
        with framepipe.VideoWriter(os.path.join(tmp, "fp.mp4"), fps=30, codec="libx264", preset="veryfast",
                                   crf=20) as wr:
            for f in frames:
                wr.write(f)

    def cv2_write():
        import cv2
        out = cv2.VideoWriter(os.path.join(tmp, "cv2.mp4"), cv2.CAP_FFMPEG, cv2.VideoWriter_fourcc(*"avc1"), 30, (w, h))
        if not out.isOpened():
            raise RuntimeError("cv2.VideoWriter cannot open H.264 here")
        for f in frames:
            out.write(np.ascontiguousarray(f[..., ::-1]))  # cv2 takes BGR
        out.release()

    def ffmpeg_pipe():
        p = subprocess.Popen(["ffmpeg", "-nostdin", "-v", "error", "-y", "-f", "rawvideo", "-pix_fmt", "rgb24", "-s",
                              f"{w}x{h}", "-r", "30", "-i", "-", "-c:v", "libx264", "-preset", "veryfast", "-crf", "20",
                              "-pix_fmt", "yuv420p", os.path.join(tmp, "pipe.mp4")], stdin=subprocess.PIPE)
        for f in frames:
            p.stdin.write(f.tobytes())
        p.stdin.close()
        if p.wait() != 0:
            raise RuntimeError("ffmpeg failed")

    rows = [("framepipe.VideoWriter (libx264 veryfast crf 20)", fp_write),
            ("cv2.VideoWriter (FFmpeg backend, avc1: its libx264 defaults)", cv2_write),
            ("raw RGB piped to the ffmpeg CLI (libx264 veryfast crf 20)", ffmpeg_pipe)]
    times = {}
    for name, fn in rows:
        try:
            times[name] = best_of(a.repeat, fn)
        except Exception as e:  # a peer that cannot write here is reported, not fatal
            times[name] = None
            print(f"  {name}: {e}", file=sys.stderr)
    fp_t = times[rows[0][0]]
    print(f"{a.frames} frames of {w}x{h} RGB, H.264 MP4, best of {a.repeat}; {os.cpu_count()} cores\n")
    print("| writer | time (s) | frames/s | framepipe time / writer time |")
    print("|---|---:|---:|---:|")
    for name, _ in rows:
        t = times[name]
        if t is None:
            print(f"| {name} | — | — | — |")
            continue
        ratio = "—" if name == rows[0][0] else f"{fp_t / t:.2f}"
        print(f"| {name} | {t:.3f} | {a.frames / t:.1f} | {ratio} |")


if __name__ == "__main__":
    main()
