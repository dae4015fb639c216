"""`safespace serve` against calling the library in-process, on the same texts, in one run.

For each engine (fast: --rules-only; default: model + rules) it measures, with CLIENTS concurrent
keep-alive connections: single posts (one text per request) and batches of 32, as texts per second
and the p50 / p99 of a request's latency; and the same work in-process through the Python wheel
(`Detector.score` one at a time, `Detector.score_batch` of 32) from as many threads. Texts: the
functional suite's (team-written, 20-300 characters).

    make service-bench     # release CLI and wheel, then this script
"""

import argparse
import json
import statistics
import subprocess
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from http.client import HTTPConnection
from pathlib import Path

import safespace

CLIENTS = 4


def texts() -> list[str]:
    lines = Path("datasets/functional/suite.jsonl").read_text().splitlines()
    return [json.loads(line)["text"] for line in lines if line.strip()]


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def run_clients(requests: list, call) -> tuple[float, list[float]]:
    """Wall time and per-request latencies of `call(connection_state, request)` over CLIENTS threads."""
    latencies: list[float] = []
    lock = threading.Lock()

    def client(share: list) -> None:
        state = {}
        for request in share:
            started = time.perf_counter()
            call(state, request)
            elapsed = time.perf_counter() - started
            with lock:
                latencies.append(elapsed)

    shares = [requests[i::CLIENTS] for i in range(CLIENTS)]
    started = time.perf_counter()
    with ThreadPoolExecutor(CLIENTS) as pool:
        list(pool.map(client, shares))
    return time.perf_counter() - started, latencies


class Server:
    def __init__(self, binary: str, *args: str):
        self.process = subprocess.Popen([binary, "serve", "--listen", "127.0.0.1:0", "--max-batch", "64", *args],
                                        stderr=subprocess.PIPE, text=True)
        for line in self.process.stderr:
            if "listening on " in line:
                self.host, port = line.split("http://")[1].split()[0].split(":")
                self.port = int(port)
                break
        threading.Thread(target=lambda: [None for _ in self.process.stderr], daemon=True).start()

    def call(self, state: dict, batch: list[str]) -> None:
        connection = state.setdefault("connection", HTTPConnection(self.host, self.port, timeout=300))
        connection.request("POST", "/v1/moderations", json.dumps({"input": batch}), {"Content-Type": "application/json"})
        response = connection.getresponse()
        body = response.read()
        assert response.status == 200, body
        assert len(json.loads(body)["results"]) == len(batch)

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=60)


def in_process(detector: safespace.Detector):
    def call(_state: dict, batch: list[str]) -> None:
        if len(batch) == 1:
            detector.score(batch[0])
        else:
            assert len(detector.score_batch(batch)) == len(batch)
    return call


def measure(name: str, call, corpus: list[str], batch: int, count: int) -> str:
    requests = [[corpus[(i * batch + j) % len(corpus)] for j in range(batch)] for i in range(count)]
    call({}, requests[0])  # warm-up
    wall, latencies = run_clients(requests, call)
    ms = [x * 1e3 for x in latencies]
    return (f"| {name} | {batch} | {count * batch / wall:,.0f} | {statistics.median(ms):.2f} ms | "
            f"{percentile(ms, 0.99):.2f} ms |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--bin", default="target/release/safespace")
    parser.add_argument("--requests", type=int, default=2000, help="single-post requests for the fast engine")
    args = parser.parse_args()
    corpus = texts()
    print(f"{len(corpus)} texts, {CLIENTS} concurrent clients")
    print("| engine, path | texts per request | texts/s | p50 | p99 |\n|---|---|---|---|---|")
    for engine, flags, scale in (("fast", ["--rules-only"], 1), ("default", [], 10)):
        server = Server(args.bin, *flags)
        detector = safespace.Detector(rules_only=bool(flags))
        singles, batches = args.requests // scale, args.requests // (8 * scale)
        try:
            for batch, count in ((1, singles), (32, batches)):
                print(measure(f"{engine}, HTTP", server.call, corpus, batch, count), flush=True)
                print(measure(f"{engine}, in-process", in_process(detector), corpus, batch, count), flush=True)
        finally:
            server.stop()


if __name__ == "__main__":
    main()
