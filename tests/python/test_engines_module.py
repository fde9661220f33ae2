# The model engines (LibTorch, OpenCV DNN) are a module loaded when the first model opens
# (src/infer/engine_abi.hpp): a command or a process that only decodes never maps them, and
# a missing or broken module is a clear error for the model, not for decoding.
import os
import subprocess
import sys

from conftest import ROOT

MODELS = ROOT / "tests" / "models"
SHAPES2D = MODELS / "shapes2d.pt"
HEAVY = ("libtorch_cpu", "libopencv_dnn", "framepipe_engines")


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


def test_a_missing_or_broken_module_fails_the_model_only(cli, media, tmp_path):
    missing = tmp_path / "nowhere.so"
    env = dict(os.environ, FRAMEPIPE_ENGINES=str(missing))
    p = run(cli, "frames", media / "shapes.mp4", "--indices", "0,5,40", "--format", "null", env=env)
    assert p.returncode == 0, p.stderr  # decoding never needs it
    out = tmp_path / "r.jsonl"
    p = run(cli, "run", SHAPES2D, media / "shapes.mp4", "--out", out, env=env)
    assert p.returncode == 1, p.stderr  # a model error
    assert "cannot load the model engines" in p.stderr and f"{missing}: no such file" in p.stderr, p.stderr
    assert "FRAMEPIPE_ENGINES" in p.stderr
    assert not list(tmp_path.glob("r*")), "no results file, not even a part"
    # A file that is not a library: dlopen's reason, named with the path.
    bogus = tmp_path / "bogus.so"
    bogus.write_text("not a library\n" * 200)
    p = run(cli, "run", "builtin:motion", media / "shapes.mp4", "--out", out,
            env=dict(os.environ, FRAMEPIPE_ENGINES=str(bogus)))
    assert p.returncode == 1 and f"{bogus}: invalid ELF header" in p.stderr, p.stderr


def test_the_cli_starts_without_the_engines(cli, media):
    # ld.so's own account of what it loads, for a decode-only command.
    p = run(cli, "probe", media / "shapes.mp4", env=dict(os.environ, LD_DEBUG="files"))
    assert p.returncode == 0, p.stderr[-2000:]
    loaded = [n for n in HEAVY if f"file={n}" in p.stderr or f"/{n}" in p.stderr]
    assert loaded == [], loaded
    # and the same command with a model loads them (the check above can see them).
    p = run(cli, "run", SHAPES2D, media / "shapes.mp4", "--sample", "every:25", env=dict(os.environ, LD_DEBUG="files"))
    assert p.returncode == 0, p.stderr[-2000:]
    assert all(f"{n}" in p.stderr for n in HEAVY), [n for n in HEAVY if n not in p.stderr]
