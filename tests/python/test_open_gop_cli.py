# Issue 34's reproducers: x264 open GOP with long groups (keyframes 50 apart) by keyframes,
# by batches and with --strict; a broken slice in the first IDR through the Decord drop-in.
# Frames are checked against the ffmpeg CLI's, damage against `ffmpeg -v error`'s silence.
import os
import subprocess

import numpy as np
import pytest

from conftest import ffmpeg_all_rgb

OPEN_GOP = ["h264_opengop_long.mp4", "h264_opengop_long.mkv", "h264_opengop_long.ts"]


def keyframes(fp, path):
    return list(fp.VideoReader(str(path)).get_key_indices())


@pytest.mark.parametrize("name", OPEN_GOP)
def test_the_file_is_clean_for_ffmpeg(media, name):
    err = subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-i", str(media / name), "-f", "null", "-"],
                         capture_output=True, text=True).stderr
    assert err == "", err  # so any damage framepipe reports there is false


@pytest.mark.parametrize("name", OPEN_GOP)
def test_keyframes_exit_0_with_the_cli_frames_and_no_damage(media, cli, tmp_path, fp, name):
    path = media / name
    p = subprocess.run([cli, "frames", str(path), "--sample", "keyframes", "--out", str(tmp_path), "--format", "npy"],
                       capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    assert "damaged" not in p.stderr, p.stderr
    ref = ffmpeg_all_rgb(path)
    keys = keyframes(fp, path)
    assert len(keys) == 5  # 250 frames in groups of 50
    written = sorted(tmp_path.glob("*.npy"))
    assert len(written) == len(keys)
    for k, f in zip(keys, written):
        assert np.array_equal(np.load(f), ref[k]), f"keyframe {k} of {name} differs from the ffmpeg CLI's"


@pytest.mark.parametrize("name", OPEN_GOP)
def test_batches_that_failed_equal_the_cli_and_report_no_damage(media, fp, name):
    path = media / name
    ref = ffmpeg_all_rgb(path)
    for batch in ([0, 50, 100, 150], [20, 50, 185, 10], [30, 50, 120], [10, 50, 185], [49, 50, 51, 99, 100, 101]):
        for threads in (0, 1):
            r = fp.VideoReader(str(path), num_threads=threads)
            got = r.get_batch(batch)
            for i, frame in zip(batch, got):
                assert np.array_equal(frame, ref[i]), f"{name} {batch} threads={threads}: frame {i}"
            assert r.stats["damage_reports"] == 0, (name, batch, r.stats)


@pytest.mark.parametrize("name", OPEN_GOP)
def test_every_route_reports_no_damage_and_strict_passes(media, cli, name):
    path = str(media / name)
    for args in (["--every", "10"], ["--strict", "--indices", "120"], ["--strict", "--sample", "keyframes"],
                 ["--strict", "--every", "7"], ["--strict", "--all"]):
        p = subprocess.run([cli, "frames", path, *args, "--format", "null"], capture_output=True, text=True)
        assert p.returncode == 0, (args, p.stderr)
        assert "damaged" not in p.stderr, (args, p.stderr)


def test_progress_counts_the_measured_frames(media, cli):
    p = subprocess.run([cli, "frames", str(media / "h264_opengop_long.mkv"), "--all", "--format", "null"],
                       capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    assert "250/250 frames" in p.stderr, p.stderr


def test_the_decord_drop_in_gives_ffmpegs_frames_of_a_broken_first_idr(media, fp):
    from framepipe.compat import decord
    path = media / "h264_broken_idr.mp4"
    err = subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-i", str(path), "-f", "null", "-"],
                         capture_output=True, text=True).stderr
    assert "non-intra slice in an IDR" in err  # damaged, and FFmpeg decodes on
    ref = ffmpeg_all_rgb(path)
    vr = decord.VideoReader(str(path))  # Decord's defaults
    assert len(vr) == len(ref)
    # framepipe decodes a damaged file on one thread; the CLI's frames after the damage can
    # differ with its threads, so compare against -threads 1 where the default differs.
    one = subprocess.run(["ffmpeg", "-nostdin", "-v", "quiet", "-threads", "1", "-i", str(path), "-vf",
                          "scale=in_color_matrix=bt601:in_range=tv", "-vsync", "passthrough", "-pix_fmt", "rgb24",
                          "-f", "rawvideo", "-"], check=True, capture_output=True).stdout
    ref1 = np.frombuffer(one, dtype=np.uint8).reshape(ref.shape)
    assert np.array_equal(vr[50].asnumpy(), ref1[50])
    batch = [0, 10, 50, len(ref) - 1]
    got = vr.get_batch(batch).asnumpy()
    for i, frame in zip(batch, got):
        assert np.array_equal(frame, ref1[i]), f"frame {i}"
    assert fp.VideoReader(str(path)).get_batch([5]).shape[0] == 1
    # strict=True still fails there: the damage lies in what frame 5 was decoded from
    with pytest.raises(fp.DecodeError, match="strict"):
        fp.VideoReader(str(path), strict=True).get_batch([5])


@pytest.mark.parametrize("name", ["truncated.mkv", "truncated.mp4", "truncated.ts"])
def test_a_truncated_file_says_so_and_strict_fails(media, cli, fp, name):
    path = str(media / name)
    warn = subprocess.run(["ffmpeg", "-nostdin", "-v", "warning", "-i", path, "-f", "null", "-"],
                          capture_output=True, text=True).stderr
    if name.endswith(".ts"):  # the CLI says nothing of a cut TS; the size says it: not whole 188-byte packets
        assert os.path.getsize(path) % 188 != 0
    else:
        assert "prematurely" in warn or "partial file" in warn, warn  # the CLI says it is cut too
    p = subprocess.run([cli, "frames", path, "--all", "--format", "null"], capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    assert "truncated" in p.stderr, p.stderr
    assert fp.VideoReader(path).stats["truncated"]
    strict = subprocess.run([cli, "frames", path, "--all", "--strict", "--format", "null"],
                            capture_output=True, text=True)
    assert strict.returncode == 3 and "truncated" in strict.stderr, strict.stderr


def test_a_clean_file_is_not_truncated(media, fp):
    for name in ("h264_opengop_long.mkv", "h264_bframes.mp4", "h264.ts"):
        assert fp.VideoReader(str(media / name)).stats["truncated"] is None, name


def test_a_run_that_cannot_open_its_input_leaves_no_part_file(cli, tmp_path):
    out = tmp_path / "results.jsonl"
    p = subprocess.run([cli, "run", "builtin:motion", "udp://127.0.0.1:9?timeout=300000", "--live", "--timeout", "1",
                        "--reconnects", "0", "--out", str(out)], capture_output=True, text=True, timeout=60)
    assert p.returncode != 0
    assert "kept" not in p.stderr, p.stderr
    assert not list(tmp_path.iterdir()), list(tmp_path.iterdir())
