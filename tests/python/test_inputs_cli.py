"""What a run's inputs name, tried as a new user would: folders with sub-folders, lists with
relative paths, files of the same name in two folders, a bad file among good ones, an http://
URL of a file. Frame counts come from ffprobe."""
import http.server
import json
import os
import shutil
import subprocess
import threading

from conftest import ROOT, ffprobe_frames

MODELS = ROOT / "tests" / "models"


def run(cli, *args, cwd=None):
    return subprocess.run([cli, "run", *map(str, args)], capture_output=True, text=True, cwd=cwd)


def lines(path):
    return [json.loads(line) for line in open(path)]


def test_a_folder_run_reaches_sub_folders_keeps_same_names_apart_and_goes_on_past_a_bad_file(cli, media, tmp_path):
    corpus = tmp_path / "corpus"
    (corpus / "a").mkdir(parents=True)
    (corpus / "b" / "deeper").mkdir(parents=True)
    shutil.copy(media / "squares.mp4", corpus / "a" / "clip.mp4")
    shutil.copy(media / "moving_patch.mp4", corpus / "b" / "clip.mp4")
    shutil.copy(media / "squares.mp4", corpus / "b" / "deeper" / "more.mp4")
    (corpus / "b" / "broken.mp4").write_text("not a video\n")
    out, annotated = tmp_path / "r.jsonl", tmp_path / "annotated"
    p = run(cli, MODELS / "squares.onnx", corpus, "--annotate", annotated, "--out", out)
    assert p.returncode == 3, p.stderr  # the first failure's kind: an input that cannot be used
    rows = lines(out)  # complete: renamed from its part file
    by_video = {}
    for r in rows:
        if "frame" in r:
            by_video.setdefault(r["video"], []).append(r["frame"])
    names = ["a/clip.mp4", "b/clip.mp4", "b/deeper/more.mp4"]
    assert list(by_video) == [str(corpus / n) for n in names]  # sorted by relative path
    for n in names:
        assert by_video[str(corpus / n)] == list(range(len(ffprobe_frames(corpus / n))))
    errors = [r for r in rows if "error" in r]
    assert [(e["video"], e["kind"]) for e in errors] == [(str(corpus / "b" / "broken.mp4"), "open")]
    assert "from 4 videos (1 failed" in p.stderr, p.stderr  # the summary counts the failure
    # one annotated copy per video, under its relative path: a/clip and b/clip do not meet
    for n in names:
        assert len(ffprobe_frames(annotated / n)) == len(ffprobe_frames(corpus / n)), n
    assert not list(tmp_path.rglob("*.part.*"))


def test_a_list_names_videos_relative_to_itself(cli, media, tmp_path):
    (tmp_path / "videos").mkdir()
    (tmp_path / "lists").mkdir()
    shutil.copy(media / "squares.mp4", tmp_path / "videos" / "one.mp4")
    (tmp_path / "lists" / "l.txt").write_text("# relative to this list\n../videos/one.mp4\n")
    out = tmp_path / "r.jsonl"
    p = run(cli, MODELS / "squares.onnx", tmp_path / "lists" / "l.txt", "--out", out, cwd="/")
    assert p.returncode == 0, p.stderr
    frames = [r["frame"] for r in lines(out) if "frame" in r]
    assert frames == list(range(len(ffprobe_frames(media / "squares.mp4"))))


class RangeHandler(http.server.SimpleHTTPRequestHandler):
    """A file server that honours Range requests, as any web server or object store does."""

    def log_message(self, *args):
        pass

    def send_head(self):
        path = self.translate_path(self.path)
        if not os.path.isfile(path) or "Range" not in self.headers:
            return super().send_head()
        size = os.path.getsize(path)
        start, _, end = self.headers["Range"].replace("bytes=", "").partition("-")
        start, end = int(start), int(end) if end else size - 1
        f = open(path, "rb")
        f.seek(start)
        self.send_response(206)
        self.send_header("Content-Type", "video/mp4")
        self.send_header("Accept-Ranges", "bytes")
        self.send_header("Content-Range", f"bytes {start}-{end}/{size}")
        self.send_header("Content-Length", str(end - start + 1))
        self.end_headers()
        return f


def test_an_http_url_of_a_file_is_run_as_a_file_with_every_frame(cli, media, tmp_path):
    shutil.copy(media / "h264_bframes.mp4", tmp_path / "v.mp4")
    handler = lambda *a, **k: RangeHandler(*a, directory=str(tmp_path), **k)  # noqa: E731
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/v.mp4"
        p = run(cli, MODELS / "squares.onnx", url, "--sample", "every:3", "--out", tmp_path / "url.jsonl")
        assert p.returncode == 0, p.stderr
        local = run(cli, MODELS / "squares.onnx", tmp_path / "v.mp4", "--sample", "every:3", "--out",
                    tmp_path / "file.jsonl")
        assert local.returncode == 0, local.stderr
    finally:
        server.shutdown()
    got = [{k: v for k, v in r.items() if k != "video"} for r in lines(tmp_path / "url.jsonl")]
    want = [{k: v for k, v in r.items() if k != "video"} for r in lines(tmp_path / "file.jsonl")]
    assert got == want and [r["frame"] for r in got] == list(range(0, len(ffprobe_frames(media / "h264_bframes.mp4")), 3))
    assert not any("wall" in r for r in got)  # a file's lines, not a live stream's


def test_frames_and_tensors_take_folders_and_lists_each_video_into_its_own_folder(cli, media, tmp_path):
    import numpy as np
    from conftest import ffmpeg_rgb
    corpus = tmp_path / "corpus"
    (corpus / "a").mkdir(parents=True)
    (corpus / "b").mkdir()
    shutil.copy(media / "squares.mp4", corpus / "a" / "clip.mp4")
    shutil.copy(media / "moving_patch.mp4", corpus / "b" / "clip.mp4")
    (corpus / "b" / "broken.mp4").write_text("not a video\n")
    out = tmp_path / "frames"
    p = subprocess.run([cli, "frames", str(corpus), "--indices", "0,7", "--format", "npy", "--out", str(out)],
                       capture_output=True, text=True)
    assert p.returncode == 3 and "broken.mp4" in p.stderr and "1 of 3 videos failed" in p.stderr, p.stderr
    for name, src in (("a/clip.mp4", media / "squares.mp4"), ("b/clip.mp4", media / "moving_patch.mp4")):
        want = ffmpeg_rgb(src, [7], 160, 120)[7]
        assert np.array_equal(np.load(out / name / "frame_000007.npy"), want), name
    (tmp_path / "l.txt").write_text("corpus/a/clip.mp4\ncorpus/b/clip.mp4\n")
    tensors = tmp_path / "tensors"
    p = subprocess.run([cli, "tensors", str(tmp_path / "l.txt"), "--sample", "every:5", "--size", "32x32", "--out",
                        str(tensors)], capture_output=True, text=True, cwd="/")
    assert p.returncode == 0, p.stderr
    for name, src in (("corpus/a/clip.mp4", media / "squares.mp4"), ("corpus/b/clip.mp4", media / "moving_patch.mp4")):
        rows = [json.loads(line) for line in open(tensors / name / "batches.jsonl")]
        assert [r["frame"] for r in rows] == list(range(0, len(ffprobe_frames(src)), 5)), name
