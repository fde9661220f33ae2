"""framepipe installed, then used with its source and build folders hidden (a private mount
namespace with an empty tmpfs over each): `cmake --install` into a prefix (the CLI, a CMake
project's find_package, pkg-config), `pip install` of a copy of the source into a fresh venv,
and the Debian package. Each installed copy must give the ffmpeg CLI's frames and run a model
with an annotated copy. The time each route takes is printed (pytest -s)."""
import json
import os
import pathlib
import shutil
import subprocess
import sys
import time

import numpy as np
import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
BUILD = pathlib.Path(os.environ.get("FRAMEPIPE_BUILD", ROOT / "build")).resolve()
INDEX = 10  # the frame each installed copy reads

pytestmark = pytest.mark.skipif(
    os.geteuid() != 0 or shutil.which("unshare") is None,
    reason="hiding the source and build folders needs root (unshare -m)")


def timed(what, cmd, **kw):
    t0 = time.monotonic()
    p = subprocess.run(cmd, capture_output=True, text=True, **kw)
    print(f"[ install ] {what}: {time.monotonic() - t0:.1f} s")
    assert p.returncode == 0, f"{what} failed ({p.returncode}):\n{p.stdout[-3000:]}\n{p.stderr[-3000:]}"
    return p


def hidden(cmd, hide=(), env=None, cwd="/"):
    """Runs cmd with the source, the build and `hide` each covered by an empty tmpfs."""
    folders = sorted({pathlib.Path(f).resolve() for f in (ROOT, BUILD, *hide)}, key=lambda f: len(f.parts))
    tops = [f for k, f in enumerate(folders) if not any(f.is_relative_to(g) for g in folders[:k])]
    mounts = " && ".join(f"mount -t tmpfs none '{f}'" for f in tops)
    script = f"{mounts} && cd '{cwd}' && exec \"$@\""
    return subprocess.run(["unshare", "-m", "sh", "-c", script, "hide", *map(str, cmd)],
                          capture_output=True, text=True, env=env)


def ok(p, what):
    assert p.returncode == 0, f"{what} failed ({p.returncode}):\n{p.stdout[-3000:]}\n{p.stderr[-3000:]}"
    return p


@pytest.fixture(scope="module")
def sample(tmp_path_factory):
    """A clip outside the hidden folders, with ffmpeg's frame INDEX and ffprobe's pts of it."""
    d = tmp_path_factory.mktemp("sample")
    clip = d / "people.mp4"
    subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-f", "lavfi", "-i", "testsrc2=size=320x240:rate=25:duration=2",
                    "-f", "lavfi", "-i", "sine=frequency=440:duration=2", "-c:v", "libx264", "-bf", "2", "-g", "12",
                    "-c:a", "aac", "-shortest", str(clip)], check=True)
    raw = subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-i", str(clip), "-vf",
                          f"select=eq(n\\,{INDEX}),scale=in_color_matrix=bt601:in_range=tv", "-vsync", "passthrough",
                          "-frames:v", "1", "-pix_fmt", "rgb24", "-f", "rawvideo", "-"],
                         check=True, capture_output=True).stdout
    frames = json.loads(subprocess.run(
        ["ffprobe", "-v", "error", "-select_streams", "v:0", "-show_entries", "frame=best_effort_timestamp",
         "-of", "json", str(clip)], check=True, capture_output=True, text=True).stdout)["frames"]
    return {"clip": clip, "rgb": np.frombuffer(raw, np.uint8).reshape(240, 320, 3),
            "pts": frames[INDEX]["best_effort_timestamp"], "frames": len(frames)}


def frame_count(path):
    out = subprocess.run(["ffprobe", "-v", "error", "-count_frames", "-select_streams", "v:0", "-show_entries",
                          "stream=nb_read_frames", "-of", "csv=p=0", str(path)],
                         check=True, capture_output=True, text=True).stdout
    return int(out.strip())


def has_audio(path):
    return "audio" in subprocess.run(["ffprobe", "-v", "error", "-show_entries", "stream=codec_type", "-of", "csv=p=0",
                                      str(path)], check=True, capture_output=True, text=True).stdout


def check_cli(cli, sample, out, env=None, hide=()):
    """The installed CLI: frame INDEX equal to ffmpeg's, and a model run with --annotate."""
    out.mkdir(parents=True, exist_ok=True)
    ok(hidden([cli, "frames", sample["clip"], "--indices", str(INDEX), "--format", "npy", "--out", out / "f"], hide, env),
       "frames")
    got = np.load(out / "f" / f"frame_{INDEX:06d}.npy")
    assert np.array_equal(got, sample["rgb"]), "the installed CLI's frame differs from ffmpeg's"
    ok(hidden([cli, "run", "builtin:hog-people", sample["clip"], "--out", out / "r.jsonl", "--annotate",
               out / "ann.mp4"], hide, env), "run --annotate")
    assert frame_count(out / "ann.mp4") == sample["frames"] and has_audio(out / "ann.mp4")
    assert (out / "r.jsonl").read_text().strip()


def check_module(python, sample, out, env=None, inside=None, hide=()):
    """The installed Python module: imported from `inside`, a frame equal to ffmpeg's, run()."""
    out.mkdir(parents=True, exist_ok=True)
    code = f"""
import numpy as np, framepipe, sys
assert framepipe.__file__.startswith({str(inside)!r}), framepipe.__file__
f = framepipe.VideoReader({str(sample['clip'])!r})[{INDEX}]
np.save({str(out / 'frame.npy')!r}, np.asarray(f))
r = framepipe.run({str(sample['clip'])!r}, "builtin:hog-people", out={str(out / 'r.jsonl')!r},
                  annotate={str(out / 'ann.mp4')!r}).wait()
assert r['results'] == {sample['frames']} and r['failed'] == 0 and r['error'] is None, r
print(framepipe.__version__, framepipe.__file__)
"""
    ok(hidden([python, "-c", code], hide, env), "the module")
    assert np.array_equal(np.load(out / "frame.npy"), sample["rgb"]), "the installed module's frame differs"
    assert frame_count(out / "ann.mp4") == sample["frames"] and has_audio(out / "ann.mp4")


def test_cmake_install_into_a_prefix(tmp_path, sample):
    prefix = tmp_path / "prefix"
    timed("cmake --install", ["cmake", "--install", str(BUILD), "--prefix", str(prefix)])
    libdir = next(p.parent for p in prefix.rglob("libframepipe.so"))
    for f in ("bin/framepipe", "include/framepipe/reader/video_reader.hpp", "include/framepipe/version.hpp",
              "share/man/man1/framepipe.1"):
        assert (prefix / f).exists(), f
    assert (libdir / "framepipe" / "framepipe_engines.so").exists()
    assert not list((prefix / "include").rglob("words.hpp")), "internal headers installed"
    check_cli(prefix / "bin" / "framepipe", sample, tmp_path / "cli")

    # A CMake project of its own, with find_package(framepipe CONFIG REQUIRED).
    project = tmp_path / "consumer"
    shutil.copytree(ROOT / "tests" / "install", project)
    p = ok(hidden(["sh", "-c", f"cmake -S {project} -B {project}/b -DCMAKE_PREFIX_PATH={prefix} "
                               f"-DCMAKE_BUILD_TYPE=Release >/dev/null && cmake --build {project}/b >/dev/null && "
                               f"{project}/b/consumer {sample['clip']} {INDEX} {tmp_path}/png1"]), "find_package")
    assert p.stdout.split()[:4] == ["frame", str(INDEX), "pts", str(sample["pts"])], p.stdout
    assert (tmp_path / "png1" / f"frame_{INDEX:06d}.png").exists()

    # The same program compiled with pkg-config's flags.
    pc = f"PKG_CONFIG_PATH={libdir}/pkgconfig"
    p = ok(hidden(["sh", "-c", f"g++ -O1 {project}/consumer.cpp -o {tmp_path}/pc_consumer "
                               f"$({pc} pkg-config --cflags --libs framepipe) -Wl,-rpath,{libdir} && "
                               f"{tmp_path}/pc_consumer {sample['clip']} {INDEX} {tmp_path}/png2"]), "pkg-config")
    assert p.stdout.split()[:4] == ["frame", str(INDEX), "pts", str(sample["pts"])], p.stdout

    # The prefix moved elsewhere still finds its modules.
    moved = tmp_path / "moved"
    prefix.rename(moved)
    check_cli(moved / "bin" / "framepipe", sample, tmp_path / "moved_cli")


def source_copy(dest):
    """The source as committed plus what is new and not ignored (no build folders)."""
    files = subprocess.run(["git", "-C", str(ROOT), "ls-files", "-co", "--exclude-standard"], check=True,
                           capture_output=True, text=True).stdout.split("\n")
    for f in filter(None, files):
        src = ROOT / f
        if src.is_file():
            (dest / f).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dest / f)


def test_pip_install_into_a_venv(tmp_path, sample):
    src, venv = tmp_path / "src", tmp_path / "venv"
    source_copy(src)
    timed("venv", ["/usr/bin/python3", "-m", "venv", "--system-site-packages", str(venv)])
    pip = [str(venv / "bin" / "python"), "-m", "pip", "--disable-pip-version-check"]
    timed("pip install", pip + ["install", "--no-build-isolation", "--no-index", str(src)])
    site = pathlib.Path(subprocess.run([str(venv / "bin" / "python"), "-c", "import sysconfig; print(sysconfig.get_path('platlib'))"],
                                       check=True, capture_output=True, text=True).stdout.strip())
    check_module(venv / "bin" / "python", sample, tmp_path / "mod", inside=site, hide=[src])
    check_cli(venv / "bin" / "framepipe", sample, tmp_path / "cli", hide=[src])  # the command on the venv's PATH
    show = subprocess.run(pip + ["show", "framepipe"], capture_output=True, text=True)
    assert show.returncode == 0 and "Name: framepipe" in show.stdout, show.stderr
    timed("pip uninstall", pip + ["uninstall", "-y", "framepipe"])
    left = [str(p) for p in site.iterdir() if p.name.lower().startswith("framepipe")]
    assert not left and not (venv / "bin" / "framepipe").exists(), left


def test_debian_package(tmp_path, sample):
    timed("cpack", ["cpack", "--config", str(BUILD / "CPackConfig.cmake"), "-B", str(tmp_path / "pkg")],
          cwd=str(BUILD))
    deb = next((tmp_path / "pkg").glob("framepipe_*_amd64.deb"))
    fields = subprocess.run(["dpkg-deb", "-f", str(deb), "Package", "Version", "Depends"], check=True,
                            capture_output=True, text=True).stdout
    depends = next(l for l in fields.splitlines() if l.startswith("Depends:"))
    names = [d.split()[0] for d in depends[len("Depends:"):].replace("|", ",").split(",") if d.strip()]
    assert names and not [n for n in names if n.endswith("-dev")], depends
    assert any(n.startswith("libavcodec") for n in names) and "python3" in names, depends
    root = tmp_path / "root"
    subprocess.run(["dpkg-deb", "-x", str(deb), str(root)], check=True)
    check_cli(root / "usr" / "bin" / "framepipe", sample, tmp_path / "cli")
    env = dict(os.environ, PYTHONPATH=str(root / "usr" / "lib" / "python3" / "dist-packages"))
    check_module("/usr/bin/python3", sample, tmp_path / "mod", env=env, inside=root)
    man = subprocess.run(["dpkg-deb", "-c", str(deb)], check=True, capture_output=True, text=True).stdout
    assert "usr/share/man/man1/framepipe.1" in man and "usr/lib/cmake/framepipe/framepipeConfig.cmake" in man

    # Installed on this machine and purged, where framepipe is not installed already.
    if subprocess.run(["dpkg-query", "-W", "framepipe"], capture_output=True).returncode == 0:
        pytest.skip("a framepipe package is installed on this machine: not installing over it")
    timed("dpkg -i", ["dpkg", "-i", str(deb)])
    try:
        files = subprocess.run(["dpkg", "-L", "framepipe"], check=True, capture_output=True, text=True).stdout.split()
        ok(hidden(["/usr/bin/framepipe", "--version"]), "the installed command")
        ok(hidden(["/usr/bin/python3", "-c", "import framepipe; assert framepipe.__file__.startswith('/usr/lib/python3/dist-packages')"],
                  env={k: v for k, v in os.environ.items() if k != "PYTHONPATH"}), "the installed module")
    finally:
        timed("dpkg --purge", ["dpkg", "--purge", "framepipe"])
    left = [f for f in files if os.path.isfile(f) or os.path.islink(f)]
    assert not left, left


def test_a_copied_build_uses_its_own_modules(tmp_path, sample):
    """A copy of the build's CLI, modules and Python module, with the build hidden."""
    copy = tmp_path / "b"
    (copy / "apps").mkdir(parents=True)
    shutil.copy2(BUILD / "apps" / "framepipe", copy / "apps" / "framepipe")
    shutil.copytree(BUILD / "lib", copy / "lib", symlinks=True)
    shutil.copytree(BUILD / "python", copy / "python", symlinks=True)
    check_cli(copy / "apps" / "framepipe", sample, tmp_path / "cli")
    env = dict(os.environ, PYTHONPATH=str(copy / "python"))
    check_module("/usr/bin/python3", sample, tmp_path / "mod", env=env, inside=copy)


def test_add_subdirectory_configures_only_the_libraries(tmp_path):
    """A parent project embedding the source: the libraries and their modules, no Python
    module, CLI, tests or install rules, and the parent's build type left alone."""
    parent = tmp_path / "parent"
    parent.mkdir()
    (parent / "CMakeLists.txt").write_text(
        "cmake_minimum_required(VERSION 3.22)\nproject(parent LANGUAGES CXX)\n"
        f"add_subdirectory({ROOT} framepipe)\n"
        "add_executable(consumer consumer.cpp)\n"
        "target_link_libraries(consumer PRIVATE framepipe::framepipe framepipe::run)\n")
    shutil.copy2(ROOT / "tests" / "install" / "consumer.cpp", parent / "consumer.cpp")
    timed("configure with add_subdirectory", ["cmake", "-S", str(parent), "-B", str(parent / "b")])
    targets = subprocess.run(["cmake", "--build", str(parent / "b"), "--target", "help"], check=True,
                             capture_output=True, text=True).stdout
    for wanted in ("framepipe", "framepipe_run", "framepipe_engines", "framepipe_images", "consumer"):
        assert f"... {wanted}\n" in targets, wanted
    for unwanted in ("framepipe_python", "framepipe_cli", "test_reader", "framepipe_shared", "package"):
        assert f"... {unwanted}\n" not in targets, unwanted
    cache = (parent / "b" / "CMakeCache.txt").read_text()
    assert "CMAKE_BUILD_TYPE:STRING=\n" in cache, "framepipe set the parent's build type"
