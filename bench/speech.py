#!/usr/bin/env python3
"""What SparkDeck's speech path costs and gives, against peers measured in the same run. Not a test: it prints numbers.

Runs its own `sparkdeck demo` (SparkSim's parakeet-asr behind SparkDeck, on 127.0.0.1 only) and measures:

1. A long recording (default 120 minutes) of espeak-ng voices taking turns, three at a time, through
   `POST /v1/audio/diarizations`:
   - wall time against the time the audio cap allows: the upstream seconds of every chunk call (from SparkDeck's
     own /metrics histogram) divided by the ASR's `max_in_flight`; a ratio near 1 means SparkDeck kept the cap full;
   - SparkDeck's peak RSS (VmHWM of the demo process, which serves the API; the sims are separate processes);
   - speaker agreement with how the recording was made (each turn's majority label, names given in order of first
     speech);
   - the same file sent to the sim in one call, as a client without SparkDeck would: its agreement and time.
2. A transcription upload (default 150 MB of WAV) through SparkDeck and straight to the sim: throughput of each
   (bytes / time to the answer) and their ratio, and SparkDeck's RSS before and after.

The voices are the ones SparkSim's pitch-based diarizer tells apart reliably (half an octave apart, off each other's
octaves): --voices up to 4. More distinct speakers are the merge suite's job, on generated timelines.

Usage
  python3 bench/speech.py [--bin .build/release/sparkdeck] [--minutes 120] [--upload-mb 150]
  python3 bench/speech.py --minutes 10 --upload-mb 40          # a quick look
"""

from __future__ import annotations

import argparse
import io
import os
import re
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
import wave
from pathlib import Path

import requests

VOICES = [("A", None, 10), ("B", None, 60), ("C", None, 99), ("D", "en+f4", 90)]
SENTENCES = [
    "so we can start the meeting now", "yes I think that plan works", "what about the budget next week",
    "let us check the numbers again", "sounds good thanks everyone", "the call is on friday then",
]
RATE = 16_000


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def speech(voice: str | None, pitch: int, text: str) -> list[int]:
    args = ["espeak-ng"] + (["-v", voice] if voice else []) + ["-p", str(pitch), "-g", "20", "-s", "160", "--stdout", text]
    wav = subprocess.run(args, capture_output=True, check=True).stdout
    raw = subprocess.run(
        ["sox", "-t", "wav", "-", "-r", str(RATE), "-t", "raw", "-e", "signed", "-b", "16", "-c", "1", "-"],
        input=wav, capture_output=True, check=True).stdout
    samples = list(struct.unpack(f"<{len(raw) // 2}h", raw))
    loud = [i for i, x in enumerate(samples) if abs(x) > 600]
    return samples[: loud[-1] + 1] if loud else samples


def recording(minutes: float, voices: int) -> tuple[bytes, list[tuple[str, float, float]]]:
    """Turns of `voices` speakers, three at a time in blocks of 12, until `minutes`; WAV bytes and the truth."""
    cache: dict[tuple[int, int], list[int]] = {}
    pcm = bytearray(b"\0\0" * int(0.3 * RATE))
    gap = b"\0\0" * int(0.7 * RATE)
    truth = []
    turn = 0
    while len(pcm) / 2 / RATE < minutes * 60:
        block, index = divmod(turn, 12)
        speaker = (block + index % 3) % voices
        sentence = turn % len(SENTENCES)
        if (speaker, sentence) not in cache:
            name, voice, pitch = VOICES[speaker]
            cache[(speaker, sentence)] = speech(voice, pitch, SENTENCES[sentence])
        samples = cache[(speaker, sentence)]
        start = len(pcm) / 2 / RATE
        pcm += struct.pack(f"<{len(samples)}h", *samples)
        truth.append((VOICES[speaker][0], start, len(pcm) / 2 / RATE))
        pcm += gap
        turn += 1
    out = io.BytesIO()
    with wave.open(out, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(RATE)
        w.writeframes(bytes(pcm))
    return out.getvalue(), truth


def agreement(truth, segments) -> float:
    right = 0
    for speaker, start, end in truth:
        time_by: dict[str, float] = {}
        for s in segments:
            overlap = min(s["end"], end) - max(s["start"], start)
            if overlap > 0:
                time_by[s["speaker"]] = time_by.get(s["speaker"], 0) + overlap
        if time_by and max(time_by, key=time_by.get) == speaker:
            right += 1
    return right / len(truth)


def best_mapping_agreement(truth, segments) -> float:
    """For an answer with its own labels: agreement after renaming each label to the true speaker it most overlaps."""
    votes: dict[str, dict[str, float]] = {}
    for speaker, start, end in truth:
        for s in segments:
            overlap = min(s["end"], end) - max(s["start"], start)
            if overlap > 0:
                votes.setdefault(s["speaker"], {}).setdefault(speaker, 0)
                votes[s["speaker"]][speaker] += overlap
    rename = {label: max(v, key=v.get) for label, v in votes.items()}
    return agreement(truth, [{**s, "speaker": rename.get(s["speaker"], "?")} for s in segments])


def metric_sum(base: str, route: str) -> tuple[float, int]:
    text = requests.get(base + "/metrics", timeout=30).text
    total, count = 0.0, 0
    for line in text.splitlines():
        if line.startswith("sparkdeck_gateway_request_duration_seconds_sum") and f'route="{route}"' in line:
            total += float(line.rsplit(" ", 1)[1])
        if line.startswith("sparkdeck_gateway_request_duration_seconds_count") and f'route="{route}"' in line:
            count += int(float(line.rsplit(" ", 1)[1]))
    return total, count


def status_kb(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


class RSSSampler(threading.Thread):
    def __init__(self, pid: int):
        super().__init__(daemon=True)
        self.pid, self.peak, self.running = pid, 0, True

    def run(self):
        while self.running:
            try:
                self.peak = max(self.peak, status_kb(self.pid, "VmRSS"))
            except OSError:
                return
            time.sleep(0.1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--bin", default=os.environ.get("SPARKDECK_BIN", ".build/release/sparkdeck"))
    parser.add_argument("--minutes", type=float, default=120)
    parser.add_argument("--voices", type=int, default=4, choices=[2, 3, 4])
    parser.add_argument("--upload-mb", type=float, default=150)
    parser.add_argument("--upload-only", action="store_true", help="measure only the transcription upload")
    args = parser.parse_args()
    binary = args.bin if Path(args.bin).exists() else ".build/debug/sparkdeck"

    data = Path(tempfile.mkdtemp(prefix="sparkdeck-bench-speech-"))
    port = free_port()
    log = open(data / "demo.log", "wb")
    demo = subprocess.Popen([binary, "demo", "--port", str(port), "--data", str(data)], stdout=log, stderr=subprocess.STDOUT,
                            start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                states = {s["id"]: s["state"] for s in requests.get(base + "/api/status", timeout=2).json()["services"]}
                if states.get("asr") == "up":
                    break
            except requests.RequestException:
                pass
            if time.monotonic() > deadline:
                sys.exit("the demo's ASR never came up; see " + str(data / "demo.log"))
            time.sleep(0.5)
        inventory = (data / "demo" / "inventory.yaml").read_text()
        asr_port = int(re.search(r"kind: asr\n(?:.*\n)*?\s+port: (\d+)", inventory).group(1))
        cap_match = re.search(r"id: asr\n(?:.*\n)*?\s+max_in_flight: (\d+)", inventory)
        cap = int(cap_match.group(1)) if cap_match else 8

        print(f"binary {binary}", flush=True)
        if not args.upload_only:
            diarize(args, base, demo, asr_port, cap)
        upload(args, base, demo, asr_port)
    finally:
        demo.send_signal(signal.SIGINT)
        try:
            demo.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(demo.pid, signal.SIGKILL)


def diarize(args, base: str, demo: subprocess.Popen, asr_port: int, cap: int) -> None:
    print(f"recording {args.minutes:g} min of {args.voices} voices ...", flush=True)
    wav, truth = recording(args.minutes, args.voices)
    names = ",".join(v[0] for v in VOICES[: args.voices])

    before_sum, before_count = metric_sum(base, "diarizations")
    sampler = RSSSampler(demo.pid)
    sampler.start()
    started = time.monotonic()
    answer = requests.post(base + "/v1/audio/diarizations", files={"file": ("long.wav", wav, "audio/wav")},
                           data={"speaker_names": names}, timeout=6 * 3600)
    wall = time.monotonic() - started
    sampler.running = False
    answer.raise_for_status()
    body = answer.json()
    after_sum, after_count = metric_sum(base, "diarizations")
    upstream = after_sum - before_sum
    ideal = upstream / cap
    print(f"\n1. diarization of {len(wav) / 1e6:.0f} MB, {args.minutes:g} min, {args.voices} speakers")
    print(f"   wall {wall:.1f} s; {after_count - before_count} chunk calls, {upstream:.1f} upstream s at cap {cap} "
          f"-> {ideal:.1f} s allowed; wall / allowed = {wall / ideal:.2f}")
    print(f"   SparkDeck peak RSS {sampler.peak / 1024:.0f} MB (VmHWM {status_kb(demo.pid, 'VmHWM') / 1024:.0f} MB; target < 150)")
    print(f"   speakers found {len(body['speakers'])} ({', '.join(body['speakers'][:10])}); "
          f"agreement {agreement(truth, body['segments']):.3f} (target >= 0.95); warnings {len(body.get('warnings', []))}")

    started = time.monotonic()
    direct = requests.post(f"http://127.0.0.1:{asr_port}/v1/audio/diarizations",
                           files={"file": ("long.wav", wav, "audio/wav")},
                           data={"speaker_names": "speaker_0,speaker_1,speaker_2,speaker_3"}, timeout=6 * 3600)
    direct_wall = time.monotonic() - started
    if direct.status_code == 200:
        segments = direct.json()["segments"]
        print(f"   the same file to the sim in one call: {direct_wall:.1f} s, "
              f"agreement {best_mapping_agreement(truth, segments):.3f} (best label mapping; one call has 4 slots "
              f"and degrades past 90 s)")
    else:
        print(f"   the same file to the sim in one call: HTTP {direct.status_code} ({direct.text[:120]})")



def upload(args, base: str, demo: subprocess.Popen, asr_port: int) -> None:
    size = int(args.upload_mb * 1e6)
    frames = size // 2
    pcm = bytes(struct.pack("<h", 0)) * frames
    out = io.BytesIO()
    with wave.open(out, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(RATE)
        w.writeframes(pcm)
    upload = out.getvalue()
    del pcm
    rss_before = status_kb(demo.pid, "VmRSS")
    sampler = RSSSampler(demo.pid)
    sampler.start()
    rates = {}
    for peer, url in (("direct", f"http://127.0.0.1:{asr_port}"), ("sparkdeck", base)):
        started = time.monotonic()
        reply = requests.post(url + "/v1/audio/transcriptions", files={"file": ("big.wav", upload, "audio/wav")},
                              data={"model": "parakeet"}, timeout=3600)
        seconds = time.monotonic() - started
        rates[peer] = len(upload) / seconds / 1e6
        print(f"\n2. {len(upload) / 1e6:.0f} MB transcription upload {peer}: HTTP {reply.status_code}, {seconds:.1f} s, "
              f"{rates[peer]:.1f} MB/s")
    sampler.running = False
    print(f"   through / direct = {rates['sparkdeck'] / rates['direct']:.2f} (target >= 0.9); SparkDeck RSS "
          f"{rss_before / 1024:.0f} MB before, peak {sampler.peak / 1024:.0f} MB during, "
          f"{status_kb(demo.pid, 'VmRSS') / 1024:.0f} MB after")


if __name__ == "__main__":
    main()
