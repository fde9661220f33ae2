"""Failing storage (issue 19): a full file system (a small tmpfs), a read-only folder (a tmpfs
mounted read-only: root writes through permission bits) and a folder that vanishes while a run
writes into it. Each must end in an I/O error that names the path and says why, exit code 1,
nothing under the final name that is not complete, and the outputs completed before intact.
Mounting needs root (as on CI); elsewhere these tests skip."""
import json
import os
import shutil
import subprocess
import time

import numpy as np
import pytest

pytestmark = pytest.mark.skipif(os.geteuid() != 0 or not shutil.which("mount"), reason="mounting a tmpfs needs root")


def mounted_tmpfs(folder, options):
    """A tmpfs mounted on `folder` for the test, unmounted after it."""
    folder.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(folder)], capture_output=True).returncode:
        pytest.skip("cannot mount a tmpfs here")
    yield folder
    subprocess.run(["umount", "-l", str(folder)])


@pytest.fixture
def small_fs(tmp_path):
    """A tmpfs of 3 MiB: vtest.avi's 795 frames fill it in any form."""
    yield from mounted_tmpfs(tmp_path / "full", "size=3m")


@pytest.fixture
def read_only_fs(tmp_path):
    yield from mounted_tmpfs(tmp_path / "ro", "ro,size=1m")


def run(cli, *args):
    return subprocess.run([cli, *map(str, args)], capture_output=True, text=True, timeout=300)


def names(folder):
    return sorted(p.name for p in folder.rglob("*") if p.is_file())


def test_full_disk_transform_names_the_file_and_leaves_no_output(cli, media, small_fs):
    out = small_fs / "out.mp4"
    p = run(cli, "transform", media / "real" / "vtest.avi", out, "--ops", "flip=h")
    assert p.returncode == 1, p.stderr
    assert f"io error: cannot write video to '{out}': No space left on device" in p.stderr
    assert not out.exists()
    assert names(small_fs) == []  # the part file goes too: it would only hold the space


def test_full_disk_frames_keeps_every_image_written_before_and_lists_them(cli, media, small_fs):
    out = small_fs / "imgs"
    p = run(cli, "frames", media / "real" / "vtest.avi", "--all", "--out", out)
    assert p.returncode == 1, p.stderr
    assert "io error: cannot write" in p.stderr and str(out) in p.stderr
    assert "No space left on device" in p.stderr
    pngs = [n for n in names(out) if n.endswith(".png")]
    assert pngs and not [n for n in names(out) if ".part" in n]
    # Every image that stands is whole: it decodes, as the ffmpeg CLI reads it, to the frame.
    for name in pngs:
        i = int(name.split("_")[1].split(".")[0])
        ref = subprocess.run(["ffmpeg", "-v", "error", "-i", str(media / "real" / "vtest.avi"), "-vf",
                              f"select=eq(n\\,{i})", "-vsync", "passthrough", "-frames:v", "1", "-f", "rawvideo",
                              "-pix_fmt", "rgb24", "-"], capture_output=True, check=True).stdout
        got = subprocess.run(["ffmpeg", "-v", "error", "-i", str(out / name), "-f", "rawvideo", "-pix_fmt", "rgb24", "-"],
                             capture_output=True, check=True).stdout
        assert len(got) == 768 * 576 * 3
        diff = np.abs(np.frombuffer(got, np.uint8).astype(int) - np.frombuffer(ref, np.uint8).astype(int))
        assert diff.mean() < 1.5, name
    listed = [json.loads(line)["file"] for line in (out / "frames.jsonl").read_text().splitlines()]
    assert sorted(listed) == pngs  # frames.jsonl lists exactly the images that stand


def test_full_disk_run_keeps_whole_result_lines_in_the_part_file(cli, media, small_fs):
    results, annotated = small_fs / "r.jsonl", small_fs / "a.mp4"
    p = run(cli, "run", "builtin:motion", media / "real" / "vtest.avi", "--out", results, "--annotate", annotated)
    assert p.returncode == 1, p.stderr
    assert f"cannot write video to '{annotated}': No space left on device" in p.stderr
    assert not results.exists() and not annotated.exists()
    part = small_fs / "r.part.jsonl"
    assert f"results so far kept in {part}" in p.stderr
    lines = part.read_text().splitlines()
    assert lines and all(json.loads(line)["video"].endswith("vtest.avi") for line in lines)


def test_read_only_folder_is_an_io_error_naming_it(cli, media, read_only_fs):
    for args in (["frames", media / "h264_audio.mp4", "--indices", "0", "--out", read_only_fs / "imgs"],
                 ["transform", media / "h264_audio.mp4", read_only_fs / "t.mp4", "--ops", "gray"],
                 ["tensors", media / "h264_audio.mp4", "--out", read_only_fs / "t.npy", "--size", "32x32", "--sample", "every:10"],
                 ["run", "builtin:motion", media / "h264_audio.mp4", "--out", read_only_fs / "r.jsonl"]):
        p = run(cli, *args)
        assert p.returncode == 1, (args[0], p.returncode, p.stderr)
        assert "io error" in p.stderr and str(read_only_fs) in p.stderr, (args[0], p.stderr)
        assert "Read-only file system" in p.stderr, (args[0], p.stderr)
    assert names(read_only_fs) == []


def test_vanished_output_folder_mid_run_is_an_io_error(cli, media, tmp_path):
    """The results' folder is removed while the run writes into it: the rename at the end cannot
    happen, and the run says so instead of reporting success."""
    folder = tmp_path / "out"
    folder.mkdir()
    results = folder / "r.jsonl"
    proc = subprocess.Popen([cli, "run", "builtin:motion", str(media / "real" / "vtest.avi"), "--out", str(results)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    part = folder / "r.part.jsonl"
    deadline = time.time() + 60
    while not part.exists() and time.time() < deadline and proc.poll() is None:
        time.sleep(0.005)
    assert part.exists(), "the run never started writing"
    shutil.rmtree(folder)
    _, err = proc.communicate(timeout=300)
    assert proc.returncode == 1, err
    assert "io error" in err and str(results) in err, err
    assert not results.exists()
