# framepipe.torch (issue 20): clips of a corpus as PyTorch datasets. Every clip once an epoch
# across 2 ranks x 2 DataLoader workers, clips equal to the ffmpeg CLI's frames, a corrupt video
# skipped and counted, and the same draw for the same seed.
import json
import os

import numpy as np
import pytest

from conftest import ffmpeg_rgb

torch = pytest.importorskip("torch")


@pytest.fixture(scope="module")
def corpus(fp, media, tmp_path_factory):
    """Two classes in sub-folders, plus a text file named .mp4 that no decoder reads."""
    root = tmp_path_factory.mktemp("corpus")
    for label, names in (("shapes", ["shapes.mp4", "squares.mp4"]), ("motion", ["motion_left.mp4", "h264_bframes.mp4"])):
        (root / label).mkdir()
        for n in names:
            (root / label / n).symlink_to(media / n)
    (root / "motion" / "broken.mp4").write_text("not a video\n" * 50)
    return root


def test_a_folder_corpus_is_labelled_by_sub_folder_and_skips_what_cannot_be_read(fp, corpus):
    from framepipe.torch import ClipDataset
    ds = ClipDataset(corpus, "clips:4:2:3:uniform", size=32)
    assert ds.classes == ["motion", "shapes"]
    assert [os.path.basename(v) for v in ds.videos] == ["h264_bframes.mp4", "motion_left.mp4", "shapes.mp4",
                                                        "squares.mp4"]
    assert [os.path.basename(p) for p, _ in ds.skipped] == ["broken.mp4"] and "OpenError" in ds.skipped[0][1]
    assert len(ds) == 4 * 3
    clip, label = ds[0]
    assert tuple(clip.shape) == (3, 4, 32, 32) and clip.dtype == torch.float32 and label == 0


def test_clips_are_the_ffmpeg_clis_frames(fp, corpus, media):
    from framepipe.torch import ClipDataset
    ds = ClipDataset(corpus, "clips:4:3:2:uniform", size=(48, 32), return_info=True, layout="ntchw")
    for i in (0, len(ds) - 1):
        clip, _, info = ds[i]
        assert tuple(clip.shape) == (4, 3, 32, 48)
        ref = ffmpeg_rgb(info["video"], info["frames"], 48, 32)
        for t, f in enumerate(info["frames"]):
            got = (clip[t].permute(1, 2, 0).numpy() * 255).round().astype(np.uint8)
            assert np.array_equal(got, ref[f]), (info, t)


def epoch_of(fp, corpus, rank, epoch, spec="clips:4:2:3:random"):
    from framepipe.torch import ClipIterableDataset, collate
    ds = ClipIterableDataset(corpus, spec, size=16, seed=7, rank=rank, world_size=2, return_info=True)
    ds.set_epoch(epoch)
    loader = torch.utils.data.DataLoader(ds, batch_size=2, num_workers=2, collate_fn=collate)
    seen = []
    for clips, labels, infos in loader:
        assert tuple(clips.shape[1:]) == (3, 4, 16, 16)
        seen += [(os.path.basename(i["video"]), i["clip"], tuple(i["frames"])) for i in infos]
    return seen


def test_every_clip_once_an_epoch_across_two_ranks_and_two_workers(fp, corpus):
    first = epoch_of(fp, corpus, 0, 0) + epoch_of(fp, corpus, 1, 0)
    assert len(first) == len(set(first)) == 4 * 3
    assert {(v, c) for v, c, _ in first} == {(v, c) for v in ("h264_bframes.mp4", "motion_left.mp4", "shapes.mp4",
                                                               "squares.mp4") for c in range(3)}
    again = epoch_of(fp, corpus, 0, 0) + epoch_of(fp, corpus, 1, 0)
    assert sorted(again) == sorted(first)  # the seed decides the draw, not the process
    later = epoch_of(fp, corpus, 0, 1) + epoch_of(fp, corpus, 1, 1)
    assert len(later) == 12 and sorted(later) != sorted(first)  # a new draw of random clips


def test_map_style_in_a_dataloader_is_deterministic_and_survives_a_bad_clip(fp, corpus, tmp_path):
    from framepipe.torch import ClipDataset, collate
    listing = tmp_path / "list.jsonl"
    videos = sorted(str(p) for p in corpus.rglob("*.mp4"))
    listing.write_text("".join(json.dumps({"path": v, "label": "a" if "shapes" in v else "b"}) + "\n" for v in videos))
    ds = ClipDataset(listing, "clips:4:2:2:random", size=16, seed=3)
    assert len(ds.skipped) == 1 and len(ds) == 8
    loader = torch.utils.data.DataLoader(ds, batch_size=3, num_workers=2, collate_fn=collate)
    a = torch.cat([c for c, _ in loader])
    b = torch.cat([c for c, _ in torch.utils.data.DataLoader(ds, batch_size=3, num_workers=2, collate_fn=collate)])
    assert a.shape[0] == 8 and torch.equal(a, b)
    # a video that breaks after the plan was made: its clips are skipped, the epoch goes on
    ds._plan.states[0] = ds._plan.states[1][:1] + (str(tmp_path / "gone.mp4"),) + ds._plan.states[1][2:]
    kept = [c for batch in torch.utils.data.DataLoader(ds, batch_size=4, collate_fn=collate) if batch is not None
            for c in batch[0]]
    assert len(kept) == 6 and len(ds.failed) == 2
