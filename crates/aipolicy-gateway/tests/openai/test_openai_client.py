"""The official `openai` Python client against `aipolicy gateway`, in front of an
OpenAI-compatible fake AI system of the tests' own (fake_upstream.py) that records what it
receives.

Run by `cargo test` (crates/aipolicy-cli/tests/gateway_openai.rs), which gives the `aipolicy`
binary in AIPOLICY_BIN; by hand:

    python3 -m venv crates/aipolicy-gateway/tests/openai/.venv
    crates/aipolicy-gateway/tests/openai/.venv/bin/pip install -r crates/aipolicy-gateway/tests/openai/requirements.txt
    cargo build -p aipolicy-cli
    AIPOLICY_BIN=target/debug/aipolicy crates/aipolicy-gateway/tests/openai/.venv/bin/python -m pytest -q crates/aipolicy-gateway/tests/openai
"""

import hashlib
import json
import os
import pathlib
import socket
import subprocess
import time
import urllib.request

import openai
import pytest

import fake_upstream

REPO = pathlib.Path(__file__).resolve().parents[4]
CHAT_APP = "chat-app-secret"
PERSONNUMMER = "19121212-1212"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def register(endpoint, folder):
    """The Askersund register's data classes and users, with AI systems the gateway reaches."""
    askersund = (REPO / "examples/askersund/register.yaml").read_text(encoding="utf-8")
    before = askersund[: askersund.index("\naiSystems:")]
    users = askersund[askersund.index("\nusers:"):]
    systems = f"""
aiSystems:
  - id: chatgpt
    name: ChatGPT (gratisversion på webben)
    hosting: public
    approved: false
    maxDataLevel: 0
    aiActRisk: limited
    endpoint: {endpoint}
  - id: copilot-chat
    name: Microsoft 365 Copilot Chat
    hosting: internal
    approved: true
    owner: IT-chef
    verified: true
    maxDataLevel: 1
    userGroups: [employee, elected]
    aiActRisk: limited
    endpoint: {endpoint}
    models: [gpt-4o]
    credential: {{env: AIPOLICY_TEST_UPSTREAM_KEY}}
"""
    path = folder / "register.yaml"
    path.write_text(before + "\n" + systems + users, encoding="utf-8")
    return path


@pytest.fixture(scope="session")
def upstream():
    server = fake_upstream.start()
    yield server
    server.shutdown()


@pytest.fixture(scope="session")
def gateway(upstream, tmp_path_factory):
    folder = tmp_path_factory.mktemp("gateway")
    reg = register(f"http://127.0.0.1:{upstream.server_port}/v1", folder)
    tokens = folder / "tokens"
    tokens.write_text(f"chat-app {hashlib.sha256(CHAT_APP.encode()).hexdigest()} names-users\n")
    port = free_port()
    binary = os.environ.get("AIPOLICY_BIN", str(REPO / "target/debug/aipolicy"))
    env = dict(os.environ, AIPOLICY_TODAY="2026-12-07", AIPOLICY_TEST_UPSTREAM_KEY="sk-from-the-register")
    log = open(folder / "gateway.log", "w")
    process = subprocess.Popen(
        [binary, "gateway", "--listen", f"127.0.0.1:{port}", "--register", str(reg),
         "--policies", str(REPO / "policies"), "--schema", str(REPO / "schemas/aipolicy.cedarschema"),
         "--token-file", str(tokens), "--watch", "0"],
        env=env, stdout=log, stderr=log, cwd=folder,
    )
    base = f"http://127.0.0.1:{port}"
    for _ in range(300):
        try:
            with urllib.request.urlopen(base + "/health/ready", timeout=1) as answer:
                if answer.status == 200:
                    break
        except OSError:
            pass
        if process.poll() is not None:
            break
        time.sleep(0.1)
    else:
        process.kill()
        pytest.fail("the gateway did not become ready: " + (folder / "gateway.log").read_text())
    if process.poll() is not None:
        pytest.fail("the gateway exited: " + (folder / "gateway.log").read_text())
    yield base
    process.terminate()
    process.wait(timeout=10)


def client(gateway, user, data=None):
    headers = {"X-AIPolicy-User": user}
    if data:
        headers["X-AIPolicy-Data"] = data
    return openai.OpenAI(base_url=gateway + "/v1", api_key=CHAT_APP, default_headers=headers, max_retries=0)


def received(upstream):
    with urllib.request.urlopen(f"http://127.0.0.1:{upstream.server_port}/__received") as answer:
        return json.load(answer)


def test_a_streamed_completion_is_allowed(gateway, upstream):
    before = len(received(upstream))
    stream = client(gateway, "anna", "intern").chat.completions.create(
        model="copilot-chat",
        messages=[{"role": "user", "content": "Sammanfatta mötesanteckningarna."}],
        stream=True,
    )
    text = "".join(chunk.choices[0].delta.content or "" for chunk in stream if chunk.choices)
    assert text == "Hej från modellen"
    sent = received(upstream)[before:]
    assert len(sent) == 1
    # The register's credential and model name; never the caller's token.
    assert sent[0]["authorization"] == "Bearer sk-from-the-register"
    assert sent[0]["body"]["model"] == "gpt-4o"


def test_the_decision_is_in_the_headers(gateway):
    raw = client(gateway, "anna", "intern").chat.completions.with_raw_response.create(
        model="copilot-chat", messages=[{"role": "user", "content": "Hej"}])
    assert len(raw.headers["x-aipolicy-decision-id"]) == 36
    assert "u1-duty-responsible-for-result" in raw.headers["x-aipolicy-duties"]
    assert raw.parse().choices[0].message.content == "Hej från modellen"


def test_a_personnummer_to_public_ai_is_refused_with_the_u3_reason(gateway, upstream):
    before = len(received(upstream))
    with pytest.raises(openai.PermissionDeniedError) as refused:
        client(gateway, "anna", "oppen").chat.completions.create(
            model="chatgpt",
            messages=[{"role": "user", "content": f"Skriv ett beslut till {PERSONNUMMER}."}],
            stream=True,
        )
    error = refused.value
    assert error.status_code == 403
    assert error.type == "policy_violation"
    assert error.body["type"] == "policy_violation"
    # What a chat app shows the person: the reasons, with their paragraphs.
    message = error.body["message"]
    assert "U3 Publik AI får bara användas för information som är klassad som öppen" in message
    assert "personnummer" in message
    assert PERSONNUMMER not in message
    # It never reached the model.
    assert received(upstream)[before:] == []


def test_models_are_listed_per_user(gateway):
    anna = sorted(m.id for m in client(gateway, "anna").models.list())
    assert anna == ["chatgpt", "copilot-chat", "gpt-4o"]
    # cecilia is a contractor: Copilot Chat is for employees and elected officials.
    cecilia = sorted(m.id for m in client(gateway, "cecilia").models.list())
    assert cecilia == ["chatgpt"]


def test_embeddings_are_decided(gateway, upstream):
    answer = client(gateway, "anna", "oppen").embeddings.create(model="chatgpt", input="Öppettider", encoding_format="float")
    assert answer.data[0].embedding == [0.1, 0.2]
    before = len(received(upstream))
    with pytest.raises(openai.PermissionDeniedError):
        client(gateway, "anna", "oppen").embeddings.create(model="chatgpt", input=["ok", PERSONNUMMER], encoding_format="float")
    assert received(upstream)[before:] == []
