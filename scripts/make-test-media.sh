#!/usr/bin/env bash
# Makes the conformance media set with the ffmpeg CLI into OUT (default build/media), and
# takes the real clips out of Debian's opencv-doc package. Cached: a file is made only when
# missing, and the whole set is remade when this script changes.
#
# Every generated frame carries its own number in its pixels: the top 16 rows hold 16
# blocks, block b white when bit b of the frame number is set (see tests/support).
set -euo pipefail
OUT=${1:-build/media}
HERE=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)

stamp=$(sha1sum "$HERE/make-test-media.sh" | cut -c1-12)
if [ "$(cat "$OUT/.stamp" 2>/dev/null)" != "$stamp" ]; then
  find "$OUT" -maxdepth 1 -type f ! -name '*.fpidx' -delete
  rm -rf "$OUT/ref"
  echo "$stamp" > "$OUT/.stamp"
fi

export SVT_LOG=1  # SVT-AV1: errors only
FF=(ffmpeg -nostdin -hide_banner -loglevel error -y)
W=320 H=240 RATE=25 SECS=4
# Luma: the frame number in bits (blocks 20 px wide, rows 0-15), a moving texture below.
# Chroma: neutral behind the bits, smooth moving colour elsewhere.
LUM="if(lt(Y,16),if(mod(floor(N/pow(2,floor(X/20))),2),235,16),128+70*sin(X/9+N/4)*cos(Y/11-N/9))"
CB="if(lt(Y,16),128,128+60*sin(Y/13+N/7))"
CR="if(lt(Y,16),128,128+60*cos(X/17-N/5))"
BASE="$OUT/base.nut"

make() {  # make NAME CMD...: runs CMD with the argument @TMP@ replaced by a temporary
  local name=$1; shift    # output (same extension), then moves it into place
  [ -s "$OUT/$name" ] && return 0
  TMP="$OUT/.tmp.$name"
  TMP="${TMP%.*}.tmp.${name##*.}"
  local args=() a
  for a in "$@"; do [ "$a" = @TMP@ ] && args+=("$TMP") || args+=("$a"); done
  "${args[@]}"
  [ -e "@TMP@" ] && { echo "make-test-media: '$name' wrote to a file named @TMP@ (a placeholder not replaced)" >&2; rm -f "@TMP@"; exit 1; }
  mv "$TMP" "$OUT/$name"
}

if [ ! -s "$BASE" ]; then
  "${FF[@]}" -f lavfi -i "nullsrc=s=${W}x${H}:r=${RATE}:d=${SECS},format=yuv444p,geq=lum='$LUM':cb='$CB':cr='$CR'" \
    -c:v ffv1 "$OUT/.tmp.base.nut"
  mv "$OUT/.tmp.base.nut" "$BASE"
fi
SINE=(-f lavfi -i "sine=frequency=440:sample_rate=48000:duration=${SECS}")
X264=(-c:v libx264 -preset veryfast -pix_fmt yuv420p)
GOP="keyint=12:min-keyint=12:scenecut=0"

# H.264, B-frames, closed GOP, MP4 (edit list from the B-frame delay).
make h264_bframes.mp4 "${FF[@]}" -i "$BASE" "${X264[@]}" -bf 3 -x264-params "$GOP" @TMP@
# H.264, open GOP, MKV.
make h264_opengop.mkv "${FF[@]}" -i "$BASE" "${X264[@]}" -bf 3 -x264-params "$GOP:open-gop=1" @TMP@
# H.264, open GOP with long groups (x264 open_gop, keyint 50: recovery-point keyframes far
# enough apart that the picture order count wraps between them), over 10 s: MP4, MKV with
# a B-pyramid, MPEG-TS.
BASE10="$OUT/base10.nut"
if [ ! -s "$BASE10" ]; then
  "${FF[@]}" -f lavfi -i "nullsrc=s=${W}x${H}:r=${RATE}:d=10,format=yuv444p,geq=lum='$LUM':cb='$CB':cr='$CR'" \
    -c:v ffv1 "$OUT/.tmp.base10.nut"
  mv "$OUT/.tmp.base10.nut" "$BASE10"
fi
LONG_OPEN="keyint=50:min-keyint=50:scenecut=0:open-gop=1"
make h264_opengop_long.mp4 "${FF[@]}" -i "$BASE10" "${X264[@]}" -x264-params "$LONG_OPEN" @TMP@
make h264_opengop_long.mkv "${FF[@]}" -i "$BASE10" "${X264[@]}" -x264-params "$LONG_OPEN:bframes=3:b-pyramid=normal" @TMP@
make h264_opengop_long.ts "${FF[@]}" -i "$BASE10" "${X264[@]}" -x264-params "$LONG_OPEN" @TMP@
# HEVC 8-bit, B-frames, MP4.
make hevc.mp4 "${FF[@]}" -i "$BASE" -c:v libx265 -pix_fmt yuv420p -tag:v hvc1 \
  -x265-params "$GOP:bframes=3:log-level=error" @TMP@
# HEVC 10-bit, MKV.
make hevc_10bit.mkv "${FF[@]}" -i "$BASE" -c:v libx265 -pix_fmt yuv420p10le \
  -x265-params "$GOP:bframes=2:log-level=error" @TMP@
# VP9, odd width and height, WebM.
make vp9_odd.webm "${FF[@]}" -i "$BASE" -vf scale=317:239 -c:v libvpx-vp9 -pix_fmt yuv420p -g 12 \
  -deadline realtime -cpu-used 8 -b:v 400k @TMP@
# AV1, MKV.
make av1.mkv "${FF[@]}" -i "$BASE" -c:v libsvtav1 -preset 12 -g 12 -pix_fmt yuv420p @TMP@
# MPEG-4 Part 2 with B-frames in AVI: packets carry no pts (decode-scanned index).
make mpeg4_bframes.avi "${FF[@]}" -i "$BASE" -c:v mpeg4 -bf 2 -g 12 -q:v 4 @TMP@
# MPEG-4 Part 2 by Xvid with B-frames in AVI: packed bitstream (a B-frame rides in the
# packet of the P-frame before it; placeholder packets of a few bytes stand in its place).
make mpeg4_packed.avi "${FF[@]}" -i "$BASE" -c:v libxvid -bf 2 -g 12 -q:v 4 @TMP@
# MJPEG, full range (yuvj420p), AVI.
make mjpeg_full.avi "${FF[@]}" -i "$BASE" -c:v mjpeg -pix_fmt yuvj420p -q:v 3 @TMP@
# H.264 in MPEG-TS (starts at 1.4 s).
make h264.ts "${FF[@]}" -i "$BASE" "${X264[@]}" -bf 2 -x264-params "$GOP" -f mpegts @TMP@
# H.264 in MOV with rotation metadata.
# (FFmpeg 5.1 writes the rotate tag as a display matrix only on a stream copy.)
make h264_rotated.mov "${FF[@]}" -i "$OUT/h264_bframes.mp4" -c copy -metadata:s:v:0 rotate=90 @TMP@
# Variable frame rate: a hole of 10 frames and every 7th frame dropped, timestamps kept.
VFR_SELECT="select='not(between(n\,20\,29))*not(eq(mod(n\,7)\,3))'"
make vfr.mkv "${FF[@]}" -i "$BASE" -vf "$VFR_SELECT" -vsync vfr "${X264[@]}" -bf 2 -x264-params "$GOP" @TMP@
make vfr.mp4 "${FF[@]}" -i "$BASE" -vf "$VFR_SELECT" -vsync vfr "${X264[@]}" -bf 0 -x264-params "$GOP" \
  -video_track_timescale 90000 @TMP@
# Non-zero start time.
make start_offset.mkv "${FF[@]}" -i "$BASE" -vf "setpts=PTS+2.5/TB" "${X264[@]}" -bf 2 -x264-params "$GOP" @TMP@
# With audio (AAC), MP4.
make h264_audio.mp4 "${FF[@]}" -i "$BASE" "${SINE[@]}" "${X264[@]}" -bf 2 -x264-params "$GOP" \
  -c:a aac -b:a 96k -shortest @TMP@
# Audio only.
make audio_only.m4a "${FF[@]}" "${SINE[@]}" -c:a aac -b:a 96k @TMP@
# Truncated tails: an MP4 whose index promises frames the file no longer holds, and a TS.
trunc() {  # trunc SRC PERCENT DEST
  local size; size=$(stat -c %s "$OUT/$1")
  head -c $((size * $2 / 100)) "$OUT/$1" > "$3"
}
make h264_faststart.mp4 "${FF[@]}" -i "$BASE" "${X264[@]}" -bf 2 -x264-params "$GOP" -movflags +faststart @TMP@
make truncated.mp4 trunc h264_faststart.mp4 60 @TMP@
make truncated.ts trunc h264.ts 70 @TMP@
make truncated.mkv trunc h264_opengop.mkv 60 @TMP@
# Cuts between unrelated sources at known frames (25 fps): 0-39 testsrc2, 40-94 SMPTE bars,
# 95-134 a Mandelbrot zoom, 135-179 rotating gradients. Each shot is steady on its own.
SHOT=(-f lavfi -i)
make scenes.mp4 "${FF[@]}" "${SHOT[@]}" "testsrc2=s=${W}x${H}:r=${RATE}:d=1.6" \
  "${SHOT[@]}" "smptebars=s=${W}x${H}:r=${RATE}:d=2.2" \
  "${SHOT[@]}" "mandelbrot=s=${W}x${H}:r=${RATE},trim=end_frame=40" \
  "${SHOT[@]}" "gradients=s=${W}x${H}:r=${RATE}:d=1.8" \
  -filter_complex "[0:v][1:v][2:v][3:v]concat=n=4:v=1:a=0,format=yuv420p" "${X264[@]}" -bf 2 @TMP@

# --- The conformance matrix (tests/support/media_set.hpp lists what each file is) --------
# pts = dts although the stream has B-frames: decode times stored as pts, as some cameras
# and muxers write them.
make h264_ptsdts.mp4 "${FF[@]}" -i "$OUT/h264_bframes.mp4" -c copy -bsf:v "setts=ts=DTS-STARTDTS" @TMP@
# An edit list with a negative start: cut at 0.5 s on a stream copy, so the kept packets
# begin at the keyframe before it and the edit list hides the first (discard flags).
make h264_editlist.mp4 "${FF[@]}" -ss 0.5 -i "$OUT/h264_bframes.mp4" -c copy @TMP@
# MPEG-TS whose 33-bit clock wraps 1.7 s in (starts at 95442 s; 2^33 / 90 kHz = 95443.7 s).
make h264_wrap.ts "${FF[@]}" -i "$BASE" "${X264[@]}" -bf 2 -x264-params "$GOP" -f mpegts -output_ts_offset 95442 @TMP@
# MPEG-TS with a discontinuity: two recordings joined byte for byte, the clock restarting.
cat_ts() { cat "$OUT/h264.ts" "$OUT/h264.ts" > "$1"; }
make h264_discontinuity.ts cat_ts @TMP@
# Interlaced H.264 (x264 codes MBAFF frames; it cannot code fields as separate pictures).
make h264_interlaced.ts "${FF[@]}" -i "$BASE" "${X264[@]}" -bf 2 -x264-params "$GOP:interlaced=1:tff=1" -f mpegts @TMP@
# Field-coded (PAFF) H.264: each field a picture and a packet of its own, so a frame is two
# packets of which the first yields nothing; IDR frame pictures and IDR field pairs mixed.
# No encoder in Debian codes fields as pictures: make-paff.py writes the bitstream (I_PCM).
make .paff.h264 /usr/bin/python3 "$HERE/make-paff.py" @TMP@ 48
make h264_paff.ts "${FF[@]}" -framerate 25 -i "$OUT/.paff.h264" -c copy @TMP@
make h264_paff.mkv "${FF[@]}" -framerate 25 -i "$OUT/.paff.h264" -c copy @TMP@
make h264_paff.mp4 "${FF[@]}" -framerate 25 -i "$OUT/.paff.h264" -c copy @TMP@
# MPEG-2, interlaced (field DCT and motion), B-frames, in MPEG-TS.
make mpeg2_interlaced.ts "${FF[@]}" -i "$BASE" -c:v mpeg2video -flags +ilme+ildct -top 1 -bf 2 -g 12 -q:v 4 @TMP@
# HEVC 10-bit, open GOP (CRA keyframes with leading pictures), 4 B-frames.
make hevc_10bit_opengop.mkv "${FF[@]}" -i "$BASE" -c:v libx265 -pix_fmt yuv420p10le \
  -x265-params "$GOP:open-gop=1:bframes=4:log-level=error" @TMP@
make vp8.webm "${FF[@]}" -i "$BASE" -c:v libvpx -g 12 -deadline realtime -cpu-used 8 -b:v 400k @TMP@
make theora.ogv "${FF[@]}" -i "$BASE" -c:v libtheora -g 12 -q:v 6 @TMP@
# (prores_ks keeps the input's chroma: 4:2:2 must be asked for, or the base's 4:4:4 stays)
make prores.mov "${FF[@]}" -i "$BASE" -c:v prores_ks -profile:v 2 -pix_fmt yuv422p10le @TMP@
# FFV1, odd width and height with 4:2:0 chroma, MKV.
make ffv1_odd.mkv "${FF[@]}" -i "$BASE" -vf scale=317:239 -c:v ffv1 -pix_fmt yuv420p @TMP@
# Rotation 180 and 270 (display matrix, MP4), and a phone-style portrait video: 568x320
# stored, shown 320x568 (turned 90 degrees), AAC audio beside it.
make h264_rot180.mp4 "${FF[@]}" -i "$OUT/h264_bframes.mp4" -c copy -metadata:s:v:0 rotate=180 @TMP@
make h264_rot270.mp4 "${FF[@]}" -i "$OUT/h264_bframes.mp4" -c copy -metadata:s:v:0 rotate=270 @TMP@
# Mirrored display matrices (as selfie cameras and editors write them; FFmpeg 5.1's CLI cannot
# write one, so set-display-matrix.py sets the track header's matrix): a mirror alone, upside
# down (vflip), and a quarter turn with a mirror (the CLI's transpose=cclock_flip and
# clock_flip). H.264 4:2:2 turned a quarter: the CLI's transpose cannot take 4:2:2, so
# libavfilter converts it to 4:4:4 first. Turns of 45 degrees clockwise and 30 counter-clockwise,
# which the CLI shows through its rotate filter (interpolated, corners black).
DM=(/usr/bin/python3 "$HERE/set-display-matrix.py")
make h264_hflip.mp4 "${DM[@]}" "$OUT/h264_bframes.mp4" @TMP@ 0 hflip
make h264_vflip.mp4 "${DM[@]}" "$OUT/h264_bframes.mp4" @TMP@ 0 vflip
make h264_transpose.mp4 "${DM[@]}" "$OUT/h264_bframes.mp4" @TMP@ 90 hflip
make h264_clockflip.mp4 "${DM[@]}" "$OUT/h264_bframes.mp4" @TMP@ 270 hflip
make h264_rot45.mp4 "${DM[@]}" "$OUT/h264_bframes.mp4" @TMP@ 45
make h264_rot330.mp4 "${DM[@]}" "$OUT/h264_bframes.mp4" @TMP@ -30
make .h264_422.mp4 "${FF[@]}" -i "$BASE" -c:v libx264 -preset veryfast -pix_fmt yuv422p -bf 2 -x264-params "$GOP" @TMP@
make h264_422_rot90.mp4 "${FF[@]}" -i "$OUT/.h264_422.mp4" -c copy -metadata:s:v:0 rotate=90 @TMP@
make .phone_src.mp4 "${FF[@]}" -i "$BASE" "${SINE[@]}" -vf scale=568:320 -c:v libx264 -preset veryfast -profile:v high \
  -pix_fmt yuv420p -bf 2 -x264-params "$GOP" -c:a aac -b:a 96k -shortest @TMP@
make phone_rotated.mp4 "${FF[@]}" -i "$OUT/.phone_src.mp4" -c copy -metadata:s:v:0 rotate=90 @TMP@
# A packet that decodes to nothing: packet 30's slice NAL units get NAL type 0 (unspecified,
# which decoders skip), so the file has 100 packets and 99 frames.
make h264_nopicture.mp4 /usr/bin/python3 "$HERE/damage-media.py" nal "$OUT/h264_bframes.mp4" 30 @TMP@
# A damaged middle: 3000 bytes zeroed at 45 % of the file (inside the media data).
make h264_damaged.mp4 /usr/bin/python3 "$HERE/damage-media.py" zero "$OUT/h264_faststart.mp4" 45 @TMP@
# A broken slice in the first IDR (as a phone's clip: FFmpeg logs "A non-intra slice in an
# IDR NAL unit" once, conceals it and decodes every frame).
make .h264_slices.mp4 "${FF[@]}" -i "$BASE" "${X264[@]}" -x264-params "$GOP:slices=4" @TMP@
make h264_broken_idr.mp4 /usr/bin/python3 "$HERE/damage-media.py" idr-slice "$OUT/.h264_slices.mp4" 0 @TMP@

# For the test models (tests/models, trained on pictures drawn by numpy): new pictures drawn
# here by ffmpeg, which the models never saw.
# shapes.mp4: a yellow shape on dark grey, 160x120 (letterboxed to the model's 64x64):
# a circle for 0-1 s, a square for 1-2 s, a triangle (apex up) for 2-3 s, drifting sideways.
SX="(80+16*sin(T*2))" SY=60 SR=30
SHAPE="if(lt(T,1),lte(hypot(X-$SX,Y-$SY),$SR),if(lt(T,2),lte(abs(X-$SX),$SR)*lte(abs(Y-$SY),$SR),gte(Y-$SY,-$SR)*lte(Y-$SY,$SR)*lte(abs(X-$SX),(Y-$SY+$SR)/2)))"
make shapes.mp4 "${FF[@]}" -f lavfi -i "nullsrc=s=160x120:r=25:d=3,format=gbrp,geq=r='35+205*$SHAPE':g='35+165*$SHAPE':b='40*(1-$SHAPE)+40'" \
  "${X264[@]}" @TMP@
# motion_{left,right,up,down}.mp4: a 24x24 square, 4 px a frame across 128x128, 24 frames.
for dir in left right up down; do
  case $dir in
    left) XY="x=100-4*n:y=52" ;; right) XY="x=4+4*n:y=52" ;;
    up) XY="x=52:y=100-4*n" ;; down) XY="x=52:y=4+4*n" ;;
  esac
  make "motion_$dir.mp4" "${FF[@]}" -f lavfi -i "color=c=0x1e2a22:s=128x128:r=25:d=0.96" \
    -f lavfi -i "color=c=0xf0e040:s=24x24:r=25:d=0.96" \
    -filter_complex "[0:v][1:v]overlay=$XY:eval=frame,format=yuv420p" "${X264[@]}" @TMP@
done
# squares.mp4: red, green and blue squares on 160x120 (letterboxed to 128x128), 1 s. Green
# and blue stand still at (100,20)-(130,50) and (30,70)-(66,106); red moves right 2 px a
# frame from (10,10), 30x30. tests/test_infer.cpp holds the same boxes.
make squares.mp4 "${FF[@]}" -f lavfi -i "color=c=0x141414:s=160x120:r=25:d=1" \
  -f lavfi -i "color=c=0xe02828:s=30x30:r=25:d=1" \
  -filter_complex "[0:v]drawbox=x=100:y=20:w=30:h=30:color=0x28c832:t=fill,drawbox=x=30:y=70:w=36:h=36:color=0x3040e0:t=fill[bg];[bg][1:v]overlay=x=10+2*n:y=10:eval=frame,format=yuv420p" \
  "${X264[@]}" @TMP@

# moving_patch.mp4: a textured 32x32 patch (testsrc) crossing a still dark 160x120 background,
# 4 px a frame from the left, 30 frames: what background subtraction is for.
make moving_patch.mp4 "${FF[@]}" -f lavfi -i "color=c=0x181818:s=160x120:r=25:d=1.2" \
  -f lavfi -i "testsrc=s=32x32:r=25:d=1.2" \
  -filter_complex "[0:v][1:v]overlay=x=4*n:y=44:eval=frame,format=yuv420p" "${X264[@]}" @TMP@

# A TS joined late: cut at a third (on a 188-byte packet boundary), mid-GOP.
cut_head() {  # cut_head SRC DEST
  local size; size=$(stat -c %s "$OUT/$1")
  tail -c +$(( size / 3 / 188 * 188 + 1 )) "$OUT/$1" > "$2"
}
make midgop.ts cut_head h264.ts @TMP@
# Inputs that are not videos.
[ -f "$OUT/empty.mp4" ] || : > "$OUT/empty.mp4"
[ -s "$OUT/text.mp4" ] || echo "this is a text file, not a video" > "$OUT/text.mp4"

# Real footage from Debian's opencv-doc (not made by us). Cached outside the build tree.
CACHE=${XDG_CACHE_HOME:-$HOME/.cache}/framepipe/opencv-doc
REAL=(vtest.avi Megamind.avi Megamind_bugy.avi tree.avi messi5.jpg)
need=0
for f in "${REAL[@]}"; do [ -s "$CACHE/$f" ] || need=1; done
if [ $need = 1 ]; then
  work=$(mktemp -d)
  (cd "$work" && apt-get download opencv-doc >/dev/null 2>&1) ||
    { echo "make-test-media: cannot download opencv-doc (apt-get download)" >&2; rm -rf "$work"; exit 1; }
  dpkg-deb -x "$work"/opencv-doc_*.deb "$work/x"
  mkdir -p "$CACHE"
  for f in "${REAL[@]}"; do cp "$work/x/usr/share/doc/opencv-doc/examples/data/$f" "$CACHE/$f"; done
  rm -rf "$work"
fi
mkdir -p "$OUT/real"
for f in "${REAL[@]}"; do [ -s "$OUT/real/$f" ] || cp "$CACHE/$f" "$OUT/real/$f"; done
# faces.mp4: opencv-doc's messi5.jpg (a footballer, face seen from the front at about
# x 222-265, y 85-130, read off the picture by eye) held for 2 frames, for builtin:faces.
make faces.mp4 "${FF[@]}" -loop 1 -i "$OUT/real/messi5.jpg" -frames:v 2 -r 5 "${X264[@]}" @TMP@
# faces_rotated.mp4: the same picture stored turned a quarter clockwise, with a
# display matrix that turns it back (as a phone held sideways writes it): upright, the face
# is where it is in faces.mp4.
make .faces_turned.mp4 "${FF[@]}" -loop 1 -i "$OUT/real/messi5.jpg" -frames:v 2 -r 5 -vf transpose=clock "${X264[@]}" @TMP@
make faces_rotated.mp4 "${FF[@]}" -i "$OUT/.faces_turned.mp4" -c copy -metadata:s:v:0 rotate=90 @TMP@
echo "make-test-media: $(ls "$OUT" | wc -l) files in $OUT"
