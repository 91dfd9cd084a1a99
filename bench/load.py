"""Load: twenty review sessions at once on one ``transcribe serve`` while its worker transcribes new dictations.

Each session is a secretary of her own (a plain HTTP client on loopback, a thread each) going
round her screen: queue page, review page and its data, two range requests of the audio (the
first one of a session is its first listen: opening the dictation), a save of the draft, with a
short pause between requests as a person makes. One more client opens a dictation of 1:59:59 (Opus)
and skims it (range requests here and there). Meanwhile dictations keep arriving in the inbox
(one every ``--arrival-s``), and serve's worker transcribes them. One client is an admin who also
asks for the document preview, the DOCX, the stats page, and validates reports, each filed with a
PDF copy made by LibreOffice.

The drafts are real: one dictation of the committed corpus goes through the real engine once;
its transcript is used for every session's own copy of it (each copy its own recording, sha256
and job) through the worker's real ``finish`` (text layer, report, draft files, the listening copy
written with the draft, store), the two-hour dictation included.

Prints median, p90, p99 and max time of each kind of request and of all of them; the targets are a
median under 300 ms and a first listen (the first audio request of a dictation) within a second.

Usage: python bench/load.py [--sessions 20] [--duration-s 120] [--audio-s 7199] [--think-s 0.5] [--arrival-s 10] [--keep DIR]
"""

from __future__ import annotations

import argparse
import datetime
import json
import random
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from fractions import Fraction
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.review_client import Answer, RequestFailed, ReviewClient, typed_blocks, validate_through_app
from bench.soak import process_env
from bench.soak_faults import free_port
from transcribe.settings_loading import load_settings
from transcribe.speech.audio import decode_dictation
from transcribe.store import open_store

CLIP = ROOT / "tests" / "dictations" / "audio" / "fr-cardio-01.opus"
PASSWORD = "correct horse battery staple"
TARGET_MEDIAN_S = 0.300
TARGET_FIRST_LISTEN_S = 1.0
FIRST_LISTEN = "first listen (opening a dictation)"
LONG_FIRST_LISTEN = "first listen of the two-hour dictation"
SPARES = 4  # drafts the admin validates and files (with LibreOffice) during the run


@dataclass
class LoadOptions:
    """What a load run does; the defaults are the full run of issues 17 and 26."""

    sessions: int = 20
    duration_s: float = 120.0
    # the long dictation one client skims: 1:59:59, as 2:00:00 of Opus declares 7200.0065 s (its 6.5 ms of
    # encoder delay) and is refused as longer than the two hours a dictation may last
    audio_s: float = 7199.0
    think_s: float = 0.5  # mean pause between two requests of a session
    arrival_s: float = 10.0  # a new dictation in the inbox this often, transcribed by serve's worker meanwhile
    seed: int = 1


@dataclass
class LoadResult:
    """Every request's time by kind, failures, and the dictations that arrived meanwhile."""

    times: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    failures: list[str] = field(default_factory=list)
    arrived: int = 0
    drafted: int = 0
    wall_s: float = 0.0


def long_audio(duration_s: float) -> Path:
    """A long Opus dictation (a clip and silence, looped), made once under the temporary folder and kept there."""
    folder = Path(tempfile.gettempdir()) / "transcribe-bench"
    folder.mkdir(exist_ok=True)
    target = folder / f"long-{int(duration_s)}s.opus"
    if target.is_file():
        return target
    import av

    clip = (decode_dictation(CLIP).samples[: 10 * 16000] * 32767).astype(np.int16)
    minute = np.zeros(60 * 16000, dtype=np.int16)
    minute[: clip.size] = clip
    minute[30 * 16000 : 30 * 16000 + clip.size] = clip
    partial = target.with_suffix(".part")
    with av.open(str(partial), "w", format="ogg") as container:
        stream = container.add_stream("libopus", rate=16000, layout="mono")
        written = 0
        total = int(duration_s * 16000)
        while written < total:
            piece = minute[: min(minute.size, total - written)]
            frame = av.AudioFrame.from_ndarray(piece.reshape(1, -1).copy(), format="s16", layout="mono")
            frame.sample_rate, frame.time_base, frame.pts = 16000, Fraction(1, 16000), written
            for packet in stream.encode(frame):
                container.mux(packet)
            written += piece.size
        for packet in stream.encode(None):
            container.mux(packet)
    partial.rename(target)
    return target


def prepare_site(site: Path, options: LoadOptions) -> tuple[int, list[int], list[int], int]:
    """The site: accounts, patients, one real draft per session and the spares, the long dictation's draft.

    Returns the port, the sessions' jobs, the spare jobs and the long job.
    """
    from tests.audio_files import write_audio
    from transcribe.intake.inbox import Intake
    from transcribe.patient_record.patient_import import parse_patient_csv
    from transcribe.security.accounts import Accounts
    from transcribe.worker import Worker, load_recognizer, load_text_layer

    port = free_port()
    (site / "transcribe.toml").write_text(
        f'[review]\nport = {port}\nlanguage = "fr"\n[filing]\npdf = true\n'
        "[asr]\nbeam_size = 1\nfirst_pass_s = 0.0\naudio_evidence = false\n[intake]\nsettle_s = 0.3\n[worker]\npoll_s = 0.5\n"
    )
    settings = load_settings(cwd=site, environ={}).settings
    store = open_store(settings.store_url)
    try:
        store.patients.import_patients(
            parse_patient_csv(f"id,family_name,given_names,birth_date\n100001,Dupont,Jean,{born_aged(68)}\n")[0]
        )
        accounts = Accounts(store)
        for number in range(options.sessions):
            accounts.add_user(f"s{number:02d}", PASSWORD, "admin" if number == 0 else "secretary")
        accounts.add_user("listener", PASSWORD, "secretary")
        staging = site / "staging"
        staging.mkdir()
        speech = (decode_dictation(CLIP).samples * 32767).astype(np.int16)
        intake = Intake(settings, store)
        jobs = []
        for number in range(options.sessions + SPARES):
            varied = (speech.astype(np.int32) + np.random.default_rng(number).integers(-20, 21, speech.size)).clip(
                -32767, 32767
            )
            path = write_audio(varied.astype(np.int16), staging / f"cardio-{number:02d}.opus")
            path.with_suffix(".json").write_text(json.dumps({"patient": {"id": "100001"}, "language": "fr"}))
            job = intake.take(path)
            assert job is not None
            jobs.append(job)
        long_path = shutil.copyfile(long_audio(options.audio_s), staging / "long.opus")
        long_job = intake.take(Path(long_path))
        assert long_job is not None
        worker = Worker(settings, store, load_recognizer(settings), load_text_layer(settings, warm=False))
        audio = decode_dictation(jobs[0].audio_path)
        transcript = worker.recognizer.transcribe(audio, worker.plan(jobs[0], audio)[0])
        while (claimed := store.claims.claim_next(worker.identity, 600)) is not None:
            # the worker's own finish, with the decoded audio: it writes the listening copy beside the draft
            own = decode_dictation(claimed.audio_path)
            worker.finish(
                claimed,
                transcript if claimed.id != long_job.id else replace(transcript, duration_s=own.duration_s),
                audio=own,
            )
    finally:
        store.close()
    ids = [j.id for j in jobs]
    return port, ids[: options.sessions], ids[options.sessions :], long_job.id


def timed(result: LoadResult, kind: str, call: Callable[[], object]) -> object:
    """Run one request, keeping its time under ``kind``, or the failure."""
    started = time.perf_counter()
    try:
        answer = call()
    except (RequestFailed, ValueError, KeyError) as e:
        result.failures.append(f"{kind}: {e}"[:300])
        return None
    result.times[kind].append(time.perf_counter() - started)
    return answer


def session(
    port: int,
    number: int,
    job_id: int,
    spares: list[int],
    options: LoadOptions,
    result: LoadResult,
    stop: threading.Event,
) -> None:
    """One secretary's screen, round and round, until ``stop``; the admin (number 0) does more."""
    rng = random.Random(options.seed * 1000 + number)
    client = ReviewClient("127.0.0.1", port)

    def pause() -> None:
        stop.wait(rng.uniform(0.4, 1.6) * options.think_s)

    try:
        if timed(result, "login", lambda: client.login(f"s{number:02d}", PASSWORD)) is None:
            return
        round_number = 0
        while not stop.is_set():
            round_number += 1
            timed(result, "queue page", lambda: client.get("/queue"))
            pause()
            timed(result, "review page", lambda: client.get(f"/review/{job_id}"))
            review = timed(result, "review data", lambda: client.get(f"/api/review/{job_id}").json())
            pause()
            first = timed(
                result,
                "audio range" if round_number > 1 else FIRST_LISTEN,
                lambda: client.get(f"/audio/{job_id}", headers={"Range": "bytes=0-65535"}, expect=(206,)),
            )
            size = int(first.headers.get("content-range", "/0").rsplit("/", 1)[-1]) if isinstance(first, Answer) else 0
            if size > 65536:  # then a place further on, as when she clicks a word
                at = rng.randrange(0, size - 65536)
                timed(
                    result,
                    "audio range",
                    lambda a=at: client.get(
                        f"/audio/{job_id}", headers={"Range": f"bytes={a}-{a + 65535}"}, expect=(206,)
                    ),
                )
            pause()
            if isinstance(review, dict):
                body = {"blocks": typed_blocks(review, f" Relu {round_number}."), "typed_at": time.time() * 1000}
                timed(result, "save draft", lambda b=body: client.post_json(f"/api/review/{job_id}/save", b))
            pause()
            if number == 0:
                timed(result, "document preview", lambda: client.get(f"/api/review/{job_id}/preview"))
                timed(result, "docx download", lambda: client.get(f"/review/{job_id}/docx"))
                timed(result, "stats page", lambda: client.get("/stats"))
                if spares:
                    spare = spares.pop()
                    timed(result, "validate + file (LibreOffice PDF)", lambda j=spare: validated(client, j, result))
                pause()
    finally:
        client.close()


def validated(client: ReviewClient, job_id: int, result: LoadResult) -> bool:
    """Validate and file one report through the app; a report validated but not filed is a failure here."""
    status, answer = validate_through_app(client, job_id)
    if status != 200:
        result.failures.append(f"job {job_id}: validated but not filed ({answer.get('error')})")
    return status == 200


def listener(port: int, job_id: int, result: LoadResult, stop: threading.Event) -> None:
    """Open the two-hour dictation, then play it here and there, as a secretary skimming it does."""
    rng = random.Random(7)
    client = ReviewClient("127.0.0.1", port, timeout_s=1800)
    try:
        client.login("listener", PASSWORD)
        kind, at = LONG_FIRST_LISTEN, 0
        while not stop.is_set():
            answer = timed(
                result,
                kind,
                lambda a=at: client.get(f"/audio/{job_id}", headers={"Range": f"bytes={a}-{a + 65535}"}, expect=(206,)),
            )
            if not isinstance(answer, Answer):
                return
            size = int(answer.headers.get("content-range", "/0").rsplit("/", 1)[-1])
            kind, at = "long dictation: audio range", rng.randrange(0, max(1, size - 65536))
            stop.wait(rng.uniform(0.4, 1.6) * 2.0)
    finally:
        client.close()


def born_aged(years: int) -> str:
    """A birth date that makes the patient ``years`` old today, as the dictation says (no identity conflict)."""
    today = datetime.date.today()
    return (today.replace(year=today.year - years, day=1) - datetime.timedelta(days=180)).isoformat()


def arrivals(inbox: Path, every_s: float, result: LoadResult, stop: threading.Event) -> None:
    """Drop a new dictation (its own recording) into the inbox every ``every_s``: serve's worker transcribes it."""
    from tests.audio_files import write_audio

    speech = (decode_dictation(CLIP).samples * 32767).astype(np.int16)
    staging = inbox.parent / "arriving"
    staging.mkdir(exist_ok=True)
    while not stop.wait(every_s if result.arrived else 0.0):
        noise = np.random.default_rng(1000 + result.arrived).integers(-20, 21, speech.size)
        made = write_audio((speech.astype(np.int32) + noise).clip(-32767, 32767).astype(np.int16),
                           staging / f"arrived-{result.arrived:03d}.opus")
        (inbox / "dr-load").mkdir(parents=True, exist_ok=True)
        made.rename(inbox / "dr-load" / made.name)
        result.arrived += 1


def run_load(options: LoadOptions, site: Path) -> LoadResult:
    """Prepare a site in ``site``, start ``transcribe serve`` on it, run the sessions and the arrivals."""
    site.mkdir(parents=True, exist_ok=True)
    port, jobs, spares, long_job = prepare_site(site, options)
    settings = load_settings(cwd=site, environ={}).settings
    result = LoadResult()
    with (site / "serve.log").open("ab") as log:
        serve = subprocess.Popen(
            [sys.executable, "-m", "transcribe", "serve"],
            cwd=site,
            env=process_env(),
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        wait_for_port(port, serve)
        stop = threading.Event()
        threads = [threading.Thread(target=listener, args=(port, long_job, result, stop))]
        threads.append(threading.Thread(target=arrivals, args=(settings.paths.inbox, options.arrival_s, result, stop)))
        threads += [
            threading.Thread(target=session, args=(port, n, jobs[n], spares, options, result, stop))
            for n in range(options.sessions)
        ]
        started = time.monotonic()
        for thread in threads:
            thread.start()
        stop.wait(options.duration_s)
        stop.set()
        for thread in threads:
            thread.join(timeout=1800)
        result.wall_s = time.monotonic() - started
        store = open_store(settings.store_url)
        try:
            result.drafted = sum(1 for j in store.jobs.list_jobs(limit=10_000) if j.original_name.startswith("arrived-")
                                 and j.state.value == "drafted")
        finally:
            store.close()
    finally:
        serve.terminate()
        try:
            serve.wait(timeout=60)
        except subprocess.TimeoutExpired:
            serve.kill()
    return result


def wait_for_port(port: int, serve: subprocess.Popen[bytes], timeout_s: float = 300.0) -> None:
    """Until the review app answers (it starts after the model and the vocabulary are loaded)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if serve.poll() is not None:
            raise RuntimeError(f"transcribe serve ended (exit {serve.returncode}) before its review app answered")
        probe = ReviewClient("127.0.0.1", port, timeout_s=5)
        try:
            probe.get("/login")
            return
        except RequestFailed:
            time.sleep(0.5)
        finally:
            probe.close()
    raise RuntimeError(f"the review app did not answer on port {port} within {timeout_s:.0f} s")


def percentile(values: list[float], fraction: float) -> float:
    """The value below which ``fraction`` of the values lie (nearest rank)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, int(np.ceil(fraction * len(ordered))) - 1))]


def report(result: LoadResult, options: LoadOptions) -> str:
    """The figures, plainly, to paste into a note."""
    hours = f"{int(options.audio_s // 3600)}:{int(options.audio_s % 3600 // 60):02d}:{int(options.audio_s % 60):02d}"
    lines = [
        f"load: {options.sessions} review sessions on one transcribe serve for {result.wall_s:.0f} s "
        f"(pause between requests {options.think_s:.1f} s on average), one more skimming a {hours} Opus dictation",
        f"  meanwhile {result.arrived} dictations arrived (one every {options.arrival_s:.0f} s), "
        f"{result.drafted} of them transcribed by serve's worker during the run",
        f"  {'request':40} {'count':>6} {'median':>8} {'p90':>8} {'p99':>8} {'max':>8}   (ms)",
    ]
    every: list[float] = []
    for kind, values in result.times.items():
        every += values
        lines.append(_row(kind, values))
    lines.append(_row("all requests", every))
    lines.append(f"  failed requests: {len(result.failures)}")
    lines += [f"  FAILED: {f}" for f in result.failures[:20]]
    if every:
        median = percentile(every, 0.5)
        verdict = "met" if median < TARGET_MEDIAN_S else "NOT met"
        lines.append(f"  target median under {TARGET_MEDIAN_S * 1000:.0f} ms: {verdict} ({median * 1000:.0f} ms)")
    first = result.times.get(FIRST_LISTEN, []) + result.times.get(LONG_FIRST_LISTEN, [])
    if first:
        slowest = max(first)
        verdict = "met" if slowest < TARGET_FIRST_LISTEN_S else "NOT met"
        lines.append(
            f"  first listen (first audio request of a dictation, listening copy written with the draft): median "
            f"{percentile(first, 0.5) * 1000:.0f} ms, max {slowest * 1000:.0f} ms over {len(first)} openings "
            f"(the {hours} dictation: {max(result.times.get(LONG_FIRST_LISTEN, [0.0])) * 1000:.0f} ms); "
            f"target within {TARGET_FIRST_LISTEN_S:.0f} s: {verdict}"
        )
    return "\n".join(lines)


def _row(kind: str, values: list[float]) -> str:
    if not values:
        return f"  {kind:40} {0:>6}"
    figures = [percentile(values, q) * 1000 for q in (0.5, 0.9, 0.99)] + [max(values) * 1000]
    return f"  {kind:40} {len(values):>6} " + " ".join(f"{f:>8.0f}" for f in figures)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    defaults = LoadOptions()
    parser.add_argument("--sessions", type=int, default=defaults.sessions)
    parser.add_argument("--duration-s", type=float, default=defaults.duration_s)
    parser.add_argument("--audio-s", type=float, default=defaults.audio_s, help="length of the long dictation")
    parser.add_argument("--think-s", type=float, default=defaults.think_s, help="mean pause between requests")
    parser.add_argument("--arrival-s", type=float, default=defaults.arrival_s, help="a new dictation this often")
    parser.add_argument("--seed", type=int, default=defaults.seed)
    parser.add_argument("--keep", type=Path, help="run in this folder and keep it")
    args = parser.parse_args()
    options = LoadOptions(
        sessions=args.sessions,
        duration_s=args.duration_s,
        audio_s=args.audio_s,
        think_s=args.think_s,
        arrival_s=args.arrival_s,
        seed=args.seed,
    )
    site = args.keep or Path(tempfile.mkdtemp(prefix="load-"))
    result = run_load(options, site)
    print(report(result, options))
    if not args.keep:
        shutil.rmtree(site, ignore_errors=True)
    every = [t for values in result.times.values() for t in values]
    return 1 if result.failures or not every else 0


if __name__ == "__main__":
    sys.exit(main())
