#!/usr/bin/env bash
# The demo: probe the bundled sample (vtest.avi, real footage from Debian's opencv-doc) and
# take a few exact frames out of it, by index and by time; then run the HOG people detector
# over it with tracking, writing results and an annotated copy that keeps the audio.
set -euo pipefail
BUILD=${1:-build}
FP="$BUILD/apps/framepipe"
bash scripts/make-test-media.sh "$BUILD/media" >/dev/null
SAMPLE="$BUILD/media/real/vtest.avi"
OUT="$BUILD/demo"
rm -rf "$OUT"

echo "== framepipe probe $SAMPLE"
"$FP" probe "$SAMPLE"
echo
echo "== framepipe frames $SAMPLE --indices 0,100,794 --times 12.5 --out $OUT (PNG, RGB)"
"$FP" frames "$SAMPLE" --indices 0,100,794 --out "$OUT/by_index"
"$FP" frames "$SAMPLE" --times 12.5 --out "$OUT/by_time"
echo "== framepipe frames $SAMPLE --fps 1 --size 224x224 --resize letterbox --format npy"
"$FP" frames "$SAMPLE" --fps 1 --size 224x224 --resize letterbox --format npy --out "$OUT/fps1"
echo
for d in by_index by_time; do
  echo "$OUT/$d:"; ls "$OUT/$d" | sed 's/^/  /'
  sed 's/^/  /' "$OUT/$d/frames.jsonl"
done
echo "$OUT/fps1: $(ls "$OUT/fps1" | grep -c npy) frames of 224x224x3 (one a second, by timestamp)"
echo
# vtest.avi has no sound: give it a tone (video stream-copied) so the audio path shows.
WITH_AUDIO="$OUT/vtest_audio.mkv"
ffmpeg -nostdin -v error -y -i "$SAMPLE" -f lavfi -i "sine=frequency=330:sample_rate=44100" \
  -map 0:v -map 1:a -c:v copy -c:a aac -b:a 64k -shortest "$WITH_AUDIO"
echo "== framepipe run builtin:hog-people $WITH_AUDIO --sample fps:5 --track --segments --min-duration 1 --annotate $OUT/annotated.mp4 --out $OUT/people.jsonl"
"$FP" run builtin:hog-people "$WITH_AUDIO" --sample fps:5 --track --segments --min-duration 1 \
  --annotate "$OUT/annotated.mp4" --out "$OUT/people.jsonl"
echo "first results (boxes in source pixels, track ids that last):"
head -3 "$OUT/people.jsonl" | cut -c1-300 | sed 's/^/  /'
echo "events (someone in view: hysteresis on the best box's score):"
grep '"segment"' "$OUT/people.jsonl" | head -3 | sed 's/^/  /'
echo "annotated video, every source frame with the latest boxes drawn, the tone kept:"
"$FP" probe "$OUT/annotated.mp4" | sed 's/^/  /'
