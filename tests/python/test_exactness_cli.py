"""Exact on badly muxed and damaged files, and upright by default (issue 14), through the CLI:
checked against ffprobe and the ffmpeg CLI's own decode, never against framepipe's output."""
import hashlib
import json
import subprocess

import numpy as np
import pytest

from conftest import ffmpeg_all_rgb


def probe_json(cli, path):
    return json.loads(subprocess.run([cli, "probe", "--json", str(path)], check=True, capture_output=True,
                                     text=True).stdout)


def frame_count(path):
    out = subprocess.run(["ffprobe", "-v", "error", "-count_frames", "-select_streams", "v:0", "-show_entries",
                          "stream=nb_read_frames", "-of", "json", str(path)], check=True, capture_output=True,
                         text=True).stdout
    return int(json.loads(out)["streams"][0]["nb_read_frames"])


def frame_times(path):
    out = subprocess.run(["ffprobe", "-v", "error", "-select_streams", "v:0", "-show_entries",
                          "frame=best_effort_timestamp_time", "-of", "json", str(path)], check=True,
                         capture_output=True, text=True).stdout
    return [float(f["best_effort_timestamp_time"]) for f in json.loads(out)["frames"]]


def side_rotation(path):
    out = subprocess.run(["ffprobe", "-v", "error", "-select_streams", "v:0", "-show_entries",
                          "stream=width,height:stream_side_data=rotation", "-of", "json", str(path)], check=True,
                         capture_output=True, text=True).stdout
    s = json.loads(out)["streams"][0]
    rot = next((d["rotation"] for d in s.get("side_data_list", []) if "rotation" in d), 0)
    return s["width"], s["height"], rot


def npy_frames(cli, path, indices, out, *extra):
    subprocess.run([cli, "frames", str(path), "--indices", ",".join(map(str, indices)), "--format", "npy",
                    "--out", str(out), *extra], check=True, capture_output=True)
    return {i: np.load(out / f"frame_{i:06d}.npy") for i in indices}


@pytest.fixture(scope="module")
def issue_files(tmp_path_factory):
    """The issue's reproducer, made as the issue made it: an H.264 MP4 whose packets carry
    pts = dts although the stream has B-frames."""
    d = tmp_path_factory.mktemp("issue14")
    src, bad = d / "src.mp4", d / "ptsdts.mp4"
    ff = ["ffmpeg", "-nostdin", "-v", "error", "-y"]
    subprocess.run(ff + ["-f", "lavfi", "-i", "testsrc2=size=320x240:rate=25:duration=6", "-c:v", "libx264",
                         "-bf", "3", "-g", "50", str(src)], check=True)
    subprocess.run(ff + ["-i", str(src), "-c", "copy", "-bsf:v", "setts=ts=DTS-STARTDTS", str(bad)], check=True)
    return bad


def test_pts_equal_to_dts_random_access_equals_the_ffmpeg_cli(cli, issue_files, tmp_path):
    ref = ffmpeg_all_rgb(issue_files)
    info = probe_json(cli, issue_files)
    assert info["frames"] == frame_count(issue_files) == len(ref) == 150
    assert info["index_method"] == "decode" and "decode order" in info["index_provenance"]
    wanted = [10, 77, 1, 149, 0, 77, 50, 99]  # the issue's 10 -> 8, 77 -> 74, 1 failing
    got = npy_frames(cli, issue_files, wanted, tmp_path)
    for i in wanted:
        assert np.array_equal(got[i], ref[i]), f"frame {i}"


@pytest.mark.parametrize("name", ["h264_ptsdts.mp4", "h264_discontinuity.ts", "h264_nopicture.mp4"])
def test_transform_writes_every_frame_at_rising_times(cli, media, tmp_path, name):
    src, dst = media / name, tmp_path / "out.mp4"
    p = subprocess.run([cli, "transform", str(src), str(dst), "--ops", "gray"], capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    assert frame_count(dst) == frame_count(src)
    times = frame_times(dst)
    assert all(b > a for a, b in zip(times, times[1:])), "output times must rise"
    src_times = frame_times(src)
    if all(b > a for a, b in zip(src_times, src_times[1:])):
        assert times == pytest.approx(src_times, abs=1e-3)  # rising times are kept as they are


@pytest.mark.parametrize("name", ["h264_ptsdts.mp4", "h264_discontinuity.ts"])
def test_annotated_copy_writes_every_frame_at_rising_times(cli, media, tmp_path, name):
    src = media / name
    out, ann = tmp_path / "r.jsonl", tmp_path / "ann.mp4"
    p = subprocess.run([cli, "run", "builtin:motion", str(src), "--out", str(out), "--annotate", str(ann)],
                       capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    assert frame_count(ann) == frame_count(src)
    times = frame_times(ann)
    assert all(b > a for a, b in zip(times, times[1:]))
    rows = [json.loads(l) for l in out.read_text().splitlines()]
    ref_t = frame_times(src)
    framed = [r for r in rows if "frame" in r and isinstance(r["frame"], int)]
    assert framed and all(r["t"] == pytest.approx(ref_t[r["frame"]], abs=1e-6) for r in framed)


def test_a_packet_that_decodes_to_nothing_is_not_a_frame(cli, media, tmp_path):
    src = media / "h264_nopicture.mp4"
    ref = ffmpeg_all_rgb(src)
    info = probe_json(cli, src)
    assert info["frames"] == frame_count(src) == len(ref) == 99
    assert info["frames_header"] == 100
    got = npy_frames(cli, src, [29, 30, 31, 98, 30], tmp_path)
    for i in (29, 30, 31, 98):
        assert np.array_equal(got[i], ref[i]), f"frame {i}"
    p = subprocess.run([cli, "frames", str(src), "--indices", "99", "--format", "null"], capture_output=True, text=True)
    assert p.returncode == 2 and "out of range" in p.stderr and "0..98" in p.stderr


def test_phone_video_comes_out_upright_byte_for_byte(cli, media, tmp_path):
    src = media / "phone_rotated.mp4"
    w, h, rot = side_rotation(src)
    assert (w, h, abs(rot)) == (568, 320, 90)
    upright = ffmpeg_all_rgb(src)  # the CLI's autorotate
    stored = ffmpeg_all_rgb(src, autorotate=False)
    assert upright.shape[1:] == (568, 320, 3) and stored.shape[1:] == (320, 568, 3)
    got = npy_frames(cli, src, [0, 37, 99], tmp_path / "a")
    raw = npy_frames(cli, src, [0, 37, 99], tmp_path / "b", "--no-autorotate")
    for i in (0, 37, 99):
        assert np.array_equal(got[i], upright[i]), f"upright frame {i}"
        assert np.array_equal(raw[i], stored[i]), f"stored frame {i}"


@pytest.mark.parametrize("name,turned", [("h264_rotated.mov", True), ("h264_rot180.mp4", False),
                                         ("h264_rot270.mp4", True)])
def test_every_rotation_matches_the_cli(cli, media, tmp_path, name, turned):
    src = media / name
    upright = ffmpeg_all_rgb(src)
    assert upright.shape[1:] == ((320, 240, 3) if turned else (240, 320, 3))
    got = npy_frames(cli, src, [5, 50], tmp_path)
    for i in (5, 50):
        assert np.array_equal(got[i], upright[i]), f"frame {i}"


# Display matrices that mirror, and 4:2:2 turned a quarter. The filter names are those the
# ffmpeg CLI's autorotate inserts for each matrix (its -v debug log names transpose's).
@pytest.mark.parametrize("name,upright,shape", [
    ("h264_hflip.mp4", "hflip", (240, 320, 3)),
    ("h264_vflip.mp4", "vflip", (240, 320, 3)),
    ("h264_transpose.mp4", "transpose=cclock_flip", (320, 240, 3)),
    ("h264_clockflip.mp4", "transpose=clock_flip", (320, 240, 3)),
    ("h264_422_rot90.mp4", "transpose=cclock", (320, 240, 3)),
])
def test_mirrors_and_422_turns_match_the_cli(cli, media, tmp_path, name, upright, shape):
    src = media / name
    log = subprocess.run(["ffmpeg", "-nostdin", "-v", "debug", "-i", str(src), "-frames:v", "1", "-f", "null", "-"],
                         capture_output=True, text=True).stderr
    if upright.startswith("transpose="):  # (hflip and vflip log nothing of themselves)
        assert f"Setting 'dir' to value '{upright[10:]}'" in log
    assert probe_json(cli, src)["upright"] == upright
    want = ffmpeg_all_rgb(src)
    assert want.shape[1:] == shape
    got = npy_frames(cli, src, [0, 5, 50, 99], tmp_path / "a")
    for i in (0, 5, 50, 99):
        assert np.array_equal(got[i], want[i]), f"frame {i}"
    stored = ffmpeg_all_rgb(src, autorotate=False)
    raw = npy_frames(cli, src, [7], tmp_path / "b", "--no-autorotate")
    assert np.array_equal(raw[7], stored[7])


@pytest.mark.parametrize("name,upright", [("h264_rot45.mp4", "rotate=45"), ("h264_rot330.mp4", "rotate=330")])
def test_a_turn_that_is_no_quarter_is_the_clis_rotate_filter(cli, media, tmp_path, name, upright):
    src = media / name
    log = subprocess.run(["ffmpeg", "-nostdin", "-v", "debug", "-i", str(src), "-frames:v", "1", "-f", "null", "-"],
                         capture_output=True, text=True).stderr
    assert "[rotate @" in log  # the CLI's autorotate chose its rotate filter
    assert probe_json(cli, src)["upright"] == upright
    want = ffmpeg_all_rgb(src)
    assert want.shape[1:] == (240, 320, 3)  # the stored size, corners filled
    got = npy_frames(cli, src, [3, 40, 99], tmp_path / "a")
    for i in (3, 40, 99):
        assert np.array_equal(got[i], want[i]), f"frame {i}"
    stored = ffmpeg_all_rgb(src, autorotate=False)
    raw = npy_frames(cli, src, [3], tmp_path / "b", "--no-autorotate")
    assert np.array_equal(raw[3], stored[3]) and not np.array_equal(raw[3], got[3])


def test_transform_of_a_rotated_video_plays_upright(cli, media, tmp_path):
    src = media / "phone_rotated.mp4"
    up, kept = tmp_path / "up.mp4", tmp_path / "kept.mp4"
    for dst, extra in ((up, []), (kept, ["--no-autorotate"])):
        p = subprocess.run([cli, "transform", str(src), str(dst), "--ops", "gray", *extra], capture_output=True,
                           text=True)
        assert p.returncode == 0, p.stderr
    assert side_rotation(up) == (320, 568, 0)      # turned: no display matrix needed
    assert side_rotation(kept) == side_rotation(src)  # as stored: the same matrix shows it upright
    # Both play the same upright picture in the ffmpeg CLI (which turns by the matrix).
    a, b = ffmpeg_all_rgb(up)[10].astype(int), ffmpeg_all_rgb(kept)[10].astype(int)
    assert a.shape == b.shape == (568, 320, 3)
    assert np.abs(a - b).mean() < 3  # two lossy encodes of the same gray picture


def test_probe_says_how_the_index_was_made(cli, media):
    good = probe_json(cli, media / "h264_bframes.mp4")
    assert good["index_method"] == "packets"
    assert "NAL units read" in good["index_provenance"] and "decoded and matched" in good["index_provenance"]
    bad = probe_json(cli, media / "h264_nopicture.mp4")
    assert bad["index_method"] == "decode" and "holds no picture" in bad["index_provenance"]
    # The sidecar records which scan made it.
    out = subprocess.run([cli, "probe", str(media / "h264_ptsdts.mp4")], check=True, capture_output=True,
                         text=True).stdout
    assert "index: decode:" in out
