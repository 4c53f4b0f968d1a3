"""Prompts are versioned files in `prompts/` (`<name>.v<N>.md`): front matter, then a body with `$variables`.

The front matter may also hold `instructions`, text per kind of call (the move prompt's instructions per move kind);
they are part of the prompt's version and of its `ref`, so eval reports name them too.

Data reaches the model inside delimiter blocks (`<conversation>`, `<reference_material>`, `<item ...>`). So that no
data can close a block and forge one, every variable is neutralised when a prompt is rendered (`neutralise`: any text
that looks like one of those tags is escaped), except the blocks built here by `item` and `blocks`, whose attribute
values are escaped (`attribute`) and whose text is neutralised. This is the one place prompt blocks are built.
"""

from __future__ import annotations

import hashlib
import html
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from string import Template

import yaml

from facilitator.exceptions import ConfigError
from facilitator.resources import prompts_dir

_NAME = re.compile(r"^(?P<name>[a-z_]+)\.v(?P<version>\d+)\.md$")
DELIMITERS = ("reference_material", "conversation", "item")
_OPEN, _CLOSE = "<\ufe64\uff1c", ">\ufe65\uff1e"  # angle brackets, and their small-form and full-width lookalikes
_INVISIBLE = "\u00ad\u200b-\u200f\u2060\ufeff"  # soft hyphen, zero-width and direction marks
# An opening or closing delimiter tag, however spaced, cased or disguised.
_TAG = re.compile(
    rf"[{_OPEN}][\s{_INVISIBLE}]*/?[\s{_INVISIBLE}]*(?:{'|'.join(DELIMITERS)})(?![\w-])[^{_OPEN}{_CLOSE}]*[{_CLOSE}]?",
    re.IGNORECASE,
)
_ASCII_ANGLES = str.maketrans({"\ufe64": "<", "\uff1c": "<", "\ufe65": ">", "\uff1e": ">"})


class Block(str):
    """Prompt text built by `item` or `blocks`: its tags are real delimiters, so `Prompt.render` keeps it as it is."""


def neutralise(text: str) -> str:
    """`text` with every delimiter-like tag (`</item>`, `<reference_material>`, `< /Conversation >`...) escaped
    (`&lt;/item&gt;`), so data can mention such a tag but never open or close a block. Other text is unchanged."""
    return _TAG.sub(lambda m: html.escape(m.group(0).translate(_ASCII_ANGLES), quote=False), text)


def attribute(value: object) -> str:
    """A value safe inside `name="..."`: quotes, angle brackets and ampersands escaped, on one line."""
    return html.escape(" ".join(str(value).split()), quote=True)


def item(text: str, **attributes: object) -> Block:
    """One `<item k="v" ...>` block of reference material; `for_` is written `for`. Attributes keep their order."""
    attrs = "".join(f' {name.rstrip("_")}="{attribute(value)}"' for name, value in attributes.items())
    return Block(f"<item{attrs}>\n{neutralise(text)}\n</item>")


def blocks(items: Iterable[Block], *, empty: str = "(none)") -> Block:
    """Item blocks one per line, or `empty` when there are none."""
    return Block("\n".join(items) or empty)


@dataclass(frozen=True)
class Prompt:
    name: str
    version: int
    body: str
    description: str
    instructions: Mapping[str, str] = field(default_factory=dict)

    @property
    def ref(self) -> str:
        """`name@vN#hash`: what eval reports and logs name (the hash covers the body and the instructions)."""
        text = self.body
        if self.instructions:
            text += json.dumps(dict(self.instructions), sort_keys=True, ensure_ascii=False)
        digest = hashlib.sha256(text.encode()).hexdigest()[:8]
        return f"{self.name}@v{self.version}#{digest}"

    def instruction(self, kind: str) -> str:
        """The instructions for `kind` of call, or the `default` ones; ConfigError when the file has neither."""
        found = self.instructions.get(kind, self.instructions.get("default"))
        if found is None:
            raise ConfigError(f"prompt {self.ref} has no instructions for '{kind}' and no default; reinstall comentor")
        return found

    def render(self, **variables: str) -> str:
        """The body with each `$variable` filled in: neutralised text, or a `Block` as built."""
        safe = {k: v if isinstance(v, Block) else neutralise(v) for k, v in variables.items()}
        try:
            return Template(self.body).substitute(safe)
        except KeyError as e:
            raise ConfigError(f"prompt {self.ref} needs the variable {e}; pass it when rendering") from e


@cache
def load_prompt(name: str, version: int | None = None, folder: Path | None = None) -> Prompt:
    """The given version of a prompt, or its newest."""
    folder = folder or prompts_dir()
    found: dict[int, Path] = {}
    for path in folder.glob(f"{name}.v*.md"):
        match = _NAME.match(path.name)
        if match and match.group("name") == name:
            found[int(match.group("version"))] = path
    if not found or (version is not None and version not in found):
        raise ConfigError(f"no prompt '{name}' (version {version or 'any'}) in {folder}; reinstall comentor")
    chosen = version if version is not None else max(found)
    path = found[chosen]
    text = path.read_text(encoding="utf-8")
    meta: dict[str, object] = {}
    if text.startswith("---\n"):
        head, _, text = text[4:].partition("\n---\n")
        meta = yaml.safe_load(head) or {}
    instructions = meta.get("instructions") or {}
    if not isinstance(instructions, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in instructions.items()
    ):
        raise ConfigError(f"{path}: `instructions` must map each kind to its text; reinstall comentor")
    return Prompt(
        name=name,
        version=chosen,
        body=text.strip() + "\n",
        description=str(meta.get("description", "")),
        instructions={k: " ".join(v.split()) for k, v in instructions.items()},
    )
