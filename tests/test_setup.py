"""Setup and configuration: a bad setting, a busy port or `llm` without a server is one line naming the variable and
what it accepts (exit 2, no traceback) from the CLI and the web app alike; `make run PORT=...` reaches `comentor ui`."""

from __future__ import annotations

import shutil
import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Literal, get_args

import pytest

from facilitator.exceptions import ConfigError
from facilitator.settings import Settings, accepted_values, env_var
from tests.conftest import ROOT, run_cli

# ---------------------------------------------------------------------------------------------- settings errors
BAD_SETTINGS = [
    # variable, bad value, words the message must hold (what the variable accepts)
    ("COMENTOR_LLM_TIMEOUT", "abc", ["a number greater than 0", "default 30"]),
    ("COMENTOR_LLM_TIMEOUT", "0", ["a number greater than 0"]),
    ("COMENTOR_FACILITATOR", "robot", ["one of auto, offline, llm"]),
    ("COMENTOR_EMBEDDER", "bert", ["one of local, sentence-transformers, openai"]),
    ("COMENTOR_LLM_MAX_RETRIES", "20", ["a whole number from 0 to 10"]),
    ("COMENTOR_ACCESS_HOURS", "-1", ["greater than 0 and at most 720"]),
    ("COMENTOR_UI_CONCURRENCY", "many", ["a whole number from 1 to 256"]),
    ("COMENTOR_PORT", "99999", ["a port number from 1 to 65535"]),
    ("OPENAI_BASE_URL", "localhost:11434/v1", ["http:// or https:// URL"]),
]


def _one_error_line(done: subprocess.CompletedProcess[str]) -> str:
    assert done.returncode == 2, (done.returncode, done.stdout, done.stderr)
    assert "Traceback" not in done.stderr + done.stdout
    assert "ValidationError" not in done.stderr and "pydantic" not in done.stderr
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("error: ")
    return lines[0]


@pytest.mark.parametrize(("variable", "value", "words"), BAD_SETTINGS)
def test_a_bad_setting_names_the_variable_its_value_and_what_it_accepts(
    variable: str, value: str, words: list[str], comentor_home: Path
) -> None:
    line = _one_error_line(run_cli("sessions", home=comentor_home, env={variable: value}))
    assert f"{variable}={value}" in line
    for word in words:
        assert word in line, line


@pytest.mark.parametrize("command", [["ui", "--port", "7860"], ["chat", "examples/pairs/ana-ben.yaml"], ["eval"]])
def test_the_web_app_and_other_commands_print_the_same_one_line_error(command: list[str], comentor_home: Path) -> None:
    line = _one_error_line(run_cli(*command, home=comentor_home, env={"COMENTOR_LLM_TIMEOUT": "abc"}, stdin=""))
    assert "COMENTOR_LLM_TIMEOUT=abc" in line and "a number greater than 0" in line
    assert "llm_timeout" not in line  # the variable, not pydantic's field name


def test_every_setting_has_a_variable_and_accepted_values_in_words() -> None:
    for field in Settings.model_fields:
        assert env_var(field).isupper() and env_var(field).replace("_", "").isalnum()
        assert accepted_values(field) != "a valid value"
    assert env_var("openai_base_url") == "OPENAI_BASE_URL" and env_var("llm_timeout") == "COMENTOR_LLM_TIMEOUT"


def _invalid_value(annotation: Any) -> str | None:
    kinds = [a for a in get_args(annotation) if a is not type(None)] or [annotation]
    kind = kinds[0]
    if getattr(kind, "__origin__", None) is Literal:
        return "no-such-choice"
    return "not-a-number" if kind in (int, float) else None


@pytest.mark.parametrize("field", [f for f, info in Settings.model_fields.items() if _invalid_value(info.annotation)])
def test_every_typed_setting_fails_as_a_config_error_naming_its_variable(
    field: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    value = _invalid_value(Settings.model_fields[field].annotation)
    assert value is not None
    monkeypatch.setenv(env_var(field), value)
    with pytest.raises(ConfigError) as caught:
        Settings()
    message = str(caught.value)
    assert f"{env_var(field)}={value} is not valid: use {accepted_values(field)}" in message


def test_a_keyword_value_is_named_by_its_field_and_secrets_are_never_repeated(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ConfigError, match=r"^llm_timeout=abc is not valid: use a number greater than 0"):
        Settings(llm_timeout="abc")  # type: ignore[arg-type]
    monkeypatch.setenv("COMENTOR_ACCESS_HOURS", "forever")
    with pytest.raises(ConfigError, match=r"in the environment or in \./\.env"):
        Settings()


# ----------------------------------------------------------------------------------- llm without a model server
def test_llm_without_a_key_or_a_url_is_a_startup_error_saying_what_to_set(comentor_home: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        Settings(facilitator="llm")
    message = str(caught.value)
    assert "COMENTOR_FACILITATOR=llm" in message
    assert "OPENAI_BASE_URL" in message and "OPENAI_API_KEY" in message and "COMENTOR_FACILITATOR=offline" in message
    for command in (["ui"], ["chat", "examples/pairs/ana-ben.yaml"]):
        line = _one_error_line(run_cli(*command, home=comentor_home, env={"COMENTOR_FACILITATOR": "llm"}, stdin=""))
        assert "OPENAI_BASE_URL" in line and "OPENAI_API_KEY" in line


def test_llm_with_a_url_or_a_key_starts_and_a_blank_key_is_no_key() -> None:
    assert Settings(facilitator="llm", openai_base_url="http://127.0.0.1:9/v1").use_llm
    assert Settings(facilitator="llm", openai_api_key="sk-x").use_llm  # type: ignore[arg-type]
    assert not Settings(openai_api_key="", openai_base_url=" ").use_llm  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="OPENAI_BASE_URL"):
        Settings(facilitator="llm", openai_api_key="")  # type: ignore[arg-type]


# ------------------------------------------------------------------------------------------------- busy port
@pytest.fixture
def busy_port() -> Iterator[int]:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        yield int(listener.getsockname()[1])


def _says_how_to_choose_another(line: str, port: int) -> None:
    assert f"port {port} " in line and "already in use" in line
    assert "make run PORT=" in line and "comentor ui --port" in line and "COMENTOR_PORT=" in line
    assert "GRADIO_SERVER_PORT" not in line


def test_a_busy_port_is_one_line_naming_the_port_and_how_to_choose_another(busy_port: int, comentor_home: Path) -> None:
    line = _one_error_line(run_cli("ui", "--port", str(busy_port), home=comentor_home))
    _says_how_to_choose_another(line, busy_port)
    by_env = _one_error_line(run_cli("ui", home=comentor_home, env={"COMENTOR_PORT": str(busy_port)}))
    _says_how_to_choose_another(by_env, busy_port)
    assert not (comentor_home / "comentor.db").exists()  # it failed before opening anything


def test_a_port_taken_while_the_app_loads_is_the_same_message(
    busy_port: int, comentor_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The race: free at the check, taken by the time Gradio starts. Gradio's OSError (which names
    GRADIO_SERVER_PORT) becomes the same ConfigError."""
    import ui.app as app_module

    class Store:
        def has_pair(self, pair_id: str) -> bool:
            return False

    class Fac:
        description = "the offline facilitator"
        store = Store()

    def gradio_refuses(*args: Any, **kwargs: Any) -> None:
        raise OSError(
            f"Cannot find empty port in range: {busy_port}-{busy_port}. You can specify a different port by "
            "setting the GRADIO_SERVER_PORT environment variable or passing the `server_port` parameter to `launch()`."
        )

    monkeypatch.setattr(app_module, "check_port", lambda host, port: None)
    monkeypatch.setattr(app_module, "prepare", lambda settings, fac=None: (Fac(), None))
    monkeypatch.setattr(app_module, "build_app", lambda *a, **k: object())
    monkeypatch.setattr(app_module, "_launch", gradio_refuses)
    monkeypatch.setenv("GRADIO_TEMP_DIR", str(comentor_home / "gradio"))
    with pytest.raises(ConfigError) as caught:
        app_module.serve(Settings(), port=busy_port)
    _says_how_to_choose_another(str(caught.value), busy_port)


def test_a_host_that_is_not_this_machine_is_a_config_error(comentor_home: Path) -> None:
    # TEST-NET-1 is never a machine's address; binding to it sends nothing anywhere
    line = _one_error_line(run_cli("ui", "--host", "192.0.2.1", home=comentor_home))
    assert "--host 192.0.2.1 is not an address of this machine" in line


# ------------------------------------------------------------------------------------------------- Makefile
def _make_dry_run(*args: str) -> str:
    if shutil.which("make") is None:
        pytest.skip("make is not installed")
    done = subprocess.run(
        ["make", "-n", "-B", *args], cwd=ROOT, capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_make_run_passes_port_to_the_web_app_and_defaults_to_comentors_own() -> None:
    assert "comentor ui --port 7861" in _make_dry_run("run", "PORT=7861", "VENV=/nonexistent/venv")
    default = _make_dry_run("run", "VENV=/nonexistent/venv")
    assert "comentor ui" in default and "--port" not in default  # COMENTOR_PORT, else 7860


def test_make_install_says_one_line_per_step_and_keeps_pip_quiet() -> None:
    commands = _make_dry_run("install", "VENV=/nonexistent/venv").splitlines()
    steps = [c for c in commands if c.startswith('echo "comentor: [')]
    assert [s.split("]")[0] for s in steps] == [f'echo "comentor: [{i}/4' for i in range(1, 5)]
    pip_calls = [c for c in commands if " -m pip install" in c]
    assert pip_calls and all(" -qq " in c for c in pip_calls)
    assert not any("[dev]" in c for c in pip_calls)  # `make run` does not install the test tools
