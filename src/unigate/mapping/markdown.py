"""Markdown <-> HTML, both ways, for trackers that store rich text as Markdown (Linear).

Apideck's ``description`` is "the HTML version if supported"; the HTML given and answered is the same
canonical HTML as Jira's (:mod:`unigate.mapping.adf`), because both directions go through that
converter's document model:

- :func:`markdown_to_html`: markdown-it-py renders the Markdown (CommonMark with GFM strikethrough;
  raw HTML off, so HTML typed into Markdown stays text; unsafe link schemes are not links), and the
  result is put in canonical form (``html_to_adf`` -> ``adf_to_html``);
- :func:`html_to_markdown`: HTML -> ADF (the same forgiving parser) -> CommonMark: paragraphs,
  headings, bullet and ordered lists (with their start), fenced code (with its language), quotes,
  rules, hard breaks, links and the marks strong, em, strike and code. Text is escaped, so no text
  becomes Markdown syntax. Text that is not HTML is taken as Markdown already and kept as is.

What Markdown cannot say keeps its text (never silently more): underline has no Markdown (its text
is kept), a mention becomes its text, a hard break in a heading a space, an empty paragraph nothing;
emphasis CommonMark cannot delimit where it stands (a run starting with punctuation right after a
letter, for instance) is checked by parsing the written Markdown back, and written without its
emphasis marks (links and code kept) rather than as stray ``*`` characters.
"""

from __future__ import annotations

import re
from typing import Any

from markdown_it import MarkdownIt

from unigate.mapping.adf import LOOKS_LIKE_HTML, MARK_ORDER, Node, adf_to_html, html_to_adf, safe_href

_MD = MarkdownIt("commonmark", {"html": False}).enable("strikethrough")
_MD.add_render_rule("hardbreak", lambda *args: "<br>")   # not "<br />\n": the newline would read as a space
DELIMITERS = {"strong": "**", "em": "*", "strike": "~~"}
ESCAPED = re.compile(r"([\\`*_\[\]<>#~&!|])")
EMPHASIS = frozenset(DELIMITERS)


# == Markdown -> HTML ===============================================================================

def markdown_to_html(text: str | None) -> str:
    """Markdown rendered as the converter's canonical HTML (``""`` for nothing)."""
    if not text:
        return ""
    doc = html_to_adf(_MD.render(text))
    _trim_code(doc)
    return adf_to_html(doc)


def _trim_code(node: Node) -> None:
    """A fenced block's code ends with the newline before its closing fence: not part of the code."""
    for child in node.get("content") or []:
        if child.get("type") == "codeBlock":
            texts = child.get("content") or []
            if texts and str(texts[-1].get("text", "")).endswith("\n"):
                texts[-1]["text"] = texts[-1]["text"][:-1]
                child["content"] = [t for t in texts if t.get("text")]
        elif isinstance(child, dict):
            _trim_code(child)


# == HTML -> Markdown ===============================================================================

def html_to_markdown(text: str | None) -> str:
    """HTML as CommonMark; text that is not HTML is Markdown already (kept as is)."""
    if not text:
        return ""
    if not LOOKS_LIKE_HTML.search(text):
        return text
    return _blocks(html_to_adf(text).get("content") or [])


def _blocks(blocks: list[Node]) -> str:
    """Blocks apart by a blank line; a list right after a list of its kind takes the other marker,
    or the two would read as one list."""
    out: list[str] = []
    previous, flip = None, False
    for node in blocks:
        flip = not flip if previous is not None and previous.get("type") == node.get("type") else False
        rendered = _block(node, flip)
        if rendered:
            out.append(rendered)
        previous = node
    return "\n\n".join(out)


def _block(node: Node, flip: bool) -> str:
    kind, attrs = node.get("type"), node.get("attrs") or {}
    if kind == "paragraph":
        return _inline(node.get("content") or [])
    if kind == "heading":
        level = int(attrs["level"]) if attrs.get("level") in range(1, 7) else 1
        content = [c if c.get("type") != "hardBreak" else {"type": "text", "text": " "} for c in node.get("content") or []]
        return ("#" * level + " " + _inline(content)).rstrip()
    if kind in ("bulletList", "orderedList"):
        return _list(node, kind, alternate=flip)
    if kind == "codeBlock":
        return _code(node)
    if kind == "blockquote":
        return "\n".join(f"> {line}" if line else ">" for line in _blocks(node.get("content") or []).split("\n"))
    if kind == "rule":
        return "***"
    return _inline(node.get("content") or [])   # an unknown block: its text


def _list(node: Node, kind: str, alternate: bool) -> str:
    """Items marked ``-`` (``*`` right after another bullet list, or the two would be one list), or
    numbered from the list's start with ``.`` (``)`` after another ordered list)."""
    order = (node.get("attrs") or {}).get("order")
    number = order if isinstance(order, int) and not isinstance(order, bool) else 1
    items = []
    for index, item in enumerate(node.get("content") or []):
        marker = ("* " if alternate else "- ") if kind == "bulletList" else f"{number + index}{')' if alternate else '.'} "
        body = _blocks(item.get("content") or []) or ""
        pad = " " * len(marker)
        lines = body.split("\n")
        items.append("\n".join([marker + lines[0], *(pad + line if line else "" for line in lines[1:])]).rstrip())
    return "\n".join(items)


def _code(node: Node) -> str:
    code = "".join(str(t.get("text", "")) for t in node.get("content") or [])
    longest = max((len(run) for run in re.findall(r"`+", code)), default=0)
    fence = "`" * max(3, longest + 1)
    language = str((node.get("attrs") or {}).get("language") or "").replace("`", "")
    return f"{fence}{language}\n{code}\n{fence}" if code else f"{fence}{language}\n{fence}"


# -- inline: marks as delimiters, checked by parsing them back ------------------------------------

def _inline(nodes: list[Node]) -> str:
    """The inline content as Markdown; emphasis CommonMark would not read back is left out."""
    sayable = [_sayable(node) for node in nodes]
    expected = adf_to_html(html_to_adf(adf_to_html({"type": "doc", "content": [{"type": "paragraph", "content": sayable}]})))
    for keep in (EMPHASIS, frozenset()):
        written = _written(nodes, keep)
        if markdown_to_html(written) == expected or not keep:
            return written
    return written


def _sayable(node: Node) -> Node:
    """The node as Markdown can say it: a mention as its text, no underline."""
    if node.get("type") == "mention":
        attrs = node.get("attrs") or {}
        return {"type": "text", "text": str(attrs.get("text") or f"@{attrs.get('id', '')}")}
    marks = [m for m in node.get("marks") or [] if isinstance(m, dict) and m.get("type") != "underline"]
    return {**node, "marks": marks} if marks else {k: v for k, v in node.items() if k != "marks"}


def _written(nodes: list[Node], keep: frozenset[str]) -> str:
    out: list[str] = []
    open_marks: list[tuple[str, Any]] = []
    for node in nodes:
        wanted = _marks(node, keep)
        shared = 0
        while shared < min(len(open_marks), len(wanted)) and open_marks[shared] == wanted[shared]:
            shared += 1
        out.extend(_close(mark) for mark in reversed(open_marks[shared:]))
        out.extend(_open(mark) for mark in wanted[shared:])
        open_marks = wanted
        out.append(_piece(node, at_line_start=not out or out[-1].endswith("\n")))
    out.extend(_close(mark) for mark in reversed(open_marks))
    return "".join(out)


def _marks(node: Node, keep: frozenset[str]) -> list[tuple[str, Any]]:
    """The node's link and emphasis marks, outermost first (code is the piece itself)."""
    found = {m.get("type"): m for m in node.get("marks") or [] if isinstance(m, dict)}
    marks: list[tuple[str, Any]] = []
    for kind in MARK_ORDER:
        mark = found.get(kind)
        if mark is None or kind in ("code", "underline") or (kind != "link" and kind not in keep):
            continue
        href = str((mark.get("attrs") or {}).get("href", "")) if kind == "link" else None
        if kind != "link" or safe_href(str(href)):
            marks.append((kind, href))
    return marks


def _open(mark: tuple[str, Any]) -> str:
    return "[" if mark[0] == "link" else DELIMITERS[mark[0]]


def _close(mark: tuple[str, Any]) -> str:
    if mark[0] != "link":
        return DELIMITERS[mark[0]]
    return "](<" + re.sub(r"([<>\\])", r"\\\1", str(mark[1])) + ">)"


def _piece(node: Node, at_line_start: bool) -> str:
    kind = node.get("type")
    if kind == "hardBreak":
        return "\\\n"
    if kind == "mention":
        attrs = node.get("attrs") or {}
        return _escape(str(attrs.get("text") or f"@{attrs.get('id', '')}"), at_line_start)
    text = str(node.get("text", ""))
    if any(m.get("type") == "code" for m in node.get("marks") or [] if isinstance(m, dict)):
        return _code_span(text)
    return _escape(text, at_line_start)


def _escape(text: str, at_line_start: bool) -> str:
    """Text that stays text: Markdown's punctuation escaped; at a line's start also what would begin
    a list, a rule or a heading underline (``-``, ``+``, ``=``, ``1.``, ``1)``)."""
    escaped = ESCAPED.sub(r"\\\1", text)
    if not at_line_start:
        return escaped
    if re.match(r"\d+[.)]", escaped):
        return re.sub(r"^(\d+)([.)])", r"\1\\\2", escaped)
    return re.sub(r"^([-+=])", r"\\\1", escaped)


def _code_span(text: str) -> str:
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    ticks = "`" * (longest + 1)
    padded = f" {text} " if text.startswith(("`", " ")) or text.endswith(("`", " ")) else text
    return f"{ticks}{padded}{ticks}"
