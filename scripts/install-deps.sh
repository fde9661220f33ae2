#!/usr/bin/env bash
# Installs the Debian 12 packages framepipe needs, and only those that are missing.
# Idempotent: silent when everything is present; runs `apt-get update` once per call
# only when something must be installed.
#   scripts/install-deps.sh            build + test dependencies
#   scripts/install-deps.sh bench      also the peers the benchmarks compare against
#   scripts/install-deps.sh models     also what scripts/make-test-models.py trains with
#   scripts/install-deps.sh fuzz       also Clang and libFuzzer (make fuzz)
set -euo pipefail

build_pkgs=(
  build-essential cmake pkg-config ccache
  libavformat-dev libavcodec-dev libavutil-dev libswscale-dev libswresample-dev libavfilter-dev
  libavdevice-dev   # V4L2 capture devices as live input
  libopencv-dev libcli11-dev nlohmann-json3-dev libgtest-dev libbenchmark-dev
  libtorch-dev      # the TorchScript engine (CPU)
  opencv-data       # the Haar cascade of builtin:faces
  ffmpeg            # the CLI makes test media and references; the product never calls it
  python3 python3-numpy python3-pytest   # tests check outputs against numpy (/usr/bin/python3)
  python3-dev pybind11-dev                # the Python module, built for /usr/bin/python3
  python3-torch     # the Python module's tests: a PyTorch callable as the model, DLPack, DataLoader
  python3-torchvision  # the module's clip tensors fed to torchvision's r3d_18 as they come
  # the live tests' RTSP server (GStreamer's rtsp-server from Python; H.264 by openh264enc)
  python3-gi gir1.2-gst-rtsp-server-1.0 gstreamer1.0-plugins-base gstreamer1.0-plugins-good gstreamer1.0-plugins-bad
  # corpus runs: a real single-node Slurm (scripts/slurm-local.sh), Dask, the Kubernetes manifest's parser
  slurmctld slurmd slurm-client munge python3-distributed python3-yaml
  # installing: pip into a venv with Debian's setuptools and wheel (no package index here), the
  # wheel by `python3 -m build`, the .deb by CPack (dpkg-shlibdeps), its manual page by help2man
  python3-venv python3-pip python3-setuptools python3-wheel python3-build dpkg-dev help2man
  # writers to the network: a real RTMP server receiving what a run publishes
  nginx-light libnginx-mod-rtmp
  chromium          # the preview page, loaded and screenshot headless by its test
)
models_pkgs=(python3-onnx)
fuzz_pkgs=(clang-14 libfuzzer-14-dev)
bench_pkgs=(python3-av python3-opencv time "${models_pkgs[@]}")

pkgs=("${build_pkgs[@]}")
[ "${1:-}" = bench ] && pkgs+=("${bench_pkgs[@]}")
[ "${1:-}" = models ] && pkgs+=("${models_pkgs[@]}")
[ "${1:-}" = fuzz ] && pkgs+=("${fuzz_pkgs[@]}")

missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

sudo=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || { echo "install-deps: need root or sudo to install: ${missing[*]}" >&2; exit 1; }
  sudo=sudo
fi
echo "install-deps: installing ${missing[*]}" >&2
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
