#!/usr/bin/python3
"""What the verified index costs: `framepipe index` (the packet scan with its checks, and the
decoding scan) against a full decode by framepipe and by the ffmpeg CLI, on the same files
in the same run, as fractions of the full decode. Medians of interleaved rounds.

  /usr/bin/python3 bench/bench_index.py --build build FILE...     (make bench-index)
"""
import argparse
import os
import statistics
import subprocess
import time


def timed(cmd):
    t = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - t


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default="build")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("files", nargs="+")
    a = ap.parse_args()
    cli = os.path.join(a.build, "apps", "framepipe")
    print(f"{'file':34} {'min':>5} {'packets':>8} {'decode':>8} {'full':>8} {'ffmpeg':>8} "
          f"{'packets/full':>12} {'decode/full':>11} {'s/min 1080p-eq':>14}  index")
    for f in a.files:
        side = f + ".fpidx"
        dur = float(subprocess.run(["ffprobe", "-v", "error", "-show_entries", "format=duration", "-of", "csv=p=0", f],
                                   check=True, capture_output=True, text=True).stdout)
        wh = subprocess.run(["ffprobe", "-v", "error", "-select_streams", "v:0", "-show_entries", "stream=width,height",
                             "-of", "csv=p=0", f], check=True, capture_output=True, text=True).stdout.strip().split(",")
        pixels = int(wh[0]) * int(wh[1]) / (1920 * 1080)
        t = {k: [] for k in ("packets", "decode", "full", "ffmpeg")}
        for _ in range(a.rounds):
            for k, cmd in (("packets", [cli, "index", f]), ("decode", [cli, "index", f, "--decode"]),
                           ("full", [cli, "frames", f, "--all", "--format", "null"]),
                           ("ffmpeg", ["ffmpeg", "-nostdin", "-v", "quiet", "-i", f, "-map", "0:v:0", "-f", "null", "-"])):
                if os.path.exists(side):
                    os.remove(side)
                t[k].append(timed(cmd))
        m = {k: statistics.median(v) for k, v in t.items()}
        subprocess.run([cli, "index", f], check=True, capture_output=True)
        how = subprocess.run([cli, "probe", f], check=True, capture_output=True, text=True).stdout
        how = next((l.strip()[len("index: "):] for l in how.splitlines() if l.strip().startswith("index:")), "")
        os.remove(side)
        per_min = m["packets"] / (dur / 60) / pixels if dur > 0 else 0
        print(f"{os.path.basename(f):34} {dur / 60:5.2f} {m['packets']:8.2f} {m['decode']:8.2f} {m['full']:8.2f} "
              f"{m['ffmpeg']:8.2f} {m['packets'] / m['full']:12.3f} {m['decode'] / m['full']:11.3f} {per_min:14.3f}  "
              f"{how[:60]}")


if __name__ == "__main__":
    main()
