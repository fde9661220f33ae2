"""`framepipe run`: result lines checked against ffprobe's timestamps and the pictures the ffmpeg
CLI drew (scripts/make-test-media.sh), never against framepipe's own output."""
import json
import subprocess

import pytest

from conftest import ROOT, ffprobe_frames

MODELS = ROOT / "tests" / "models"


def run(cli, *args, check=True):
    p = subprocess.run([cli, "run", *map(str, args)], capture_output=True, text=True)
    if check and p.returncode != 0:
        raise AssertionError(f"exit {p.returncode}: {p.stderr}")
    return p


def lines(path):
    return [json.loads(line) for line in open(path)]


def test_classifier_lines_carry_ffprobe_time_and_segments_find_each_shape(cli, media, tmp_path):
    out = tmp_path / "shapes.jsonl"
    run(cli, MODELS / "shapes2d.onnx", media / "shapes.mp4", "--aggregate", "ema", "--alpha", "0.5", "--segments",
        "--out", out)
    assert not (tmp_path / "shapes.part.jsonl").exists()
    rows = lines(out)
    frames = [r for r in rows if "frame" in r]
    pts = ffprobe_frames(media / "shapes.mp4")
    assert [r["frame"] for r in frames] == list(range(len(pts)))
    assert [r["pts"] for r in frames] == pts
    # time base 1/12800 (ffprobe): t is pts x time_base, not frame / fps
    assert all(abs(r["t"] - r["pts"] / 12800) < 1e-9 for r in frames)
    assert list(frames[0].keys())[:4] == ["video", "frame", "pts", "t"]
    assert frames[10]["classes"][0]["label"] == "circle"
    assert frames[40]["smoothed"][0]["label"] == "square"
    segs = [r["segment"] for r in rows if "segment" in r]
    assert [s["label"] for s in segs] == ["circle", "square", "triangle"]
    for s, (start, end) in zip(segs, [(0, 1), (1, 2), (2, 3)]):
        assert abs(s["start"] - start) < 0.15 and abs(s["end"] - end) < 0.15, s


def test_clip_model_over_several_inputs_names_each_video(cli, media, tmp_path):
    out = tmp_path / "motion.jsonl"
    videos = [media / f"motion_{d}.mp4" for d in ("left", "right", "up", "down")]
    run(cli, MODELS / "motion3d.pt", *videos, "--out", out)
    rows = lines(out)
    # 24 frames each: one whole clip of 16 (consecutive clips, the rest dropped)
    assert len(rows) == 4
    for row, d in zip(rows, ("left", "right", "up", "down")):
        assert row["video"].endswith(f"motion_{d}.mp4")
        assert row["frames"] == list(range(16))
        assert row["classes"][0]["label"] == d


def test_detector_boxes_and_tracks(cli, media, tmp_path):
    out = tmp_path / "squares.jsonl"
    run(cli, MODELS / "squares_v8.pt", media / "squares.mp4", "--track", "--out", out)
    rows = lines(out)
    assert len(rows) == 25
    green = [o for r in rows for o in r["objects"] if o["label"] == "green"]
    assert len(green) == 25
    assert len({o["track"] for o in green}) == 1, "the still green square keeps one id"
    # drawn at (100,20)-(130,50) by ffmpeg's drawbox
    x1, y1, x2, y2 = green[0]["box"]
    assert abs(x1 - 100) < 3 and abs(y1 - 20) < 3 and abs(x2 - 130) < 3 and abs(y2 - 50) < 3
    red = [o for r in rows for o in r["objects"] if o["label"] == "red"]
    assert len({o["track"] for o in red}) == 1, "the red square moves 2 px a frame and keeps its id"


def test_hog_people_with_tracking_on_real_footage(cli, media, tmp_path):
    out = tmp_path / "people.jsonl"
    run(cli, "builtin:hog-people", media / "real" / "vtest.avi", "--sample", "every:50", "--track", "--out", out)
    rows = lines(out)
    assert len(rows) == 16  # 795 frames, every 50th
    boxes = [o for r in rows for o in r["objects"]]
    assert len(boxes) >= 15
    for o in boxes:
        x1, y1, x2, y2 = o["box"]
        assert 0 <= x1 < x2 <= 768 and 0 <= y1 < y2 <= 576
        assert o["label"] == "person" and o["track"] >= 1


def test_errors_name_the_input_and_keep_going_past_a_bad_video(cli, media, tmp_path):
    p = run(cli, tmp_path / "nope.pt", media / "shapes.mp4", check=False)
    assert p.returncode == 1 and "nope.pt" in p.stderr and "no such file" in p.stderr
    p = run(cli, MODELS / "shapes2d.onnx", tmp_path / "missing.mp4", check=False)
    assert p.returncode == 3 and "missing.mp4" in p.stderr
    p = run(cli, MODELS / "shapes2d.onnx", media / "shapes.mp4", "--track", check=False)
    assert p.returncode == 2 and "--track needs a detector" in p.stderr
    # Among several videos, a text file named .mp4 gets an error line; the others are done.
    out = tmp_path / "mixed.jsonl"
    p = run(cli, MODELS / "motion3d.onnx", media / "text.mp4", media / "motion_up.mp4", "--out", out, check=False)
    assert p.returncode == 3
    rows = lines(out)
    assert rows[0]["video"].endswith("text.mp4") and rows[0]["kind"] == "open"
    assert rows[1]["classes"][0]["label"] == "up"


def test_annotated_video_keeps_every_frame_time_and_the_audio(cli, media, tmp_path):
    from test_transform_cli import audio_packets, decode, frame_times
    import numpy as np
    out = tmp_path / "annotated.mp4"
    run(cli, "builtin:motion", media / "h264_audio.mp4", "--sample", "every:5", "--annotate", out,
        "--out", tmp_path / "motion.jsonl")
    assert frame_times(out) == frame_times(media / "h264_audio.mp4")  # every frame, not only sampled ones
    assert audio_packets(out) == audio_packets(media / "h264_audio.mp4")

    out = tmp_path / "squares.mp4"
    run(cli, MODELS / "squares.pt", media / "squares.mp4", "--track", "--annotate", out, "--out",
        tmp_path / "squares.jsonl")
    assert frame_times(out) == frame_times(media / "squares.mp4")
    drawn, src = decode(out, 12, 160, 120), decode(media / "squares.mp4", 12, 160, 120)
    green = [o for o in lines(tmp_path / "squares.jsonl")[12]["objects"] if o["label"] == "green"][0]
    x1, y1, x2, y2 = (int(round(v)) for v in green["box"])
    # the box outline is drawn (its right edge, below the label), the empty corner is untouched
    edge = np.abs(drawn[y1 + 12:y2 - 2, x2 - 1:x2 + 1] - src[y1 + 12:y2 - 2, x2 - 1:x2 + 1]).mean()
    corner = np.abs(drawn[70:120, 135:160] - src[70:120, 135:160]).mean()
    assert edge > 30 and corner < 4, (edge, corner)


def test_ctrl_c_drains_and_leaves_every_output_complete(cli, media, tmp_path):
    import signal
    import time
    from test_transform_cli import frame_times
    out, video = tmp_path / "people.jsonl", tmp_path / "people.mp4"
    p = subprocess.Popen([cli, "run", "builtin:hog-people", str(media / "real" / "vtest.avi"), "--track",
                          "--annotate", str(video), "--out", str(out)], stderr=subprocess.PIPE, text=True)
    part = tmp_path / "people.part.jsonl"
    deadline = time.time() + 60
    while time.time() < deadline and (not part.exists() or part.stat().st_size < 2000):
        time.sleep(0.1)
    p.send_signal(signal.SIGINT)
    _, err = p.communicate(timeout=60)
    assert p.returncode == 130, err
    assert "interrupted" in err
    # Stopped part way, every output keeps its part name (a consumer can tell it from a
    # finished one without reading logs), and is whole: every line, a playable video.
    assert not out.exists() and not video.exists()
    assert "people.part.jsonl" in err
    rows = lines(part)
    assert 0 < len(rows) < 795
    assert [r["frame"] for r in rows] == list(range(len(rows)))
    # the annotated video ends at the last frame with a result, and plays
    assert len(frame_times(tmp_path / "people.part.mp4")) == len(rows)


def test_csv_holds_the_same_results_as_json_lines(cli, media, tmp_path):
    import csv
    args = [MODELS / "squares.onnx", media / "squares.mp4", "--track", "--segments", "--sample", "every:6"]
    run(cli, *args, "--out", tmp_path / "r.jsonl")
    run(cli, *args, "--out", tmp_path / "r.csv")
    rows = list(csv.DictReader(open(tmp_path / "r.csv")))
    js = lines(tmp_path / "r.jsonl")
    objects = [(r["frame"], o["label"], o["track"]) for r in js if "objects" in r for o in r["objects"]]
    assert [(int(r["frame"]), r["label"], int(r["track"])) for r in rows if r["kind"] == "object"] == objects
    segs = [r["segment"] for r in js if "segment" in r]
    assert [(r["label"], float(r["start"]), float(r["end"])) for r in rows if r["kind"] == "segment"] == \
        [(s["label"], s["start"], s["end"]) for s in segs]
    by_frame = {r["frame"]: r["t"] for r in js if "frame" in r}
    assert all(float(r["t"]) == by_frame[int(r["frame"])] for r in rows if r["kind"] == "object")
    pts = ffprobe_frames(media / "squares.mp4")  # and where each row was taken, by ffprobe
    assert all(int(r["pts"]) == pts[int(r["frame"])] for r in rows if r["kind"] == "object")


def test_embeddings_go_to_one_npy_whose_rows_the_lines_name(cli, media, tmp_path):
    import numpy as np
    args = [MODELS / "tiny_darknet.weights", media / "motion_left.mp4"]
    run(cli, *args, "--out", tmp_path / "inline.jsonl")
    run(cli, *args, "--embeddings", tmp_path / "emb.npy", "--out", tmp_path / "rows.jsonl")
    emb = np.load(tmp_path / "emb.npy")
    inline = lines(tmp_path / "inline.jsonl")
    rows = lines(tmp_path / "rows.jsonl")
    assert emb.shape == (24, 4 * 8 * 8) and emb.dtype == np.float32
    assert [r["embedding_row"] for r in rows] == list(range(24))
    assert np.allclose(np.linalg.norm(emb, axis=1), 1, atol=1e-5)  # L2-normalised
    assert np.allclose(emb, np.array([r["embedding"] for r in inline]), atol=2e-6)
    assert not list(tmp_path.glob("*.part*"))
