"""Read Markdown (with YAML front matter and Liquid tags), plain text and PDF into titled sections."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from facilitator.exceptions import IngestError
from facilitator.files import read_regular_file

SUPPORTED_SUFFIXES = {".md": "markdown", ".markdown": "markdown", ".txt": "text", ".text": "text", ".pdf": "pdf"}

_FRONT_MATTER = re.compile(r"\A---[ \t]*\r?\n(.*?)\r?\n---[ \t]*(?:\r?\n|\Z)", re.DOTALL)
_LIQUID = re.compile(r"\{%-?.*?-?%\}|\{\{-?.*?-?\}\}", re.DOTALL)
_KRAMDOWN_ATTR = re.compile(r"^\{:[^}]*\}\s*$", re.MULTILINE)
_H1 = re.compile(r"^#\s+(.+?)\s*#*\s*$", re.MULTILINE)
_HTML_COMMENT = re.compile(r"<!--.*?-->", re.DOTALL)
_HEADINGS_ONLY = re.compile(r"^[ \t]*#{1,6}(?:[ \t].*)?$", re.MULTILINE)
# Front matter keys that describe what a page is about; their values become part of every chunk's heading.
CONTEXT_KEYS = ("section", "category", "categories", "tags", "keywords")
MAX_CONTEXT_CHARS = 160
# A PDF's streams are compressed: a small file can inflate to gigabytes (a "PDF bomb"). Each stream may inflate to
# PDF_STREAM_FACTOR x the file limit (at least PDF_STREAM_FLOOR bytes, at most pypdf's own 75 MB), all of a
# document's page contents together to PDF_TOTAL_FACTOR x the file limit, and its text may be as long as a text file
# may be (the file limit, in characters). Past any of these the file is skipped with a message; the others are indexed.
PDF_STREAM_FACTOR = 2
PDF_STREAM_FLOOR = 4_000_000
PDF_STREAM_CEILING = 75_000_000
PDF_TOTAL_FACTOR = 10
_PDF_STREAM_LIMITS = (
    "zlib_maximum_output_length",
    "lzw_maximum_output_length",
    "run_length_maximum_output_length",
    "brotli_maximum_output_length",
    "jbig2_maximum_output_length",
    "array_based_stream_maximum_output_length",
    "maximum_declared_stream_length",
    "image_maximum_buffer_size",
    "stream_decoding_work_maximum_length",
)


@dataclass
class LoadedDocument:
    """A file's text, ready for chunking. `source` is the path it was read from."""

    source: str
    kind: str
    title: str
    body: str
    content_hash: str
    pages: list[str] = field(default_factory=list)
    context: str = ""  # descriptive front matter (section, tags...), e.g. "practice, feedback"


def content_hash(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def read_document(path: Path, *, source: str, max_bytes: int) -> LoadedDocument:
    """Load one file. Raises IngestError with a message that says what is wrong and what to do."""
    suffix = path.suffix.lower()
    kind = SUPPORTED_SUFFIXES.get(suffix)
    if kind is None:
        raise IngestError(f"{source}: unsupported file type '{suffix or '(none)'}'; add .md, .txt or .pdf files")
    data = read_regular_file(
        path,
        max_bytes=max_bytes,
        error=IngestError,
        label="knowledge file",
        limit_hint="split it, or raise COMENTOR_MAX_FILE_MB",
        name=source,
    )
    if not data.strip():
        raise IngestError(f"{source}: file is empty; nothing to index")
    digest = content_hash(data)
    if kind == "pdf":
        return _read_pdf(data, source=source, path=path, digest=digest, max_bytes=max_bytes)
    if b"\x00" in data[:8192]:
        raise IngestError(
            f"{source}: looks like a binary file, not text; check the file: only .md, .txt and .pdf can be indexed"
        )
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = data.decode("latin-1")
    text = text.replace("\r\n", "\n")
    if not any(ch.isprintable() and not ch.isspace() for ch in text):
        raise IngestError(f"{source}: no readable text (only spaces or control characters); check the file")
    if kind == "markdown":
        return _read_markdown(text, source=source, path=path, digest=digest)
    title = _title_from_name(path)
    return LoadedDocument(source=source, kind=kind, title=title, body=text.strip(), content_hash=digest)


def _title_from_name(path: Path) -> str:
    stem = re.sub(r"^[a-z]+__", "", path.stem)  # 'mentor__08-warning_signs' -> '08-warning_signs'
    stem = re.sub(r"^\d+[-_]", "", stem)
    return re.sub(r"[-_]+", " ", stem).strip().capitalize() or path.name


def _read_markdown(text: str, *, source: str, path: Path, digest: str) -> LoadedDocument:
    meta: dict[str, object] = {}
    match = _FRONT_MATTER.match(text)
    if match:
        try:
            loaded = yaml.safe_load(match.group(1))
        except yaml.YAMLError as e:
            raise IngestError(
                f"{source}: the front matter between the '---' lines is not valid YAML ({_first_line(e)}); "
                "fix it or remove it"
            ) from e
        except RecursionError:
            raise IngestError(
                f"{source}: the front matter between the '---' lines is nested too deeply; fix it or remove it"
            ) from None
        if loaded is not None and not isinstance(loaded, dict):
            raise IngestError(f"{source}: the front matter must be 'key: value' lines (YAML mapping); fix it")
        meta = loaded or {}
        text = text[match.end() :]
    elif text.startswith("---\n"):
        raise IngestError(f"{source}: front matter opened with '---' is never closed; add the closing '---' line")
    body = _KRAMDOWN_ATTR.sub("", _LIQUID.sub("", _HTML_COMMENT.sub("", text))).strip()
    title = str(meta.get("title") or "").strip()
    if not title:
        h1 = _H1.search(body)
        title = h1.group(1).strip() if h1 else _title_from_name(path)
    if not body:
        raise IngestError(f"{source}: no text after the front matter; nothing to index")
    if not _HEADINGS_ONLY.sub("", body).strip():
        raise IngestError(f"{source}: only headings, no text under them; nothing to index")
    return LoadedDocument(
        source=source, kind="markdown", title=title, body=body, content_hash=digest, context=_context(meta, title)
    )


def _context(meta: dict[str, object], title: str) -> str:
    """The descriptive front matter values (section, categories, tags, keywords) as one short line."""
    parts: list[str] = []
    for key in CONTEXT_KEYS:
        value = meta.get(key)
        items = value if isinstance(value, list) else [value]
        words = [str(v).strip() for v in items if isinstance(v, str | int | float) and not isinstance(v, bool)]
        text = ", ".join(w for w in words if w and w.casefold() != title.casefold())
        if text and text not in parts:
            parts.append(text)
    line = "; ".join(parts)
    return line if len(line) <= MAX_CONTEXT_CHARS else line[:MAX_CONTEXT_CHARS].rsplit(" ", 1)[0]


def _read_pdf(data: bytes, *, source: str, path: Path, digest: str, max_bytes: int) -> LoadedDocument:
    import dataclasses
    import io
    from contextlib import AbstractContextManager, nullcontext

    from pypdf import PdfReader

    stream_limit = min(max(PDF_STREAM_FACTOR * max_bytes, PDF_STREAM_FLOOR), PDF_STREAM_CEILING)
    total_limit = PDF_TOTAL_FACTOR * max_bytes
    hint = "convert it to text (or re-export it), or raise COMENTOR_MAX_FILE_MB"
    limits: AbstractContextManager[Any] = nullcontext()
    try:
        from pypdf import apply_configuration, get_configuration  # pypdf >= 6.4: per-context limits, not globals
    except ImportError:  # an older pypdf keeps its own limits; the totals below still hold
        pass
    else:
        current = get_configuration()
        known = {f.name for f in dataclasses.fields(current)}
        tighter = {
            name: min(getattr(current, name) or stream_limit, stream_limit)  # 0 means "no limit" to pypdf
            for name in _PDF_STREAM_LIMITS
            if name in known
        }
        limits = apply_configuration(current.with_overwrites(**tighter))
    pages: list[str] = []
    try:
        with limits:
            reader = PdfReader(io.BytesIO(data))
            decoded = chars = 0
            for page in reader.pages:
                contents = page.get_contents()
                decoded += len(contents.get_data()) if contents is not None else 0
                if decoded > total_limit:
                    raise IngestError(
                        f"{source}: the PDF's pages inflate to more than {total_limit / 1e6:g} MB "
                        f"(a compression bomb?); {hint}"
                    )
                text = (page.extract_text() or "").strip()
                chars += len(text)
                if chars > max_bytes:
                    raise IngestError(
                        f"{source}: the PDF holds more than {max_bytes / 1e6:g} MB of text, over the file limit; "
                        "split it, or raise COMENTOR_MAX_FILE_MB"
                    )
                pages.append(text)
            meta_title = (reader.metadata.title if reader.metadata else None) or ""
    except IngestError:
        raise
    except Exception as e:  # pypdf parses untrusted bytes and raises many types; the file is skipped, not the run
        if _is_limit(e):
            raise IngestError(
                f"{source}: a stream of the PDF inflates past {stream_limit / 1e6:g} MB (a compression bomb?); {hint}"
            ) from e
        raise IngestError(f"{source}: not a readable PDF ({_first_line(e)}); re-export it or convert it to text") from e
    if not any(pages):
        raise IngestError(f"{source}: the PDF has no extractable text (scanned?); run OCR first or add a .txt version")
    title = str(meta_title).strip() or _title_from_name(path)
    return LoadedDocument(
        source=source, kind="pdf", title=title, body="\n\n".join(pages), content_hash=digest, pages=pages
    )


def _is_limit(error: Exception) -> bool:
    from pypdf.errors import LimitReachedError

    return isinstance(error, LimitReachedError | MemoryError)


def _first_line(error: Exception) -> str:
    return str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
