"""framepipe's Python module against PyAV and cv2, in one process, on one file.

    /usr/bin/python3 bench/bench_python.py --build build FILE     (make bench-python does this)

Rows (best of --repeat runs each, seconds and ratios framepipe / peer; below 1 is faster):
  get_batch  32 random frames (seeded), RGB arrays, exact frames; the reader (and PyAV's
             packet index) is opened before the clock starts.
               framepipe  reader.get_batch(indices)
               PyAV       per frame in sorted order: seek to the keyframe at or before it
                          (when it is not ahead), decode to its pts, to_ndarray("rgb24")
               cv2        per frame: set(CAP_PROP_POS_FRAMES) + read() + BGR->RGB (the loop
                          people write; OpenCV's seek is not always exact)
  full pass  every frame as an RGB array, in order.
               framepipe  for frame in reader
               PyAV       for frame in container.decode(video=0) (thread_type AUTO): to_ndarray("rgb24")
               cv2        while cap.read(): cvtColor BGR->RGB
"""
import argparse
import pathlib
import sys
import time

import numpy as np


def best_of(n, fn):
    best, result = None, None
    for _ in range(n):
        t0 = time.perf_counter()
        result = fn()
        dt = time.perf_counter() - t0
        best = dt if best is None else min(best, dt)
    return best, result


def pyav_packet_pts(path):
    import av
    pts, keys = [], []
    with av.open(path) as c:
        s = c.streams.video[0]
        for p in c.demux(s):
            if p.pts is not None:
                pts.append(p.pts)
                if p.is_keyframe:
                    keys.append(p.pts)
    return sorted(pts), sorted(keys)


def pyav_get_batch(path, indices, pts, keys):
    import av
    import bisect
    out = {}
    with av.open(path) as c:
        s = c.streams.video[0]
        s.thread_type = "AUTO"
        it = None
        last = None
        for i in sorted(set(indices)):
            target = pts[i]
            key = keys[bisect.bisect_right(keys, target) - 1]
            if it is None or last is None or key > last or target <= last:
                c.seek(key, stream=s, backward=True, any_frame=False)
                it = c.decode(s)
            for f in it:
                last = f.pts
                if f.pts == target:
                    out[i] = f.to_ndarray(format="rgb24")
                    break
    return np.stack([out[i] for i in indices])


def cv2_get_batch(path, indices):
    import cv2
    cap = cv2.VideoCapture(path)
    frames = []
    for i in indices:
        cap.set(cv2.CAP_PROP_POS_FRAMES, int(i))
        ok, f = cap.read()
        if not ok:
            raise RuntimeError(f"cv2 could not read frame {i}")
        frames.append(cv2.cvtColor(f, cv2.COLOR_BGR2RGB))
    cap.release()
    return np.stack(frames)


def fp_full(fp, path):
    n = 0
    for frame in fp.VideoReader(path):
        n += frame.shape[0] > 0
    return n


def pyav_full(path):
    import av
    n = 0
    with av.open(path) as c:
        s = c.streams.video[0]
        s.thread_type = "AUTO"
        for f in c.decode(s):
            f.to_ndarray(format="rgb24")
            n += 1
    return n


def cv2_full(path):
    import cv2
    cap = cv2.VideoCapture(path)
    n = 0
    while True:
        ok, f = cap.read()
        if not ok:
            break
        cv2.cvtColor(f, cv2.COLOR_BGR2RGB)
        n += 1
    cap.release()
    return n


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--build", default="build")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("file")
    a = ap.parse_args()
    sys.path.insert(0, str(pathlib.Path(a.build) / "python"))
    import framepipe as fp
    import av
    import cv2
    path = a.file

    reader = fp.VideoReader(path)
    n = len(reader)
    indices = np.random.default_rng(a.seed).choice(n, 32, replace=False).tolist()
    pts, keys = pyav_packet_pts(path)
    print(f"file: {path}: {n} frames, {reader.shape[2]}x{reader.shape[1]}; PyAV {av.__version__}, "
          f"OpenCV {cv2.__version__}, numpy {np.__version__}; 32 random frames, seed {a.seed}")

    rows = []
    t_fp, got = best_of(a.repeat, lambda: reader.get_batch(indices))
    t_av, ref = best_of(a.repeat, lambda: pyav_get_batch(path, indices, pts, keys))
    t_cv, cvb = best_of(a.repeat, lambda: cv2_get_batch(path, indices))
    # PyAV and cv2 convert with BT.601 where framepipe applies BT.709 to HD (DESIGN.md), so
    # frames are compared by mean |difference|: a matrix apart is ~1-3 levels, another frame more.
    def mad(x, y):
        return float(np.abs(x.astype(np.int16) - y.astype(np.int16)).mean())
    av_mad = max(mad(got[k], ref[k]) for k in range(len(indices)))
    cv_mad = [mad(got[k], cvb[k]) for k in range(len(indices))]
    cv_off = sum(d > max(3 * av_mad, 1.0) for d in cv_mad)
    rows.append(("get_batch (32 random)", t_fp, t_av, t_cv,
                 f"mean |fp - PyAV| <= {av_mad:.2f} per frame; cv2 frames unlike framepipe's: {cv_off}/32"))

    t_fp, nf = best_of(a.repeat, lambda: fp_full(fp, path))
    t_av, na = best_of(a.repeat, lambda: pyav_full(path))
    t_cv, nc = best_of(a.repeat, lambda: cv2_full(path))
    rows.append(("full pass (RGB arrays)", t_fp, t_av, t_cv, f"frames: framepipe {nf}, PyAV {na}, cv2 {nc}"))

    print(f"{'row':24} {'framepipe s':>12} {'PyAV s':>9} {'cv2 s':>9} {'fp/PyAV':>8} {'fp/cv2':>8}  note")
    for name, f, p, c, note in rows:
        print(f"{name:24} {f:12.3f} {p:9.3f} {c:9.3f} {f / p:8.2f} {f / c:8.2f}  {note}")


if __name__ == "__main__":
    main()
