# Nothing a user writes is silently ignored or silently wrong (issue 17): outputs that are
# devices, FIFOs or stdout stay what they are; model descriptions are checked; the Python
# module's defaults and layouts are the CLI's; progress reaches a log; audio follows the
# container. Checked against ffprobe, the ffmpeg CLI, numpy and torchvision.
import json
import os
import re
import stat
import subprocess
import sys
import threading

import numpy as np
import pytest

from conftest import ROOT, ffmpeg_rgb, ffprobe_frames

MODELS = ROOT / "tests" / "models"
SHAPES2D = MODELS / "shapes2d.pt"


def run(cli, *args, **kw):
    return subprocess.run([cli, *map(str, args)], capture_output=True, text=True, **kw)


def result_lines(text):
    return [json.loads(line) for line in text.splitlines() if line.strip()]


# ---- 1. outputs -------------------------------------------------------------------------

@pytest.mark.skipif(os.geteuid() != 0, reason="mknod needs root")
def test_a_device_output_stays_a_device(cli, media, tmp_path):
    null = tmp_path / "null"
    os.mknod(null, 0o666 | stat.S_IFCHR, os.makedev(1, 3))  # a private /dev/null
    p = run(cli, "run", SHAPES2D, media / "shapes.mp4", "--out", null)
    assert p.returncode == 0, p.stderr
    assert stat.S_ISCHR(os.stat(null).st_mode), "the device was replaced by a file"
    assert sorted(os.listdir(tmp_path)) == ["null"], "no part file beside it"


def test_stdout_and_a_fifo_receive_the_results(cli, media, tmp_path):
    frames = len(ffprobe_frames(media / "shapes.mp4"))
    p = run(cli, "run", SHAPES2D, media / "shapes.mp4", "--out", "-")
    assert p.returncode == 0, p.stderr
    assert [r["frame"] for r in result_lines(p.stdout)] == list(range(frames))

    fifo = tmp_path / "results.fifo"
    os.mkfifo(fifo)
    got = {}
    reader = threading.Thread(target=lambda: got.update(text=open(fifo).read()))
    reader.start()
    p = run(cli, "run", SHAPES2D, media / "shapes.mp4", "--out", fifo, timeout=120)
    reader.join(60)
    assert p.returncode == 0, p.stderr
    assert stat.S_ISFIFO(os.stat(fifo).st_mode)
    assert [r["frame"] for r in result_lines(got["text"])] == list(range(frames))
    assert sorted(os.listdir(tmp_path)) == ["results.fifo"]


def test_an_extension_framepipe_does_not_write_is_an_error(cli, media, tmp_path):
    out = tmp_path / "r.parquet"
    p = run(cli, "run", SHAPES2D, media / "shapes.mp4", "--out", out)
    assert p.returncode == 2, p.stderr
    assert "'.parquet'" in p.stderr and ".jsonl" in p.stderr and ".csv" in p.stderr, p.stderr
    assert os.listdir(tmp_path) == []
    p = run(cli, "run", SHAPES2D, media / "shapes.mp4", "--out", tmp_path / "r.csv")
    assert p.returncode == 0 and (tmp_path / "r.csv").read_text().startswith("video,kind,frame"), p.stderr
    assert "results from 1 video in" in p.stderr, p.stderr  # English counts


# ---- 2. the model description ------------------------------------------------------------

def spec_file(tmp_path, **changes):
    spec = json.loads((MODELS / "shapes2d.json").read_text())
    for key, value in changes.items():
        where = spec
        *path, last = key.split(".")
        for k in path:
            where = where[k]
        where[last] = value
    f = tmp_path / "desc.json"
    f.write_text(json.dumps(spec))
    return f


@pytest.mark.parametrize("key,meant", [("input.meam", "mean"), ("input.stdev", "std"), ("lables", "labels"),
                                       ("outptu", "output")])
def test_each_misspelt_key_is_an_error_naming_it(cli, media, tmp_path, key, meant):
    desc = spec_file(tmp_path, **{key: [0.5, 0.5, 0.5] if key.startswith("input") else "x"})
    p = run(cli, "run", SHAPES2D, media / "shapes.mp4", "--spec", desc, "--out", tmp_path / "r.jsonl")
    assert p.returncode == 1, p.stderr
    name = key.split(".")[-1]
    assert f"unknown key '{name}'" in p.stderr and f"did you mean '{meant}'" in p.stderr, p.stderr
    assert not (tmp_path / "r.jsonl").exists()


def test_spec_gives_the_description_and_answers_as_the_one_beside_the_model(cli, media, tmp_path):
    beside = run(cli, "run", SHAPES2D, media / "shapes.mp4", "--sample", "every:10")
    given = run(cli, "run", SHAPES2D, media / "shapes.mp4", "--sample", "every:10", "--spec", spec_file(tmp_path))
    assert beside.returncode == 0 and given.returncode == 0, given.stderr
    assert result_lines(beside.stdout) == result_lines(given.stdout)


def test_mean_and_std_of_0_255_with_scale_are_an_error(cli, media, tmp_path):
    desc = spec_file(tmp_path, **{"input.mean": [123.7, 116.3, 103.5], "input.std": [58.4, 57.1, 57.4]})
    p = run(cli, "run", SHAPES2D, media / "shapes.mp4", "--spec", desc)
    assert p.returncode == 1 and "look like 0-255 values" in p.stderr, p.stderr


CLASSIFY = {"task": "classify", "input": {"width": 32, "height": 32}}


def test_labels_that_do_not_match_the_outputs_are_an_error(fp, media):
    spec = dict(CLASSIFY, labels=["a", "b"])
    with pytest.raises(fp.ModelError, match="answers 7 classes per row but its description has 2 labels"):
        fp.run(str(media / "shapes.mp4"), lambda b: np.zeros((len(b), 7), np.float32), spec=spec).wait()


def test_one_row_for_a_batch_of_eight_is_an_error(fp, media):
    with pytest.raises(fp.ModelError, match="8 rows went in"):
        fp.run(str(media / "shapes.mp4"), lambda b: np.zeros((1, 3), np.float32), spec=CLASSIFY, batch=8).wait()


def test_an_output_is_chosen_by_position_or_name(fp, media):
    logits = np.array([0.0, 3.0, 1.0], np.float32)
    expect = np.exp(logits - logits.max()) / np.exp(logits - logits.max()).sum()

    def model(b):
        return np.zeros((len(b), 5), np.float32), np.tile(logits, (len(b), 1))
    for select in (1, "output1"):
        rows = list(fp.run(str(media / "shapes.mp4"), model, spec=dict(CLASSIFY, select_output=select),
                           sample="every:25"))
        assert len(rows) == 3
        for r in rows:
            assert [c["label"] for c in r["classes"]] == ["class 1", "class 2", "class 0"]
            assert r["classes"][0]["score"] == pytest.approx(expect[1], rel=1e-5)
    with pytest.raises(fp.ModelError, match="no output named 'scores'"):
        fp.run(str(media / "shapes.mp4"), model, spec=dict(CLASSIFY, select_output="scores")).wait()


# A YOLOv5 head with one box, at a known place in a 64x64 input: x 8..24, y 16..48.
BOX_PX = np.array([16.0, 32.0, 16.0, 32.0])  # cx, cy, w, h


def yolo(scale):
    def model(b):
        out = np.zeros((len(b), 4, 6), np.float32)  # 4 anchors, 1 class
        out[:, 0, :4] = BOX_PX * scale
        out[:, 0, 4] = 0.9
        out[:, 0, 5] = 1.0
        return out
    return model


DETECT = {"task": "detect", "input": {"width": 64, "height": 64, "resize": "stretch"}, "labels": ["thing"]}


def boxes_of(fp, media, model, spec):
    rows = list(fp.run(str(media / "shapes.mp4"), model, spec=spec, sample="every:25"))
    return [o["box"] for r in rows for o in r["objects"]]


def test_normalised_and_pixel_yolo_boxes_come_out_right_when_declared(fp, media, capfd):
    _, h, w, _ = fp.VideoReader(str(media / "shapes.mp4")).shape
    expect = [8 * w / 64, 16 * h / 64, 24 * w / 64, 48 * h / 64]  # the box in source pixels
    pixels = boxes_of(fp, media, yolo(1.0), dict(DETECT, detect={"units": "pixels"}))
    normalised = boxes_of(fp, media, yolo(1 / 64), dict(DETECT, detect={"units": "normalized"}))
    assert len(pixels) == 3 and len(normalised) == 3
    for box in pixels + normalised:
        assert box == pytest.approx(expect, abs=0.01)
    assert "warning" not in capfd.readouterr().err
    # Normalised boxes declared as pixels: a warning, once, that says what to declare.
    boxes_of(fp, media, yolo(1 / 64), dict(DETECT, name="undeclared"))
    err = capfd.readouterr().err
    assert err.count("look normalised") == 1 and '"units": "normalized"' in err, err


def test_boxes_outside_the_input_get_a_warning(fp, media, capfd):
    def model(b):
        out = np.zeros((len(b), 4, 6), np.float32)
        out[:, 0, :4] = [500, 500, 10, 10]
        out[:, 0, 4:] = 0.9
        return out
    boxes_of(fp, media, model, dict(DETECT, name="far"))
    assert "none of a batch's boxes meets the 64x64 input" in capfd.readouterr().err


def test_a_torchvision_style_detector_lists_its_boxes(fp, media):
    def model(b):  # a list of {boxes, scores, labels}, one per image, as torchvision's detectors answer
        return [{"boxes": np.array([[8, 16, 24, 48], [0, 0, 4, 4]], np.float32),
                 "scores": np.array([0.9, 0.1], np.float32), "labels": np.array([1, 0], np.int64)} for _ in b]
    spec = {"task": "detect", "input": {"width": 64, "height": 64}, "labels": ["__background__", "thing"],
            "detect": {"layout": "torchvision", "conf": 0.5}}
    r = fp.VideoReader(str(media / "shapes.mp4"))
    w, h = r.shape[2], r.shape[1]
    rows = list(fp.run(str(media / "shapes.mp4"), model, spec=spec, sample="every:25"))
    assert len(rows) == 3
    for row in rows:
        assert [o["label"] for o in row["objects"]] == ["thing"]
        assert row["objects"][0]["box"] == pytest.approx([8 * w / 64, 16 * h / 64, 24 * w / 64, 48 * h / 64], abs=0.01)


def test_a_scripted_torchvision_style_detector_runs_in_the_cli(cli, media, tmp_path):
    """A TorchScript module that takes a list of images (as torchvision's detection models do)
    and answers a list of dicts: the box of the brightest pixels' columns and rows."""
    torch = pytest.importorskip("torch")
    from typing import Dict, List

    class Detector(torch.nn.Module):
        def forward(self, images: List[torch.Tensor]) -> List[Dict[str, torch.Tensor]]:
            out: List[Dict[str, torch.Tensor]] = []
            for im in images:
                bright = im.mean(0) > 0.5
                ys = torch.nonzero(bright.any(1)).flatten().float()
                xs = torch.nonzero(bright.any(0)).flatten().float()
                if xs.numel() == 0:
                    box = torch.zeros(0, 4)
                else:
                    box = torch.stack([xs.min(), ys.min(), xs.max() + 1, ys.max() + 1]).reshape(1, 4)
                k = box.shape[0]
                out.append({"boxes": box, "scores": torch.ones(k), "labels": torch.ones(k, dtype=torch.int64)})
            return out
    torch.jit.script(Detector()).save(str(tmp_path / "bright.pt"))
    src = media / "moving_patch.mp4"
    probe = json.loads(subprocess.run(["ffprobe", "-v", "error", "-select_streams", "v:0", "-show_entries",
                                       "stream=width,height", "-of", "json", str(src)],
                                      capture_output=True, text=True, check=True).stdout)["streams"][0]
    w, h = probe["width"], probe["height"]
    (tmp_path / "bright.json").write_text(json.dumps({
        "task": "detect", "input": {"width": w, "height": h}, "labels": ["__background__", "bright"],
        "detect": {"layout": "torchvision", "conf": 0.5}}))
    p = run(cli, "run", tmp_path / "bright.pt", src, "--sample", "every:10", "--batch", "3")
    assert p.returncode == 0, p.stderr
    rows = result_lines(p.stdout)
    ref = ffmpeg_rgb(src, [r["frame"] for r in rows], w, h, *__import__("conftest").contract_colour(src))
    for r in rows:
        bright = ref[r["frame"]].astype(np.float32).mean(2) / 255 > 0.5
        ys, xs = np.nonzero(bright)
        if len(xs) == 0:
            assert r["objects"] == []
            continue
        assert [o["label"] for o in r["objects"]] == ["bright"]
        assert r["objects"][0]["box"] == pytest.approx([xs.min(), ys.min(), xs.max() + 1, ys.max() + 1], abs=1.01)


# ---- 3. Python parity --------------------------------------------------------------------

def test_clip_tensors_feed_torchvisions_r3d_18(fp, media):
    torch = pytest.importorskip("torch")
    tv = pytest.importorskip("torchvision")
    r = fp.VideoReader(str(media / "shapes.mp4"))
    t = r.tensor("clips:16:2:2", size=(112, 112))
    assert t.layout == "ncthw" and tuple(t.shape) == (2, 3, 16, 112, 112)
    model = tv.models.video.r3d_18(weights=None).eval()
    with torch.no_grad():
        out = model(torch.from_numpy(np.asarray(t)))
    assert tuple(out.shape) == (2, 400)
    # The layout is named as the dimensions are, whichever is asked for.
    assert r.tensor("clips:16:2:2", size=(32, 32), layout="nchw").layout == "ntchw"
    assert r.tensor("every:10", size=(32, 32)).layout == "nchw"


def test_width_or_height_alone_keeps_the_aspect_ratio(fp, media):
    src = media / "shapes.mp4"
    full = fp.VideoReader(str(src))
    _, h, w, _ = full.shape
    for kw, size in (({"width": 96}, (96, round(h * 96 / w))), ({"height": 60}, (round(w * 60 / h), 60))):
        r = fp.VideoReader(str(src), **kw)
        assert (r.shape[2], r.shape[1]) == size
        ref = ffmpeg_rgb(src, [0], size[0], size[1])[0]
        assert np.array_equal(r[0], ref)


def test_max_pixels_reaches_python_as_the_clis(fp, media):
    src = media / "shapes.mp4"  # 160 x 120 = 19200 pixels, by ffprobe
    with pytest.raises(fp.UnsupportedError) as e:
        fp.VideoReader(str(src), max_pixels=19199)
    assert "shapes.mp4" in str(e.value) and "max_pixels" in str(e.value)
    assert len(fp.VideoReader(str(src), max_pixels=19200)) == len(ffprobe_frames(src))
    assert len(fp.VideoReader(str(src), max_pixels=0)) == len(ffprobe_frames(src))  # 0: no limit
    with pytest.raises(ValueError):
        fp.VideoReader(str(src), max_pixels=-1)
    import pickle
    r = pickle.loads(pickle.dumps(fp.VideoReader(str(src), max_pixels=19200)))
    assert np.array_equal(r[3], fp.VideoReader(str(src))[3])


def test_batch_bytes_reaches_python_as_the_clis(fp, cli, media, tmp_path):
    src = media / "shapes.mp4"  # 160 x 120 RGB: 57600 bytes a frame
    r = fp.VideoReader(str(src), batch_bytes=4 * 57600)
    ref = ffmpeg_rgb(src, [0, 1, 2, 3], 160, 120)
    assert np.array_equal(r.get_batch([0, 1, 2, 3]), np.stack([ref[i] for i in range(4)]))  # at the limit: given
    with pytest.raises(ValueError) as e:
        r.get_batch([0, 1, 2, 3, 4])  # over it: refused before memory is taken
    assert "shapes.mp4" in str(e.value) and "batch_bytes" in str(e.value)
    import pickle
    with pytest.raises(ValueError):
        pickle.loads(pickle.dumps(r)).get_batch([0, 1, 2, 3, 4])  # the limit travels with it
    assert fp.VideoReader(str(src), batch_bytes=0).get_batch(list(range(10))).shape[0] == 10  # 0: no limit
    with pytest.raises(ValueError):
        fp.VideoReader(str(src), batch_bytes=-1)
    p = subprocess.run([cli, "tensors", str(src), "--sample", "indices:0,1,2,3,4", "--size", "160x120", "--dtype",
                        "u8", "--layout", "nhwc", "--batch", "5", "--out", str(tmp_path / "t"),
                        "--batch-bytes", str(4 * 57600)], capture_output=True, text=True)
    assert p.returncode == 2 and "batch_bytes" in p.stderr and "shapes.mp4" in p.stderr, p.stderr  # 2: bad usage
    p = subprocess.run([cli, "tensors", str(src), "--sample", "indices:0,1,2,3,4", "--size", "160x120", "--dtype",
                        "u8", "--layout", "nhwc", "--batch", "4", "--out", str(tmp_path / "t"),
                        "--batch-bytes", str(4 * 57600)], capture_output=True, text=True)
    assert p.returncode == 0, p.stderr  # at the limit
    assert np.array_equal(np.load(tmp_path / "t" / "batch_000000.npy"), np.stack([ref[i] for i in range(4)]))
    # frames hands each frame on as it comes and holds none: it has no such limit to set.
    p = subprocess.run([cli, "frames", str(src), "--indices", "0,1,2,3,4", "--format", "null",
                        "--batch-bytes", str(4 * 57600)], capture_output=True, text=True)
    assert p.returncode == 2 and "--batch-bytes" in p.stderr, p.stderr


def test_a_gpu_device_without_a_driver_is_a_clear_error(fp, cli, media):
    import ctypes
    try:
        ctypes.CDLL("libcuda.so.1")
        pytest.skip("an NVIDIA driver is installed here: the device path is measured on a lent GPU")
    except OSError:
        pass
    src = media / "shapes.mp4"
    with pytest.raises(fp.UnsupportedError) as e:
        fp.VideoReader(str(src), device="cuda:0")
    assert "shapes.mp4" in str(e.value) and "cuda:0" in str(e.value) and "libcuda.so.1" in str(e.value)
    p = subprocess.run([cli, "frames", str(src), "--device", "cuda", "--indices", "0", "--format", "null"],
                       capture_output=True, text=True)
    assert p.returncode == 3 and "libcuda.so.1" in p.stderr, p.stderr
    for bad in ("gpu", "cuda:x"):
        with pytest.raises(ValueError):
            fp.VideoReader(str(src), device=bad)
    assert len(fp.VideoReader(str(src), device="cpu")) == len(ffprobe_frames(src))


def test_a_missing_file_is_also_a_file_not_found_error(fp, tmp_path):
    with pytest.raises(FileNotFoundError) as e:
        fp.VideoReader(str(tmp_path / "nope.mp4"))
    assert isinstance(e.value, fp.OpenError) and e.value.errno == 2 and "nope.mp4" in str(e.value)
    with pytest.raises(FileNotFoundError) as e:
        fp.run(str(tmp_path / "nope.mp4"), str(tmp_path / "nope.pt")).wait()
    assert isinstance(e.value, fp.ModelError)
    # A file that is there but is not a video is not a FileNotFoundError.
    (tmp_path / "notes.mp4").write_text("not a video")
    with pytest.raises(fp.OpenError) as e:
        fp.VideoReader(str(tmp_path / "notes.mp4"))
    assert not isinstance(e.value, FileNotFoundError)


def cli_defaults(cli, command):
    """--option -> its default, from `framepipe COMMAND --help` (CLI11 prints TYPE=DEFAULT)."""
    text = run(cli, command, "--help").stdout
    found = {}
    for m in re.finditer(r"^\s+(--[a-z-]+)(?: [A-Z:]+(?:=(\S+))?)?", text, re.M):
        found[m.group(1)] = m.group(2)
    return found


def python_defaults(fn):
    """keyword -> default, from a pybind11 function's signature line."""
    sig = fn.__doc__.splitlines()[0]
    return dict(re.findall(r"(\w+): [\w.\[\], ]+ = ('[^']*'|[-\w.]+|\{\})", sig))


def same(cli_value, py_value):
    if cli_value is None:  # an option without a default shown: Python's is None, False or 0
        return py_value in ("None", "False", "0", "0.0")
    py_value = py_value.strip("'")
    try:
        return float(cli_value) == float(py_value)
    except ValueError:
        return cli_value == py_value


# (CLI command, --option) and its Python twin (callable, keyword). Where they differ by design
# the pair is listed below with the reason.
PAIRS = [
    ("frames", "--resize", "VideoReader", "resize"), ("frames", "--pix", "VideoReader", "pix"),
    ("frames", "--interp", "VideoReader", "interpolation"), ("frames", "--threads", "VideoReader", "num_threads"),
    ("frames", "--workers", "VideoReader", "workers"), ("frames", "--index", "VideoReader", "index"),
    ("frames", "--max-pixels", "VideoReader", "max_pixels"), ("frames", "--device", "VideoReader", "device"),
    ("tensors", "--batch-bytes", "VideoReader", "batch_bytes"),
    ("tensors", "--resize", "tensor", "resize"), ("tensors", "--dtype", "tensor", "dtype"),
    ("tensors", "--layout", "tensor", "layout"),
    ("run", "--sample", "run", "sample"), ("run", "--batch", "run", "batch"), ("run", "--top-k", "run", "top_k"),
    ("run", "--aggregate", "run", "aggregate"), ("run", "--window", "run", "window"), ("run", "--alpha", "run", "alpha"),
    ("run", "--on", "run", "on"), ("run", "--off", "run", "off"), ("run", "--min-duration", "run", "min_duration"),
    ("run", "--conf", "run", "conf"), ("run", "--iou", "run", "iou"), ("run", "--engine", "run", "engine"),
    ("run", "--model-threads", "run", "model_threads"), ("run", "--threads", "run", "num_threads"),
    ("run", "--workers", "run", "workers"), ("run", "--strict", "run", "strict"), ("run", "--live", "run", "live"),
    ("run", "--queue", "run", "queue"), ("run", "--duration", "run", "duration"), ("run", "--timeout", "run", "timeout"),
    ("run", "--reconnects", "run", "reconnects"), ("run", "--batch-timeout", "run", "batch_timeout_ms"),
    ("run", "--rtsp-transport", "run", "rtsp_transport"), ("run", "--spec", "run", "spec"),
    ("run", "--track", "run", "track"), ("run", "--segments", "run", "segments"),
    ("run", "--annotate", "run", "annotate"), ("run", "--embeddings", "run", "embeddings"),
    ("run", "--metrics", "run", "metrics"),
]
# By design: the CLI writes results to stdout (--out -), Python hands them to the iterator
# (out=None); --no-autorotate is the CLI's spelling of autorotate=True.


def test_every_cli_default_and_its_python_twin_agree(fp, cli):
    callables = {"VideoReader": fp.VideoReader.__init__, "tensor": fp.VideoReader.tensor, "run": fp.run}
    helps = {c: cli_defaults(cli, c) for c in {p[0] for p in PAIRS}}
    wrong = []
    for command, option, twin, keyword in PAIRS:
        assert option in helps[command], f"{command} has no {option}"
        py = python_defaults(callables[twin])
        assert keyword in py, f"{twin} has no {keyword}: {py}"
        if not same(helps[command][option], py[keyword]):
            wrong.append(f"{command} {option}={helps[command][option]} but {twin}({keyword}={py[keyword]})")
    assert not wrong, wrong
    assert "--no-autorotate" in helps["frames"] and python_defaults(fp.VideoReader.__init__)["autorotate"] == "True"


# ---- 4. feedback -------------------------------------------------------------------------

def test_progress_lines_reach_a_log_file(cli, media, tmp_path):
    log = tmp_path / "log.txt"
    with open(log, "w") as err:
        p = subprocess.run([cli, "run", "builtin:motion", str(media / "shapes.mp4"), "--out", str(tmp_path / "r.jsonl"),
                            "--progress-every", "0"], stderr=err)
    assert p.returncode == 0
    frames = len(ffprobe_frames(media / "shapes.mp4"))
    lines = [l for l in log.read_text().splitlines() if re.search(r"shapes\.mp4: \d+/\d+ rows", l)]
    assert len(lines) >= 2, log.read_text()
    done = [int(re.search(r": (\d+)/", l).group(1)) for l in lines]
    assert done == sorted(done) and done[-1] == frames and f"/{frames} rows (100%)" in lines[-1]
    assert "\r" not in log.read_text()  # no terminal redraws in a log


def test_python_progress_goes_to_a_callback_and_to_a_redirected_stderr(fp, media, tmp_path):
    seen = []
    fp.run(str(media / "shapes.mp4"), "builtin:motion", progress=seen.append).wait()
    frames = len(ffprobe_frames(media / "shapes.mp4"))
    assert seen and seen[-1]["finished"] and seen[-1]["done"] == seen[-1]["total"] == frames
    assert all(set(s) == {"video", "done", "total", "rate", "eta", "finished"} for s in seen)
    assert seen[-1]["rate"] > 0
    script = ("import sys; sys.path.insert(0, sys.argv[1]); import framepipe; "
              "framepipe.run(sys.argv[2], 'builtin:motion', progress=True).wait()")
    log = tmp_path / "err.txt"
    with open(log, "w") as err:
        subprocess.run([sys.executable, "-c", script, os.path.dirname(fp.__file__), str(media / "shapes.mp4")],
                       stderr=err, check=True)
    assert f"{frames}/{frames} rows (100%)" in log.read_text(), log.read_text()


# ---- 5. audio follows the container ------------------------------------------------------

def stream_seconds(path, kind):
    """First to last packet end of the first stream of `kind`, from ffprobe."""
    out = json.loads(subprocess.run(["ffprobe", "-v", "error", "-select_streams", f"{kind}:0", "-show_entries",
                                     "packet=pts_time,duration_time:stream=codec_name", "-of", "json", str(path)],
                                    capture_output=True, text=True, check=True).stdout)
    pk = [p for p in out["packets"] if "pts_time" in p]
    start = min(float(p["pts_time"]) for p in pk)
    end = max(float(p["pts_time"]) + float(p.get("duration_time", 0)) for p in pk)
    return out["streams"][0]["codec_name"], start, end


def test_webm_gets_an_opus_track_as_long_as_the_video(cli, media, tmp_path):
    out = tmp_path / "gray.webm"
    p = run(cli, "transform", media / "h264_audio.mp4", out, "--ops", "gray", "--codec", "libvpx-vp9")
    assert p.returncode == 0, p.stderr
    assert "re-encoded to Opus" in p.stderr, p.stderr
    vcodec, v0, v1 = stream_seconds(out, "v")
    acodec, a0, a1 = stream_seconds(out, "a")
    assert (vcodec, acodec) == ("vp9", "opus")
    _, s0, s1 = stream_seconds(media / "h264_audio.mp4", "a")
    assert abs((a1 - a0) - (s1 - s0)) < 0.03, (a0, a1, s0, s1)   # the audio is all there
    assert abs((a1 - a0) - (v1 - v0)) < 0.05, (a0, a1, v0, v1)   # and as long as the picture
    assert abs(a0 - v0) < 0.02                                   # and starts with it
    # H.264 into WebM is refused at the start, by name, not by FFmpeg's "Invalid argument".
    p = run(cli, "transform", media / "h264_audio.mp4", tmp_path / "h264.webm", "--ops", "gray")
    assert p.returncode == 2 and "cannot hold h264 video" in p.stderr and "libvpx-vp9" in p.stderr, p.stderr
    assert not list(tmp_path.glob("h264*"))
