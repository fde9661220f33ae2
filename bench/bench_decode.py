#!/usr/bin/python3
"""framepipe against its peers on the same file, in the same run.

Tasks: full decode to RGB, 32 random frames, every 30th frame. Peers: the ffmpeg CLI,
an ffmpeg-to-numpy pipe, PyAV, OpenCV (Python, with cvtColor to RGB) and cv::VideoCapture
(C++). Every run is its own process. Runs are interleaved (each round runs every tool of a
task once) so that a noisy machine slows all peers alike; the time is the median of --repeat
rounds (Python peers time themselves after their imports). Peak memory is the max RSS.
Prints a Markdown table; ratio = framepipe's time / the peer's time (below 1: framepipe
is faster); for full decode, the ratio of framepipe with 3 decoder threads per core follows
in brackets.

The bound of each task: the CPU time (user + system) of the same framepipe request on one
thread (`--threads 1 --workers 1`: it decodes only the packets the wanted frames depend on,
and converts only the wanted frames) divided by the cores: what an exact decode of that
request cannot beat on this machine. framepipe's time over the bound says how much of the
machine it leaves idle (1.00: none).

That bound treats the work as divisible, and it is not: the frames of one keyframe group
depend on each other in a chain, and frame threads spread such a chain over two cores only
~1.1x when non-reference frames are skipped (measured: 8 targets of one x264 group, one
thread 0.50 s of decoding, two frame threads 0.46 s). So sparse tasks also get the bound with
whole groups: each keyframe group the request touches decoded alone on one thread (CPU, less
the cost of opening the file, which is serial), split over the cores as well as it can be
(exactly, for 2 cores), plus the opening. No schedule of whole groups, one at a time on each
core, beats it; framepipe can, where it runs more workers than cores and the system shares
the cores among the groups (three long groups on two cores).
"""
import argparse
import json
import os
import statistics
import random
import shutil
import subprocess
import sys
import time

PY = "/usr/bin/python3"

PYAV_ALL = """
import av, sys, time
t = time.perf_counter(); c = av.open(sys.argv[1]); s = c.streams.video[0]; s.thread_type = "AUTO"; n = 0
for f in c.decode(s):
    a = f.to_ndarray(format="rgb24"); n += 1
print(time.perf_counter() - t, n)
"""
PYAV_EVERY = """
import av, sys, time
t = time.perf_counter(); c = av.open(sys.argv[1]); s = c.streams.video[0]; s.thread_type = "AUTO"; n = k = 0
for f in c.decode(s):
    if k % int(sys.argv[2]) == 0:
        a = f.to_ndarray(format="rgb24"); n += 1
    k += 1
print(time.perf_counter() - t, n)
"""
# The exact way with PyAV: seek to the keyframe before the target's pts, decode forward.
PYAV_RANDOM = """
import av, sys, time
t = time.perf_counter(); c = av.open(sys.argv[1]); s = c.streams.video[0]; s.thread_type = "AUTO"; n = 0
rate = s.average_rate
for i in map(int, sys.argv[2].split(",")):
    target = int(i / rate / s.time_base)
    c.seek(target, stream=s, backward=True)
    for f in c.decode(s):
        if f.pts >= target:
            a = f.to_ndarray(format="rgb24"); n += 1
            break
print(time.perf_counter() - t, n)
"""
CV_ALL = """
import cv2, sys, time
t = time.perf_counter(); cap = cv2.VideoCapture(sys.argv[1]); n = 0
while True:
    ok, f = cap.read()
    if not ok: break
    a = cv2.cvtColor(f, cv2.COLOR_BGR2RGB); n += 1
print(time.perf_counter() - t, n)
"""
CV_EVERY = """
import cv2, sys, time
t = time.perf_counter(); cap = cv2.VideoCapture(sys.argv[1]); n = k = 0
while cap.grab():
    if k % int(sys.argv[2]) == 0:
        ok, f = cap.retrieve(); a = cv2.cvtColor(f, cv2.COLOR_BGR2RGB); n += 1
    k += 1
print(time.perf_counter() - t, n)
"""
CV_RANDOM = """
import cv2, sys, time
t = time.perf_counter(); cap = cv2.VideoCapture(sys.argv[1]); n = 0
for i in map(int, sys.argv[2].split(",")):
    cap.set(cv2.CAP_PROP_POS_FRAMES, i)
    ok, f = cap.read()
    if ok:
        a = cv2.cvtColor(f, cv2.COLOR_BGR2RGB); n += 1
print(time.perf_counter() - t, n)
"""
PYAV_KEYS = """
import av, sys, time
t = time.perf_counter(); c = av.open(sys.argv[1]); s = c.streams.video[0]; s.thread_type = "AUTO"
s.codec_context.skip_frame = "NONKEY"; n = 0
for f in c.decode(s):
    a = f.to_ndarray(format="rgb24"); n += 1
print(time.perf_counter() - t, n)
"""
PIPE_ALL = """
import numpy as np, subprocess, sys, time
t = time.perf_counter(); w, h = int(sys.argv[2]), int(sys.argv[3]); size = w * h * 3; n = 0
p = subprocess.Popen(["ffmpeg", "-nostdin", "-v", "error", "-i", sys.argv[1], "-vf",
                      "scale=in_color_matrix=bt709:in_range=tv", "-pix_fmt", "rgb24", "-f", "rawvideo", "-"],
                     stdout=subprocess.PIPE, bufsize=size)
while True:
    b = p.stdout.read(size)
    if len(b) < size: break
    a = np.frombuffer(b, np.uint8).reshape(h, w, 3); n += 1
p.wait()
print(time.perf_counter() - t, n)
"""


TIMEOUT = 120  # seconds; a peer that hangs is reported, not waited for


def timed(cmd, self_timed=False, cpu=False):
    """Runs cmd under /usr/bin/time; returns (seconds, max RSS MiB, stdout); None if it hung.
    cpu: the seconds are user + system CPU, not wall time."""
    t0 = time.perf_counter()
    try:
        p = subprocess.run(["/usr/bin/time", "-f", "@@%M %U %S"] + cmd, capture_output=True, text=True,
                           timeout=TIMEOUT)
    except subprocess.TimeoutExpired:
        return None
    wall = time.perf_counter() - t0
    if p.returncode != 0:
        raise RuntimeError("failed (%d): %s\n%s" % (p.returncode, " ".join(cmd), p.stderr[-2000:]))
    mem, user, system = p.stderr.rsplit("@@", 1)[1].split()[:3]
    rss = int(mem) / 1024.0
    secs = float(p.stdout.split()[0]) if self_timed else wall
    if cpu:
        secs = float(user) + float(system)
    return secs, rss, p.stdout


def best_split(works, cores):
    """The shortest time in which `cores` machines finish indivisible jobs `works` (seconds):
    exact for 2 cores (subset sums in ms), otherwise max(total / cores, longest job), a lower
    bound."""
    if not works:
        return 0.0
    total = sum(works)
    if cores != 2:
        return max(total / cores, max(works))
    ms = [max(0, round(x * 1000)) for x in works]
    reach = 1
    for m in ms:
        reach |= reach << m
    half = sum(ms) // 2
    best = max(k for k in range(half + 1) if reach >> k & 1)
    return (sum(ms) - best) / 1000.0


def group_bound(fp, f, targets, keys):
    """Opening plus the best split of the request's keyframe groups, each decoded alone on one
    thread (see the module's note). Returns (seconds, groups). Each group's CPU time is taken
    in one process (a reader on one thread, one batch a group, in order): timing each in a
    process of its own and subtracting the opening multiplied the opening's noise by the
    number of groups."""
    import framepipe
    groups = {}
    for t in sorted(set(targets)):
        k = max((x for x in keys if x <= t), default=0)
        groups.setdefault(k, []).append(t)
    opening = timed([fp, "frames", f, "--format", "null", "--threads", "1", "--workers", "1", "--indices", "0"],
                    cpu=True)[0]
    reader = framepipe.VideoReader(f, num_threads=1, workers=1)
    works = []
    for g in groups.values():
        c = time.process_time()
        reader.get_batch(g)
        works.append(time.process_time() - c)
    return opening + best_split(works, os.cpu_count()), len(groups)


def one_thread(cmd):
    """The same framepipe request on one decoder thread and no keyframe-group workers."""
    return cmd + ["--threads", "1", "--workers", "1"]




def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--build", default="build")
    ap.add_argument("--file", required=True)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--short", default="", help="a cut of the same video, a tenth as long (memory row)")
    ap.add_argument("--only", default="", help="comma separated tasks: full,random,every,fps1,keyframes,clips,memory,long")
    ap.add_argument("--long", default="", help="a 10-minute file and its first minute, comma separated (long row)")
    args = ap.parse_args()

    fp = os.path.join(args.build, "apps", "framepipe")
    cvb = os.path.join(args.build, "bench", "cv_capture_bench")
    f = args.file
    info = json.loads(subprocess.run([fp, "probe", "--json", f], capture_output=True, text=True, check=True).stdout)
    n, w, h = info["frames"], info["width"], info["height"]
    rng = random.Random(2024)
    idx = sorted(rng.sample(range(n), 32))
    rnd = ",".join(map(str, rng.sample(idx, len(idx))))  # the same 32 frames, in random order
    sel_all = "+".join("eq(n\\,%d)" % i for i in idx)
    ff = ["ffmpeg", "-nostdin", "-v", "error", "-i", f]
    scale = "scale=in_color_matrix=bt709:in_range=tv"
    py = lambda script, *a: [PY, "-c", script, f] + list(a)

    tasks = {
        "full": ("full decode to RGB (%d frames)" % n, n, [
            ("framepipe frames --all --format null", [fp, "frames", f, "--all", "--format", "null"], False),
            ("framepipe --threads %d (3 per core)" % (3 * os.cpu_count()),
             [fp, "frames", f, "--all", "--format", "null", "--threads", str(3 * os.cpu_count())], False),
            ("ffmpeg CLI -f null", ff + ["-vf", scale, "-pix_fmt", "rgb24", "-f", "null", "-"], False),
            ("ffmpeg pipe to numpy", py(PIPE_ALL, str(w), str(h)), True),
            ("PyAV decode + to_ndarray(rgb24)", py(PYAV_ALL), True),
            ("OpenCV Python read + cvtColor", py(CV_ALL), True),
            ("cv::VideoCapture C++ read + cvtColor", [cvb, f, "all"], False),
        ]),
        "random": ("32 random frames (exact)", 32, [
            ("framepipe frames --indices", [fp, "frames", f, "--indices", rnd, "--format", "null"], False),
            ("ffmpeg CLI select=eq(n,I)", ff + ["-vf", "select=" + sel_all + "," + scale, "-vsync", "passthrough",
                                                "-pix_fmt", "rgb24", "-f", "null", "-"], False),
            ("PyAV seek + decode forward", py(PYAV_RANDOM, rnd), True),
            ("OpenCV Python CAP_PROP_POS_FRAMES", py(CV_RANDOM, rnd), True),
            ("cv::VideoCapture C++ CAP_PROP_POS_FRAMES", [cvb, f, "seek", rnd], False),
        ]),
        "every": ("every 30th frame (%d frames)" % len(range(0, n, 30)), len(range(0, n, 30)), [
            ("framepipe frames --sample every:30", [fp, "frames", f, "--sample", "every:30", "--format", "null"], False),
            ("ffmpeg CLI select=not(mod(n,30))", ff + ["-vf", "select=not(mod(n\\,30))," + scale, "-vsync",
                                                        "passthrough", "-pix_fmt", "rgb24", "-f", "null", "-"], False),
            ("PyAV decode all, keep every 30th", py(PYAV_EVERY, "30"), True),
            ("OpenCV Python grab/retrieve", py(CV_EVERY, "30"), True),
            ("cv::VideoCapture C++ grab/retrieve", [cvb, f, "every", "30"], False),
        ]),
    }
    fps = info.get("fps") or 30
    step = max(1, round(fps))
    tasks["fps1"] = ("one frame a second, fps:1 (%d frames)" % len(range(0, n, step)), len(range(0, n, step)), [
        ("framepipe frames --sample fps:1", [fp, "frames", f, "--sample", "fps:1", "--format", "null"], False),
        ("ffmpeg CLI -vf fps=1", ff + ["-vf", "fps=1," + scale, "-pix_fmt", "rgb24", "-f", "null", "-"], False),
        ("PyAV decode all, keep one a second", py(PYAV_EVERY, str(step)), True),
        ("OpenCV Python grab/retrieve", py(CV_EVERY, str(step)), True),
    ])
    tasks["keyframes"] = ("key frames only, against full decode", None, [
        ("framepipe frames --sample keyframes", [fp, "frames", f, "--sample", "keyframes", "--format", "null"], False),
        ("framepipe frames --all (full decode)", [fp, "frames", f, "--all", "--format", "null"], False),
        ("ffmpeg CLI -skip_frame nokey", ["ffmpeg", "-nostdin", "-v", "error", "-skip_frame", "nokey", "-i", f, "-vf",
                                          scale, "-pix_fmt", "rgb24", "-f", "null", "-"], False),
        ("PyAV skip_frame NONKEY", py(PYAV_KEYS), True),
    ])
    clips_spec = "clips:16:1:32:uniform"
    tmp = os.path.join(args.build, "bench", "tensors_out")
    sub = subprocess.run([fp, "tensors", f, "--sample", clips_spec, "--size", "8x8", "--dtype", "u8", "--layout",
                          "nhwc", "--out", tmp], capture_output=True, text=True, check=True)
    clip_frames = []
    with open(os.path.join(tmp, "batches.jsonl")) as fh:
        for line in fh:
            clip_frames += json.loads(line)["frames"]
    clip_idx = ",".join(map(str, clip_frames))
    # The clip tensors (300 MB of .npy) are written to RAM where there is a tmpfs, so that the
    # row and its bound measure the loader, not this disk (on this VM's ext4 the same writes
    # cost 0.3-0.8 s of system time that varies from run to run); a second row writes to disk.
    ram = "/dev/shm" if os.access("/dev/shm", os.W_OK) else os.path.join(args.build, "bench")
    clips_cmd = [fp, "tensors", f, "--sample", clips_spec, "--size", "224x224", "--mean", "0.485,0.456,0.406",
                 "--std", "0.229,0.224,0.225", "--batch", "8", "--out"]
    tasks["clips"] = ("32 clips x 16 frames, 224x224 f32 NCTHW normalised", len(clip_frames), [
        ("framepipe tensors (f32 NCTHW, mean/std, .npy to %s)" % ram,
         clips_cmd + [os.path.join(ram, "framepipe_bench_tensors")], False),
        ("framepipe tensors, the same to disk (%s)" % tmp, clips_cmd + [tmp], False),
        ("framepipe frames, same frames, RGB 224x224",
         [fp, "frames", f, "--indices", clip_idx, "--size", "224x224", "--format", "null"], False),
        ("framepipe frames, same frames, RGB full size", [fp, "frames", f, "--indices", clip_idx, "--format", "null"],
         False),
    ])
    if args.long:
        lf, sf = args.long.split(",")
        ln = json.loads(subprocess.run([fp, "probe", "--json", lf], capture_output=True, text=True, check=True).stdout)
        sn = json.loads(subprocess.run([fp, "probe", "--json", sf], capture_output=True, text=True, check=True).stdout)
        def both(label, extra):
            return [("framepipe %s, %.0f min" % (label, ln["duration"] / 60), [fp] + extra(lf), False),
                    ("framepipe %s, %.0f min" % (label, sn["duration"] / 60), [fp] + extra(sf), False)]
        tasks["long"] = ("memory: 10-minute vs 1-minute 1080p file", None,
                         both("every:30", lambda x: ["frames", x, "--sample", "every:30", "--format", "null"]))
        tasks["long_clips"] = ("memory: 10-minute vs 1-minute 1080p file", None,
                               both("clips tensors", lambda x: ["tensors", x, "--sample", clips_spec, "--size", "224x224",
                                                                "--batch", "8", "--out", tmp]))
    if args.short:
        sn = json.loads(subprocess.run([fp, "probe", "--json", args.short], capture_output=True, text=True,
                                       check=True).stdout)["frames"]
        tasks["memory"] = ("memory: full decode, long vs short file", n, [
            ("framepipe, %d frames" % n, [fp, "frames", f, "--all", "--format", "null"], False),
            ("framepipe, %d frames (short cut)" % sn, [fp, "frames", args.short, "--all", "--format", "null"], False),
        ])
    # The targets of the sparse tasks, and the keyframes, for the bound with whole groups.
    sys.path.insert(0, os.path.join(args.build, "python"))
    try:
        import framepipe
        reader = framepipe.VideoReader(f)
        keys = list(reader.get_key_indices())
        sparse = {"random": idx, "every": list(range(0, n, 30)), "fps1": list(reader.sample_indices("fps:1"))}
    except ImportError:
        keys, sparse = [], {}
    order = ("full", "random", "every", "fps1", "keyframes", "clips", "memory", "long", "long_clips")
    bounded = ("full", "random", "every", "fps1", "clips")
    only = set(args.only.split(",")) if args.only else set(order)
    if "long" in only:
        only.add("long_clips")
    chosen = [t for t in order if t in only and t in tasks]
    print("File: `%s` (%dx%d, %d frames, %s). Median of %d interleaved rounds; %d cores.\n" %
          (f, w, h, n, info["codec"], args.repeat, os.cpu_count(), ))
    print("| task | tool | time (s) | frames/s | framepipe time / tool time | peak RSS (MiB) |")
    print("|---|---|---:|---:|---:|---:|")
    for t in chosen:
        title, frames, rows = tasks[t]
        times = {name: [] for name, _, _ in rows}
        hung = {}
        rss = {name: 0.0 for name, _, _ in rows}
        bound, groups_bound, ngroups = [], [], 0
        for r in range(args.repeat):
            if t in bounded:
                got = timed(one_thread(rows[0][1]), cpu=True)
                if got:
                    bound.append(got[0] / os.cpu_count())
            if t in sparse:
                secs, ngroups = group_bound(fp, f, sparse[t], keys)
                groups_bound.append(secs)
            for name, cmd, self_timed in rows:
                got = timed(cmd, self_timed)
                if got is None:
                    print("  round %d %-45s hung (killed after %d s)" % (r + 1, name, TIMEOUT), file=sys.stderr)
                    hung[name] = hung.get(name, 0) + 1
                    continue
                secs, mib, _ = got
                times[name].append(secs)
                rss[name] = max(rss[name], mib)
                print("  round %d %-45s %.3f s" % (r + 1, name, secs), file=sys.stderr)
        results = [(name, statistics.median(times[name]) if times[name] else float("nan"), rss[name]) for name, _, _ in rows]
        ours = results[0][1]
        for name, secs, mib in results:
            ratio = "—" if name.startswith("framepipe") else "%.2f" % (ours / secs)
            if t == "full" and not name.startswith("framepipe"):
                ratio += " (--threads: %.2f)" % (results[1][1] / secs)
            if t in ("memory", "long", "long_clips"):
                ratio = "RSS ratio long/short: %.2f" % (results[0][2] / mib) if name != results[0][0] else "—"
            if t in ("keyframes", "clips") and name != results[0][0]:
                ratio = "%.2f" % (ours / secs)
            if name in hung:
                name += " (hung in %d of %d rounds, killed after %d s)" % (hung[name], args.repeat, TIMEOUT)
            rate = "—" if frames is None or t == "memory" else "%.1f" % (frames / secs)
            print("| %s | %s | %.3f | %s | %s | %.0f |" % (title, name, secs, rate, ratio, mib))
        if bound:
            b = statistics.median(bound)
            print("| %s | bound: 1-thread CPU ÷ %d cores | %.3f | %.1f | framepipe ÷ bound: %.2f | — |" %
                  (title, os.cpu_count(), b, frames / b, ours / b))
        if groups_bound:
            b = statistics.median(groups_bound)
            print("| %s | bound with whole groups: opening + best split of its %d keyframe groups over %d cores "
                  "| %.3f | %.1f | framepipe ÷ this bound: %.2f | — |" %
                  (title, ngroups, os.cpu_count(), b, frames / b, ours / b))
    shutil.rmtree(os.path.join(ram, "framepipe_bench_tensors"), ignore_errors=True)  # 300 MB of RAM back
    sys.stdout.flush()


if __name__ == "__main__":
    main()
