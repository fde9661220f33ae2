#!/usr/bin/python3
"""Writes a field-coded (PAFF) H.264 elementary stream, for the conformance media.

  make-paff.py DEST.h264 [FRAMES]

x264 codes interlaced video as MBAFF frames only, and no encoder in Debian codes each field
as a picture of its own, so this script writes the bitstream itself: Main profile, CAVLC,
frame_mbs_only_flag 0, 320x192, 25 frames a second (FRAMES, default 48), a keyframe every 12.
Picture-adaptive, as broadcast encoders are: one GOP in two starts with an IDR frame picture,
the other with an IDR field pair (an IDR top field and a non-IDR I bottom field); every other
frame is a P field pair whose first macroblock row is coded (I_PCM) and the rest skipped.
So a frame is two pictures, two packets in most containers, of which the first yields
nothing. Every frame carries its number as make-test-media.sh draws it: the top 16 rows
hold 16 blocks 20 pixels wide, block b white (235) when bit b is set, black (16) otherwise.
Samples are I_PCM (uncompressed), so the pixels are exact and any decoder that gets the
field structure right shows the same picture.
"""
import math
import sys

W, H = 320, 192          # H a multiple of 32: fields are whole macroblock rows
MBW, MBH = W // 16, H // 16
GOP = 12
LOG2_MAX_FRAME_NUM = 4   # frame_num wraps at 16
LOG2_MAX_POC_LSB = 8


class Bits:
    def __init__(self):
        self.out = bytearray()
        self.acc = 0
        self.n = 0

    def u(self, width, value):
        for i in range(width - 1, -1, -1):
            self.acc = (self.acc << 1) | ((value >> i) & 1)
            self.n += 1
            if self.n == 8:
                self.out.append(self.acc)
                self.acc = self.n = 0

    def ue(self, value):
        v = value + 1
        length = v.bit_length()
        self.u(length - 1, 0)
        self.u(length, v)

    def se(self, value):
        self.ue(2 * value - 1 if value > 0 else -2 * value)

    def align_zero(self):
        while self.n:
            self.u(1, 0)

    def raw(self, data):
        assert self.n == 0
        self.out += data

    def trailing(self):
        self.u(1, 1)
        self.align_zero()
        return bytes(self.out)


def nal(ref_idc, nal_type, rbsp):
    """An Annex B NAL unit: start code, header, the payload with emulation prevention."""
    body = bytearray()
    zeros = 0
    for b in rbsp:
        if zeros >= 2 and b <= 3:
            body.append(3)
            zeros = 0
        body.append(b)
        zeros = zeros + 1 if b == 0 else 0
    return b"\x00\x00\x00\x01" + bytes([(ref_idc << 5) | nal_type]) + bytes(body)


def sps():
    b = Bits()
    b.u(8, 77)                     # Main profile
    b.u(8, 0)                      # constraint flags
    b.u(8, 30)                     # level 3.0
    b.ue(0)                        # seq_parameter_set_id
    b.ue(LOG2_MAX_FRAME_NUM - 4)
    b.ue(0)                        # pic_order_cnt_type
    b.ue(LOG2_MAX_POC_LSB - 4)
    b.ue(2)                        # max_num_ref_frames
    b.u(1, 0)                      # gaps_in_frame_num_value_allowed_flag
    b.ue(MBW - 1)
    b.ue(MBH // 2 - 1)             # height in map units: macroblock pairs
    b.u(1, 0)                      # frame_mbs_only_flag: fields allowed
    b.u(1, 0)                      # mb_adaptive_frame_field_flag: no MBAFF
    b.u(1, 1)                      # direct_8x8_inference_flag
    b.u(1, 0)                      # frame_cropping_flag
    b.u(1, 0)                      # vui_parameters_present_flag
    return nal(3, 7, b.trailing())


def pps():
    b = Bits()
    b.ue(0)                        # pic_parameter_set_id
    b.ue(0)                        # seq_parameter_set_id
    b.u(1, 0)                      # CAVLC
    b.u(1, 0)                      # bottom_field_pic_order_in_frame_present_flag
    b.ue(0)                        # num_slice_groups_minus1
    b.ue(0)                        # num_ref_idx_l0_default_active_minus1
    b.ue(0)                        # num_ref_idx_l1_default_active_minus1
    b.u(1, 0)                      # weighted_pred_flag
    b.u(2, 0)                      # weighted_bipred_idc
    b.se(0)                        # pic_init_qp_minus26
    b.se(0)                        # pic_init_qs_minus26
    b.se(0)                        # chroma_qp_index_offset
    b.u(1, 1)                      # deblocking_filter_control_present_flag
    b.u(1, 0)                      # constrained_intra_pred_flag
    b.u(1, 0)                      # redundant_pic_cnt_present_flag
    return nal(3, 8, b.trailing())


def picture(n):
    """Frame n's planes (Y, Cb, Cr) as lists of rows: the number in the top rows, a texture."""
    y = [[0] * W for _ in range(H)]
    for r in range(H):
        for x in range(W):
            if r < 16:
                y[r][x] = 235 if (n >> (x // 20)) & 1 else 16
            else:
                y[r][x] = int(128 + 70 * math.sin(x / 9 + n / 4) * math.cos(r / 11 - n / 9))
    cb = [[128 if r < 8 else int(128 + 60 * math.sin(2 * r / 13 + n / 7)) for x in range(W // 2)] for r in range(H // 2)]
    cr = [[128 if r < 8 else int(128 + 60 * math.cos(2 * x / 17 - n / 5)) for x in range(W // 2)] for r in range(H // 2)]
    return y, cb, cr


def pcm_macroblock(b, planes, mbx, mby, field, bottom):
    """One I_PCM macroblock's samples (after its mb_type). In a field picture, row r of the
    field is row 2r + bottom of the frame."""
    b.align_zero()
    y, cb, cr = planes

    def rows(plane, top, count):
        return [plane[2 * (top + i) + bottom] if field else plane[top + i] for i in range(count)]

    out = bytearray()
    for row in rows(y, mby * 16, 16):
        out += bytes(max(1, v) for v in row[mbx * 16:mbx * 16 + 16])
    for plane in (cb, cr):
        for row in rows(plane, mby * 8, 8):
            out += bytes(max(1, v) for v in row[mbx * 8:mbx * 8 + 8])
    b.raw(out)


def slice_nal(planes, kind, idr, frame_num, poc, field, bottom, idr_id):
    """kind 'I': every macroblock I_PCM; 'P': the first macroblock row I_PCM, the rest skipped."""
    b = Bits()
    b.ue(0)                                    # first_mb_in_slice
    b.ue(2 if kind == "I" else 0)              # slice_type
    b.ue(0)                                    # pic_parameter_set_id
    b.u(LOG2_MAX_FRAME_NUM, frame_num % (1 << LOG2_MAX_FRAME_NUM))
    b.u(1, 1 if field else 0)                  # field_pic_flag
    if field:
        b.u(1, bottom)                         # bottom_field_flag
    if idr:
        b.ue(idr_id)
    b.u(LOG2_MAX_POC_LSB, poc % (1 << LOG2_MAX_POC_LSB))
    if kind == "P":
        b.u(1, 0)                              # num_ref_idx_active_override_flag
        b.u(1, 0)                              # ref_pic_list_modification_flag_l0
    if idr:
        b.u(1, 0)                              # no_output_of_prior_pics_flag
        b.u(1, 0)                              # long_term_reference_flag
    else:
        b.u(1, 0)                              # adaptive_ref_pic_marking_mode_flag
    b.se(0)                                    # slice_qp_delta
    b.ue(1)                                    # disable_deblocking_filter_idc
    mb_rows = MBH // 2 if field else MBH
    coded_rows = mb_rows if kind == "I" else 1
    for mby in range(coded_rows):
        for mbx in range(MBW):
            if kind == "P":
                b.ue(0)                        # mb_skip_run
            b.ue(25 if kind == "I" else 30)    # I_PCM
            pcm_macroblock(b, planes, mbx, mby, field, bottom)
    if kind == "P":
        b.ue((mb_rows - coded_rows) * MBW)     # the rest skipped: copied from the reference
    return nal(3, 5 if idr else 1, b.trailing())


def main():
    dest = sys.argv[1]
    frames = int(sys.argv[2]) if len(sys.argv) > 2 else 48
    stream = bytearray()
    frame_num = 0
    for n in range(frames):
        planes = picture(n)
        k = n % GOP
        if k == 0:
            frame_num = 0
            stream += sps() + pps()
        poc = 2 * k
        aud = nal(0, 9, bytes([0x50]))  # access unit delimiter: primary_pic_type 2 (any slice), stop bit
        if k == 0 and (n // GOP) % 2 == 0:     # an IDR frame picture
            stream += aud + slice_nal(planes, "I", True, 0, poc, False, 0, n // GOP)
        else:                                  # a field pair, top field first
            first_idr = k == 0
            kind = "I" if k == 0 else "P"
            stream += aud + slice_nal(planes, kind, first_idr, frame_num, poc, True, 0, n // GOP)
            stream += aud + slice_nal(planes, kind, False, frame_num, poc + 1, True, 1, 0)
        frame_num += 1
    with open(dest, "wb") as f:
        f.write(stream)


if __name__ == "__main__":
    main()
