#!/usr/bin/env bash
# Benchmarks framepipe against its peers on 1080p H.264 files made from vtest.avi: one with
# x264's defaults (a keyframe every 250 frames), one with a 2-second GOP as phones, cameras
# and streaming encoders write (a keyframe every 60 frames at 30 fps).
#   bash bench/run.sh [BUILD] [bench_decode.py options]        (make bench does this)
set -euo pipefail
BUILD=${1:-build}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
bash scripts/make-test-media.sh "$BUILD/media" >/dev/null
mkdir -p "$BUILD/bench"
SRC="$BUILD/media/real/vtest.avi"
HD="$BUILD/bench/vtest_1080p.mp4"
if [ ! -s "$HD" ]; then
  echo "bench: making $HD (1080p H.264, 30 fps, x264 defaults: B-frames, keyint 250)" >&2
  ffmpeg -nostdin -v error -y -i "$SRC" -vf "scale=1920:1080,setpts=N/30/TB" -r 30 \
    -c:v libx264 -preset fast -crf 23 -pix_fmt yuv420p -an "$HD.tmp.mp4"
  mv "$HD.tmp.mp4" "$HD"
fi
SHORT="$BUILD/bench/vtest_1080p_short.mp4"
if [ ! -s "$SHORT" ]; then  # the first tenth, for the memory row
  ffmpeg -nostdin -v error -y -i "$HD" -frames:v 80 -c:v libx264 -preset fast -crf 23 -pix_fmt yuv420p "$SHORT.tmp.mp4"
  mv "$SHORT.tmp.mp4" "$SHORT"
fi
LONG="$BUILD/bench/vtest_1080p_10min.mp4"
if [ ! -s "$LONG" ]; then  # the file 23 times over (10.2 min), stream-copied, for the long row
  ffmpeg -nostdin -v error -y -stream_loop 22 -i "$HD" -c copy "$LONG.tmp.mp4"
  mv "$LONG.tmp.mp4" "$LONG"
fi
MINUTE="$BUILD/bench/vtest_1080p_1min.mp4"
if [ ! -s "$MINUTE" ]; then
  ffmpeg -nostdin -v error -y -i "$LONG" -t 60 -c copy "$MINUTE.tmp.mp4"
  mv "$MINUTE.tmp.mp4" "$MINUTE"
fi
GOP2="$BUILD/bench/vtest_1080p_gop2s.mp4"
if [ ! -s "$GOP2" ]; then
  echo "bench: making $GOP2 (1080p H.264, 30 fps, a keyframe every 2 s, B-frames)" >&2
  ffmpeg -nostdin -v error -y -i "$SRC" -vf "scale=1920:1080,setpts=N/30/TB" -r 30 \
    -c:v libx264 -preset fast -crf 23 -g 60 -keyint_min 60 -sc_threshold 0 -pix_fmt yuv420p -an "$GOP2.tmp.mp4"
  mv "$GOP2.tmp.mp4" "$GOP2"
fi
/usr/bin/python3 bench/bench_decode.py --build "$BUILD" --file "$HD" --short "$SHORT" --long "$LONG,$MINUTE" "${@:2}"
echo
if [ $# -gt 1 ]; then
  exec /usr/bin/python3 bench/bench_decode.py --build "$BUILD" --file "$GOP2" "${@:2}"
fi
exec /usr/bin/python3 bench/bench_decode.py --build "$BUILD" --file "$GOP2" --only fps1,every,random,clips
