# framepipe's modules (src/common/module_loader.hpp): the model engines (LibTorch, OpenCV DNN)
# load when the first model opens, the image encoders (OpenCV imgcodecs) when the first PNG or
# JPEG is written. A command or a process that only decodes never maps them, and a missing or
# broken module is a clear error for what needed it, not for decoding.
import os
import pathlib
import subprocess
import sys

from conftest import ROOT

MODELS = ROOT / "tests" / "models"
SHAPES2D = MODELS / "shapes2d.pt"
HEAVY = ("libtorch_cpu", "libopencv_dnn", "framepipe_engines")
IMAGES = ("libopencv_imgcodecs", "libgdal", "framepipe_images")


def run(cli, *args, **kw):
    return subprocess.run([cli, *map(str, args)], capture_output=True, text=True, **kw)


def test_decoding_maps_no_engine_and_a_model_maps_them(fp, media):
    # A fresh interpreter, so nothing else in this test process has loaded them.
    script = r"""
import sys
sys.path.insert(0, sys.argv[1])
import framepipe
heavy = %r
def mapped():
    maps = open("/proc/self/maps").read()
    return [n for n in heavy if n in maps]
r = framepipe.VideoReader(sys.argv[2])
r[3]
r.get_batch([0, 10, 20])
assert mapped() == [], "decoding mapped " + repr(mapped())
rows = list(framepipe.run(sys.argv[2], sys.argv[3], sample="every:25"))
assert rows, "no results"
assert mapped() == list(heavy), "a TorchScript model mapped only " + repr(mapped())
print("ok")
""" % (HEAVY,)
    p = subprocess.run([sys.executable, "-c", script, os.path.dirname(fp.__file__), str(media / "shapes.mp4"),
                        str(SHAPES2D)], capture_output=True, text=True, timeout=120)
    assert p.returncode == 0 and p.stdout.strip() == "ok", p.stdout + p.stderr


def test_a_missing_or_broken_module_fails_only_what_needs_it(cli, media, tmp_path):
    nowhere = tmp_path / "nowhere"
    env = dict(os.environ, FRAMEPIPE_MODULES=str(nowhere))
    p = run(cli, "frames", media / "shapes.mp4", "--indices", "0,5,40", "--format", "null", env=env)
    assert p.returncode == 0, p.stderr  # decoding never needs them
    p = run(cli, "frames", media / "shapes.mp4", "--indices", "0,5,40", "--format", "npy", "--out", tmp_path / "npy",
            env=env)
    assert p.returncode == 0 and len(list((tmp_path / "npy").glob("*.npy"))) == 3, p.stderr
    out = tmp_path / "r.jsonl"
    p = run(cli, "run", SHAPES2D, media / "shapes.mp4", "--out", out, env=env)
    assert p.returncode == 1, p.stderr  # a model error
    assert "cannot load the model engines" in p.stderr, p.stderr
    assert f"{nowhere}/framepipe_engines.so: no such file" in p.stderr and "FRAMEPIPE_MODULES" in p.stderr, p.stderr
    assert not list(tmp_path.glob("r*")), "no results file, not even a part"
    p = run(cli, "frames", media / "shapes.mp4", "--indices", "0,5", "--format", "png", "--out", tmp_path / "png",
            env=env)
    assert p.returncode == 1 and f"{nowhere}/framepipe_images.so: no such file" in p.stderr, p.stderr
    assert not list((tmp_path / "png").glob("*.png*")), "no image, not even a part"
    # Files that are not libraries: dlopen's reason, named with the path.
    bogus = tmp_path / "bogus"
    bogus.mkdir()
    for name in ("framepipe_engines.so", "framepipe_images.so"):
        (bogus / name).write_text("not a library\n" * 200)
    env = dict(os.environ, FRAMEPIPE_MODULES=str(bogus))
    p = run(cli, "run", "builtin:motion", media / "shapes.mp4", "--out", out, env=env)
    assert p.returncode == 1 and f"{bogus}/framepipe_engines.so: invalid ELF header" in p.stderr, p.stderr
    # A real library that is not framepipe's module.
    libz = next(pathlib.Path("/usr/lib").rglob("libz.so.1"))
    (bogus / "framepipe_images.so").unlink()
    (bogus / "framepipe_images.so").symlink_to(libz)
    p = run(cli, "frames", media / "shapes.mp4", "--indices", "0", "--format", "jpg", "--out", tmp_path / "jpg",
            env=env)
    assert p.returncode == 1 and "framepipe_images.so: not this framepipe's module" in p.stderr, p.stderr


def loaded_by(p, names):
    """The names among `names` that ld.so's LD_DEBUG=files account of a process loaded."""
    return [n for n in names if f"/{n}" in p.stderr]


def engines_linked(cli):
    """Sanitized builds link the engines (src/CMakeLists.txt says why): they load at start there."""
    out = subprocess.run(["readelf", "-d", cli], capture_output=True, text=True).stdout
    return "framepipe_engines.so" in out


def test_the_cli_starts_without_its_modules(cli, media, tmp_path):
    linked = engines_linked(cli)
    lazy = ("framepipe_images",) if linked else HEAVY + IMAGES  # (linked: OpenCV DNN brings imgcodecs)
    # ld.so's own account of what it loads, for decode-only commands.
    for args in (["probe", media / "shapes.mp4"], ["frames", media / "shapes.mp4", "--sample", "fps:1", "--format", "null"]):
        p = run(cli, *args, env=dict(os.environ, LD_DEBUG="files"))
        assert p.returncode == 0, p.stderr[-2000:]
        assert loaded_by(p, lazy) == [], (args, loaded_by(p, lazy))
    # and what needs them loads them (so the check above can see them).
    p = run(cli, "run", SHAPES2D, media / "shapes.mp4", "--sample", "every:25", env=dict(os.environ, LD_DEBUG="files"))
    assert p.returncode == 0, p.stderr[-2000:]
    assert loaded_by(p, HEAVY) == list(HEAVY), loaded_by(p, HEAVY)  # (OpenCV DNN brings imgcodecs itself)
    p = run(cli, "frames", media / "shapes.mp4", "--indices", "3", "--format", "png", "--out", tmp_path / "png",
            env=dict(os.environ, LD_DEBUG="files"))
    assert p.returncode == 0, p.stderr[-2000:]
    assert loaded_by(p, IMAGES) == list(IMAGES), loaded_by(p, IMAGES)
    if not linked:
        assert loaded_by(p, HEAVY) == [], loaded_by(p, HEAVY)
