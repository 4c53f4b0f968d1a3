"""The Gradio app a pair opens during their meeting: its public entry points.

The app maps engine calls and events to widgets and holds no facilitation logic: every decision (what to say, which
items were agreed, who may see what) is made in `facilitator/`. It is split in three:

- `ui.views`: pure renderers, from the engine's `SessionView` to widget values (Markdown, chat messages, rows, the
  balance figure), every text escaped on its way out;
- `ui.handlers`: one `Handlers` method per page event, without Gradio: each calls the engine and returns a
  `PageUpdate` (None: leave the widget as it is);
- `ui.layout`: the widgets and the wiring, through one adapter from a `PageUpdate` to each event's outputs.

Per-visitor state is only a grant: a token the server signs when the pair is opened with its access code (naming the
pair and the session, expiring), held by the page in a hidden field (and remembered in the browser for a refresh).
The page sends it with every event and every handler verifies it through `Facilitator.granted`: the Gradio API can be
called without the page, and Gradio's server-side state is keyed only by a session hash the client chooses.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Any

from facilitator.engine import DEMO_PAIR_ID, Facilitator
from facilitator.exceptions import ConfigError
from facilitator.settings import Settings
from ui import views
from ui.handlers import Handlers, PageUpdate, export_files
from ui.layout import CSS, client_of
from ui.ports import check_port, port_in_use_message

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

import gradio as gr

__all__ = [
    "CSS",
    "Handlers",
    "PageUpdate",
    "build_app",
    "check_port",
    "client_of",
    "export_files",
    "parse_auth",
    "prepare",
    "serve",
    "theme",
    "ui_secret",
    "use_private_gradio_cache",
]


def use_private_gradio_cache(settings: Settings) -> Path:
    """Point Gradio's cache at `settings.gradio_cache_dir` unless GRADIO_TEMP_DIR is set; call before building the
    app (Gradio reads it when the app is built and launched)."""
    if not os.environ.get("GRADIO_TEMP_DIR"):
        folder = settings.gradio_cache_dir
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        folder.chmod(0o700)
        os.environ["GRADIO_TEMP_DIR"] = str(folder)
    return Path(os.environ["GRADIO_TEMP_DIR"])


# ------------------------------------------------------------------------------------------------------ app
def build_app(fac: Facilitator, *, settings: Settings | None = None, secret: str | None = None) -> gr.Blocks:
    """The Blocks app over one Facilitator. `secret` is the key Gradio's BrowserState uses for what this browser
    remembers (the grant, in its local storage); Gradio also sends it to the page, so it is no protection against
    someone who uses the same browser profile — only a stable key across restarts."""
    from ui import layout

    settings = settings or fac.settings
    handlers = Handlers(fac, settings=settings)
    return layout.build(handlers, banner=views.banner(fac.profile), secret=secret, settings=settings)


# ---------------------------------------------------------------------------------------------------- serve
def theme() -> gr.themes.Base:
    """A theme with system fonts only: the page must not fetch fonts (or anything) from outside."""
    system = ["ui-sans-serif", "system-ui", "-apple-system", "Segoe UI", "Roboto", "sans-serif"]
    mono = ["ui-monospace", "SFMono-Regular", "Menlo", "Consolas", "monospace"]
    return gr.themes.Soft(primary_hue="blue", secondary_hue="orange", font=system, font_mono=mono)


def ui_secret(settings: Settings) -> str:
    """The BrowserState key, kept under COMENTOR_HOME so that what browsers remember survives a restart."""
    path = settings.home_dir / "ui-secret"
    try:
        if path.is_file():
            return path.read_text(encoding="utf-8").strip()
        path.parent.mkdir(parents=True, exist_ok=True)
        value = secrets.token_urlsafe(32)
        path.write_text(value, encoding="utf-8")
        path.chmod(0o600)
        return value
    except OSError:
        return secrets.token_urlsafe(32)


def parse_auth(value: str | None) -> list[tuple[str, str]] | None:
    """COMENTOR_AUTH `user:password[,user:password]` as Gradio's launch auth."""
    if not value:
        return None
    pairs = []
    for entry in value.split(","):
        user, sep, password = entry.strip().partition(":")
        if not sep or not user or not password:
            raise ConfigError("COMENTOR_AUTH must be user:password[,user:password] (e.g. pair:s3cret)")
        pairs.append((user, password))
    return pairs


def prepare(settings: Settings, fac: Facilitator | None = None) -> tuple[Facilitator, str | None]:
    """The facilitator for the app, the bundled guidance indexed on first start, and the demo pair's code (on the
    first start only, when the demo pair is created)."""
    from facilitator.pairs import load_pair
    from facilitator.resources import demo_pair_path

    fac = fac or Facilitator.from_settings(settings)
    for warning in fac.ensure_guidance():
        print(f"comentor: {warning}", flush=True)
    demo = load_pair(demo_pair_path())
    return fac, fac.ensure_demo_pair(demo)  # the code exists only now: it is stored hashed


def serve(
    settings: Settings, *, host: str = "127.0.0.1", port: int | None = None, fac: Facilitator | None = None
) -> None:
    """`comentor ui`: build and launch the app (blocking) on `port`, default COMENTOR_PORT (7860). A busy port or a
    bad setting is a ConfigError before anything is loaded."""
    port = settings.port if port is None else port
    auth = parse_auth(settings.auth)
    check_port(host, port)
    fac, demo_code = prepare(settings, fac)
    use_private_gradio_cache(settings)
    app = build_app(fac, settings=settings, secret=ui_secret(settings))
    shown = "127.0.0.1" if host in ("0.0.0.0", "::") else host
    if demo_code:
        print(
            f"comentor: demo pair 'ana-ben' (Ana & Ben), access code {demo_code} — "
            f"open http://{shown}:{port}/?pair=ana-ben&code={demo_code}",
            flush=True,
        )
    elif fac.store.has_pair(DEMO_PAIR_ID):
        print(
            f"comentor: demo pair '{DEMO_PAIR_ID}': `comentor pairs code {DEMO_PAIR_ID} --rotate` "
            "gives it a new access code",
            flush=True,
        )
    print(f"comentor: {fac.description} at http://{shown}:{port}/", flush=True)
    from fastapi import Request
    from fastapi.exception_handlers import http_exception_handler
    from fastapi.responses import JSONResponse
    from starlette.exceptions import HTTPException

    async def busy(request: Request, exc: HTTPException) -> Any:
        """Gradio answers a full queue with 503 'Queue is full. Max size is N...': say so, and when to retry."""
        if exc.status_code == 503 and "queue is full" in str(exc.detail).lower():
            message = "comentor is busy: too many requests are waiting. Try again in a moment."
            return JSONResponse({"detail": message}, status_code=503, headers={"Retry-After": "5"})
        return await http_exception_handler(request, exc)

    try:
        _launch(app, settings, host=host, port=port, auth=auth, busy=busy)
    except OSError as e:  # taken between the check and the launch: Gradio's message names GRADIO_SERVER_PORT
        if "port" not in str(e).lower():
            raise
        raise ConfigError(port_in_use_message(host, port)) from e


def _launch(app: gr.Blocks, settings: Settings, *, host: str, port: int, auth: Any, busy: Any) -> None:
    from starlette.exceptions import HTTPException

    from ui import security

    app.launch(
        server_name=host,
        server_port=port,
        app_kwargs=security.app_kwargs({HTTPException: busy}),  # CSP, nosniff, no Referer on every response
        max_file_size=int(settings.max_file_mb * 1024 * 1024),  # the app takes no uploads; Gradio's route still does
        auth=auth,
        auth_message="Sign in with the user and password set in COMENTOR_AUTH." if auth else None,
        theme=theme(),
        css=CSS,
        ssr_mode=False,
        share=False,
        show_error=False,
        quiet=True,
        footer_links=[],
        pwa=False,
        mcp_server=False,
    )
