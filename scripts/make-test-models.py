#!/usr/bin/python3
"""Trains framepipe's three tiny test models on generated pictures and exports each to
TorchScript (.pt) and to an ONNX file that OpenCV 4.6 loads (.onnx), with the model
description (.json) both share, and a reference input/output pair computed by PyTorch
(.input.npy, .output.npy) that the backend tests compare against.

    /usr/bin/python3 scripts/make-test-models.py [OUT_DIR]     (default tests/models; ~8 min on 2 cores)

Run once; the outputs (each well under 2 MB) are committed. Needs Debian's python3-torch,
python3-torchvision (not used here) and python3-onnx. Deterministic for a given torch build.

  shapes2d   classify      64x64 RGB, letterboxed: circle / square / triangle
  motion3d   clip-classify 16 x 32x32: a square moving left / right / up / down
  squares    detect        128x128 letterboxed: red / green / blue squares, YOLO-style head,
                           exported in the YOLOv5 layout [N, A, 5+C] (squares.*) and the
                           YOLOv8 layout [N, 4+C, A] (squares_v8.*)
  shapes2d_int8            shapes2d after post-training static quantization (INT8 weights and
                           activations, the onednn engine: this PyTorch has no fbgemm),
                           calibrated on 256 drawn pictures; TorchScript only. Its float twin is
                           shapes2d.pt, whose weights it starts from.

    /usr/bin/python3 scripts/make-test-models.py --only-int8   (seconds: from the committed shapes2d.pt)

The test videos are drawn by the ffmpeg CLI (scripts/make-test-media.sh), never by this
script, so the models are judged on pictures they did not train on.
"""
import json
import os
import sys

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

OUT = sys.argv[1] if len(sys.argv) > 1 and not sys.argv[1].startswith("--") else os.path.join(os.path.dirname(__file__), "..", "tests", "models")
torch.manual_seed(7)
torch.set_num_threads(max(1, os.cpu_count() or 1))
rng = np.random.default_rng(7)

# Bright shape colours on dark backgrounds; the test videos keep to the same idea.
COLOURS = np.array([[230, 40, 40], [40, 220, 60], [50, 80, 240], [240, 240, 240],
                    [240, 220, 40], [230, 60, 230], [40, 220, 230], [250, 140, 30]], np.float32)


def background(h, w):
    base = rng.uniform(0, 60, size=3).astype(np.float32)
    img = np.empty((h, w, 3), np.float32)
    img[:] = base
    img += rng.normal(0, rng.uniform(0, 12), size=(h, w, 1)).astype(np.float32)
    return img


def finish(img):
    """Noise, an occasional blur (video codecs soften edges), clip to bytes."""
    img = img + rng.normal(0, 4, size=img.shape).astype(np.float32)
    if rng.random() < 0.5:
        t = torch.from_numpy(img).permute(2, 0, 1)[None]
        k = torch.tensor([1.0, 2.0, 1.0])
        k = (k[:, None] * k[None, :]) / 16
        t = F.conv2d(F.pad(t, (1, 1, 1, 1), mode="replicate"), k.expand(3, 1, 3, 3), groups=3)
        img = t[0].permute(1, 2, 0).numpy()
    return np.clip(img, 0, 255)


def shape_mask(kind, h, w, cx, cy, r, sx=1.0, sy=1.0):
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    dx, dy = (xx + 0.5 - cx) / sx, (yy + 0.5 - cy) / sy
    if kind == 0:  # circle
        return dx * dx + dy * dy <= r * r
    if kind == 1:  # square
        return (np.abs(dx) <= r) & (np.abs(dy) <= r)
    # triangle, apex up: rows from cy - r to cy + r, half width grows from 0 to r
    return (dy >= -r) & (dy <= r) & (np.abs(dx) <= (dy + r) / 2)


def letterbox_bands(img, pad):
    """The letterbox of a wider or taller source leaves pad-coloured bands on two sides."""
    h, w, _ = img.shape
    if rng.random() < 0.5:
        b = int(rng.integers(0, h // 5))
        if rng.random() < 0.5:
            img[:b] = pad
            img[h - b:] = pad
        else:
            img[:, :b] = pad
            img[:, w - b:] = pad
    return img


def to_input(batch_hwc, mean, std):
    x = torch.from_numpy(np.ascontiguousarray(batch_hwc)).float() / 255.0
    x = (x - torch.tensor(mean)) / torch.tensor(std)
    return x


# ---------------------------------------------------------------- shapes2d (classify)
SHAPES = ["circle", "square", "triangle"]
S_MEAN, S_STD = [0.5, 0.5, 0.5], [0.25, 0.25, 0.25]


def shapes_sample(n):
    imgs = np.empty((n, 64, 64, 3), np.float32)
    labels = rng.integers(0, 3, size=n)
    for i in range(n):
        img = background(64, 64)
        r = rng.uniform(8, 22)
        cx, cy = rng.uniform(r + 2, 62 - r, size=2)
        m = shape_mask(labels[i], 64, 64, cx, cy, r, rng.uniform(0.8, 1.25), rng.uniform(0.8, 1.25))
        img[m] = COLOURS[rng.integers(len(COLOURS))] * rng.uniform(0.8, 1.0)
        imgs[i] = finish(letterbox_bands(img, 0.0))
    return imgs, labels


class Shapes2d(nn.Module):
    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(3, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(64, 64, 3, padding=1), nn.ReLU(),
            nn.AdaptiveAvgPool2d(1))
        self.fc = nn.Linear(64, 3)

    def forward(self, x):  # N x 3 x 64 x 64 -> N x 3 logits
        return self.fc(torch.flatten(self.features(x), 1))


# ---------------------------------------------------------------- motion3d (clip-classify)
MOTIONS = ["left", "right", "up", "down"]
M_MEAN, M_STD = [0.45, 0.45, 0.45], [0.225, 0.225, 0.225]
T = 16


def motion_sample(n):
    clips = np.empty((n, T, 32, 32, 3), np.float32)
    labels = rng.integers(0, 4, size=n)
    for i in range(n):
        speed = rng.uniform(0.5, 1.3)
        half = rng.uniform(2.5, 5)
        travel = speed * (T - 1)
        lo, hi = half + 1, 31 - half
        along = rng.uniform(lo, max(lo, hi - travel))
        across = rng.uniform(lo, hi)
        d = labels[i]
        colour = COLOURS[rng.integers(len(COLOURS))]
        bg = background(32, 32)
        for t in range(T):
            pos = along + speed * t
            if d in (0, 2):  # left, up: moving towards 0
                pos = 32 - pos
            cx, cy = (pos, across) if d in (0, 1) else (across, pos)
            img = bg.copy()
            img[shape_mask(1, 32, 32, cx, cy, half)] = colour
            clips[i, t] = finish(img)
    return clips, labels


class Motion3d(nn.Module):
    def __init__(self):
        super().__init__()
        # Strided convolutions and one fixed average pool: OpenCV 4.6 imports neither a 3-D
        # GlobalAveragePool nor an adaptive one.
        self.features = nn.Sequential(
            nn.Conv3d(3, 8, 3, padding=1), nn.ReLU(),
            nn.Conv3d(8, 16, 3, stride=2, padding=1), nn.ReLU(),
            nn.Conv3d(16, 32, 3, stride=2, padding=1), nn.ReLU(),
            nn.AvgPool3d((4, 8, 8)))
        self.fc = nn.Linear(32, 4)

    def forward(self, x):  # N x 3 x 16 x 32 x 32 -> N x 4 logits
        return self.fc(torch.flatten(self.features(x), 1))


# ---------------------------------------------------------------- squares (detect)
SQUARE_COLOURS = ["red", "green", "blue"]
RGB = np.array([[220, 30, 30], [30, 200, 40], [40, 60, 230]], np.float32)
D_SIZE, STRIDE, ANCHOR = 128, 8, 24.0
GRID = D_SIZE // STRIDE
D_MEAN, D_STD = [0.0, 0.0, 0.0], [1.0, 1.0, 1.0]


def squares_sample(n):
    imgs = np.empty((n, D_SIZE, D_SIZE, 3), np.float32)
    boxes = []
    for i in range(n):
        img = background(D_SIZE, D_SIZE)
        placed = []
        for _ in range(int(rng.integers(1, 4))):
            for _attempt in range(20):
                s = rng.uniform(12, 40)
                x1, y1 = rng.uniform(0, D_SIZE - s, size=2)
                b = (x1, y1, x1 + s, y1 + s)
                if all(b[2] + 2 < p[0] or p[2] + 2 < b[0] or b[3] + 2 < p[1] or p[3] + 2 < b[1] for p in placed):
                    c = int(rng.integers(3))
                    placed.append(b + (c,))
                    xi1, yi1, xi2, yi2 = (int(round(v)) for v in b)
                    img[yi1:yi2, xi1:xi2] = RGB[c] * rng.uniform(0.85, 1.1)
                    break
        imgs[i] = finish(letterbox_bands(img, 0.0))
        # Boxes as drawn: pixel edges after rounding.
        boxes.append([(round(b[0]), round(b[1]), round(b[2]), round(b[3]), b[4]) for b in placed])
    return imgs, boxes


class SquaresNet(nn.Module):
    """Backbone to a stride-8 grid; per cell: tx, ty, tw, th, objectness, 3 class logits."""

    def __init__(self):
        super().__init__()

        def block(i, o, s):
            return [nn.Conv2d(i, o, 3, stride=s, padding=1), nn.BatchNorm2d(o), nn.ReLU()]

        self.body = nn.Sequential(*block(3, 16, 2), *block(16, 32, 2), *block(32, 48, 2),
                                  *block(48, 64, 1), *block(64, 64, 1), *block(64, 64, 1))
        self.head = nn.Conv2d(64, 8, 1)

    def forward(self, x):
        return self.head(self.body(x))  # N x 8 x 16 x 16


class YoloV5Head(nn.Module):
    """[N, A, 5 + C]: cx, cy, w, h in input pixels, objectness, per-class scores."""

    def __init__(self, net):
        super().__init__()
        self.net = net
        gy, gx = torch.meshgrid(torch.arange(GRID, dtype=torch.float32), torch.arange(GRID, dtype=torch.float32), indexing="ij")
        self.register_buffer("grid", torch.stack([gx, gy], 0).reshape(1, 2, GRID * GRID))

    def decoded(self, x):
        p = self.net(x).flatten(2)  # N x 8 x A
        xy = (torch.sigmoid(p[:, 0:2]) + self.grid) * STRIDE
        wh = torch.exp(p[:, 2:4]) * ANCHOR
        return xy, wh, torch.sigmoid(p[:, 4:5]), torch.sigmoid(p[:, 5:8])

    def forward(self, x):
        xy, wh, obj, cls = self.decoded(x)
        return torch.cat([xy, wh, obj, cls], 1).transpose(1, 2)


class YoloV8Head(YoloV5Head):
    """[N, 4 + C, A]: cx, cy, w, h, per-class scores (objectness folded in)."""

    def forward(self, x):
        xy, wh, obj, cls = self.decoded(x)
        return torch.cat([xy, wh, cls * obj], 1)


def detector_loss(raw, boxes):
    n = raw.shape[0]
    obj_t = torch.zeros(n, GRID, GRID)
    loss_box, loss_cls, count = raw.new_zeros(()), raw.new_zeros(()), 0
    for i, bs in enumerate(boxes):
        for x1, y1, x2, y2, c in bs:
            cx, cy, w, h = (x1 + x2) / 2, (y1 + y2) / 2, x2 - x1, y2 - y1
            gx, gy = min(int(cx // STRIDE), GRID - 1), min(int(cy // STRIDE), GRID - 1)
            obj_t[i, gy, gx] = 1
            p = raw[i, :, gy, gx]
            target_xy = torch.tensor([cx / STRIDE - gx, cy / STRIDE - gy])
            target_wh = torch.log(torch.tensor([w / ANCHOR, h / ANCHOR]))
            loss_box = loss_box + F.l1_loss(torch.sigmoid(p[0:2]), target_xy, reduction="sum") \
                + F.l1_loss(p[2:4], target_wh, reduction="sum")
            loss_cls = loss_cls + F.binary_cross_entropy_with_logits(p[5:8], F.one_hot(torch.tensor(c), 3).float(), reduction="sum")
            count += 1
    loss_obj = F.binary_cross_entropy_with_logits(raw[:, 4], obj_t, pos_weight=torch.tensor(4.0))
    return loss_obj * 4 + (loss_box * 2 + loss_cls) / max(count, 1)


def iou(a, b):
    ix = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = ix * iy
    return inter / ((a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter)


# ---------------------------------------------------------------- training and export
def write_description(name, description):
    with open(os.path.join(OUT, name + ".json"), "w") as f:
        json.dump({"name": name, **description}, f, indent=2)
        f.write("\n")


def save_reference(name, x, y):
    """The input and what PyTorch computed from it: what the backend tests compare against."""
    np.save(os.path.join(OUT, name + ".input.npy"), x.numpy().astype(np.float32))
    np.save(os.path.join(OUT, name + ".output.npy"), y.numpy().astype(np.float32))


def train(model, make_batch, loss_fn, steps, lr):
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=lr, total_steps=steps)
    model.train()
    for step in range(steps):
        x, y = make_batch()
        loss = loss_fn(model(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        sched.step()
        if step % 100 == 0 or step == steps - 1:
            print(f"  step {step:4d} loss {loss.item():.4f}", flush=True)
    model.eval()


def export(name, module, example, description, input_names=("input",), output_names=("output",)):
    import onnx
    module.eval()
    with torch.no_grad():
        reference_out = module(example)
        traced = torch.jit.trace(module, example)
    traced.save(os.path.join(OUT, name + ".pt"))
    path = os.path.join(OUT, name + ".onnx")
    torch.onnx.export(module, example, path, opset_version=11, do_constant_folding=True,
                      input_names=list(input_names), output_names=list(output_names),
                      dynamic_axes={input_names[0]: {0: "batch"}, output_names[0]: {0: "batch"}})
    onnx.checker.check_model(onnx.load(path))
    write_description(name, description)
    save_reference(name, example, reference_out)
    for ext in (".pt", ".onnx"):
        print(f"  {name}{ext}: {os.path.getsize(os.path.join(OUT, name + ext)) / 1e6:.2f} MB")


class Unsupported3d(nn.Module):
    """Untrained; its ONNX has a 3-D GlobalAveragePool, which OpenCV 4.6 cannot import: the
    tests check that framepipe's error names that node and points to TorchScript."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv3d(3, 4, 3, padding=1)
        self.pool = nn.AdaptiveAvgPool3d(1)

    def forward(self, x):  # N x 3 x 4 x 16 x 16 -> N x 4
        return torch.flatten(self.pool(self.conv(x)), 1)


def make_unsupported():
    model = Unsupported3d().eval()
    path = os.path.join(OUT, "unsupported3d.onnx")
    torch.onnx.export(model, torch.zeros(1, 3, 4, 16, 16), path, opset_version=11,
                      input_names=["input"], output_names=["output"])
    write_description("unsupported3d", {"task": "clip-classify",
                                        "input": {"width": 16, "height": 16, "clip_len": 4, "layout": "ncthw"},
                                        "labels": ["a", "b", "c", "d"]})


def make_darknet():
    """A Darknet model written by hand (cfg text + weights binary): one 3x3 convolution with a
    leaky ReLU, 4 filters on 3 x 8 x 8. Its reference output is PyTorch's conv2d of the same
    weights, so the test shows OpenCV's Darknet import computes what the file says."""
    g = torch.Generator().manual_seed(3)
    w = torch.randn(4, 3, 3, 3, generator=g)
    b = torch.randn(4, generator=g)
    with open(os.path.join(OUT, "tiny_darknet.cfg"), "w") as f:
        f.write("[net]\nwidth=8\nheight=8\nchannels=3\n\n"
                "[convolutional]\nfilters=4\nsize=3\nstride=1\npad=1\nactivation=leaky\n")
    with open(os.path.join(OUT, "tiny_darknet.weights"), "wb") as f:
        # major 0, minor 2, revision 0, then 'seen' as a 64-bit count; per layer biases, weights
        f.write(np.array([0, 2, 0], np.int32).tobytes() + np.array([0], np.int64).tobytes())
        f.write(b.numpy().astype(np.float32).tobytes() + w.numpy().astype(np.float32).tobytes())
    x = torch.randn(2, 3, 8, 8, generator=g)
    y = F.leaky_relu(F.conv2d(x, w, b, padding=1), 0.1)
    save_reference("tiny_darknet", x, y)
    write_description("tiny_darknet", {"task": "embed", "config": "tiny_darknet.cfg", "input": {"width": 8, "height": 8}})


# Protocol buffers by hand (no caffe.proto or TensorFlow here): just the wire format.
def pb_varint(v):
    v &= (1 << 64) - 1  # negative int64s are sent as their two's complement
    out = bytearray()
    while True:
        b = v & 0x7F
        v >>= 7
        out.append(b | (0x80 if v else 0))
        if not v:
            return bytes(out)


def pb_field(number, value):
    """A field: bytes/str/bytes-like -> length-delimited, int -> varint."""
    if isinstance(value, int):
        return pb_varint(number << 3) + pb_varint(value)
    if isinstance(value, str):
        value = value.encode()
    return pb_varint(number << 3 | 2) + pb_varint(len(value)) + value


def pb_packed_int64(number, values):
    return pb_field(number, b"".join(pb_varint(v) for v in values))


def make_caffe_and_tensorflow():
    """The same 3x3 convolution (4 filters, bias) + ReLU on 3 x 8 x 8, as a Caffe prototxt +
    caffemodel and as a TensorFlow GraphDef (.pb), written field by field. The reference output
    is PyTorch's conv2d of the same weights (NCHW, which OpenCV DNN gives for both)."""
    g = torch.Generator().manual_seed(5)
    w = torch.randn(4, 3, 3, 3, generator=g)
    b = torch.randn(4, generator=g)
    x = torch.randn(2, 3, 8, 8, generator=g)
    y = F.relu(F.conv2d(x, w, b, padding=1))
    for name in ("tiny_caffe", "tiny_tf"):
        save_reference(name, x, y)

    # Caffe: NetParameter.layer (100) = LayerParameter {name 1, type 2, blobs 7 = BlobProto
    # {data 5 (packed float), shape 7 = BlobShape {dim 1 (packed int64)}}}.
    with open(os.path.join(OUT, "tiny_caffe.prototxt"), "w") as f:
        f.write('name: "tiny"\ninput: "data"\ninput_shape { dim: 1 dim: 3 dim: 8 dim: 8 }\n'
                'layer { name: "conv" type: "Convolution" bottom: "data" top: "conv"\n'
                '  convolution_param { num_output: 4 kernel_size: 3 pad: 1 } }\n'
                'layer { name: "relu" type: "ReLU" bottom: "conv" top: "conv" }\n')

    def blob(t):
        return pb_field(5, t.numpy().astype("<f4").tobytes()) + pb_field(7, pb_packed_int64(1, list(t.shape)))

    layer = pb_field(1, "conv") + pb_field(2, "Convolution") + pb_field(7, blob(w)) + pb_field(7, blob(b))
    with open(os.path.join(OUT, "tiny_caffe.caffemodel"), "wb") as f:
        f.write(pb_field(1, "tiny") + pb_field(100, layer))
    write_description("tiny_caffe", {"task": "embed", "config": "tiny_caffe.prototxt", "input": {"width": 8, "height": 8}})

    # TensorFlow: GraphDef.node (1) = NodeDef {name 1, op 2, input 3, attr 5 = {key 1, value 2 =
    # AttrValue {list 1 {i 3}, s 2, type 6, shape 7 {dim 2 {size 1}}, tensor 8 {dtype 1,
    # tensor_shape 2, tensor_content 4}}}}. DT_FLOAT is 1. Weights are HWIO in TensorFlow.
    def attr(key, value):
        return pb_field(5, pb_field(1, key) + pb_field(2, value))

    def shape(dims):
        return b"".join(pb_field(2, pb_field(1, d)) for d in dims)

    def const(name, t):
        tensor = pb_field(1, 1) + pb_field(2, shape(list(t.shape))) + pb_field(4, t.numpy().astype("<f4").tobytes())
        return pb_field(1, pb_field(1, name) + pb_field(2, "Const") + attr("dtype", pb_field(6, 1)) +
                        attr("value", pb_field(8, tensor)))

    def node(name, op, inputs, *attrs):
        return pb_field(1, pb_field(1, name) + pb_field(2, op) + b"".join(pb_field(3, i) for i in inputs) +
                        b"".join(attrs))

    t_float = pb_field(6, 1)
    graph = (node("input", "Placeholder", [], attr("dtype", t_float), attr("shape", pb_field(7, shape([-1, 8, 8, 3])))) +
             const("weights", w.permute(2, 3, 1, 0).contiguous()) + const("bias", b) +
             node("conv", "Conv2D", ["input", "weights"], attr("T", t_float),
                  attr("strides", pb_field(1, pb_packed_int64(3, [1, 1, 1, 1]))), attr("padding", pb_field(2, "SAME")),
                  attr("data_format", pb_field(2, "NHWC"))) +
             node("biasadd", "BiasAdd", ["conv", "bias"], attr("T", t_float), attr("data_format", pb_field(2, "NHWC"))) +
             node("relu", "Relu", ["biasadd"], attr("T", t_float)))
    with open(os.path.join(OUT, "tiny_tf.pb"), "wb") as f:
        f.write(graph)
    write_description("tiny_tf", {"task": "embed", "input": {"width": 8, "height": 8}})


class Quantized(nn.Module):
    """A float network between a quantize and a dequantize step (eager-mode static quantization)."""

    def __init__(self, net):
        super().__init__()
        self.quant = torch.ao.quantization.QuantStub()
        self.net = net
        self.dequant = torch.ao.quantization.DeQuantStub()

    def forward(self, x):
        return self.dequant(self.net(self.quant(x)))


def make_int8():
    """shapes2d in INT8: the committed float model's weights, convolutions fused with their
    ReLUs, observers calibrated on drawn pictures, converted, traced."""
    torch.backends.quantized.engine = "onednn"
    float_net = Shapes2d()
    float_net.load_state_dict(torch.jit.load(os.path.join(OUT, "shapes2d.pt")).state_dict())
    float_net.eval()
    net = Shapes2d()
    net.load_state_dict(float_net.state_dict())
    net.eval()
    torch.ao.quantization.fuse_modules(net.features, [["0", "1"], ["3", "4"], ["6", "7"], ["9", "10"]], inplace=True)
    q = Quantized(net).eval()
    q.qconfig = torch.ao.quantization.get_default_qconfig("onednn")
    torch.ao.quantization.prepare(q, inplace=True)
    imgs, labels = shapes_sample(256)
    calib = to_input(imgs, S_MEAN, S_STD).permute(0, 3, 1, 2).contiguous()
    with torch.no_grad():
        q(calib)
    torch.ao.quantization.convert(q, inplace=True)
    imgs, labels = shapes_sample(300)
    held = to_input(imgs, S_MEAN, S_STD).permute(0, 3, 1, 2).contiguous()
    with torch.no_grad():
        agree = (q(held).argmax(1) == float_net(held).argmax(1)).float().mean().item()
        acc = (q(held).argmax(1).numpy() == labels).mean()
    print(f"shapes2d_int8: held-out accuracy {acc:.3f}, top-1 agreement with the float model {agree:.3f}")
    example = to_input(shapes_sample(2)[0], S_MEAN, S_STD).permute(0, 3, 1, 2).contiguous()
    with torch.no_grad():
        traced = torch.jit.trace(q, example)
        reference_out = traced(example)
    traced.save(os.path.join(OUT, "shapes2d_int8.pt"))
    with open(os.path.join(OUT, "shapes2d.json")) as f:
        description = {k: v for k, v in json.load(f).items() if k != "name"}
    write_description("shapes2d_int8", description)
    save_reference("shapes2d_int8", example, reference_out)
    print(f"  shapes2d_int8.pt: {os.path.getsize(os.path.join(OUT, 'shapes2d_int8.pt')) / 1e6:.2f} MB")


def main():
    os.makedirs(OUT, exist_ok=True)
    if "--only-int8" in sys.argv:
        make_int8()
        return
    make_unsupported()
    make_darknet()
    make_caffe_and_tensorflow()
    if "--only-small" in sys.argv:
        return

    print("shapes2d: training")
    shapes = Shapes2d()

    def shapes_batch():
        imgs, labels = shapes_sample(64)
        return to_input(imgs, S_MEAN, S_STD).permute(0, 3, 1, 2), torch.from_numpy(labels)

    train(shapes, shapes_batch, F.cross_entropy, 700, 3e-3)
    imgs, labels = shapes_sample(300)
    with torch.no_grad():
        acc = (shapes(to_input(imgs, S_MEAN, S_STD).permute(0, 3, 1, 2)).argmax(1).numpy() == labels).mean()
    print(f"  held-out accuracy {acc:.3f}")
    export("shapes2d", shapes, to_input(shapes_sample(2)[0], S_MEAN, S_STD).permute(0, 3, 1, 2).contiguous(), {
        "task": "classify",
        "input": {"width": 64, "height": 64, "layout": "nchw", "channels": "rgb", "scale": True,
                  "mean": S_MEAN, "std": S_STD, "resize": "letterbox"},
        "output": "logits", "labels": SHAPES})
    make_int8()

    print("motion3d: training")
    motion = Motion3d()

    def motion_batch():
        clips, labels = motion_sample(32)
        return to_input(clips, M_MEAN, M_STD).permute(0, 4, 1, 2, 3), torch.from_numpy(labels)

    train(motion, motion_batch, F.cross_entropy, 500, 3e-3)
    clips, labels = motion_sample(200)
    with torch.no_grad():
        acc = (motion(to_input(clips, M_MEAN, M_STD).permute(0, 4, 1, 2, 3)).argmax(1).numpy() == labels).mean()
    print(f"  held-out accuracy {acc:.3f}")
    export("motion3d", motion, to_input(motion_sample(2)[0], M_MEAN, M_STD).permute(0, 4, 1, 2, 3).contiguous(), {
        "task": "clip-classify",
        "input": {"width": 32, "height": 32, "clip_len": T, "layout": "ncthw", "channels": "rgb", "scale": True,
                  "mean": M_MEAN, "std": M_STD, "resize": "stretch"},
        "output": "logits", "labels": MOTIONS})

    print("squares: training")
    net = SquaresNet()

    def squares_batch():
        imgs, boxes = squares_sample(32)
        return to_input(imgs, D_MEAN, D_STD).permute(0, 3, 1, 2), boxes

    train(net, squares_batch, detector_loss, 1500, 4e-3)
    v5, v8 = YoloV5Head(net).eval(), YoloV8Head(net).eval()
    imgs, boxes = squares_sample(100)
    ious = []
    with torch.no_grad():
        out = v5(to_input(imgs, D_MEAN, D_STD).permute(0, 3, 1, 2)).numpy()
    for i, bs in enumerate(boxes):
        conf = out[i, :, 4] * out[i, :, 5:].max(1)
        for x1, y1, x2, y2, _c in bs:
            best = 0.0
            for a in np.nonzero(conf > 0.4)[0]:
                cx, cy, w, h = out[i, a, :4]
                best = max(best, iou((x1, y1, x2, y2), (cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2)))
            ious.append(best)
    print(f"  held-out: mean best IoU {np.mean(ious):.3f}, share >= 0.7: {np.mean(np.array(ious) >= 0.7):.3f}")
    example = to_input(squares_sample(2)[0], D_MEAN, D_STD).permute(0, 3, 1, 2).contiguous()
    common = {"task": "detect",
              "input": {"width": D_SIZE, "height": D_SIZE, "layout": "nchw", "channels": "rgb", "scale": True,
                        "mean": D_MEAN, "std": D_STD, "resize": "letterbox"},
              "labels": SQUARE_COLOURS}
    export("squares", v5, example, {**common,
                                    "detect": {"layout": "yolov5", "conf": 0.4, "iou": 0.45}})
    export("squares_v8", v8, example, {**common,
                                       "detect": {"layout": "yolov8", "conf": 0.4, "iou": 0.45}})


if __name__ == "__main__":
    main()
