"""framepipe frames --sample: files named by ffprobe's frames, pixels equal to the ffmpeg CLI's."""
import json
import subprocess

import numpy as np

from conftest import ffmpeg_rgb, ffprobe_frames


def key_frames(path):
    out = subprocess.run(["ffprobe", "-v", "error", "-select_streams", "v:0", "-show_entries", "frame=key_frame",
                          "-of", "json", str(path)], check=True, capture_output=True, text=True).stdout
    return [i for i, f in enumerate(json.loads(out)["frames"]) if f["key_frame"]]


def test_keyframes_as_npy(cli, media, tmp_path):
    path = media / "h264_opengop.mkv"
    subprocess.run([cli, "frames", str(path), "--sample", "keyframes", "--format", "npy", "--out", str(tmp_path)],
                   check=True, capture_output=True)
    keys = key_frames(path)
    assert sorted(p.name for p in tmp_path.glob("*.npy")) == [f"frame_{i:06d}.npy" for i in keys]
    ref = ffmpeg_rgb(path, keys, 320, 240)
    for i in keys:
        assert np.array_equal(np.load(tmp_path / f"frame_{i:06d}.npy"), ref[i])
    pts = ffprobe_frames(path)
    lines = [json.loads(l) for l in (tmp_path / "frames.jsonl").read_text().splitlines()]
    assert [(l["frame"], l["pts"]) for l in lines] == [(i, pts[i]) for i in keys]


def test_scene_writes_first_frames_and_scenes(cli, media, tmp_path):
    path = media / "scenes.mp4"
    subprocess.run([cli, "frames", str(path), "--sample", "scene", "--format", "png", "--out", str(tmp_path)],
                   check=True, capture_output=True)
    scenes = [json.loads(l) for l in (tmp_path / "scenes.jsonl").read_text().splitlines()]
    assert [s["start"] for s in scenes] == [0, 40, 95, 135]  # where make-test-media.sh cut
    assert [s["end"] for s in scenes] == [40, 95, 135, 180]
    assert sorted(p.name for p in tmp_path.glob("*.png")) == [f"frame_{i:06d}.png" for i in (0, 40, 95, 135)]


def test_bad_spec_names_it_and_shows_the_grammar(cli, media, tmp_path):
    p = subprocess.run([cli, "frames", str(media / "hevc.mp4"), "--sample", "every:-2", "--out", str(tmp_path)],
                       capture_output=True, text=True)
    assert p.returncode == 2
    assert "'every:-2'" in p.stderr and "clips:LEN:INTERVAL:COUNT" in p.stderr
