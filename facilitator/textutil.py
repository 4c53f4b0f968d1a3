"""Small text helpers shared by the shells."""

from __future__ import annotations

import html
import re

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_IMAGE = re.compile(r"!\[([^\]\n]*)\]\(\s*<?([^)\s>]*)>?(?:\s+[\"'][^\"'\n]*[\"'])?\s*\)")
_REF_IMAGE = re.compile(r"!\[([^\]\n]*)\]\[[^\]\n]*\]")
_LINK = re.compile(r"(?<!!)\[([^\]\n]*)\]\(\s*<?([^)\s>]*)>?(?:\s+[\"'][^\"'\n]*[\"'])?\s*\)")
_AUTOLINK = re.compile(r"<((?:https?|ftp|mailto|data|javascript):[^>\s]*)>", re.IGNORECASE)


def display_safe(text: str) -> str:
    """Text as it may be shown in a terminal or page: control characters made visible, never interpreted."""
    return _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", text)


def safe_markdown(text: str) -> str:
    """Markdown that cannot fetch or hide anything when rendered in the page.

    Images become a visible placeholder (a rendered image is a request the reader never agreed to, and its URL can
    carry data out); links show where they go as plain text; reference definitions are shown as plain text; raw HTML is
    escaped so it is displayed, not interpreted.
    """
    text = display_safe(text)
    text = _IMAGE.sub(lambda m: f"[image not shown: {m.group(1) or 'untitled'} ({_inert(m.group(2))})]", text)
    text = _REF_IMAGE.sub(lambda m: f"[image not shown: {m.group(1) or 'untitled'}]", text)
    text = _LINK.sub(lambda m: f"{m.group(1)} ({_inert(m.group(2))})" if m.group(2) else m.group(1), text)
    text = _AUTOLINK.sub(lambda m: _inert(m.group(1)), text)
    # What the patterns above did not recognise (titles in parentheses, nested or escaped brackets, alt text over
    # lines...) is disarmed here: no image or inline link can start once `![` and `](` are escaped, and no reference
    # definition can exist once `]:` is (so a reference-style link cannot hide where it goes).
    text = text.replace("![", "!\\[").replace("](", "]\\(").replace("]:", "]\\:")
    return html.escape(text, quote=False)


def _inert(url: str) -> str:
    """A URL shown as text that Markdown will not turn into a link: code span, backticks removed."""
    return "`" + url.replace("`", "") + "`" if url else ""


def clip(text: str, limit: int) -> str:
    """One line of at most `limit` characters."""
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"
