# The Python module against the ffmpeg CLI, ffprobe, numpy and PyTorch: exact frames, shapes
# and layouts, memory shared where promised, threads, pickling, run() with a Python callable,
# and errors as exceptions.
import json
import multiprocessing
import pathlib
import pickle
import subprocess
import threading

import numpy as np
import pytest

from conftest import ROOT, ffmpeg_all_rgb, ffprobe_frame_table

MODELS = ROOT / "tests" / "models"
EXACT = ["h264_bframes.mp4", "vfr.mp4", "hevc.mp4", "mpeg4_bframes.avi", "mjpeg_full.avi", "vp9_odd.webm"]


@pytest.fixture(scope="module")
def refs(media):
    cache = {}

    def get(name, pix="rgb24"):
        if (name, pix) not in cache:
            cache[(name, pix)] = ffmpeg_all_rgb(media / name, pix)
        return cache[(name, pix)]
    return get


# ---- exact frames -------------------------------------------------------------------------

@pytest.mark.parametrize("name", EXACT)
def test_every_frame_equals_ffmpeg(fp, media, refs, name):
    ref = refs(name)
    r = fp.VideoReader(str(media / name))
    assert len(r) == len(ref)
    got = r.get_batch(range(len(r)))
    assert got.shape == ref.shape and got.dtype == np.uint8
    bad = [i for i in range(len(ref)) if not np.array_equal(got[i], ref[i])]
    assert not bad, f"{name}: frames {bad[:10]} differ from ffmpeg's"


@pytest.mark.parametrize("name", ["h264_bframes.mp4", "mpeg4_bframes.avi", "vfr.mp4"])
def test_random_access_in_any_order(fp, media, refs, name):
    ref = refs(name)
    n = len(ref)
    r = fp.VideoReader(str(media / name))
    rng = np.random.default_rng(7)
    idx = list(rng.integers(0, n, 24)) + [n - 1, 0, 5, 5, -1, -n]
    got = r.get_batch(idx)
    want = np.stack([ref[i] for i in idx])
    assert np.array_equal(got, want)
    assert np.array_equal(r[-1], ref[-1]) and np.array_equal(r[3], ref[3])
    assert np.array_equal(r[5:60:7], ref[5:60:7])
    assert np.array_equal(r[::-9], ref[::-9])
    # numpy integers and arrays are indices too
    assert np.array_equal(r.get_batch(np.array([9, 2])), ref[[9, 2]])


def test_iteration_and_seek_next(fp, media, refs):
    ref = refs("h264_bframes.mp4")
    r = fp.VideoReader(str(media / "h264_bframes.mp4"))
    frames = [f for f in r]
    assert len(frames) == len(ref) and all(np.array_equal(a, b) for a, b in zip(frames, ref))
    r.seek(40)
    f = r.next()
    assert f.base.index[0] == 40 and np.array_equal(f, ref[40])
    assert np.array_equal(r.next(), ref[41])
    r.seek(len(ref) - 1)
    r.next()
    with pytest.raises(StopIteration):
        r.next()


def test_bytes_source_equals_path(fp, media, refs):
    data = (media / "h264_bframes.mp4").read_bytes()
    r = fp.VideoReader(data)
    assert len(r) == len(refs("h264_bframes.mp4"))
    assert np.array_equal(r.get_batch([0, 50, 99]), refs("h264_bframes.mp4")[[0, 50, 99]])


def test_bgr_and_gray(fp, media, refs):
    path = str(media / "hevc.mp4")
    rgb = refs("hevc.mp4")
    bgr = fp.VideoReader(path, pix="bgr").get_batch([0, 10])
    assert np.array_equal(bgr, rgb[[0, 10]][..., ::-1])
    gray = fp.VideoReader(path, pix="gray").get_batch([0, 10])
    assert gray.shape == (2, 240, 320, 1)
    assert np.array_equal(gray, refs("hevc.mp4", "gray")[[0, 10]])


# ---- time ---------------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["vfr.mp4", "h264_bframes.mp4"])
def test_timestamps_and_keys_match_ffprobe(fp, media, name):
    table = ffprobe_frame_table(media / name)
    r = fp.VideoReader(str(media / name))
    ts = r.get_frame_timestamp(range(len(r)))
    assert ts.shape == (len(table), 2) and ts.dtype == np.float64
    assert np.allclose(ts[:, 0], [t for t, _ in table], atol=1e-9)
    assert np.allclose(ts[:-1, 1], ts[1:, 0])  # shown until the next frame
    assert list(r.get_key_indices()) == [i for i, (_, k) in enumerate(table) if k]
    assert r.get_avg_fps() > 0
    f = r.frames([0, 7, 3])
    assert list(f.index) == [0, 7, 3]
    assert np.allclose(f.t, [table[i][0] for i in (0, 7, 3)])


def test_input_options_open_the_input_as_the_ffmpeg_cli_would(fp, tmp_path):
    """input_options are FFmpeg's open options (the CLI's -KEY VALUE before -i). A raw MJPEG
    stream has no timestamps of its own: its frame rate is an option, and the times follow
    ffprobe's with the same option. They survive pickling; a misspelt one is a ConfigError."""
    raw = tmp_path / "cam.mjpeg"
    subprocess.run(["ffmpeg", "-v", "error", "-f", "lavfi", "-i", "testsrc=s=160x120:r=25", "-frames:v", "12",
                    "-c:v", "mjpeg", "-f", "mjpeg", str(raw)], check=True)

    def ffprobe_times(*opts):
        out = subprocess.run(["ffprobe", "-v", "error", *opts, "-show_entries", "frame=best_effort_timestamp_time",
                              "-of", "csv=p=0", str(raw)], check=True, capture_output=True, text=True).stdout
        return [float(line.strip().rstrip(",")) for line in out.split()]

    r = fp.VideoReader(str(raw), input_options={"framerate": 50})
    at50 = ffprobe_times("-framerate", "50")
    assert len(r) == 12 and at50[1] == pytest.approx(0.02)
    np.testing.assert_allclose(r.get_frame_timestamp(list(range(12)))[:, 0], at50, atol=1e-6)
    np.testing.assert_allclose(fp.VideoReader(str(raw)).get_frame_timestamp(list(range(12)))[:, 0],
                               ffprobe_times(), atol=1e-6)
    again = pickle.loads(pickle.dumps(r))
    np.testing.assert_allclose(again.get_frame_timestamp([11])[:, 0], [at50[11]], atol=1e-6)
    with pytest.raises(fp.ConfigError, match="framerat'"):
        fp.VideoReader(str(raw), input_options={"framerat": 50})


def test_frames_at_is_the_frame_on_screen(fp, media, refs):
    table = ffprobe_frame_table(media / "vfr.mp4")
    r = fp.VideoReader(str(media / "vfr.mp4"))
    times = [table[10][0], (table[10][0] + table[11][0]) / 2, table[40][0] - 1e-6]
    got = r.frames_at(times)
    assert list(got.index) == [10, 10, 39]
    assert np.array_equal(np.asarray(got), refs("vfr.mp4")[[10, 10, 39]])
    with pytest.raises(fp.OutOfRangeError):
        r.frames_at([1e6])


def test_sample_specs(fp, media):
    table = ffprobe_frame_table(media / "h264_bframes.mp4")
    r = fp.VideoReader(str(media / "h264_bframes.mp4"))
    assert list(r.sample("every:30").index) == [0, 30, 60, 90]
    assert list(r.sample("keyframes").index) == [i for i, (_, k) in enumerate(table) if k]
    # MMAction2's SampleFrames, test mode: avg = (100 - 8*2 + 1) / 3; offsets int(avg*k + avg/2)
    avg = (100 - 16 + 1) / 3
    offsets = [int(avg * k + avg / 2) for k in range(3)]
    c = r.clips("clips:8:2:3:uniform")
    assert np.asarray(c).shape == (3, 8, 240, 320, 3) and c.index.shape == (3, 8)
    assert c.index.tolist() == [[o + 2 * t for t in range(8)] for o in offsets]
    assert r.sample_indices("clips:8:2:3:uniform").tolist() == c.index.tolist()


# ---- shapes, dtypes, layouts, tensors ------------------------------------------------------

def test_resized_reader_shapes(fp, media):
    r = fp.VideoReader(str(media / "h264_bframes.mp4"), width=64, height=48)
    assert r.shape == (100, 48, 64, 3)
    assert r[0].shape == (48, 64, 3) and r.get_batch([1, 2]).shape == (2, 48, 64, 3)
    lb = fp.VideoReader(str(media / "h264_bframes.mp4"), width=100, height=100, resize="letterbox")
    assert lb[0].shape == (100, 100, 3)


def test_tensor_equals_numpy_preprocessing(fp, media):
    path = str(media / "h264_bframes.mp4")
    r = fp.VideoReader(path)
    mean, std = [0.485, 0.456, 0.406], [0.229, 0.224, 0.225]
    idx = [4, 0, 77]
    t = r.tensor(idx, size=(64, 48), mean=mean, std=std)
    assert t.shape == (3, 3, 48, 64) and t.dtype == np.float32 and t.layout == "nchw"
    assert list(t.index) == idx
    # the same frames at that size, as uint8, from a reader opened at that size
    small = fp.VideoReader(path, width=64, height=48).get_batch(idx).astype(np.float32)
    want = ((small / 255.0 - np.array(mean, np.float32)) / np.array(std, np.float32)).transpose(0, 3, 1, 2)
    assert np.allclose(np.asarray(t), want, atol=1e-6)
    u8 = r.tensor(idx, size=(64, 48), layout="nhwc", dtype="u8")
    assert u8.shape == (3, 48, 64, 3) and u8.dtype == np.uint8
    assert np.array_equal(np.asarray(u8), small.astype(np.uint8))


def test_clip_tensor_ncthw(fp, media):
    path = str(media / "h264_bframes.mp4")
    r = fp.VideoReader(path)
    t = r.tensor("clips:4:3:2", size=(32, 32), layout="ncthw")
    assert t.shape == (2, 3, 4, 32, 32) and t.index.shape == (2, 4)
    frames = fp.VideoReader(path, width=32, height=32).get_batch(t.index.ravel()).astype(np.float32) / 255.0
    want = frames.reshape(2, 4, 32, 32, 3).transpose(0, 4, 1, 2, 3)
    assert np.allclose(np.asarray(t), want, atol=1e-6)
    with pytest.raises(fp.ConfigError):
        r.tensor([1, 2], layout="ncthw")


# ---- memory: no copies where none is promised ---------------------------------------------

def test_arrays_share_framepipe_memory(fp, media):
    r = fp.VideoReader(str(media / "h264_bframes.mp4"))
    a = r.get_batch([3, 4])
    assert isinstance(a.base, fp.Frames)
    view = np.asarray(a.base)
    assert np.shares_memory(a, view)
    a[0, 0, 0, 0] = 255 - a[0, 0, 0, 0]
    assert view[0, 0, 0, 0] == a[0, 0, 0, 0]
    assert isinstance(r[0].base, fp.Frames)
    f = r.frames([1])
    assert np.shares_memory(f.array, np.asarray(f))


def test_tensor_views_and_dlpack(fp, media):
    import torch
    r = fp.VideoReader(str(media / "h264_bframes.mp4"))
    t = r.tensor([0, 1], size=(16, 16))
    a = np.asarray(t)
    assert np.shares_memory(a, t.numpy())
    d = np.from_dlpack(t)
    assert np.shares_memory(a, d) and d.shape == (2, 3, 16, 16)
    tt = torch.from_dlpack(t)
    assert tt.data_ptr() == a.__array_interface__["data"][0]
    del t, a, d  # the torch tensor keeps the memory alive on its own
    ref = fp.VideoReader(str(media / "h264_bframes.mp4")).tensor([0, 1], size=(16, 16))
    assert torch.equal(tt, torch.from_numpy(np.asarray(ref)))


# ---- threads and processes ----------------------------------------------------------------

def test_four_threads_each_with_a_reader(fp, media, refs):
    path = str(media / "h264_bframes.mp4")
    ref = refs("h264_bframes.mp4")
    rng = np.random.default_rng(3)
    wanted = [list(rng.integers(0, len(ref), 20)) for _ in range(4)]
    results = [None] * 4
    errors = []

    def work(k):
        try:
            r = fp.VideoReader(path)
            results[k] = [r.get_batch(wanted[k]) for _ in range(3)]
        except Exception as e:  # noqa: BLE001 - reported below
            errors.append(e)
    threads = [threading.Thread(target=work, args=(k,)) for k in range(4)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert not errors
    for k in range(4):
        for got in results[k]:
            assert np.array_equal(got, ref[wanted[k]])


def _child_frames(blob, indices):
    import sys
    sys.path.insert(0, blob[1])
    reader = pickle.loads(blob[0])
    return len(reader), reader.get_batch(indices).tobytes()


def test_reader_survives_pickling_into_a_subprocess(fp, media, refs):
    r = fp.VideoReader(str(media / "mpeg4_bframes.avi"), width=160, height=120)
    blob = pickle.dumps(r)
    where = str(pathlib_dir(fp))
    ctx = multiprocessing.get_context("spawn")
    with ctx.Pool(1) as pool:
        n, raw = pool.apply(_child_frames, ((blob, where), [0, 55, 99, 55]))
    assert n == len(r)
    assert raw == r.get_batch([0, 55, 99, 55]).tobytes()
    same = pickle.loads(blob)
    assert same.shape == r.shape and np.array_equal(same[10], r[10])


def pathlib_dir(module):
    import pathlib
    return pathlib.Path(module.__file__).parent


class _Frames:
    """A torch Dataset over one reader: the reader is pickled into each worker."""

    def __init__(self, reader):
        self.reader = reader

    def __len__(self):
        return 12

    def __getitem__(self, k):
        return self.reader[k * 8]


def test_dataloader_workers(fp, media, refs):
    import torch.utils.data as tud
    r = fp.VideoReader(str(media / "h264_bframes.mp4"))
    loader = tud.DataLoader(_Frames(r), batch_size=4, num_workers=2,
                            multiprocessing_context="fork")
    got = np.concatenate([b.numpy() for b in loader])
    assert np.array_equal(got, refs("h264_bframes.mp4")[::8][:12])


# ---- run() ---------------------------------------------------------------------------------

def _torch_callable(path):
    import torch
    m = torch.jit.load(str(path)).eval()

    def model(batch):
        with torch.no_grad():
            return m(torch.from_numpy(batch))
    return model


def _close(a, b, tol):
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(_close(a[k], b[k], tol) for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(_close(x, y, tol) for x, y in zip(a, b))
    if isinstance(a, float):
        return abs(a - b) <= tol
    return a == b


@pytest.mark.parametrize("model,video,sample", [("squares", "squares.mp4", "every:5"),
                                                 ("shapes2d", "shapes.mp4", "every:7")])
def test_python_callable_equals_torchscript(fp, media, model, video, sample):
    pt = MODELS / f"{model}.pt"
    via_cpp = list(fp.run(str(media / video), str(pt), sample=sample))
    via_py = list(fp.run(str(media / video), _torch_callable(pt), spec=str(MODELS / f"{model}.json"), sample=sample))
    assert len(via_cpp) == len(via_py) > 3
    for a, b in zip(via_cpp, via_py):
        assert _close(a, b, 2e-3), (a, b)
    assert any(r.get("objects") or r.get("classes") for r in via_py)


def test_run_writes_the_same_lines_it_yields(fp, media, tmp_path):
    out = tmp_path / "r.jsonl"
    got = list(fp.run(str(media / "squares.mp4"), "builtin:motion", out=str(out), sample="every:3"))
    lines = [json.loads(x) for x in out.read_text().splitlines()]
    assert got == lines and len(lines) > 5
    table = ffprobe_frame_table(media / "squares.mp4")
    assert all(abs(r["t"] - table[r["frame"]][0]) < 1e-9 for r in got)
    summary = fp.run(str(media / "squares.mp4"), "builtin:motion", sample="every:3").wait()
    assert summary["results"] == len(lines) and summary["error"] is None and summary["failed"] == 0


def test_callable_outputs_and_failures(fp, media):
    spec = {"task": "classify", "input": {"width": 16, "height": 16}, "labels": ["a", "b"]}
    seen = []

    def as_dict(batch):
        seen.append(batch.shape)
        return {"logits": np.tile(np.array([[0.0, 3.0]], np.float32), (batch.shape[0], 1))}
    rows = list(fp.run(str(media / "h264_bframes.mp4"), as_dict, spec=spec, sample="every:25", batch=2))
    assert [r["frame"] for r in rows] == [0, 25, 50, 75]
    assert all(r["classes"][0]["label"] == "b" for r in rows)
    assert seen == [(2, 3, 16, 16), (2, 3, 16, 16)]

    def broken(batch):
        raise RuntimeError("no weights here")
    with pytest.raises(fp.ModelError, match="no weights here"):
        list(fp.run(str(media / "h264_bframes.mp4"), broken, spec=spec))
    with pytest.raises(fp.ModelError, match="spec"):
        fp.run(str(media / "h264_bframes.mp4"), broken)


def test_closing_a_run_keeps_what_was_written(fp, media, tmp_path):
    out = tmp_path / "r.jsonl"
    with fp.run(str(media / "h264_bframes.mp4"), "builtin:motion", out=str(out), batch=1) as run:
        first = next(run)
    assert first["frame"] == 0
    part = tmp_path / "r.part.jsonl"
    kept = out if out.exists() else part
    assert kept.exists()
    for line in kept.read_text().splitlines():
        json.loads(line)


# ---- errors -------------------------------------------------------------------------------

def test_errors_are_typed(fp, media, tmp_path):
    with pytest.raises(fp.OpenError, match="nothing_here.mp4"):
        fp.VideoReader(str(tmp_path / "nothing_here.mp4"))
    empty = tmp_path / "empty.mp4"
    empty.write_bytes(b"")
    with pytest.raises(fp.Error, match="empty.mp4"):
        fp.VideoReader(str(empty))
    text = tmp_path / "notes.mp4"
    text.write_text("not a video\n" * 100)
    with pytest.raises(fp.OpenError, match="notes.mp4"):
        fp.VideoReader(str(text))
    r = fp.VideoReader(str(media / "h264_bframes.mp4"))
    with pytest.raises(fp.OutOfRangeError, match="0..99"):
        r[100]
    with pytest.raises(IndexError):
        r.get_batch([1, 2, 500])
    with pytest.raises(fp.ConfigError, match="grammar|every:N"):
        r.sample("every:zero")
    with pytest.raises(ValueError):
        r.clips("every:3")
    with pytest.raises(fp.ModelError, match="missing.pt"):
        fp.run(str(media / "h264_bframes.mp4"), str(tmp_path / "missing.pt"))
    with pytest.raises(fp.ConfigError, match="positive"):
        fp.VideoReader(str(media / "h264_bframes.mp4"), width=0)
    with pytest.raises(fp.ConfigError, match="integers"):
        r.get_batch([1.5, 2])
    with pytest.raises(fp.ConfigError, match="positive"):
        r.tensor([1], size=(0, 10))
    assert r.get_batch([]).shape == (0, 240, 320, 3)
    assert r.tensor([], size=(16, 16)).shape == (0, 3, 16, 16)
    with pytest.raises(fp.ConfigError, match="f32"):
        r.tensor([1], dtype="u8", mean=0.5)
    with pytest.raises(fp.ConfigError, match="std"):
        r.tensor([1], std=0)
    with pytest.raises(fp.ConfigError, match="pigeon"):
        fp.run("rtsp://127.0.0.1:9/s", "builtin:motion", rtsp_transport="pigeon").wait()
    assert issubclass(fp.OutOfRangeError, fp.Error) and issubclass(fp.ConfigError, fp.Error)


def test_ctrl_c_stops_a_run_and_keeps_whole_lines(fp, media, tmp_path):
    import os
    import signal
    import time

    def slow(batch):
        time.sleep(0.3)
        return np.zeros((batch.shape[0], 2), np.float32)
    spec = {"task": "classify", "input": {"width": 16, "height": 16}, "labels": ["a", "b"]}
    out = tmp_path / "r.jsonl"
    timer = threading.Timer(1.0, lambda: os.kill(os.getpid(), signal.SIGINT))
    timer.start()
    seen = []
    with pytest.raises(KeyboardInterrupt):
        for r in fp.run(str(media / "h264_bframes.mp4"), slow, spec=spec, batch=1, out=str(out)):
            seen.append(r["frame"])
    timer.join()
    assert 0 < len(seen) < 100
    # stopped part way: the results keep their part name, closed, whole lines
    assert not out.exists()
    rows = [json.loads(line) for line in (tmp_path / "r.part.jsonl").read_text().splitlines()]
    assert [r["frame"] for r in rows][:len(seen)] == seen


def test_the_type_stubs_describe_the_module(fp):
    """python/framepipe.pyi (copied beside the module) names every public class, function and
    method of the module, nothing that is not there, and the same parameters in the same order
    as the bindings' own signatures."""
    import ast
    import inspect
    stub_path = pathlib.Path(fp.__file__).with_name("framepipe.pyi")
    tree = ast.parse(stub_path.read_text())
    dunders = {"__init__", "__len__", "__getitem__", "__iter__", "__next__", "__enter__", "__exit__", "__dlpack__",
               "__dlpack_device__", "__getstate__", "__setstate__"}

    def public(names):
        return {n for n in names if not n.startswith("_") or n in dunders}

    def params(fn):  # (name, ...) without self
        return [a.arg for a in fn.args.posonlyargs + fn.args.args + fn.args.kwonlyargs if a.arg != "self"]

    def bound_params(obj):  # from pybind11's signature line: name(self: T, a: int = 1, *, b: ...) -> R
        first = (obj.__doc__ or "").strip().splitlines()[0]
        inside = first[first.index("(") + 1:first.rindex(")")]
        names = [p.split(":")[0].split("=")[0].strip() for p in inside.split(", ")]
        return [n for n in names if n and n not in ("self", "*", "*args", "**kwargs")]

    top = {n.name: n for n in tree.body if isinstance(n, (ast.ClassDef, ast.FunctionDef))}
    assigned = {t.target.id for t in tree.body if isinstance(t, ast.AnnAssign)}
    # (pure-Python submodules, framepipe.torch and framepipe.compat, become attributes once imported)
    module_names = {n for n in dir(fp) if not n.startswith("_") and (n in top or not inspect.ismodule(getattr(fp, n)))}
    assert module_names == (set(top) | assigned) - {"Source", "Indices"} - {"__version__"}, \
        module_names ^ (set(top) | assigned)
    for name, node in top.items():
        obj = getattr(fp, name)
        if isinstance(node, ast.FunctionDef):
            assert params(node) == bound_params(obj), name
            continue
        if inspect.ismodule(obj):  # a submodule (framepipe.corpus), stubbed as a class of static functions
            stubbed = {f.name: f for f in node.body if isinstance(f, ast.FunctionDef)}
            assert set(stubbed) == {n for n in dir(obj) if not n.startswith("_")}, (name, set(stubbed))
            for m, f in stubbed.items():
                assert params(f) == bound_params(getattr(obj, m)), f"{name}.{m}"
            continue
        if issubclass(obj, BaseException):
            assert [b.id for b in node.bases] == [b.__name__ for b in obj.__bases__], name
            continue
        stubbed = {f.name: f for f in node.body if isinstance(f, ast.FunctionDef)}
        have = public(k for k in vars(obj))
        assert set(stubbed) - {"__init__"} == have - {"__init__"}, (name, set(stubbed) ^ have)
        for m, f in stubbed.items():
            member = getattr(obj, m)
            if isinstance(member, property) or m.startswith("__") or not callable(member):
                continue  # dunders are not called by keyword
            if inspect.isbuiltin(member) or "(" in ((member.__doc__ or "").splitlines() or [""])[0]:
                assert params(f) == bound_params(member), f"{name}.{m}: {params(f)} != {bound_params(member)}"


def test_frames_come_upright_unless_asked_as_stored(fp, media):
    src = media / "phone_rotated.mp4"
    upright, stored = ffmpeg_all_rgb(src), ffmpeg_all_rgb(src, autorotate=False)
    r = fp.VideoReader(str(src))
    assert r[0].shape == (568, 320, 3)
    assert np.array_equal(r.get_batch([3, 70]), upright[[3, 70]])
    raw = fp.VideoReader(str(src), autorotate=False)
    assert raw[0].shape == (320, 568, 3) and np.array_equal(raw[70], stored[70])
    again = pickle.loads(pickle.dumps(raw))  # the option travels with the reader
    assert np.array_equal(again[5], stored[5])


def test_a_decoding_index_says_so_and_gives_the_same_frames(fp, media):
    src = str(media / "h264_ptsdts.mp4")
    ref = ffmpeg_all_rgb(src)
    for index in ("exact", "decode"):
        r = fp.VideoReader(src, index=index)
        assert r.metadata["video"]["index_method"] == "decode"
        assert len(r) == len(ref) and np.array_equal(r.get_batch([41, 7, 99]), ref[[41, 7, 99]])
    with pytest.raises(fp.ConfigError, match="exact', 'decode' or 'header'"):
        fp.VideoReader(src, index="trust")


def test_a_packet_that_decodes_to_nothing_is_no_frame_by_any_route(fp, media):
    src = str(media / "h264_nopicture.mp4")
    ref, table = ffmpeg_all_rgb(src), ffprobe_frame_table(src)
    r = fp.VideoReader(src)
    assert len(r) == len(ref) == len(table) == 99  # 100 packets, one without a picture
    assert sum(1 for _ in fp.VideoReader(src)) == 99
    assert np.array_equal(r.get_batch([28, 29, 30, 31, 98]), ref[[28, 29, 30, 31, 98]])
    assert r.get_frame_timestamp([30])[0, 0] == pytest.approx(table[30][0], abs=1e-9)


def test_run_boxes_are_in_upright_pixels(fp, media):
    face = [222, 85, 265, 130]  # read off messi5.jpg by eye (make-test-media.sh)
    for name in ("faces.mp4", "faces_rotated.mp4"):
        rows = [r for r in fp.run(str(media / name), "builtin:faces") if "objects" in r]
        assert rows, name
        boxes = [o["box"] for o in rows[0]["objects"]]
        assert any(abs(b[0] - face[0]) < 15 and abs(b[1] - face[1]) < 15 for b in boxes), (name, boxes)
    sideways = [r for r in fp.run(str(media / "faces_rotated.mp4"), "builtin:faces", autorotate=False)
                if "objects" in r]
    assert all(o["box"][2] <= 342 for r in sideways for o in r["objects"])  # stored frames: 342 wide
