#!/usr/bin/python3
"""Rewrites the display matrix of an MP4/MOV's video track, for the conformance media.

  set-display-matrix.py SRC DEST DEGREES [hflip] [vflip]

FFmpeg 5.1's CLI writes only whole turns (the `rotate` tag on a stream copy), but phones and
editors also write mirrored matrices and other angles. This sets the video track header's
(tkhd) matrix in place, as FFmpeg's av_display_rotation_set(DEGREES) then
av_display_matrix_flip(hflip, vflip) would make it: a turn of DEGREES clockwise (any angle),
then the mirrors. The file's size and every other byte stay as they were.
"""
import math
import struct
import sys


def boxes(data, start, end):
    off = start
    while off + 8 <= end:
        size, kind = struct.unpack(">I4s", data[off:off + 8])
        header = 8
        if size == 1:
            size = struct.unpack(">Q", data[off + 8:off + 16])[0]
            header = 16
        elif size == 0:
            size = end - off
        yield kind.decode("latin-1"), off, off + header, off + size
        off += size


def video_tkhd(data):
    for kind, _, body, end in boxes(data, 0, len(data)):
        if kind != "moov":
            continue
        for tkind, _, tbody, tend in boxes(data, body, end):
            if tkind != "trak":
                continue
            tkhd, is_video = None, False
            for k, _, b, e in boxes(data, tbody, tend):
                if k == "tkhd":
                    tkhd = b
                if k == "mdia":
                    for mk, _, mb, me in boxes(data, b, e):
                        if mk == "hdlr" and data[mb + 8:mb + 12] == b"vide":
                            is_video = True
            if is_video and tkhd is not None:
                return tkhd
    sys.exit("set-display-matrix: no video track header found")


def matrix(rotation, hflip, vflip):
    r = -rotation * math.pi / 180
    c, s = math.cos(r), math.sin(r)
    m = [c, -s, 0.0, s, c, 0.0, 0.0, 0.0, 1.0]
    flip = [-1 if hflip else 1, -1 if vflip else 1, 1]
    m = [v * flip[i % 3] for i, v in enumerate(m)]
    fixed = []
    for i, v in enumerate(m):
        shift = 30 if i % 3 == 2 else 16  # u, v, w are 2.30; the rest 16.16
        fixed.append(int(v * (1 << shift)))
    return fixed


def main():
    src, dest, rotation = sys.argv[1], sys.argv[2], float(sys.argv[3])
    flags = set(sys.argv[4:])
    data = bytearray(open(src, "rb").read())
    tkhd = video_tkhd(data)
    version = data[tkhd]
    at = tkhd + 4 + (32 if version == 1 else 20) + 8 + 8  # times, track id, duration; reserved, layer...
    data[at:at + 36] = struct.pack(">9i", *matrix(rotation, "hflip" in flags, "vflip" in flags))
    open(dest, "wb").write(data)


if __name__ == "__main__":
    main()
