"""Small text helpers shared by the shells, and the one function that makes user or model text safe to render."""

from __future__ import annotations

import re
import threading
from html.entities import html5
from typing import Any

import nh3

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")  # and lone surrogates (JSON "\ud800")
_REFERENCE = re.compile(r"&(#[0-9]{1,7};|#[xX][0-9a-fA-F]{1,6};|[A-Za-z][A-Za-z0-9]{1,31};)?")
_IMAGE = re.compile(r"!\[([^\[\]\n]*)\]\(\s*([^()\[\]\s]*)(?:\s+[\"'][^\"'\n]*[\"'])?\s*\)")
_REF_IMAGE = re.compile(r"!\[([^\[\]\n]*)\]\[[^\[\]\n]*\]")
_LINK = re.compile(r"(?<!!)\[([^\[\]\n]*)\]\(\s*([^()\[\]\s]*)(?:\s+[\"'][^\"'\n]*[\"'])?\s*\)")
_AUTOLINK = re.compile(r"&lt;([A-Za-z][A-Za-z0-9+.-]{1,31}:\S*?)&gt;")  # `<scheme:...>` once `<` is escaped
_FENCE = re.compile(r"`{3,}|~{3,}")


def display_safe(text: str) -> str:
    """Text as it may be shown in a terminal or page: control characters (and lone surrogates, which no encoder
    takes) made visible, never interpreted."""
    return _CONTROL.sub(
        lambda m: f"\\x{ord(m.group()):02x}" if m.group() < "\ud800" else f"\\u{ord(m.group()):04x}", text
    )


def safe_markdown(text: str) -> str:
    """Markdown that cannot fetch, run or hide anything when rendered: in the page, in a recap opened in any viewer.

    The one function every piece of user or model text goes through before it reaches a Markdown widget or export.
    Applying it twice changes nothing (the summary panel escapes a recap whose fields were escaped already).

    HTML: `<` and `>` (and an `&` that starts no character reference) are escaped, then the text goes through nh3
    (ammonia) with an empty allow-list of tags: raw HTML of any length is displayed, never interpreted, and
    character references are decoded, so the Markdown rules below see the characters a renderer would (`&#33;&#91;`
    is `![`). Only `&amp;`, `&lt;`, `&gt;` and `&nbsp;` remain as references.

    Markdown: images become a visible placeholder (a rendered image is a request the reader never agreed to, and its
    URL can carry data out); links show where they go as plain text; reference definitions cannot exist; runs of three
    or more backticks or tildes are escaped, so no code fence opens, complete or unfinished (a reply still streaming):
    Gradio's chat draws a ```mermaid block as a diagram, and the diagram renderer turns an escaped `&lt;img&gt;` back
    into an `<img>`.
    """
    text = display_safe(text)
    text = _REFERENCE.sub(_keep_reference, text).replace("<", "&lt;").replace(">", "&gt;")
    text = display_safe(nh3.clean(text, tags=set(), attributes={}, strip_comments=True))  # `&#27;` is a control char
    text = _IMAGE.sub(lambda m: f"[image not shown: {m.group(1) or 'untitled'} ({_inert(m.group(2))})]", text)
    text = _REF_IMAGE.sub(lambda m: f"[image not shown: {m.group(1) or 'untitled'}]", text)
    text = _LINK.sub(lambda m: f"{m.group(1)} ({_inert(m.group(2))})" if m.group(2) else m.group(1), text)
    text = _AUTOLINK.sub(lambda m: _inert(m.group(1)), text)
    # What the patterns above did not recognise (titles in parentheses, nested or escaped brackets, alt text over
    # lines...) is disarmed here: no image or inline link can start once `![` and `](` are escaped, and no reference
    # definition can exist once `]:` is (so a reference-style link cannot hide where it goes).
    text = text.replace("![", "!\\[").replace("](", "]\\(").replace("]:", "]\\:")
    return _FENCE.sub(lambda m: "".join("\\" + c for c in m.group()), text)


def _keep_reference(m: re.Match[str]) -> str:
    """A character reference stays as it is (nh3 decodes it); any other `&` is escaped."""
    ref = m.group(1)
    if ref and (ref.startswith("#") or ref in html5):
        return m.group()
    return "&amp;" + (ref or "")


def _inert(url: str) -> str:
    """A URL shown as text that Markdown will not turn into a link: code span, backticks removed."""
    return "`" + url.replace("`", "") + "`" if url else ""


def clip(text: str, limit: int) -> str:
    """One line of at most `limit` characters."""
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


_STEMMERS = threading.local()


def stemmer() -> Any:
    """This thread's English Snowball stemmer (PyStemmer; one per thread, its objects are not shared safely)."""
    found = getattr(_STEMMERS, "english", None)
    if found is None:
        import Stemmer

        found = _STEMMERS.english = Stemmer.Stemmer("english")
    return found
