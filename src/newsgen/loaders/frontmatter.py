"""Reading a file's bytes into text and an optional YAML front matter block."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import yaml

from ..errors import ContentError

_FENCE = re.compile(r"^---[ \t]*$")


@dataclass(frozen=True)
class Source:
    """A file's text with its front matter split off; line numbers are the file's."""

    path: str
    meta: dict
    meta_lines: dict[str, int] = field(default_factory=dict)
    body: str = ""
    body_line: int = 1  # file line of the body's first line


def decode(data: bytes, path: str) -> str:
    """UTF-8 (with or without a byte-order mark), CRLF or CR line ends accepted."""
    if not data.strip():
        raise ContentError("the file is empty; write the item's headline and text, or delete the file",
                           path, 1)
    if b"\0" in data[:8192]:
        raise ContentError("this is a binary file, not a news item; remove it or give it another extension",
                           path, 1)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise ContentError(f"invalid UTF-8 (byte 0x{data[exc.start]:02x}); save the file as UTF-8",
                           path, line) from None
    return text.replace("\r\n", "\n").replace("\r", "\n")


def split_front_matter(text: str, path: str, *, required: bool) -> Source:
    """Split `---` YAML front matter from the body.

    Markdown items must have it (`required`); plain-text items may.
    """
    lines = text.split("\n")
    first = next((i for i, line in enumerate(lines) if line.strip()), None)
    if first is None or not _FENCE.match(lines[first].lstrip("\ufeff")):
        if required:
            raise ContentError("no front matter: start the file with a `---` line, then `title: ...`, then `---`",
                               path, 1)
        return Source(path, {}, {}, text, 1)
    end = next((i for i in range(first + 1, len(lines)) if _FENCE.match(lines[i])), None)
    if end is None:
        raise ContentError(f"the front matter opened on line {first + 1} is never closed; add a `---` line after the last key",
                           path, first + 1)
    block = "\n".join(lines[first + 1:end])
    try:
        meta = yaml.load(block, Loader=_Loader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = first + 2 + (mark.line if mark else 0)
        problem = exc.problem or "malformed YAML"
        raise ContentError(f"malformed YAML in the front matter: {problem}; "
                           "check indentation and quote values that contain `:` or `#`", path, line) from None
    except (yaml.YAMLError, ValueError, TypeError) as exc:
        raise ContentError(f"malformed YAML in the front matter: {exc}", path, first + 2) from None
    if meta is None:
        meta = {}
    if not isinstance(meta, dict):
        raise ContentError("the front matter must be `key: value` lines, e.g. `title: ...`",
                           path, first + 2)
    meta_lines: dict[str, int] = {}
    for offset, line in enumerate(lines[first + 1:end]):
        match = re.match(r"^([^\s:#][^:]*?)\s*:", line)
        if match and match.group(1) not in meta_lines:
            meta_lines[match.group(1)] = first + 2 + offset
    return Source(path, meta, meta_lines, "\n".join(lines[end + 1:]), end + 2)


class _Loader(yaml.CSafeLoader if hasattr(yaml, "CSafeLoader") else yaml.SafeLoader):  # type: ignore[misc]
    """Safe YAML that keeps dates as YAML reads them but refuses duplicate keys."""


def _construct_mapping(loader, node, deep=False):
    seen = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=deep)
        if key in seen:
            raise yaml.constructor.ConstructorError(
                None, None, f"the key `{key}` appears twice", key_node.start_mark)
        seen.add(key)
    return loader.construct_mapping(node, deep=deep)


_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)
# Dates stay text here: fields.parse_date reads them, with messages for bad ones.
_Loader.add_constructor("tag:yaml.org,2002:timestamp", lambda loader, node: loader.construct_scalar(node))
