#!/usr/bin/python3
"""End-to-end `framepipe run` against its own stages alone and against a naive loop, in one run.

    /usr/bin/python3 bench/bench_pipeline.py [--build build] [--threads 2] FILE...
    (make bench-pipeline runs it on vtest.avi and on the 1080p bench file)

For each file, with ResNet-18 (TorchScript, random weights, from bench_infer.py's export):
  decode-only     framepipe frames FILE --all --size 224x224 --format null (decode + resize)
  inference-only  infer_bench: the LibTorch engine on ready batches of 8
  run             framepipe run resnet18.pt FILE --batch 8 --out - (decode, pack, infer, write
                  on their own threads)
  naive loop      Python: cv2.VideoCapture read, cvtColor, resize, normalise, model(x) one
                  frame at a time (eager, same thread count), as most hand-written loops do
Reported: frames per second, and run ÷ min(decode-only, inference-only): 1.0 means the stages
overlap perfectly (the slower stage alone sets the pace). When both stages keep every core
busy on their own (a CPU-only machine), they cannot both run at full speed at once: the most
a run can reach is then 1 / (1/decode + 1/inference) (each frame costs its decode time plus
its inference time in CPU), reported as "shared-core bound"; "run ÷ bound" says how close the
pipeline comes to it. With the model on a GPU the bound is the slower stage itself.
"""
import argparse
import json
import os
import subprocess
import sys
import time

import cv2
import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import bench_infer  # noqa: E402  (the model export)


def timed(cmd):
    t = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - t


def frame_count(cli, path):
    out = subprocess.run([cli, "probe", path, "--json"], check=True, capture_output=True, text=True).stdout
    return json.loads(out)["video"]["frames"]


def naive_loop(model, path, threads):
    torch.set_num_threads(threads)
    mean = np.array([0.485, 0.456, 0.406], np.float32)
    std = np.array([0.229, 0.224, 0.225], np.float32)
    cap = cv2.VideoCapture(path)
    n = 0
    t = time.perf_counter()
    with torch.inference_mode():
        while True:
            ok, bgr = cap.read()
            if not ok:
                break
            rgb = cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
            x = (cv2.resize(rgb, (224, 224), interpolation=cv2.INTER_LINEAR).astype(np.float32) / 255 - mean) / std
            model(torch.from_numpy(x).permute(2, 0, 1)[None])
            n += 1
    return n, time.perf_counter() - t


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--build", default="build")
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    ap.add_argument("files", nargs="+")
    args = ap.parse_args()
    cli = os.path.join(args.build, "apps", "framepipe")
    helper = os.path.join(args.build, "bench", "infer_bench")
    folder = os.path.join(args.build, "bench", "models")
    os.makedirs(folder, exist_ok=True)
    torch.set_num_threads(args.threads)
    model, _, pt, _ = bench_infer.export("resnet18", folder)
    infer = bench_infer.framepipe_rate(helper, pt, "torchscript", 8, 12, args.threads)["rows_per_s"]
    print(f"model: resnet18 (TorchScript, 224x224, batch 8); threads: {args.threads}")
    print(f"| file | frames | decode-only fps | inference-only fps | run fps | run ÷ slower stage | "
          f"shared-core bound ÷ slower | run ÷ bound | naive loop fps | run ÷ naive |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for path in args.files:
        frames = frame_count(cli, path)
        decode = frames / timed([cli, "frames", path, "--all", "--size", "224x224", "--format", "null"])
        run = frames / timed([cli, "run", pt, path, "--batch", "8", "--model-threads", str(args.threads), "--out", "-"])
        n, secs = naive_loop(model, path, args.threads)
        naive = n / secs
        bound = 1 / (1 / decode + 1 / infer)
        print(f"| {os.path.basename(path)} | {frames} | {decode:.1f} | {infer:.1f} | {run:.1f} | "
              f"{run / min(decode, infer):.2f} | {bound / min(decode, infer):.2f} | {run / bound:.2f} | "
              f"{naive:.1f} | {run / naive:.2f}x |", flush=True)


if __name__ == "__main__":
    main()
