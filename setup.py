"""`pip install .`: framepipe built with CMake, then laid out as a platform wheel.

    site-packages/framepipe.cpython-*.so     the module (`import framepipe`)
    site-packages/framepipe.pyi              its type stubs
    site-packages/framepipe/                 its pure-Python parts (compat.decord, torch, ...),
                                             the modules it loads on demand (engines, image
                                             codecs: module_loader.cpp looks there) and the
                                             command-line program the `framepipe` script runs

Build with --no-build-isolation (no package index is reachable here; Debian's
python3-setuptools and python3-wheel build it). The CMake build goes to build-pip/ (or
$FRAMEPIPE_PIP_BUILD); ccache makes a rebuild, or a build of another copy, quick.
"""
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

ROOT = Path(__file__).resolve().parent
BUILD = Path(os.environ.get("FRAMEPIPE_PIP_BUILD", ROOT / "build-pip"))


def version():
    m = re.search(r"project\(framepipe VERSION ([0-9.]+)", (ROOT / "CMakeLists.txt").read_text())
    if not m:
        raise RuntimeError("no version in CMakeLists.txt's project()")
    return m.group(1)


class CMakeBuild(build_ext):
    def build_extension(self, ext):
        def run(*cmd):
            print("setup.py:", " ".join(cmd), flush=True)
            subprocess.run(cmd, check=True)

        run("cmake", "-S", str(ROOT), "-B", str(BUILD), "-DCMAKE_BUILD_TYPE=Release",
            "-DFRAMEPIPE_BUILD_TESTS=OFF", "-DFRAMEPIPE_BUILD_BENCH=OFF", "-DFRAMEPIPE_BUILD_APPS=ON",
            "-DFRAMEPIPE_PYTHON=ON", "-DFRAMEPIPE_INSTALL=OFF", f"-DPython3_EXECUTABLE={sys.executable}")
        run("cmake", "--build", str(BUILD), "-j", str(os.cpu_count() or 2), "--target",
            "framepipe_python", "framepipe_cli", "framepipe_engines", "framepipe_images")
        module = Path(self.get_ext_fullpath(ext.name))
        parts = module.parent / "framepipe"
        parts.mkdir(parents=True, exist_ok=True)
        built = BUILD / "python" / module.name
        if not built.exists():
            raise RuntimeError(f"CMake built no {built} (is this the interpreter it was built for?)")
        shutil.copy2(built, module)
        shutil.copy2(ROOT / "python" / "framepipe.pyi", module.parent / "framepipe.pyi")
        src = ROOT / "python" / "framepipe"
        for py in src.rglob("*.py"):
            dest = parts / py.relative_to(src)
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(py, dest)
        for name in ("framepipe_engines.so", "framepipe_images.so"):
            found = sorted(BUILD.glob(f"lib*/**/framepipe/{name}")) or sorted(BUILD.glob(f"**/{name}"))
            if not found:
                raise RuntimeError(f"CMake built no {name} under {BUILD}")
            shutil.copy2(found[0], parts / name)
        shutil.copy2(BUILD / "apps" / "framepipe", parts / "framepipe")


BUILD.mkdir(parents=True, exist_ok=True)  # egg_info writes there
setup(
    version=version(),
    ext_modules=[Extension("framepipe", sources=[])],
    cmdclass={"build_ext": CMakeBuild},
    options={"build": {"build_base": str(BUILD / "setuptools")},
             "egg_info": {"egg_base": str(BUILD)}},
    zip_safe=False,
)
