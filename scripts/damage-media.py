#!/usr/bin/python3
"""Damages a video in a known way, for the conformance media (make-test-media.sh).

  damage-media.py nal SRC K DEST    packet K's H.264 slice NAL units get type 0 (skipped by
                                    decoders): a packet that decodes to nothing
  damage-media.py zero SRC PCT DEST 3000 bytes zeroed at PCT % of the file
"""
import json
import subprocess
import sys


def packet_of(src, k):
    out = subprocess.run(["ffprobe", "-v", "error", "-select_streams", "v:0", "-show_entries",
                          "packet=pos,size", "-of", "json", src], check=True, capture_output=True, text=True).stdout
    p = json.loads(out)["packets"][k]
    return int(p["pos"]), int(p["size"])


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
    elif how == "zero":
        at = len(data) * arg // 100
        data[at:at + 3000] = bytes(3000)
    else:
        sys.exit(f"damage-media: unknown damage '{how}'")
    open(dest, "wb").write(data)


if __name__ == "__main__":
    main()
