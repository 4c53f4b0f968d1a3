"""Whether the web app can listen where it is asked to: checked before Gradio (or anything heavy) is imported, so a
busy port is one line naming the port and how to choose another, not Gradio's traceback naming GRADIO_SERVER_PORT
(a variable comentor ignores: it always passes its own port)."""

from __future__ import annotations

import errno
import socket

from facilitator.exceptions import ConfigError

__all__ = ["check_port", "port_in_use_message"]


def _bind(host: str, port: int) -> None:
    """Bind and release (host, port) as uvicorn would (SO_REUSEADDR); raises OSError or socket.gaierror."""
    family, kind, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
    with socket.socket(family, kind, proto) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        probe.bind(address)


def _free_port_after(host: str, port: int, tries: int = 20) -> int | None:
    for candidate in range(port + 1, min(port + 1 + tries, 65536)):
        try:
            _bind(host, candidate)
        except OSError:
            continue
        return candidate
    return None


def port_in_use_message(host: str, port: int) -> str:
    """One line: the busy port, and how to choose another (a free one suggested when there is one)."""
    other = _free_port_after(host, port) or port + 1
    return (
        f"port {port} on {host} is already in use (is comentor already running?); choose another: "
        f"`make run PORT={other}`, `comentor ui --port {other}` or COMENTOR_PORT={other}"
    )


def check_port(host: str, port: int) -> None:
    """A ConfigError when the app could not listen on (host, port): busy, privileged, or not this machine's."""
    try:
        _bind(host, port)
    except socket.gaierror as e:
        raise ConfigError(f"--host {host!r} is not an address of this machine ({e.strerror}); e.g. 127.0.0.1") from e
    except OSError as e:
        if e.errno == errno.EADDRINUSE:
            raise ConfigError(port_in_use_message(host, port)) from e
        if e.errno == errno.EACCES:
            raise ConfigError(
                f"port {port} needs administrator rights; choose one above 1023: `make run PORT=7860`, "
                "`comentor ui --port 7860` or COMENTOR_PORT=7860"
            ) from e
        if e.errno == errno.EADDRNOTAVAIL:
            raise ConfigError(f"--host {host} is not an address of this machine; e.g. 127.0.0.1 or 0.0.0.0") from e
        raise ConfigError(f"cannot listen on {host}:{port} ({e.strerror}); choose another --port or --host") from e
