"""Atlassian Document Format (ADF) <-> HTML, both ways, for Jira descriptions and comment bodies.

Apideck's ``description`` is "the HTML version if supported by the third-party platform"; Jira
Cloud REST v3 stores rich text as ADF JSON. :func:`adf_to_html` renders an ADF document as HTML,
:func:`html_to_adf` turns HTML (or plain text) into a valid ADF document, and :func:`adf_errors`
lists where a document breaks the ADF structure rules encoded here.

Supported both ways: ``paragraph``, ``heading`` (levels 1-6), ``bulletList`` / ``orderedList``
(with ``order``) / ``listItem``, ``codeBlock`` (with ``language``), ``blockquote``, ``rule``,
``text``, ``hardBreak``, ``mention`` and the marks ``strong``, ``em``, ``strike``,
``underline``, ``code`` and ``link``.

Nothing is lost silently:

- an unknown ADF node keeps its text: an inline one renders its ``text`` / ``shortName`` /
  ``url`` attribute (or its children's text, or ``[type]``), a block one renders its children
  inside ``<div data-adf-type="...">``; unknown marks are dropped and their text kept;
- unknown HTML elements are transparent (their text is kept; block-level ones such as ``div``,
  ``table`` or ``tr`` end the paragraph before and after them); ``<img>`` becomes its ``alt``
  text. Only the contents of ``script``, ``style``, ``head``, ``template`` and ``title`` are
  dropped: they are not text a reader sees.

HTML whitespace rules apply when reading HTML: outside ``<pre>`` a run of ASCII whitespace reads
as one space and whitespace at the start and end of a paragraph is dropped. Links whose ``href``
has a scheme other than http(s), mailto, ftp(s), tel or none are not rendered as links either
way (their text is kept), so no ``javascript:`` URL crosses the converter.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from html.parser import HTMLParser
from typing import Any

Node = dict[str, Any]

MARK_ORDER = ("link", "strong", "em", "underline", "strike", "code")
MARK_TAGS = {"strong": "strong", "em": "em", "underline": "u", "strike": "s", "code": "code"}
HTML_MARKS = {"strong": "strong", "b": "strong", "em": "em", "i": "em", "u": "underline",
              "ins": "underline", "s": "strike", "strike": "strike", "del": "strike", "code": "code"}
SAFE_SCHEMES = ("http", "https", "mailto", "ftp", "ftps", "tel")
HEADINGS = {f"h{level}": level for level in range(1, 7)}
BLOCK_BOUNDARIES = frozenset({
    "div", "section", "article", "header", "footer", "main", "nav", "aside", "figure",
    "figcaption", "table", "thead", "tbody", "tfoot", "tr", "td", "th", "caption", "dl", "dt",
    "dd", "address", "details", "summary", "form", "fieldset", "body", "html"})
DROPPED = frozenset({"script", "style", "head", "template", "title"})
VOID = frozenset({"br", "hr", "img", "input", "meta", "link", "wbr", "area", "base", "col",
                  "embed", "source", "track", "param"})
HTML_SPACE = re.compile(r"[ \t\n\r\f]+")
HTML_TAGS = ("p|br|hr|div|span|a|b|strong|i|em|u|s|del|ins|strike|sub|sup|code|pre|ul|ol|li|"
             "h[1-6]|blockquote|img|table|thead|tbody|tr|td|th|html|body|section|article")
# plain text may contain "<" (``List<String>``): only real HTML tags make the input HTML
LOOKS_LIKE_HTML = re.compile(rf"<(?:/?(?:{HTML_TAGS})(?:\s[^<>]*)?/?|!--.*?--|!doctype[^>]*)>", re.S | re.I)
BLOCKS = frozenset({"paragraph", "heading", "bulletList", "orderedList", "codeBlock", "blockquote", "rule"})
INLINE = frozenset({"text", "hardBreak", "mention"})
# which blocks each container accepts (a subset of the ADF schema's, enough for this converter)
ACCEPTS = {
    "doc": BLOCKS,
    "listItem": frozenset({"paragraph", "bulletList", "orderedList", "codeBlock"}),
    "blockquote": frozenset({"paragraph", "bulletList", "orderedList", "codeBlock"}),
}
LISTS = frozenset({"bulletList", "orderedList"})


def safe_href(href: str) -> bool:
    """True when ``href`` is relative or uses a scheme that cannot run script."""
    scheme = re.match(r"\s*([a-zA-Z][a-zA-Z0-9+.-]*):", href)
    return scheme is None or scheme.group(1).lower() in SAFE_SCHEMES


# == ADF -> HTML ===================================================================================

def adf_to_html(doc: Node | None) -> str:
    """Render an ADF document (``{"type": "doc", ...}``; ``None`` gives ``""``) as HTML."""
    if not doc:
        return ""
    return "".join(_block(child) for child in doc.get("content") or [])


def _esc(text: str) -> str:
    return html.escape(text, quote=True)


def _children(node: Node) -> str:
    return "".join(_block(child) for child in node.get("content") or [])


def _inline_children(node: Node) -> str:
    return "".join(_inline(child) for child in node.get("content") or [])


def _block(node: Node) -> str:
    kind = node.get("type")
    attrs = node.get("attrs") or {}
    if kind == "paragraph":
        return f"<p>{_inline_children(node)}</p>"
    if kind == "heading":
        level = attrs.get("level") if attrs.get("level") in range(1, 7) else 1
        return f"<h{level}>{_inline_children(node)}</h{level}>"
    if kind in LISTS:
        return _list(node, kind, attrs)
    if kind == "listItem":
        return f"<li>{_children(node)}</li>"
    if kind == "codeBlock":
        language = attrs.get("language")
        klass = f' class="language-{_esc(str(language))}"' if language else ""
        code = "".join(_esc(_plain_text(child)) for child in node.get("content") or [])
        return f"<pre><code{klass}>{code}</code></pre>"
    if kind == "blockquote":
        return f"<blockquote>{_children(node)}</blockquote>"
    if kind == "rule":
        return "<hr>"
    if kind in INLINE:
        return _inline(node)
    return _unknown_block(node)


def _list(node: Node, kind: str, attrs: dict[str, Any]) -> str:
    if kind == "bulletList":
        return f"<ul>{_children(node)}</ul>"
    order = attrs.get("order")
    start = f' start="{int(order)}"' if isinstance(order, int) and not isinstance(order, bool) else ""
    return f"<ol{start}>{_children(node)}</ol>"


def _unknown_block(node: Node) -> str:
    kind = _esc(str(node.get("type")))
    if node.get("content"):
        return f'<div data-adf-type="{kind}">{_children(node)}</div>'
    return f'<div data-adf-type="{kind}">{_esc(_fallback_text(node))}</div>'


def _inline(node: Node) -> str:
    kind = node.get("type")
    if kind == "text":
        return _marked(_esc(str(node.get("text", ""))), node.get("marks") or [])
    if kind == "hardBreak":
        return "<br>"
    if kind == "mention":
        attrs = node.get("attrs") or {}
        ident = str(attrs.get("id", ""))
        shown = attrs.get("text") or f"@{ident}"
        return f'<span class="mention" data-mention-id="{_esc(ident)}">{_esc(str(shown))}</span>'
    if kind in BLOCKS:
        return _block(node)
    return f'<span data-adf-type="{_esc(str(kind))}">{_esc(_fallback_text(node))}</span>'


def _marked(inner: str, marks: list[Node]) -> str:
    known = {m.get("type"): m for m in marks if isinstance(m, dict)}
    for kind in reversed(MARK_ORDER):
        mark = known.get(kind)
        if mark is None:
            continue
        if kind == "link":
            href = str((mark.get("attrs") or {}).get("href", ""))
            if safe_href(href):
                inner = f'<a href="{_esc(href)}">{inner}</a>'
        else:
            inner = f"<{MARK_TAGS[kind]}>{inner}</{MARK_TAGS[kind]}>"
    return inner


def _plain_text(node: Node) -> str:
    """The text a node shows: its own, its attributes' or its children's."""
    if node.get("type") == "text":
        return str(node.get("text", ""))
    if node.get("type") == "hardBreak":
        return "\n"
    return _fallback_text(node)


def _fallback_text(node: Node) -> str:
    attrs = node.get("attrs") or {}
    for key in ("text", "shortName", "url", "title"):
        if isinstance(attrs.get(key), str) and attrs[key]:
            return attrs[key]
    if node.get("type") == "date" and str(attrs.get("timestamp", "")).isdigit():
        moment = datetime.fromtimestamp(int(attrs["timestamp"]) / 1000, tz=UTC)
        return moment.strftime("%Y-%m-%d")
    if node.get("content"):
        return "".join(_plain_text(child) for child in node["content"] if isinstance(child, dict))
    if node.get("type") == "mention":
        return f"@{attrs.get('id', '')}"
    return f"[{node.get('type')}]"


# == HTML (or plain text) -> ADF ===================================================================

def html_to_adf(text: str | None) -> Node:
    """A valid ADF document from HTML, or from plain text (no tags: blank lines part paragraphs,
    other newlines become hard breaks, spaces are kept)."""
    if not text:
        return {"type": "doc", "version": 1, "content": []}
    if not LOOKS_LIKE_HTML.search(text):
        return _plain_to_adf(text)
    builder = _AdfBuilder()
    builder.feed(text)
    builder.close()
    return builder.document()


def _plain_to_adf(text: str) -> Node:
    paragraphs = []
    for chunk in re.split(r"\r?\n[ \t]*\r?\n", text.replace("\r\n", "\n")):
        content: list[Node] = []
        for number, line in enumerate(chunk.split("\n")):
            if number:
                content.append({"type": "hardBreak"})
            if line:
                content.append({"type": "text", "text": line})
        paragraphs.append({"type": "paragraph", "content": content})
    return {"type": "doc", "version": 1, "content": paragraphs}


@dataclass
class _Frame:
    """An open HTML element: the ADF container it made (or None when transparent)."""

    tag: str
    node: Node | None = None
    implicit: bool = False


@dataclass
class _Leaf:
    """The open paragraph, heading or code block receiving inline content."""

    node: Node
    explicit: bool
    code: bool = False


@dataclass
class _Mention:
    ident: str
    depth: int
    text: list[str] = field(default_factory=list)


class _AdfBuilder(HTMLParser):
    """Streams html.parser events into an ADF tree, repairing what ADF does not allow."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.doc: Node = {"type": "doc", "version": 1, "content": []}
        self.frames: list[_Frame] = [_Frame("#doc", self.doc)]
        self.leaf: _Leaf | None = None
        self.marks: list[tuple[str, Node]] = []
        self.mention: _Mention | None = None
        self.skipping = 0
        self.depth = 0

    def document(self) -> Node:
        self._end_leaf()
        while len(self.frames) > 1:
            self._pop_frame()
        return self.doc

    # -- events ------------------------------------------------------------------------------
    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {name: value or "" for name, value in attrs}
        if tag not in VOID:
            self.depth += 1
        if self.skipping or tag in DROPPED:
            if tag in DROPPED:
                self.skipping += 1  # nested <head><title>: each one must close
            return
        if self.mention is not None:
            return
        if "data-mention-id" in values and tag not in VOID:
            self.mention = _Mention(values["data-mention-id"], self.depth)
            return
        self._open(tag, values)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)
        if tag not in VOID:
            self.handle_endtag(tag)

    def handle_endtag(self, tag: str) -> None:
        if tag in VOID:
            return
        depth, self.depth = self.depth, max(self.depth - 1, 0)
        if self.skipping:
            if tag in DROPPED:
                self.skipping -= 1
            return
        if self.mention is not None:
            if depth == self.mention.depth:
                self._end_mention()
            return
        self._close(tag)

    def handle_data(self, data: str) -> None:
        if self.skipping:
            return
        if self.mention is not None:
            self.mention.text.append(data)
            return
        leaf = self.leaf
        if leaf is not None and leaf.code:
            self._append_text(data, [])
            return
        data = HTML_SPACE.sub(" ", data)
        if data == " " and leaf is None:
            return  # whitespace between blocks
        self._append_text(data, self._current_marks())

    # -- opening and closing elements -----------------------------------------------------
    def _open(self, tag: str, values: dict[str, str]) -> None:
        if tag == "p" or tag in HEADINGS:
            self._start_leaf(_textblock(tag), explicit=True)
        elif tag == "pre":
            self._start_leaf({"type": "codeBlock", "content": []}, explicit=True, code=True)
        elif tag == "code" and self.leaf is not None and self.leaf.code:
            language = _language(values.get("class", ""))
            if language:
                self.leaf.node.setdefault("attrs", {})["language"] = language
        elif tag in ("ul", "ol"):
            self._open_list(tag, values)
        elif tag == "li":
            self._open_item()
        elif tag == "blockquote":
            self._open_container(tag, {"type": "blockquote", "content": []})
        elif tag in ("br", "hr", "img"):
            self._void(tag, values)
        elif tag in HTML_MARKS or tag == "a":
            self._open_mark(tag, values)
        elif tag in BLOCK_BOUNDARIES:
            self._end_leaf()

    def _close(self, tag: str) -> None:
        if tag == "p" or tag in HEADINGS or tag == "pre":
            self._end_leaf()
        elif tag in ("ul", "ol", "li", "blockquote"):
            self._end_leaf()
            self._close_frame(tag)
        elif tag in HTML_MARKS or tag == "a":
            for index in range(len(self.marks) - 1, -1, -1):
                if self.marks[index][0] == tag:
                    del self.marks[index]
                    break
        elif tag in BLOCK_BOUNDARIES:
            self._end_leaf()

    def _void(self, tag: str, values: dict[str, str]) -> None:
        if tag == "br":
            if self.leaf is not None and self.leaf.code:
                self._append_text("\n", [])
            else:
                self._inline_node({"type": "hardBreak"})
        elif tag == "hr":
            self._end_leaf()
            self._append_block({"type": "rule"})
        elif values.get("alt"):
            self._append_text(HTML_SPACE.sub(" ", values["alt"]), self._current_marks())

    def _open_mark(self, tag: str, values: dict[str, str]) -> None:
        if tag == "a":
            href = values.get("href", "")
            mark: Node = {"type": "link", "attrs": {"href": href}} if href and safe_href(href) else {}
            self.marks.append((tag, mark))
        else:
            self.marks.append((tag, {"type": HTML_MARKS[tag]}))

    def _current_marks(self) -> list[Node]:
        chosen: dict[str, Node] = {}
        for _, mark in self.marks:
            if mark:
                chosen[mark["type"]] = mark  # the innermost link wins
        if "code" in chosen:  # ADF: code combines with link only
            chosen = {k: v for k, v in chosen.items() if k in ("code", "link")}
        return [chosen[kind] for kind in MARK_ORDER if kind in chosen]

    def _end_mention(self) -> None:
        mention, self.mention = self.mention, None
        assert mention is not None
        shown = "".join(mention.text)
        node: Node = {"type": "mention", "attrs": {"id": mention.ident}}
        if shown:
            node["attrs"]["text"] = shown
        if self.leaf is not None and self.leaf.code:
            self._append_text(shown or f"@{mention.ident}", [])
        else:
            self._inline_node(node)

    # -- containers -------------------------------------------------------------------------
    def _container(self) -> Node:
        return next(f.node for f in reversed(self.frames) if f.node is not None)

    def _open_list(self, tag: str, values: dict[str, str]) -> None:
        node: Node = {"type": "bulletList" if tag == "ul" else "orderedList", "content": []}
        start = values.get("start", "").strip()
        if tag == "ol" and re.fullmatch(r"-?\d{1,9}", start):
            node["attrs"] = {"order": max(int(start), 0)}
        self._open_container(tag, node)

    def _open_item(self) -> None:
        self._end_leaf()
        if self._container()["type"] not in LISTS:
            self._open_container("#list", {"type": "bulletList", "content": []}, implicit=True)
        while self.frames[-1].node is None or self.frames[-1].node["type"] not in LISTS:
            self._pop_frame()
        item: Node = {"type": "listItem", "content": []}
        self._container()["content"].append(item)
        self.frames.append(_Frame("li", item))

    def _open_container(self, tag: str, node: Node, implicit: bool = False) -> None:
        self._end_leaf()
        if not self._accepts(node["type"]):
            self.frames.append(_Frame(tag))  # transparent: its content goes to the container
            return
        self._append_block(node)
        self.frames.append(_Frame(tag, node, implicit))

    def _accepts(self, kind: str) -> bool:
        container = self._container()["type"]
        return kind in ACCEPTS["listItem" if container in LISTS else container]  # a list wraps it in an item

    def _close_frame(self, tag: str) -> None:
        if not any(f.tag == tag for f in self.frames[1:]):
            return  # a stray end tag
        while self.frames[-1].tag != tag:
            self._pop_frame()
        self._pop_frame()

    def _pop_frame(self) -> None:
        frame = self.frames.pop()
        node = frame.node
        if node is None:
            return
        parent = self._container()
        if node["type"] in LISTS and not node["content"]:
            _remove(parent["content"], node)  # ADF lists need an item: an empty list shows nothing
        elif node["type"] in ("listItem", "blockquote"):
            _repair_container(node)

    def _append_block(self, node: Node) -> None:
        container = self._container()
        if container["type"] in LISTS:
            item: Node = {"type": "listItem", "content": []}
            container["content"].append(item)
            self.frames.append(_Frame("#li", item, implicit=True))
            container = item
        if node["type"] == "heading" and node["type"] not in ACCEPTS[container["type"]]:
            node["type"] = "paragraph"
            node.pop("attrs", None)
        if node["type"] == "rule" and "rule" not in ACCEPTS[container["type"]]:
            return  # a separator inside a list or quote: nothing to keep
        container["content"].append(node)

    # -- inline content ---------------------------------------------------------------------
    def _start_leaf(self, node: Node, explicit: bool, code: bool = False) -> None:
        self._end_leaf()
        self._append_block(node)
        self.leaf = _Leaf(node, explicit, code)

    def _end_leaf(self) -> None:
        leaf, self.leaf = self.leaf, None
        if leaf is None:
            return
        content = leaf.node["content"]
        if not leaf.code:
            _trim(content)
        if not content and not leaf.explicit:
            _remove(self._container_of(leaf.node)["content"], leaf.node)

    def _container_of(self, node: Node) -> Node:
        for frame in reversed(self.frames):
            if frame.node is not None and any(child is node for child in frame.node["content"]):
                return frame.node
        raise AssertionError("unreachable")

    def _ensure_leaf(self) -> _Leaf:
        if self.leaf is None:
            self._start_leaf({"type": "paragraph", "content": []}, explicit=False)
        assert self.leaf is not None
        return self.leaf

    def _inline_node(self, node: Node) -> None:
        self._ensure_leaf().node["content"].append(node)

    def _append_text(self, data: str, marks: list[Node]) -> None:
        leaf = self._ensure_leaf()
        content = leaf.node["content"]
        if leaf.code:
            marks = []  # ADF: code block text carries no marks
        elif data.startswith(" ") and _ends_with_space(content):
            data = data[1:]  # one space where two runs of whitespace meet
        if not data:
            return
        last = content[-1] if content else None
        if last is not None and last["type"] == "text" and last.get("marks", []) == marks:
            last["text"] += data
        else:
            content.append({"type": "text", "text": data, **({"marks": marks} if marks else {})})


def _remove(content: list[Node], node: Node) -> None:
    content[:] = [child for child in content if child is not node]


def _ends_with_space(content: list[Node]) -> bool:
    return bool(content) and content[-1]["type"] == "text" and content[-1]["text"].endswith(" ")


def _trim(content: list[Node]) -> None:
    """HTML whitespace: none at the start or end of a paragraph; drop emptied text nodes."""
    if content and content[0]["type"] == "text":
        content[0]["text"] = content[0]["text"].lstrip(" ")
    if content and content[-1]["type"] == "text":
        content[-1]["text"] = content[-1]["text"].rstrip(" ")
    content[:] = [n for n in content if n["type"] != "text" or n["text"]]


def _repair_container(node: Node) -> None:
    """ADF: a list item or quote holds at least one block; an item starts with a paragraph."""
    content = node["content"]
    if not content or (node["type"] == "listItem" and content[0]["type"] in LISTS):
        content.insert(0, {"type": "paragraph", "content": []})


def _textblock(tag: str) -> Node:
    if tag == "p":
        return {"type": "paragraph", "content": []}
    return {"type": "heading", "attrs": {"level": HEADINGS[tag]}, "content": []}


def _language(classes: str) -> str | None:
    found = re.search(r"(?:^|\s)(?:language|lang)-(\S+)", classes)
    return found.group(1) if found else None


# == ADF structure rules ===========================================================================

def adf_errors(doc: Any) -> list[str]:
    """Where ``doc`` breaks the ADF structure rules of the supported subset (empty: valid).

    Rules (from Atlassian's ADF schema, ``doc_node``): a ``doc`` has ``version`` 1 and block
    content; paragraphs and headings hold inline nodes; headings have ``level`` 1-6; lists hold
    one or more ``listItem``; a list item holds blocks and starts with a paragraph or code block;
    a code block holds unmarked text only; text is non-empty; marks are known, not repeated, and
    ``code`` combines with ``link`` only; a link has an ``href``; a mention has an ``id``.
    """
    if not isinstance(doc, dict) or doc.get("type") != "doc":
        return ["$: not a doc node"]
    errors = [] if doc.get("version") == 1 else ["$: version must be 1"]
    _check_children(doc, "$", BLOCKS, errors)
    return errors


def _check_children(node: Node, where: str, allowed: frozenset[str], errors: list[str]) -> None:
    content = node.get("content", [])
    if not isinstance(content, list):
        errors.append(f"{where}.content: not a list")
        return
    for index, child in enumerate(content):
        path = f"{where}.content[{index}]"
        kind = child.get("type") if isinstance(child, dict) else None
        if kind not in allowed:
            errors.append(f"{path}: {kind!r} is not allowed in {node.get('type')}")
            continue
        _check_node(child, path, errors)


def _check_node(node: Node, where: str, errors: list[str]) -> None:
    kind = node["type"]
    if kind in ("paragraph", "heading"):
        if kind == "heading" and (node.get("attrs") or {}).get("level") not in range(1, 7):
            errors.append(f"{where}: heading level must be 1-6")
        _check_children(node, where, INLINE, errors)
    elif kind in LISTS:
        if not node.get("content"):
            errors.append(f"{where}: a list needs at least one listItem")
        _check_children(node, where, frozenset({"listItem"}), errors)
    elif kind in ("listItem", "blockquote"):
        content = node.get("content") or []
        if not content:
            errors.append(f"{where}: {kind} needs at least one block")
        elif kind == "listItem" and content[0].get("type") not in ("paragraph", "codeBlock"):
            errors.append(f"{where}: a listItem starts with a paragraph or codeBlock")
        _check_children(node, where, ACCEPTS[kind], errors)
    elif kind == "codeBlock":
        _check_code(node, where, errors)
    else:
        _check_inline(node, where, errors)


def _check_code(node: Node, where: str, errors: list[str]) -> None:
    _check_children(node, where, frozenset({"text"}), errors)
    if any(child.get("marks") for child in node.get("content") or [] if isinstance(child, dict)):
        errors.append(f"{where}: codeBlock text cannot carry marks")


def _check_inline(node: Node, where: str, errors: list[str]) -> None:
    kind = node["type"]
    if kind == "text":
        if not isinstance(node.get("text"), str) or not node["text"]:
            errors.append(f"{where}: text must be a non-empty string")
        _check_marks(node.get("marks") or [], where, errors)
    elif kind == "mention" and not (node.get("attrs") or {}).get("id"):
        errors.append(f"{where}: a mention needs attrs.id")


def _check_marks(marks: list[Any], where: str, errors: list[str]) -> None:
    kinds = [m.get("type") if isinstance(m, dict) else None for m in marks]
    unknown = [k for k in kinds if k not in MARK_ORDER]
    if unknown:
        errors.append(f"{where}: unknown marks {unknown}")
    if len(set(kinds)) != len(kinds):
        errors.append(f"{where}: a mark is repeated")
    if "code" in kinds and set(kinds) - {"code", "link"}:
        errors.append(f"{where}: the code mark combines with link only")
    for mark in marks:
        if isinstance(mark, dict) and mark.get("type") == "link" \
                and not isinstance((mark.get("attrs") or {}).get("href"), str):
            errors.append(f"{where}: a link mark needs attrs.href")
