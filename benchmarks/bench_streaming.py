"""Streaming: how long after the model's first token the first token shows in the browser.

`comentor ui` runs the LLM facilitator against the fake OpenAI-compatible server, which holds each answer's first
token for a fixed delay. Headless chromium (Debian's, driven by Playwright) opens the demo pair and asks
`@facilitator ...` questions; a MutationObserver in the page notes when each answer's first word appears in the chat.
The model's first token leaves the server at (request received + first-token delay), on the same clock.
"""

from __future__ import annotations

import itertools
import re
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from benchmarks.bench_start import _free_port, env_for
from benchmarks.common import ROOT, model_reply, stats

CHROMIUM = "/usr/bin/chromium"
FIRST_TOKEN_DELAY = 0.5
_OBSERVER = """
() => {
  window.__seen = {};
  new MutationObserver(() => {
    const chat = document.querySelector('#chat');
    if (!chat) return;
    for (const m of chat.textContent.matchAll(/Zebra(\\d+)/g)) {
      if (!(m[1] in window.__seen)) window.__seen[m[1]] = Date.now();
    }
  }).observe(document.body, {childList: true, subtree: true, characterData: true});
}
"""


def available() -> str | None:
    if not Path(CHROMIUM).exists():
        return f"{CHROMIUM} is not installed (make system-deps)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "playwright is not installed (pip install -e '.[dev]')"
    if not (ROOT / "ui" / "app.py").exists():
        return "ui/app.py does not exist yet"
    return None


def _rotated_link(env: dict[str, str], port: int) -> str | None:
    """A new access code for the demo pair, as the link that opens it; None when there is no demo pair yet (then
    `comentor ui` creates it and prints the link)."""
    command = [sys.executable, "-m", "ui.cli", "pairs", "code", "ana-ben", "--rotate"]
    command += ["--app-url", f"http://127.0.0.1:{port}"]
    done = subprocess.run(command, env=env, cwd=ROOT, capture_output=True, text=True, timeout=120)
    found = re.search(r"(http://\S+)", done.stdout) if done.returncode == 0 else None
    return found.group(1) if found else None


def run(home: Path, questions: int = 8) -> dict[str, Any]:
    from playwright.sync_api import expect, sync_playwright

    from facilitator.testing.fake_openai import FakeOpenAIServer, Reply

    counter = itertools.count(1)
    sent: dict[int, float] = {}

    def responder(body: dict[str, Any]) -> Reply:
        if body.get("response_format") or body.get("tools"):
            return model_reply(body)  # structured moves, if the policy makes one
        n = next(counter)
        sent[n] = time.time()  # the request is answered now; its first token follows after the delay
        return Reply.text(f"Zebra{n} meet every two weeks and keep a shared list of what each of you will try.")

    latencies: list[float] = []
    with FakeOpenAIServer(responder=responder, first_token_delay=FIRST_TOKEN_DELAY, chunk_delay=0.02) as fake:
        port = _free_port()
        env = env_for(home) | {"OPENAI_BASE_URL": fake.base_url, "OPENAI_API_KEY": "bench", "COMENTOR_MODEL": "fake"}
        rotated = _rotated_link(env, port)  # the demo pair exists when an earlier benchmark started the app
        process = subprocess.Popen(
            [sys.executable, "-m", "ui.cli", "ui", "--port", str(port)],
            env=env,
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        try:
            link = rotated
            deadline = time.monotonic() + 180
            while link is None and time.monotonic() < deadline and process.stdout is not None:
                line = process.stdout.readline()
                if not line and process.poll() is not None:
                    raise RuntimeError("comentor ui exited before printing its demo link")
                found = re.search(r"open (http://\S+)", line)
                link = found.group(1) if found else None
                if link is None and re.search(r" at http://", line):
                    break  # the app is up and printed no link
            if link is None:
                raise RuntimeError("comentor ui printed no demo link")
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
                page = browser.new_page()
                for _ in range(100):
                    try:
                        page.goto(link)
                        break
                    except Exception:  # the server is not listening yet
                        time.sleep(0.2)
                expect(page.locator("#speaker")).to_be_visible(timeout=60_000)
                page.evaluate(_OBSERVER)
                for i in range(1, questions + 1):
                    page.locator("#speaker").get_by_text("Ana", exact=True).click()
                    page.locator("#message textarea, #message input").first.fill(f"@facilitator question {i}?")
                    page.locator("#send").click()
                    page.wait_for_function(f"() => window.__seen['{i}'] !== undefined", timeout=60_000)
                    page.wait_for_function("() => !document.querySelector('.pending, .generating')", timeout=60_000)
                    shown = page.evaluate(f"() => window.__seen['{i}']") / 1000
                    if i in sent:
                        latencies.append((shown - (sent[i] + FIRST_TOKEN_DELAY)) * 1000)
                browser.close()
        finally:
            process.terminate()
            process.wait(timeout=30)
    return {"first_token_delay_s": FIRST_TOKEN_DELAY, "latency_ms": latencies, "stats": stats(latencies).as_dict()}
