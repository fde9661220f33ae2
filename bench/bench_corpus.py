#!/usr/bin/python3
"""Corpus runs: their cost at scale, their overhead, and what --jobs buys.

    /usr/bin/python3 bench/bench_corpus.py scale [--units 100000] [--build build]
    /usr/bin/python3 bench/bench_corpus.py speed [--build build]  (make bench-corpus runs both)

scale   a synthetic corpus: N one-byte .mp4 files (plan only stats them without --chunk-seconds),
        planned; then a done record and one row of predictions written here for every unit (what
        N workers would leave); status and merge over it. Seconds and peak resident memory of
        each command, at N/10 and N units (memory that does not grow stays the same), and the
        most entries any folder of the run holds.
speed   the same videos through `framepipe run` (one job), through plan + work --jobs 1 + merge
        (the corpus overhead), and through `run --jobs 2`; and a 10-minute 1080p file planned in
        60-second parts, worked with 1 and with 2 jobs.
"""
import argparse
import json
import os
import pathlib
import resource
import shutil
import subprocess
import sys
import tempfile
import time

ROOT = pathlib.Path(__file__).resolve().parents[1]
MODEL = ROOT / "tests" / "models" / "squares.onnx"


def measured(cmd):
    """Seconds and peak RSS (MB) of one command, in a process of its own."""
    probe = ("import resource, subprocess, sys, time; t = time.perf_counter(); "
             "r = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE); "
             "print(time.perf_counter() - t, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, r.returncode); "
             "sys.stderr.write(r.stderr.decode()[-2000:] if r.returncode else '')")
    out = subprocess.run([sys.executable, "-c", probe, *map(str, cmd)], capture_output=True, text=True, check=True)
    secs, kb, rc = out.stdout.split()
    if int(rc) not in (0, 3):
        raise SystemExit(f"{cmd[1:3]} failed ({rc}): {out.stderr}")
    return float(secs), int(kb) / 1024


def scale(cli, n, work):
    videos = work / f"videos{n}"
    for i in range(n):
        d = videos / f"{i // 1000:04d}"
        if i % 1000 == 0:
            d.mkdir(parents=True, exist_ok=True)
        (d / f"v{i:07d}.mp4").write_bytes(b"x")
    run = work / f"run{n}"
    plan = measured([cli, "corpus", "plan", MODEL, videos, "--run", run, "--shards", "1000"])
    row = json.dumps({"f": [[0, 0, 0.0]], "o": [[10.0, 10.0, 40.0, 40.0, 0, "red", 0.9]]}) + "\n"
    for line in open(run / "manifest.jsonl"):
        u = json.loads(line)["unit"]
        b = f"{u // 1000:04d}"
        (run / "units" / b).mkdir(parents=True, exist_ok=True)
        (run / "done" / b).mkdir(parents=True, exist_ok=True)
        (run / "units" / b / f"{u:08d}.jsonl").write_text(row)
        (run / "done" / b / f"{u:08d}.json").write_text(json.dumps(
            {"unit": u, "status": "done", "rows": 1, "seconds": 0.01, "finished": time.time()}) + "\n")
    status = measured([cli, "corpus", "status", run, "--json"])
    merge = measured([cli, "corpus", "merge", run, "--out", work / f"merged{n}.jsonl"])
    most = max(len(os.listdir(d)) for d, _, _ in os.walk(run))
    lines = sum(1 for _ in open(work / f"merged{n}.jsonl"))
    assert lines == n, (lines, n)
    shutil.rmtree(videos)
    shutil.rmtree(run)
    return plan, status, merge, most


def speed(cli, build, work, model):
    src = ROOT / build / "media" / "real" / "vtest.avi"
    small = work / "small"
    small.mkdir()
    for k in range(16):  # 16 clips of 3 s of real footage, 768x576
        subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-ss", str(k * 3 % 60), "-t", "3", "-i", src, "-c:v",
                        "libx264", "-preset", "veryfast", "-an", small / f"c{k:02d}.mp4"], check=True)
    opts = ["--track", "--segments"]
    plain = measured([cli, "run", model, small, *opts, "--out", work / "plain.jsonl"])[0]
    run = work / "run1"
    t = time.perf_counter()
    for cmd in (["plan", model, small, "--run", run, *opts], ["work", run, "--all", "--jobs", "1"],
                ["merge", run, "--out", work / "corpus.jsonl"]):
        subprocess.run([cli, "corpus", *map(str, cmd)], check=True, capture_output=True)
    corpus = time.perf_counter() - t
    jobs2 = measured([cli, "run", model, small, *opts, "--jobs", "2", "--out", work / "jobs2.jsonl"])[0]
    same = (work / "plain.jsonl").read_bytes() == (work / "corpus.jsonl").read_bytes() == \
        (work / "jobs2.jsonl").read_bytes()
    print(f"16 small videos (3 s of 768x576 each), {pathlib.Path(str(model)).name} --track --segments; "
          f"results identical: {same}")
    print(f"  framepipe run, one job           {plain:7.2f} s")
    print(f"  corpus plan + work + merge       {corpus:7.2f} s   overhead {corpus / plain - 1:+.1%}")
    print(f"  framepipe run --jobs 2           {jobs2:7.2f} s   speed-up x{plain / jobs2:.2f}")
    long = ROOT / build / "bench" / "vtest_1080p_10min.mp4"
    if not long.exists():
        print(f"  (no {long}: make bench makes it; the chunked row is left out)")
        return
    run = work / "long"
    subprocess.run([cli, "corpus", "plan", MODEL, long, "--run", run, "--sample", "every:5", "--chunk-seconds", "60"],
                   check=True, capture_output=True)
    times = {}
    for jobs in (1, 2):
        shutil.rmtree(run / "done", ignore_errors=True)
        shutil.rmtree(run / "units", ignore_errors=True)
        times[jobs] = measured([cli, "corpus", "work", run, "--all", "--jobs", jobs])[0]
    print(f"10-minute 1080p file in 60 s parts, --sample every:5: 1 job {times[1]:.1f} s, 2 jobs {times[2]:.1f} s "
          f"(x{times[1] / times[2]:.2f})")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("what", choices=["scale", "speed"])
    ap.add_argument("--units", type=int, default=100000)
    ap.add_argument("--build", default="build")
    ap.add_argument("--model", default=str(MODEL), help="speed: the model (default tests/models/squares.onnx; "
                    "builtin:hog-people costs more a frame)")
    a = ap.parse_args()
    cli = str(ROOT / a.build / "apps" / "framepipe")
    with tempfile.TemporaryDirectory(prefix="framepipe-bench-corpus-") as tmp:
        work = pathlib.Path(tmp)
        if a.what == "speed":
            speed(cli, a.build, work, a.model)
            return
        print(f"{'units':>8} {'plan s':>8} {'MB':>6} {'status s':>9} {'MB':>6} {'merge s':>8} {'MB':>6} {'most in a folder':>17}")
        for n in (a.units // 10, a.units):
            (p, pm), (s, sm), (m, mm), most = scale(cli, n, work)
            print(f"{n:8d} {p:8.2f} {pm:6.1f} {s:9.2f} {sm:6.1f} {m:8.2f} {mm:6.1f} {most:17d}")


if __name__ == "__main__":
    main()
