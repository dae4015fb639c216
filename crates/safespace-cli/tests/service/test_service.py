"""`safespace serve` as a platform backend meets it: OpenAI's own client, curl, and a load run."""

import json
import os
import signal
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from http.client import HTTPConnection
from urllib.parse import urlparse

import openai
import pytest

CRISIS = "I bought the pills, tonight's the night"
SAFE = "this homework is killing me"


def curl(url: str, *args: str, body: str | None = None) -> tuple[int, dict, str]:
    """Status, headers and body of one request made with curl; `body` is POSTed (from standard input)."""
    data = ["-X", "POST", "--data-binary", "@-", "-H", "Expect:"] if body is not None else []
    out = subprocess.run(
        ["curl", "-s", "-i", "--max-time", "60", *data, *args, url], input=body, capture_output=True, text=True, check=True
    ).stdout
    head, _, body = out.replace("\r\n", "\n").partition("\n\n")
    lines = head.splitlines()
    headers = dict(line.split(": ", 1) for line in lines[1:] if ": " in line)
    return int(lines[0].split()[1]), {k.lower(): v for k, v in headers.items()}, body


def post(url: str, payload, *args: str) -> tuple[int, dict, dict]:
    status, headers, body = curl(url, "-H", "Content-Type: application/json", *args, body=json.dumps(payload))
    return status, headers, json.loads(body)


def test_the_openai_client_reads_typed_moderations(serve):
    server = serve()
    client = openai.OpenAI(base_url=f"{server.url}/v1", api_key="unused")
    response = client.moderations.create(model="omni-moderation-latest", input=[CRISIS, SAFE])
    crisis, safe = response.results
    assert crisis.flagged and crisis.categories.self_harm
    assert crisis.category_scores.self_harm >= 0.5
    assert crisis.categories.sexual is False and crisis.category_scores.violence == 0.0
    assert not safe.flagged and not safe.categories.self_harm
    assert crisis.category_applied_input_types.self_harm == ["text"]
    extra = crisis.model_extra["safespace"]
    assert any("988" in r["how"] for r in extra["resources"])
    assert extra["evidence"][0]["category"] == "self_harm"
    assert response.id.startswith("modr-")


def test_a_string_input_and_text_parts_are_accepted(serve):
    server = serve("--rules-only")
    status, _, one = post(f"{server.url}/v1/moderations", {"input": "kys"})
    assert status == 200 and one["results"][0]["categories"]["self-harm"] is True
    status, _, parts = post(f"{server.url}/v1/moderations", {"input": [{"type": "text", "text": "kys"}]})
    assert status == 200 and parts["results"][0]["flagged"]


def test_v1_score_returns_reports_and_takes_per_request_settings(serve):
    server = serve("--rules-only")
    status, _, default = post(f"{server.url}/v1/score", {"input": ["kys", "hello"]})
    assert status == 200 and [("self_harm" in r["flagged"], r["flagged"]) for r in default["results"]] == [(True, default["results"][0]["flagged"]), (False, [])]
    status, _, uk = post(f"{server.url}/v1/score", {"input": "kys", "settings": {"locale": "UK"}})
    assert status == 200 and uk["results"][0]["resources"][0]["region"] == "UK"
    assert default["results"][0]["resources"][0]["region"] == "US"
    status, _, error = post(f"{server.url}/v1/score", {"input": "kys", "settings": {"policy": "lenient"}})
    assert status == 422 and "lenient" in error["error"]["message"]
    status, _, error = post(f"{server.url}/v1/score", {"input": "kys", "settings": {"rules_files": ["/etc/passwd"]}})
    assert status == 422 and "rules_files" in error["error"]["message"]


def test_scores_are_f32_without_float_noise(serve):
    server = serve("--rules-only")
    _, _, body = curl(f"{server.url}/v1/score", body=json.dumps({"input": "kys"}))
    assert '"self_harm":0.' in body
    assert all(len(s) < 14 for s in body.replace("}", ",").split(",") if s.startswith('"self_harm":0.'))


def test_errors_are_json_in_openai_shape(serve):
    server = serve("--rules-only", "--max-body-bytes", "2000", "--max-batch", "2", "--max-input-bytes", "100")
    cases = [
        ({"input": "x" * 5000}, 413, "--max-body-bytes"),
        ({"input": ["a", "b", "c"]}, 422, "at most 2"),
        ({"input": "y" * 150}, 413, "over the limit of 100"),
        ({"input": 5}, 400, "must be a string or a list"),
        ({"input": [{"type": "image_url", "image_url": {"url": "http://x"}}]}, 400, "only text"),
        ({"text": "no input field"}, 400, "input"),
    ]
    for payload, status, words in cases:
        got, _, body = post(f"{server.url}/v1/moderations", payload)
        assert got == status, (payload, body)
        assert body["error"]["type"] == "invalid_request_error" and words in body["error"]["message"], body
    status, _, body = curl(f"{server.url}/v1/score", body="not json")
    assert status == 400 and "bad JSON" in json.loads(body)["error"]["message"]
    status, _, body = curl(f"{server.url}/nowhere")
    assert status == 404 and json.loads(body)["error"]["message"].startswith("no such route")


def test_a_bearer_token_guards_the_api_but_not_the_probes(serve, tmp_path):
    key = tmp_path / "key"
    key.write_text("s3cret-token\n")
    server = serve("--rules-only", "--api-key-file", str(key))
    status, headers, body = post(f"{server.url}/v1/moderations", {"input": "kys"})
    assert status == 401 and headers["www-authenticate"] == "Bearer" and body["error"]["type"] == "authentication_error"
    status, _, _ = post(f"{server.url}/v1/moderations", {"input": "kys"}, "-H", "Authorization: Bearer wrong")
    assert status == 401
    status, _, _ = post(f"{server.url}/v1/moderations", {"input": "kys"}, "-H", "Authorization: Bearer s3cret-token")
    assert status == 200
    assert curl(f"{server.url}/healthz")[0] == 200
    with pytest.raises(openai.AuthenticationError):
        openai.OpenAI(base_url=f"{server.url}/v1", api_key="wrong").moderations.create(input="hi")
    assert openai.OpenAI(base_url=f"{server.url}/v1", api_key="s3cret-token").moderations.create(input="kys").results[0].flagged


def test_over_the_concurrency_limit_is_503_with_retry_after(serve):
    server = serve("--rules-only", "--max-concurrent", "1", "--max-batch", "4096")
    slow = {"input": ["i have the pills and tonight is the night. " * 200] * 400}

    def one(_):
        return post(f"{server.url}/v1/score", slow)[:2]

    with ThreadPoolExecutor(6) as pool:
        answers = list(pool.map(one, range(6)))
    statuses = sorted(status for status, _ in answers)
    assert set(statuses) == {200, 503}, statuses
    assert all(headers.get("retry-after") == "1" for status, headers in answers if status == 503)


def test_readyz_says_whether_the_chosen_engine_runs(serve):
    fast = serve("--engine", "fast")
    status, _, body = curl(f"{fast.url}/readyz")
    assert status == 200 and json.loads(body) == {"ready": True, "engine": "fast"}
    status, _, error = post(f"{fast.url}/v1/score", {"input": "kys", "settings": {"engine": "full"}})
    assert status == 422 and "the server runs the fast engine" in error["error"]["message"]
    broken = serve("--model", "/nonexistent/model")
    status, _, body = curl(f"{broken.url}/readyz")
    assert status == 503 and "model.onnx" in json.loads(body)["reason"]
    assert post(f"{broken.url}/v1/score", {"input": "kys"})[0] == 200


def test_sigterm_lets_requests_in_flight_finish_and_no_post_text_is_logged(serve):
    server = serve("--rules-only", "--max-batch", "4096")
    secret = "my neighbour Quentin Aldous keeps the pills in the blue box"
    result = {}

    def slow_request():
        result["answer"] = post(f"{server.url}/v1/score", {"input": [secret * 40] * 1500})

    worker = threading.Thread(target=slow_request)
    worker.start()
    time.sleep(0.5)
    assert server.process.poll() is None
    server.process.send_signal(signal.SIGTERM)
    worker.join(timeout=120)
    assert result["answer"][0] == 200 and len(result["answer"][2]["results"]) == 1500
    assert server.process.wait(timeout=30) == 0
    log = "".join(server.log)
    assert "shutting down" in log and "POST /v1/score 200" in log
    assert "Quentin" not in log and "pills" not in log


def test_64_concurrent_connections_lose_no_request(serve):
    server = serve()
    address = urlparse(server.url)
    per_connection = 10

    def connection(n: int) -> int:
        http = HTTPConnection(address.hostname, address.port, timeout=120)
        answered = 0
        for i in range(per_connection):
            text = CRISIS if (n + i) % 2 else SAFE
            http.request("POST", "/v1/moderations", json.dumps({"input": text}), {"Content-Type": "application/json"})
            response = http.getresponse()
            body = json.loads(response.read())
            assert response.status == 200, body
            assert body["results"][0]["flagged"] == ((n + i) % 2 == 1)
            answered += 1
        http.close()
        return answered

    with ThreadPoolExecutor(64) as pool:
        answered = sum(pool.map(connection, range(64)))
    assert answered == 64 * per_connection
    metrics = curl(f"{server.url}/metrics")[2]
    assert f'safespace_requests_total{{route="/v1/moderations",status="200"}} {64 * per_connection}' in metrics
    assert f"safespace_texts_scored_total {64 * per_connection}" in metrics
    assert f'safespace_flagged_total{{category="self_harm"}} {32 * per_connection}' in metrics
    assert 'safespace_engine_info{mode="model+rules"} 1' in metrics


def test_the_example_backend_switches_by_configuration_alone(serve):
    server = serve()
    env = {**os.environ, "MODERATION_BASE_URL": f"{server.url}/v1", "MODERATION_API_KEY": "unused"}

    def decide(post: str) -> str:
        command = [sys.executable, "examples/service/moderate.py", post]
        return subprocess.run(command, env=env, capture_output=True, text=True, check=True).stdout.strip()

    assert decide(CRISIS) == "support"
    assert decide(SAFE) == "publish"


def test_bad_options_fail_before_binding(tmp_path):
    binary = os.environ.get("SAFESPACE_BIN", "target/debug/safespace")
    empty = tmp_path / "key"
    empty.write_text("\n")
    cases = [
        (["--max-concurrent", "0"], "--max-concurrent"),
        (["--api-key-file", str(empty)], "is empty"),
        (["--api-key-file", str(tmp_path / "missing")], "cannot read the API key file"),
        (["--rules", str(tmp_path / "missing.toml")], "missing.toml"),
        (["--listen", "not-an-address"], "--listen"),
    ]
    for args, words in cases:
        command = [binary, "serve", "--rules-only", *args]
        if "--listen" not in args:
            command += ["--listen", "127.0.0.1:0"]
        done = subprocess.run(command, capture_output=True, text=True, timeout=60)
        assert done.returncode == 2 and words in done.stderr, (args, done.stderr)
