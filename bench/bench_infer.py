#!/usr/bin/python3
"""Inference speed: framepipe's engines against PyTorch eager, same model, same input shape,
same thread count, in one run.

    /usr/bin/python3 bench/bench_infer.py [--build build] [--threads 2] [--iters 10]
    (make bench-infer does this)

Models: torchvision's ResNet-18 and MobileNetV3-small (224x224, batch 1 and 8) and R3D-18
(16 x 112x112 clips, batch 1), with their random initial weights (speed only), exported once
to TorchScript (.pt) and ONNX (.onnx) under BUILD/bench/models with their descriptions.
framepipe's side is bench/infer_bench.cpp: Backend::run on a ready batch. PyTorch's side is
model(x) under torch.inference_mode(). Both warm up twice, then time `iters` runs.
Reported: rows (images or clips) per second, and framepipe / eager as a ratio (> 1: faster).

INT8: ResNet-18 after post-training static quantization (torchvision's quantizable ResNet-18
with the float model's weights, convolutions fused, the onednn engine, calibrated on 32 random
images) against its float twin: latency per batch through framepipe's LibTorch engine and in
PyTorch, framepipe's INT8 output against PyTorch's on the same input, the top-1 agreement of
INT8 and float, and `framepipe run` end to end on a video (median of interleaved rounds, the
infer stage's p50 from --metrics). `--int8-video FILE` picks the video.
"""
import argparse
import json
import os
import statistics
import subprocess
import time

import numpy as np
import onnx
import torch
import torchvision

IMAGENET = {"mean": [0.485, 0.456, 0.406], "std": [0.229, 0.224, 0.225]}
KINETICS = {"mean": [0.43216, 0.394666, 0.37645], "std": [0.22803, 0.22145, 0.216989]}

MODELS = {
    "resnet18": (lambda: torchvision.models.resnet18(weights=None), (3, 224, 224),
                 {"task": "classify", "input": {"width": 224, "height": 224, **IMAGENET}}),
    "mobilenet_v3_small": (lambda: torchvision.models.mobilenet_v3_small(weights=None), (3, 224, 224),
                           {"task": "classify", "input": {"width": 224, "height": 224, **IMAGENET}}),
    "r3d_18": (lambda: torchvision.models.video.r3d_18(weights=None), (3, 16, 112, 112),
               {"task": "clip-classify", "input": {"width": 112, "height": 112, "clip_len": 16,
                                                   "layout": "ncthw", **KINETICS}}),
}
BATCHES = {"resnet18": [1, 8], "mobilenet_v3_small": [1, 8], "r3d_18": [1]}


def export(name, folder):
    make, shape, desc = MODELS[name]
    torch.manual_seed(0)
    model = make().eval()
    pt, onnx_path = os.path.join(folder, name + ".pt"), os.path.join(folder, name + ".onnx")
    if not (os.path.exists(pt) and os.path.exists(onnx_path)):
        example = torch.randn(1, *shape)
        with torch.no_grad():
            torch.jit.trace(model, example).save(pt + ".tmp")
        os.replace(pt + ".tmp", pt)
        torch.onnx.export(model, example, onnx_path + ".tmp", opset_version=11, do_constant_folding=True,
                          input_names=["input"], output_names=["output"],
                          dynamic_axes={"input": {0: "batch"}, "output": {0: "batch"}})
        fold_identity_initializers(onnx_path + ".tmp")
        os.replace(onnx_path + ".tmp", onnx_path)
        with open(os.path.join(folder, name + ".json"), "w") as f:
            json.dump({"name": name, **desc}, f, indent=2)
    # Eager runs the TorchScript file's own weights, so both sides compute the same network.
    model.load_state_dict(torch.jit.load(pt).state_dict())
    return model, shape, pt, onnx_path


def fold_identity_initializers(path):
    """torch 1.13 exports some weights as Identity nodes over initializers, which OpenCV 4.6's
    importer rejects ('Identity on initializers', DESIGN.md). Give each such output its own
    copy of the initializer and drop the node: the same network, in a form OpenCV reads."""
    m = onnx.load(path)
    inits = {i.name: i for i in m.graph.initializer}
    keep = []
    for node in m.graph.node:
        if node.op_type == "Identity" and node.input[0] in inits:
            copy = onnx.TensorProto()
            copy.CopyFrom(inits[node.input[0]])
            copy.name = node.output[0]
            m.graph.initializer.append(copy)
        else:
            keep.append(node)
    del m.graph.node[:]
    m.graph.node.extend(keep)
    onnx.save(m, path)


def eager_rate(model, shape, batch, iters):
    x = torch.randn(batch, *shape)
    with torch.inference_mode():
        model(x)
        model(x)
        start = time.perf_counter()
        for _ in range(iters):
            model(x)
        return batch * iters / (time.perf_counter() - start)


def framepipe_rate(helper, path, engine, batch, iters, threads, check=None):
    cmd = [helper, path, "--engine", engine, "--batch", str(batch), "--iters", str(iters), "--threads", str(threads)]
    if check:
        cmd += ["--check", *check]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def max_diff(model, shape, helper, path, engine, folder, threads):
    """framepipe's output against eager's on the same input: the speed compares like with like."""
    x = torch.randn(2, *shape)
    src, dst = os.path.join(folder, "check_in.npy"), os.path.join(folder, "check_out.npy")
    np.save(src, x.numpy())
    if os.path.exists(dst):
        os.remove(dst)
    r = framepipe_rate(helper, path, engine, 1, 1, threads, (src, dst))
    if "error" in r or not os.path.exists(dst):
        return None
    with torch.inference_mode():
        want = model(x).numpy()
    return float(np.abs(np.load(dst) - want).max())


def export_int8(folder):
    """resnet18_int8.pt beside resnet18.pt (export() made it), and their eager twins."""
    float_model, shape, float_pt, _ = export("resnet18", folder)
    pt = os.path.join(folder, "resnet18_int8.pt")
    torch.backends.quantized.engine = "onednn"  # this PyTorch has no fbgemm
    q = torchvision.models.quantization.resnet18(weights=None, quantize=False)
    q.load_state_dict(float_model.state_dict())
    q.eval()
    q.fuse_model()
    q.qconfig = torch.ao.quantization.get_default_qconfig("onednn")
    torch.ao.quantization.prepare(q, inplace=True)
    torch.manual_seed(1)
    with torch.no_grad():
        q(torch.randn(32, *shape))
    torch.ao.quantization.convert(q, inplace=True)
    if not os.path.exists(pt):
        with torch.no_grad():
            torch.jit.trace(q, torch.randn(1, *shape)).save(pt + ".tmp")
        os.replace(pt + ".tmp", pt)
        with open(os.path.join(folder, "resnet18_int8.json"), "w") as f:
            json.dump({"name": "resnet18_int8", **MODELS["resnet18"][2]}, f, indent=2)
    return float_model, torch.jit.load(pt), shape, float_pt, pt


def run_seconds(cli, model, video, sample, batch, threads, folder):
    """`framepipe run` end to end: wall seconds and the infer stage's p50 per batch (ms)."""
    metrics = os.path.join(folder, "int8_metrics.json")
    start = time.perf_counter()
    subprocess.run([cli, "run", model, video, "--sample", sample, "--batch", str(batch), "--model-threads",
                    str(threads), "--out", os.devnull, "--metrics", metrics], check=True, capture_output=True)
    wall = time.perf_counter() - start
    with open(metrics) as f:
        stages = json.load(f)
    infer = next(s for s in (stages if isinstance(stages, list) else stages["stages"]) if s["stage"] == "infer")
    return wall, infer["latency_ms"]["p50"]


def bench_int8(args, folder, helper):
    float_model, q_eager, shape, float_pt, pt = export_int8(folder)
    print("\nINT8 (onednn static quantization) against float, ResNet-18 224x224:")
    print(f"{'batch':>5} {'float ms':>9} {'int8 ms':>8} {'int8÷float':>10} {'eager float ms':>15} {'eager int8 ms':>14}")
    for batch in (1, 8):
        iters = max(2, args.iters // batch)
        f = framepipe_rate(helper, float_pt, "torchscript", batch, iters, args.threads)["rows_per_s"]
        i = framepipe_rate(helper, pt, "torchscript", batch, iters, args.threads)["rows_per_s"]
        ef = eager_rate(float_model, shape, batch, iters)
        ei = eager_rate(q_eager, shape, batch, iters)
        ms = lambda rate: 1000 * batch / rate
        print(f"{batch:5d} {ms(f):9.1f} {ms(i):8.1f} {ms(i) / ms(f):10.2f} {ms(ef):15.1f} {ms(ei):14.1f}", flush=True)
    d = max_diff(q_eager, shape, helper, pt, "torchscript", folder, args.threads)
    x = torch.randn(64, *shape)
    with torch.inference_mode():
        agree = (q_eager(x).argmax(1) == float_model(x).argmax(1)).float().mean().item()
    print(f"check: max |framepipe int8 - PyTorch int8| = {d:.2e}; top-1 agreement int8 vs float on 64 random "
          f"inputs (random weights) {agree:.2f}")
    if not args.int8_video:
        return
    cli = os.path.join(args.build, "apps", "framepipe")
    runs = {"float": [], "int8": []}
    for _ in range(args.rounds):  # interleaved, so both meet the same machine
        for name, model in (("float", float_pt), ("int8", pt)):
            runs[name].append(run_seconds(cli, model, args.int8_video, "every:4", 8, args.threads, folder))
    med = {k: (statistics.median(w for w, _ in v), statistics.median(p for _, p in v)) for k, v in runs.items()}
    print(f"framepipe run {os.path.basename(args.int8_video)} --sample every:4 --batch 8 (median of {args.rounds}): "
          f"float {med['float'][0]:.2f} s (infer p50 {med['float'][1]:.0f} ms a batch), "
          f"int8 {med['int8'][0]:.2f} s ({med['int8'][1]:.0f} ms): end to end x{med['float'][0] / med['int8'][0]:.2f}, "
          f"per batch x{med['float'][1] / med['int8'][1]:.2f}")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--build", default="build")
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    ap.add_argument("--iters", type=int, default=10)
    ap.add_argument("--only", default="", help="comma separated model names")
    ap.add_argument("--int8-video", default="", help="a video for the INT8 run end to end")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--int8-only", action="store_true")
    args = ap.parse_args()
    folder = os.path.join(args.build, "bench", "models")
    os.makedirs(folder, exist_ok=True)
    helper = os.path.join(args.build, "bench", "infer_bench")
    torch.set_num_threads(args.threads)
    print(f"threads: {args.threads} (torch.set_num_threads and framepipe's --threads); iterations: {args.iters}")
    print(f"{'model':20} {'batch':>5} {'eager/s':>9} {'libtorch/s':>11} {'opencv/s':>9} {'libtorch÷eager':>15} "
          f"{'opencv÷eager':>13}")
    notes = []
    diffs = []
    if args.int8_only:
        bench_int8(args, folder, helper)
        return
    for name in MODELS:
        if args.only and name not in args.only.split(","):
            continue
        model, shape, pt, onnx_path = export(name, folder)
        for engine, path in (("libtorch", pt), ("opencv", onnx_path)):
            d = max_diff(model, shape, helper, path, "torchscript" if engine == "libtorch" else "opencv", folder,
                         args.threads)
            if d is not None:
                diffs.append(f"{name} {engine}: max |framepipe - eager| = {d:.2e}")
        for batch in BATCHES[name]:
            iters = max(2, args.iters // batch) if name != "r3d_18" else max(2, args.iters // 4)
            eager = eager_rate(model, shape, batch, iters)
            lt = framepipe_rate(helper, pt, "torchscript", batch, iters, args.threads)
            cv = framepipe_rate(helper, onnx_path, "opencv", batch, iters, args.threads)
            lt_rate = lt.get("rows_per_s")
            cv_rate = cv.get("rows_per_s")
            if "error" in cv and not any(name in n for n in notes):
                notes.append(f"{name} ONNX through OpenCV DNN: {cv['error']}")
            fmt = lambda v: f"{v:9.2f}" if v else "        -"
            ratio = lambda v: f"{v / eager:.2f}x" if v else "-"
            print(f"{name:20} {batch:5d} {eager:9.2f} {fmt(lt_rate):>11} {fmt(cv_rate)} {ratio(lt_rate):>15} "
                  f"{ratio(cv_rate):>13}", flush=True)
    for d in diffs:
        print("check:", d)
    for n in notes:
        print("note:", n)
    bench_int8(args, folder, helper)


if __name__ == "__main__":
    main()
