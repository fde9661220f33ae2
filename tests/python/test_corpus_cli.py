"""framepipe corpus: plan, work, status, merge on one machine, on a real Slurm started on
localhost, and through the Kubernetes entry point. The bar is a single `framepipe run` over
the same corpus: the merged results must be its lines, byte for byte once parsed (per-frame
results, tracks and events), the corrupt video recorded as failed, nothing missing, nothing
twice, no temporary file left."""
import json
import os
import pathlib
import shutil
import signal
import subprocess
import time

import pytest

from conftest import ROOT

MODELS = ROOT / "tests" / "models"
MODEL = MODELS / "squares.onnx"
OPTS = ["--track", "--segments", "--batch", "8"]


def ffmpeg(*args):
    subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-y", *map(str, args)], check=True)


def squares(path, seconds, shift):
    """Red square moving right, green one blinking on and off (events that cross part boundaries)."""
    ffmpeg("-f", "lavfi", "-i", f"color=c=0x141414:s=160x120:r=25:d={seconds}",
           "-f", "lavfi", "-i", f"color=c=0xe02828:s=30x30:r=25:d={seconds}",
           "-filter_complex",
           f"[0:v]drawbox=x=100:y=20:w=30:h=30:color=0x28c832:t=fill:enable='lt(mod(t+{shift}\\,6)\\,3.5)'[bg];"
           f"[bg][1:v]overlay=x='10+mod(2*n+{shift * 7}\\,100)':y=10:eval=frame,format=yuv420p",
           "-c:v", "libx264", "-preset", "ultrafast", "-g", "50", "-bf", "2", path)


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    """A dozen short videos in two folders, one corrupt, one long one (to be chunked); and the
    single-machine run over it, the reference."""
    root = tmp_path_factory.mktemp("corpus")
    videos = root / "videos"
    (videos / "day1").mkdir(parents=True)
    (videos / "day2").mkdir()
    for k in range(11):
        squares(videos / ("day1" if k % 2 else "day2") / f"clip{k:02d}.mp4", 1 + (k % 3) * 0.5, k)
    (videos / "day2" / "corrupt.mp4").write_bytes(b"\x00\x00\x00\x18ftypmp42" + os.urandom(2000))
    squares(videos / "long.mp4", 48, 0)
    single = root / "single.jsonl"
    p = subprocess.run([os.environ.get("FRAMEPIPE_CLI", str(ROOT / "build/apps/framepipe")), "run", str(MODEL),
                        str(videos), *OPTS, "--out", str(single)], capture_output=True, text=True)
    assert p.returncode == 3, p.stderr  # the corrupt one: input unusable
    return videos, [json.loads(line) for line in open(single)]


def corpus_cmd(cli, *args, env=None, check=True):
    p = subprocess.run([cli, "corpus", *map(str, args)], capture_output=True, text=True, env=env)
    if check and p.returncode != 0:
        raise AssertionError(f"exit {p.returncode}: {p.stdout}{p.stderr}")
    return p


def plan(cli, videos, run, *extra):
    corpus_cmd(cli, "plan", MODEL, videos, "--run", run, *OPTS, *extra)
    return json.loads((run / "run.json").read_text())


def merged(cli, run, out_name="merged.jsonl"):
    corpus_cmd(cli, "merge", run, "--out", run / out_name, "--table", run / "videos.csv")
    return [json.loads(line) for line in open(run / out_name)]


def no_temporaries(run):
    return [str(p) for p in run.rglob("*") if ".part" in p.name]


def check_equal(got, want):
    assert len(got) == len(want)
    for k, (g, w) in enumerate(zip(got, want)):
        assert g == w, f"line {k}: {g} != {w}"
    errors = [r for r in got if "error" in r]
    assert len(errors) == 1 and errors[0]["video"].endswith("corrupt.mp4") and errors[0]["kind"] == "open"


def test_plan_refuses_a_live_stream_or_camera_and_writes_nothing(cli, corpus, tmp_path):
    videos, _ = corpus
    for live in ["rtsp://127.0.0.1:1/cam", "/dev/video7"]:
        run = tmp_path / live.replace("/", "_")
        p = corpus_cmd(cli, "plan", MODEL, videos, live, "--run", run, check=False)
        assert p.returncode == 2 and live in p.stderr and "live stream or a camera" in p.stderr, p.stderr
        assert not (run / "run.json").exists() and not (run / "manifest.jsonl").exists()


def test_two_local_jobs_over_a_chunked_plan_merge_to_the_single_run(cli, corpus, tmp_path):
    videos, single = corpus
    run = tmp_path / "run"
    info = plan(cli, videos, run, "--chunk-seconds", "10", "--shards", "4")
    units = [json.loads(line) for line in open(run / "manifest.jsonl")]
    long_parts = [u for u in units if u["label"].endswith("long.mp4")]
    assert info["units"] == len(units) == 13 + len(long_parts) - 1 and len(long_parts) == 5
    assert [u["begin"] for u in long_parts][1:] == [u["end"] for u in long_parts][:-1]
    assert all(u["begin"] % 8 == 0 for u in long_parts)  # batch boundaries: the same batches as one run
    assert sorted({u["shard"] for u in units}) == [0, 1, 2, 3]
    again = corpus_cmd(cli, "plan", MODEL, videos, "--run", run, *OPTS, "--chunk-seconds", "10", "--shards", "4")
    assert "already planned" in again.stdout
    other = corpus_cmd(cli, "plan", MODEL, videos, "--run", run, "--track", check=False)
    assert other.returncode == 2 and "fingerprint" in other.stderr  # other options, same folder: refused
    p = corpus_cmd(cli, "work", run, "--all", "--jobs", "2")
    assert "1 failed" in p.stderr
    status = json.loads(corpus_cmd(cli, "status", run, "--json").stdout)
    assert (status["done"], status["failed"], status["pending"]) == (len(units) - 1, 1, 0)
    assert status["failed_by_kind"] == {"open": 1} and status["rows"] == sum(1 for r in single if "frame" in r)
    check_equal(merged(cli, run), single)
    table = (run / "videos.csv").read_text().splitlines()
    assert len(table) == 1 + 13 and sum(",failed," in row for row in table) == 1
    assert no_temporaries(run) == []
    rerun = corpus_cmd(cli, "work", run, "--all")  # everything recorded: nothing runs again
    assert "0 units done" in rerun.stderr and f"{len(units)} done before" in rerun.stderr


def test_chunked_and_whole_give_the_same_lines_for_a_long_video(cli, corpus, tmp_path):
    videos, single = corpus
    want = [r for r in single if r["video"].endswith("long.mp4")]
    for chunk in ("0", "7"):
        run = tmp_path / f"run{chunk}"
        corpus_cmd(cli, "plan", MODEL, videos / "long.mp4", "--run", run, *OPTS, "--chunk-seconds", chunk)
        corpus_cmd(cli, "work", run, "--all")
        assert merged(cli, run) == want, chunk
    assert any("segment" in r for r in want) and max(o.get("track", 0) for r in want for o in r.get("objects", [])) > 0


def test_a_worker_killed_in_a_unit_leaves_nothing_finished_and_the_rerun_completes(cli, corpus, tmp_path):
    videos, single = corpus
    run = tmp_path / "run"
    plan(cli, videos, run, "--chunk-seconds", "24", "--shards", "1")
    p = subprocess.Popen([cli, "corpus", "work", str(run), "--shard", "0", "--jobs", "1"], stderr=subprocess.PIPE)
    deadline = time.time() + 60
    while time.time() < deadline and not any(".part-" in f.name for f in run.glob("units/*/*")):
        time.sleep(0.005)
    p.send_signal(signal.SIGKILL)
    p.wait()
    for rec in run.glob("done/*/*.json"):  # a record is never there without its predictions
        r = json.loads(rec.read_text())
        assert r["status"] == "failed" or (run / "units" / rec.parent.name / rec.name.replace(".json", ".jsonl")).exists()
    assert no_temporaries(run)  # the killed unit's part file is there, under a part name
    corpus_cmd(cli, "work", run, "--shard", "0")
    check_equal(merged(cli, run), single)
    assert no_temporaries(run) == []


def test_the_kubernetes_job_parses_and_its_entry_point_takes_the_completion_index(cli, corpus, tmp_path):
    import yaml
    videos, single = corpus
    run = tmp_path / "run"
    info = plan(cli, videos, run, "--shards", "3")
    corpus_cmd(cli, "k8s", run, "--image", "registry.example/framepipe:0.1", "--claim", "videos", "--parallelism", "2")
    job = yaml.safe_load((run / "k8s" / "job.yaml").read_text())
    assert job["kind"] == "Job" and job["spec"]["completionMode"] == "Indexed"
    assert job["spec"]["completions"] == info["shards"] == 3 and job["spec"]["parallelism"] == 2
    container = job["spec"]["template"]["spec"]["containers"][0]
    assert container["command"] == ["framepipe", "corpus", "work", str(run)]
    assert job["spec"]["template"]["spec"]["volumes"][0]["persistentVolumeClaim"]["claimName"] == "videos"
    for k in range(3):  # what each pod runs: no --shard, the index from the environment
        corpus_cmd(cli, "work", run, env={**os.environ, "JOB_COMPLETION_INDEX": str(k)})
        status = json.loads(corpus_cmd(cli, "status", run, "--json").stdout)
        assert status["pending"] == sum(1 for line in open(run / "manifest.jsonl") if json.loads(line)["shard"] > k)
    check_equal(merged(cli, run), single)


@pytest.fixture
def slurm(tmp_path):
    if not shutil.which("sbatch") or not os.path.exists("/usr/sbin/slurmctld"):
        pytest.fail("Slurm is not installed: scripts/install-deps.sh installs slurmctld slurmd slurm-client munge")
    state = tmp_path / "slurm"
    p = subprocess.run(["bash", str(ROOT / "scripts" / "slurm-local.sh"), "start", str(state)], capture_output=True,
                       text=True)
    assert p.returncode == 0, p.stderr
    env = {**os.environ, "SLURM_CONF": p.stdout.strip()}
    yield env
    subprocess.run(["bash", str(ROOT / "scripts" / "slurm-local.sh"), "stop", str(state)])


def squeue(env):
    out = subprocess.run(["squeue", "-h", "-r", "-o", "%i %T"], capture_output=True, text=True, env=env).stdout
    return [line.split() for line in out.splitlines()]


def test_a_slurm_array_with_a_task_stopped_mid_unit_requeues_and_merges_to_the_single_run(cli, corpus, tmp_path, slurm):
    videos, single = corpus
    run = tmp_path / "run"
    info = plan(cli, videos, run, "--chunk-seconds", "12", "--shards", "4")
    p = corpus_cmd(cli, "slurm", run, "--submit", "--array-limit", "2", env=slurm)
    array = p.stdout.split("submitted array job ")[1].split()[0]
    script = (run / "slurm" / "work.sbatch").read_text()
    assert f"--array=0-{info['shards'] - 1}%2" in script and "--signal=B:USR1@60" in script and "--requeue" in script
    # Stop the task that works on a part of the long video, while it is in the middle of it,
    # as Slurm does before a time limit: USR1 to the batch shell (--signal=B:USR1), sent here
    # to the shell itself, the parent of the worker that the part file's tag names
    # (HOST~PID~UNIT). (scancel --signal retries for minutes while a task "can not be altered
    # now" and then signals whatever runs next, the rerun included.)
    long_units = {json.loads(line)["unit"]: json.loads(line)["shard"] for line in open(run / "manifest.jsonl")
                  if json.loads(line)["label"].endswith("long.mp4")}
    stopped = None
    deadline = time.time() + 120
    while stopped is None and time.time() < deadline:
        for f in run.glob("units/*/*.part-*"):
            unit = int(f.name.split(".")[0])
            worker = int(f.name.split("~")[1]) if f.name.count("~") >= 2 else 0
            if unit in long_units and worker:
                try:
                    shell = int(pathlib.Path(f"/proc/{worker}/stat").read_text().rsplit(")", 1)[1].split()[1])
                except (OSError, ValueError, IndexError):
                    continue  # the unit has just ended
                os.kill(shell, signal.SIGUSR1)
                stopped = long_units[unit]
                break
        time.sleep(0.01)
    assert stopped is not None, "no part of the long video was seen running"
    log = run / "slurm" / "logs" / f"work_{array}_{stopped}.log"
    # The task requeues itself and runs again. Slurm holds a requeued job back for two minutes;
    # an operator in a hurry lets it go at once (tried until the rerun has written its summary).
    deadline = time.time() + 300
    while time.time() < deadline and (log.read_text() if log.exists() else "").count(" units done, ") < 2:
        subprocess.run(["scontrol", "update", f"JobId={array}_{stopped}", "StartTime=now"], env=slurm,
                       capture_output=True)
        time.sleep(0.5)
    deadline = time.time() + 240
    while time.time() < deadline and squeue(slurm):
        time.sleep(0.5)
    assert not squeue(slurm), squeue(slurm)
    results = run / "results.jsonl"  # the merge job's, after the array
    assert results.exists(), "\n".join(f"--- {f.name}\n{f.read_text()[-3000:]}" for f in (run / "slurm" / "logs").iterdir())
    check_equal([json.loads(line) for line in open(results)], single)
    first, rerun = [line for line in log.read_text().splitlines() if " units done, " in line]
    assert " 1 abandoned" in first and "requeued" in log.read_text(), log.read_text()
    assert " 0 done before" not in rerun and " 0 abandoned" in rerun, log.read_text()  # it skipped what was done
    assert no_temporaries(run) == []


def test_dask_with_a_worker_process_killed_mid_unit_merges_to_the_single_run(fp, corpus, tmp_path):
    import threading
    from distributed import Client, LocalCluster
    videos, single = corpus
    run = tmp_path / "run"
    p = fp.corpus.plan([str(videos)], str(run), str(MODEL), chunk_seconds=10, track=True, segments=True, batch=8)
    assert p["units"] == 17 and not p["existed"]
    # Worker processes import framepipe (to unpickle framepipe.corpus.work_unit) from here.
    os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [str(pathlib.Path(fp.__file__).parent),
                                                             os.environ.get("PYTHONPATH")]))
    killed = []

    def kill_a_worker_in_a_unit():  # the part file's tag names the worker process: HOST~PID~UNIT
        deadline = time.time() + 60
        while time.time() < deadline and not killed:
            for f in run.glob("units/*/*.part-*"):
                pid = int(f.name.split("~")[1])
                os.kill(pid, signal.SIGKILL)
                killed.append((pid, f.name))
                return
            time.sleep(0.005)

    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster, \
            Client(cluster) as client:
        killer = threading.Thread(target=kill_a_worker_in_a_unit)
        killer.start()
        status = fp.corpus.run_dask(str(run), client)
        killer.join()
    assert killed, "no unit was seen running"
    assert (status["pending"], status["failed"], status["done"]) == (0, 1, 16), status
    fp.corpus.merge(str(run), str(run / "merged.jsonl"))
    check_equal([json.loads(line) for line in open(run / "merged.jsonl")], single)
    assert no_temporaries(run) == []


def test_run_with_two_jobs_writes_the_single_runs_lines(cli, corpus, tmp_path):
    videos, single = corpus
    out = tmp_path / "jobs.jsonl"
    p = subprocess.run([cli, "run", str(MODEL), str(videos), *OPTS, "--jobs", "2", "--out", str(out)],
                       capture_output=True, text=True)
    assert p.returncode == 3, p.stderr  # as the single run: the corrupt video's kind
    assert [json.loads(line) for line in open(out)] == single
    assert not list(tmp_path.glob("*.part*"))
    refused = subprocess.run([cli, "run", str(MODEL), str(videos), "--jobs", "2", "--annotate", str(tmp_path / "a")],
                             capture_output=True, text=True)
    assert refused.returncode == 2 and "--annotate" in refused.stderr
