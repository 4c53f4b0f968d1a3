"""Prompts are versioned files in `prompts/` (`<name>.v<N>.md`): front matter, then a body with `$variables`."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from string import Template

import yaml

from facilitator.exceptions import ConfigError
from facilitator.resources import prompts_dir

_NAME = re.compile(r"^(?P<name>[a-z_]+)\.v(?P<version>\d+)\.md$")


@dataclass(frozen=True)
class Prompt:
    name: str
    version: int
    body: str
    description: str

    @property
    def ref(self) -> str:
        """`name@vN#hash`: what eval reports and logs name."""
        digest = hashlib.sha256(self.body.encode()).hexdigest()[:8]
        return f"{self.name}@v{self.version}#{digest}"

    def render(self, **variables: str) -> str:
        try:
            return Template(self.body).substitute(variables)
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
    text = found[chosen].read_text(encoding="utf-8")
    meta: dict[str, str] = {}
    if text.startswith("---\n"):
        head, _, text = text[4:].partition("\n---\n")
        meta = yaml.safe_load(head) or {}
    return Prompt(name=name, version=chosen, body=text.strip() + "\n", description=str(meta.get("description", "")))
