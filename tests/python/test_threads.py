# Twelve Python threads on one shared VideoReader (and some on their own) calling every
# method at once: get_batch, reader[i], slices, iteration (the read-ahead thread runs), len,
# stats, repr, metadata, get_frame_timestamp, get_key_indices. It segfaulted in stats() while
# another thread's streaming replaced the decoder. Every frame is checked against the CLI's.
import random
import threading
import time

import numpy as np

from conftest import ffmpeg_all_rgb


def test_twelve_threads_on_one_reader_get_the_cli_frames(media, fp):
    path = str(media / "h264_opengop_long.mkv")
    ref = ffmpeg_all_rgb(path)
    n = len(ref)
    shared = fp.VideoReader(path)
    errors, checked = [], [0]
    lock = threading.Lock()
    until = time.monotonic() + 6

    def check(i, frame):
        if not np.array_equal(frame, ref[i]):
            errors.append(f"frame {i} differs from the CLI's")
        with lock:
            checked[0] += 1

    def work(seed):
        rng = random.Random(seed)
        own = fp.VideoReader(path) if seed % 3 == 0 else None
        try:
            while time.monotonic() < until:
                r = own if own is not None and rng.random() < 0.5 else shared
                what = rng.randrange(8)
                if what == 0:
                    idx = [rng.randrange(n) for _ in range(rng.randint(1, 8))]
                    for i, frame in zip(idx, r.get_batch(idx)):
                        check(i, frame)
                elif what == 1:
                    i = rng.randrange(n)
                    check(i, r[i])
                elif what == 2:
                    start = rng.randrange(n - 5)
                    for k, frame in enumerate(r[start:start + 5]):
                        check(start + k, frame)
                elif what == 3:
                    # One position per reader: threads streaming a shared one move it for each
                    # other (and may reach its end), but every frame is the one it says it is.
                    r.seek(rng.randrange(n - 4))
                    for _ in range(4):
                        try:
                            frame = r.next()
                        except StopIteration:
                            assert r is shared
                            break
                        check(int(frame.base.index[0]), frame)
                elif what == 4:
                    t = r.get_frame_timestamp([rng.randrange(n)])
                    assert t.shape == (1, 2)
                elif what == 5:
                    assert len(r) == n
                    assert r.stats["damage_reports"] == 0  # a clean file, by every route
                elif what == 6:
                    assert repr(r).startswith("<framepipe.VideoReader")
                    assert r.metadata["frames"] == n
                else:
                    assert len(r.get_key_indices()) == 5
        except Exception as e:  # noqa: BLE001 - every failure is reported with its thread
            errors.append(f"thread {seed}: {type(e).__name__}: {e}")

    threads = [threading.Thread(target=work, args=(s,)) for s in range(12)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors[:5]
    assert checked[0] > 100
