#!/usr/bin/python3
"""Damages a video in a known way, for the conformance media (make-test-media.sh).

  damage-media.py nal SRC K DEST    packet K's H.264 slice NAL units get type 0 (skipped by
                                    decoders): a packet that decodes to nothing
  damage-media.py zero SRC PCT DEST 3000 bytes zeroed at PCT % of the file
  damage-media.py idr-slice SRC K DEST  packet K's second IDR slice says it is an SP slice
                                    (slice_type 7 -> 8, the same length): FFmpeg logs "A
                                    non-intra slice in an IDR NAL unit", conceals that slice
                                    and decodes every frame, as a phone's broken first IDR
"""
import json
import subprocess
import sys


def packet_of(src, k):
    out = subprocess.run(["ffprobe", "-v", "error", "-select_streams", "v:0", "-show_entries",
                          "packet=pos,size", "-of", "json", src], check=True, capture_output=True, text=True).stdout
    p = json.loads(out)["packets"][k]
    return int(p["pos"]), int(p["size"])


def retype_slice(data, start, n):
    """The slice header at data[start:start+n] (after the NAL header): first_mb_in_slice, then
    slice_type ue(v) 7 (I, all slices alike: 0001000) made 8 (SP: 0001001)."""
    bit = [start * 8]

    def read():
        b = (data[bit[0] // 8] >> (7 - bit[0] % 8)) & 1
        bit[0] += 1
        return b

    def ue():
        zeros = 0
        while read() == 0:
            zeros += 1
        v = 1
        for _ in range(zeros):
            v = (v << 1) | read()
        return v - 1

    ue()  # first_mb_in_slice
    at = bit[0]
    if ue() != 7:
        sys.exit("damage-media: the IDR slice is not of type 7 (I, all slices alike)")
    last = at + 6
    data[last // 8] |= 1 << (7 - last % 8)


def main():
    how, src, arg, dest = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
    data = bytearray(open(src, "rb").read())
    if how == "nal":
        pos, size = packet_of(src, arg)
        off, end, hit = pos, pos + size, 0
        while off + 4 < end:  # MP4: NAL units with 4-byte lengths
            n = int.from_bytes(data[off:off + 4], "big")
            if data[off + 4] & 0x1F in (1, 5):
                data[off + 4] = 0x00
                hit += 1
            off += 4 + n
        if not hit:
            sys.exit(f"damage-media: packet {arg} of {src} has no slice")
    elif how == "idr-slice":
        pos, size = packet_of(src, arg)
        off, end, slices = pos, pos + size, 0
        while off + 4 < end:  # MP4: NAL units with 4-byte lengths
            n = int.from_bytes(data[off:off + 4], "big")
            if data[off + 4] & 0x1F == 5:
                slices += 1
                if slices == 2:
                    retype_slice(data, off + 5, n - 1)
                    break
            off += 4 + n
        if slices < 2:
            sys.exit(f"damage-media: packet {arg} of {src} has fewer than two IDR slices")
    elif how == "zero":
        at = len(data) * arg // 100
        data[at:at + 3000] = bytes(3000)
    else:
        sys.exit(f"damage-media: unknown damage '{how}'")
    open(dest, "wb").write(data)


if __name__ == "__main__":
    main()
