"""Clips per second of a training loader over a corpus: framepipe.torch.ClipDataset against
torchvision's VideoClips (pyav backend) and a Decord-style hand loop with PyAV, in one run.

    /usr/bin/python3 bench/bench_datasets.py --build build [--epochs N] [--videos N]   (make bench-python runs it)

The corpus: 4 (--videos N: N, up to 40) distinct 600-frame H.264 640x360 cuts of vtest.avi
(2-second GOP). Each video gives clips of 16
consecutive frames, one every 48 frames (framepipe: clips:16:1:K:uniform with the same K per
video). Every loader hands out (3, 16, 112, 112) float32 clips normalised by mean 0.45, std
0.225, from a DataLoader with 2 workers, batch 8. Rows: the time to build the clip index (the
dataset's constructor), one epoch's time, clips per second, peak RSS of the process tree, and
the memory of the process tree (PSS of the parent and its workers, sampled every 0.25 s)
averaged over each quarter of the epoch: flat memory shows as four equal numbers.
"""
import argparse
import os
import pathlib
import resource
import subprocess
import sys
import time

CLIP, EVERY, SIZE, MEAN, STD = 16, 48, 112, 0.45, 0.225


def make_corpus(build, videos=4):
    """`videos` distinct 600-frame cuts of vtest.avi (795 frames at 10 fps): each starts
    0.4 s after the one before (every 48th from a new start), odd ones mirrored."""
    src = pathlib.Path(build) / "media" / "real" / "vtest.avi"
    out = pathlib.Path(build) / "bench" / "corpus"
    out.mkdir(parents=True, exist_ok=True)
    files = []
    for k in range(videos):
        f = out / ("cut_%02d.mp4" % k)
        if not f.exists():
            start = "%.1f" % ((k // 2) * 0.4 + (k % 2) * 9.7)  # <= 19.5 s: 600 frames remain
            flip = ",hflip" if k % 2 else ""
            subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-y", "-ss", start, "-i", str(src), "-vf",
                            "scale=640:360%s,setpts=N/30/TB" % flip, "-r", "30", "-frames:v", "600", "-c:v",
                            "libx264", "-preset", "fast", "-g", "60", "-pix_fmt", "yuv420p", "-an",
                            str(f) + ".tmp.mp4"], check=True)
            os.replace(str(f) + ".tmp.mp4", f)
        files.append(str(f))
    return files


def to_model(video_thwc):
    """(T, H, W, C) uint8 -> (C, T, 112, 112) float32, normalised (what the peers need done)."""
    import torch
    import torch.nn.functional as F
    x = video_thwc.permute(0, 3, 1, 2).float().div_(255)
    x = F.interpolate(x, size=(SIZE, SIZE), mode="bilinear", align_corners=False)
    return x.sub_(MEAN).div_(STD).permute(1, 0, 2, 3).contiguous()


class TorchvisionClips:
    def __init__(self, files):
        from torchvision.datasets.video_utils import VideoClips
        self.clips = VideoClips(files, clip_length_in_frames=CLIP, frames_between_clips=EVERY, num_workers=0)

    def __len__(self):
        return self.clips.num_clips()

    def __getitem__(self, i):
        video, _, _, _ = self.clips.get_clip(i)
        return to_model(video)


class PyAVClips:
    """The hand loop people write around PyAV (or Decord): frame counts from the header, seek to
    each clip's start, decode 16 frames."""

    def __init__(self, files):
        import av
        self.items = []
        for f in files:
            with av.open(f) as c:
                n = c.streams.video[0].frames
            self.items += [(f, s) for s in range(0, n - CLIP + 1, EVERY)]

    def __len__(self):
        return len(self.items)

    def __getitem__(self, i):
        import av
        import numpy as np
        import torch
        f, start = self.items[i]
        with av.open(f) as c:
            s = c.streams.video[0]
            rate = s.average_rate
            c.seek(int(start / rate / s.time_base), stream=s, backward=True)
            frames = []
            for fr in c.decode(s):
                k = round(float(fr.pts * s.time_base * rate))
                if k >= start:
                    frames.append(fr.to_ndarray(format="rgb24"))
                if len(frames) == CLIP:
                    break
        return to_model(torch.from_numpy(np.stack(frames)))


def framepipe_clips(files, counts):
    from framepipe.torch import ClipDataset
    ds = ClipDataset(files, "clips:%d:1:%d:uniform" % (CLIP, counts), size=SIZE, mean=MEAN, std=STD)
    return ds


def tree_pss_mib():
    """Proportional set size of this process and all its descendants (DataLoader workers), MiB:
    shared pages counted once across the tree, unlike a sum of RSS."""
    children = {}
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                with open("/proc/%s/stat" % d) as f:
                    ppid = int(f.read().rsplit(")", 1)[1].split()[1])
                children.setdefault(ppid, []).append(int(d))
            except (OSError, IndexError, ValueError):
                pass
    total, todo = 0, [os.getpid()]
    while todo:
        pid = todo.pop()
        todo += children.get(pid, [])
        try:
            with open("/proc/%d/smaps_rollup" % pid) as f:
                total += sum(int(line.split()[1]) for line in f if line.startswith("Pss:"))
        except OSError:
            pass
    return total / 1024


class MemoryWatch:
    """Samples tree_pss_mib() every 0.25 s from a thread while an epoch runs."""

    def __init__(self):
        import threading
        self.samples, self.stop = [], threading.Event()
        self.thread = threading.Thread(target=self.run, daemon=True)

    def run(self):
        while not self.stop.is_set():
            self.samples.append((time.perf_counter(), tree_pss_mib()))
            self.stop.wait(0.25)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        self.thread.join()

    def quarters(self):
        """Mean memory over each quarter of the epoch's time."""
        if len(self.samples) < 4:
            return [float("nan")] * 4
        t0, t1 = self.samples[0][0], self.samples[-1][0]
        out = []
        for q in range(4):
            lo, hi = t0 + (t1 - t0) * q / 4, t0 + (t1 - t0) * (q + 1) / 4
            xs = [m for t, m in self.samples if lo <= t <= hi] or [float("nan")]
            out.append(sum(xs) / len(xs))
        return out


def epoch(ds, collate=None, context=None):
    import torch
    loader = torch.utils.data.DataLoader(ds, batch_size=8, num_workers=2, collate_fn=collate,
                                         multiprocessing_context=context)
    n = 0
    for batch in loader:
        clips = batch[0] if isinstance(batch, (list, tuple)) else batch
        assert tuple(clips.shape[1:]) == (3, CLIP, SIZE, SIZE), clips.shape
        n += clips.shape[0]
    return n


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default="build")
    ap.add_argument("--only", default="", help="framepipe,torchvision,pyav")
    ap.add_argument("--rows-only", action="store_true")
    ap.add_argument("--epochs", type=int, default=1, help="epochs per loader (memory is watched over all)")
    ap.add_argument("--videos", type=int, default=4, help="videos in the corpus (at most 40)")
    args = ap.parse_args()
    sys.path.insert(0, os.path.join(args.build, "python"))
    files = make_corpus(args.build, min(args.videos, 40))
    per_video = (600 - CLIP) // EVERY + 1
    # PyAV in the parent (the peers' constructors read the files with it) hangs forked workers
    # (FFmpeg's threads and PyAV's log callback do not survive fork), so the peers' loaders
    # spawn theirs, as their users must; framepipe's readers re-open themselves after a fork.
    rows = [("framepipe ClipDataset", lambda: framepipe_clips(files, per_video), None),
            ("framepipe ClipDataset, spawned workers", lambda: framepipe_clips(files, per_video), "spawn"),
            ("torchvision VideoClips (pyav), spawned workers", lambda: TorchvisionClips(files), "spawn"),
            ("PyAV hand loop (seek + decode), spawned workers", lambda: PyAVClips(files), "spawn")]
    if not args.only:  # each loader in a process of its own, so each peak RSS is its own
        print("Corpus: %d x 600 frames, 640x360 H.264; %d clips of 16 frames a video; DataLoader, 2 workers, batch 8; "
              "%d cores.\n" % (len(files), per_video, os.cpu_count()))
        print("| loader | index (s) | epoch (s) | clips | clips/s | peak RSS (MiB) | tree PSS by quarter of the epoch (MiB) |")
        print("|---|---:|---:|---:|---:|---:|---:|")
        sys.stdout.flush()
        for key in ("framepipe", "framepipe-spawn", "torchvision-spawn", "pyav-spawn"):
            subprocess.run([sys.executable, __file__, "--build", args.build, "--only", key, "--rows-only",
                            "--epochs", str(args.epochs), "--videos", str(args.videos)], check=True)
        return
    only = set(args.only.split(","))
    if not args.rows_only:
        print("Corpus: %d x 600 frames, 640x360 H.264; %d clips of 16 frames a video; DataLoader, 2 workers, batch 8; "
          "%d cores.\n" % (len(files), per_video, os.cpu_count()))
        print("| loader | index (s) | epoch (s) | clips | clips/s | peak RSS (MiB) | tree PSS by quarter of the epoch (MiB) |")
        print("|---|---:|---:|---:|---:|---:|---:|")
    for name, make, context in rows:
        if not any(k == name.lower().split()[0] + ("-spawn" if context else "") for k in only):
            continue
        t0 = time.perf_counter()
        ds = make()
        t1 = time.perf_counter()
        collate = None
        if name.startswith("framepipe"):
            from framepipe.torch import collate as collate
        with MemoryWatch() as watch:
            n = sum(epoch(ds, collate, context) for _ in range(args.epochs))
        t2 = time.perf_counter()
        rss = max(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
                  resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss) / 1024
        rate = n / (t2 - t1)
        q = watch.quarters()
        print("| %s | %.2f | %.2f | %d | %.1f | %.0f | %s |" % (name, t1 - t0, t2 - t1, n, rate, rss,
                                                             " / ".join("%.0f" % m for m in q)))
        sys.stdout.flush()


if __name__ == "__main__":
    main()
