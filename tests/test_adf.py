"""ADF <-> HTML (unigate.mapping.adf): Jira's rich text read as HTML and HTML written as valid ADF."""

from __future__ import annotations

from html.parser import HTMLParser
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from unigate.mapping.adf import adf_errors, adf_to_html, html_to_adf


def doc(*blocks: dict[str, Any]) -> dict[str, Any]:
    return {"type": "doc", "version": 1, "content": list(blocks)}


def para(*inline: dict[str, Any]) -> dict[str, Any]:
    return {"type": "paragraph", "content": list(inline)}


def text(value: str, *marks: dict[str, Any]) -> dict[str, Any]:
    return {"type": "text", "text": value, **({"marks": list(marks)} if marks else {})}


def item(*blocks: dict[str, Any]) -> dict[str, Any]:
    return {"type": "listItem", "content": list(blocks)}


STRONG, EM, CODE = {"type": "strong"}, {"type": "em"}, {"type": "code"}


def link(href: str) -> dict[str, Any]:
    return {"type": "link", "attrs": {"href": href}}


# -- ADF -> HTML -----------------------------------------------------------------------------------

def test_paragraph_with_marks_renders_nested_tags() -> None:
    adf = doc(para(text("Hi "), text("there", STRONG, EM), text(" "), text("x()", CODE)))
    assert adf_to_html(adf) == "<p>Hi <strong><em>there</em></strong> <code>x()</code></p>"


def test_heading_lists_and_code_block_render_as_their_html_elements() -> None:
    adf = doc({"type": "heading", "attrs": {"level": 3}, "content": [text("Steps")]},
              {"type": "orderedList", "attrs": {"order": 2}, "content": [item(para(text("one")))]},
              {"type": "bulletList", "content": [item(para(text("a")))]},
              {"type": "codeBlock", "attrs": {"language": "python"}, "content": [text("x = 1\n")]})
    assert adf_to_html(adf) == ('<h3>Steps</h3><ol start="2"><li><p>one</p></li></ol>'
                                "<ul><li><p>a</p></li></ul>"
                                '<pre><code class="language-python">x = 1\n</code></pre>')


def test_mention_and_hard_break_render() -> None:
    adf = doc(para(text("ping"), {"type": "hardBreak"},
                   {"type": "mention", "attrs": {"id": "5b10ac8d82e05b22cc7d4ef5", "text": "@Mia"}}))
    assert adf_to_html(adf) == ('<p>ping<br><span class="mention" data-mention-id="5b10ac8d82e05b22cc7d4ef5">'
                                "@Mia</span></p>")


def test_link_mark_renders_an_anchor() -> None:
    adf = doc(para(text("docs", link("https://example.com/a?b=1&c=2"))))
    assert adf_to_html(adf) == '<p><a href="https://example.com/a?b=1&amp;c=2">docs</a></p>'


def test_text_is_escaped_so_adf_cannot_inject_html() -> None:
    adf = doc(para(text('<script>alert("x")</script> & <b>')))
    assert adf_to_html(adf) == "<p>&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &lt;b&gt;</p>"


def test_attribute_values_are_escaped() -> None:
    adf = doc(para(text("x", link('https://e.com/" onmouseover="alert(1)')),
                   {"type": "mention", "attrs": {"id": '"><img src=x onerror=alert(1)>'}}),
              {"type": "codeBlock", "attrs": {"language": '"><script>'}, "content": [text("c")]})
    rendered = adf_to_html(adf)
    assert tags_and_attributes(rendered) == {("p", ()), ("a", ("href",)), ("span", ("class", "data-mention-id")),
                                             ("pre", ()), ("code", ("class",))}


def test_javascript_link_keeps_its_text_but_not_the_link() -> None:
    assert adf_to_html(doc(para(text("click", link("JavaScript:alert(1)"))))) == "<p>click</p>"


def test_unknown_inline_node_degrades_to_its_text() -> None:
    adf = doc(para(text("ok "), {"type": "emoji", "attrs": {"shortName": ":smile:", "text": "😄"}},
                   {"type": "inlineCard", "attrs": {"url": "https://jira.example/browse/X-1"}},
                   {"type": "date", "attrs": {"timestamp": "1735689600000"}}))
    assert adf_to_html(adf) == ('<p>ok <span data-adf-type="emoji">😄</span>'
                                '<span data-adf-type="inlineCard">https://jira.example/browse/X-1</span>'
                                '<span data-adf-type="date">2025-01-01</span></p>')


def test_unknown_block_node_keeps_its_content() -> None:
    adf = doc({"type": "panel", "attrs": {"panelType": "info"}, "content": [para(text("Heads up"))]},
              {"type": "mediaSingle", "content": [{"type": "media", "attrs": {"id": "m1"}}]})
    assert adf_to_html(adf) == ('<div data-adf-type="panel"><p>Heads up</p></div>'
                                '<div data-adf-type="mediaSingle"><div data-adf-type="media">[media]</div></div>')


def test_unknown_block_text_is_read_back_as_a_paragraph() -> None:
    adf = doc({"type": "panel", "content": [para(text("Heads up"))]},
              {"type": "table", "content": [{"type": "tableRow", "content": [
                  {"type": "tableCell", "content": [para(text("cell"))]}]}]})
    assert html_to_adf(adf_to_html(adf)) == doc(para(text("Heads up")), para(text("cell")))


def test_unknown_marks_are_dropped_and_their_text_kept() -> None:
    adf = doc(para(text("red", {"type": "textColor", "attrs": {"color": "#ff0000"}}, STRONG)))
    assert adf_to_html(adf) == "<p><strong>red</strong></p>"


def test_empty_description_renders_empty() -> None:
    assert adf_to_html(None) == ""
    assert adf_to_html(doc()) == ""


# -- HTML / plain text -> ADF ----------------------------------------------------------------------

def test_plain_text_becomes_paragraphs_with_hard_breaks() -> None:
    assert html_to_adf("first line\nsecond  line\n\nnext List<String>") == doc(
        para(text("first line"), {"type": "hardBreak"}, text("second  line")),
        para(text("next List<String>")))


def test_empty_input_is_an_empty_document() -> None:
    assert html_to_adf("") == doc()
    assert html_to_adf(None) == doc()


def test_html_marks_and_their_synonyms() -> None:
    adf = html_to_adf("<p><b>b</b><i>i</i><del>d</del><ins>u</ins><s>s</s><u>u2</u></p>")
    assert adf == doc(para(text("b", STRONG), text("i", EM), text("d", {"type": "strike"}),
                           text("u", {"type": "underline"}), text("s", {"type": "strike"}),
                           text("u2", {"type": "underline"})))


def test_code_mark_sheds_marks_adf_does_not_allow_with_it() -> None:
    adf = html_to_adf('<p><strong><a href="https://e.com"><code>f()</code></a></strong></p>')
    assert adf == doc(para(text("f()", link("https://e.com"), CODE)))


def test_whitespace_collapses_like_html() -> None:
    adf = html_to_adf("<p>\n  a   b <em> c</em>  </p>\n\n<p>d</p>")
    assert adf == doc(para(text("a b "), text("c", EM)), para(text("d")))


def test_pre_keeps_whitespace_and_ignores_marks() -> None:
    adf = html_to_adf("<b><pre>  if x:\n      <i>y</i><br>z<img alt='!'></pre></b>")
    assert adf == doc({"type": "codeBlock", "content": [text("  if x:\n      y\nz!")]})


def test_loose_text_and_divs_become_paragraphs() -> None:
    assert html_to_adf("intro<div>block</div>tail") == doc(para(text("intro")), para(text("block")),
                                                             para(text("tail")))


def test_list_item_that_starts_with_a_list_gets_an_empty_paragraph_first() -> None:
    adf = html_to_adf("<ul><li><ol><li>x</li></ol></li></ul>")
    assert adf == doc({"type": "bulletList", "content": [item(para(), {"type": "orderedList", "content": [
        item(para(text("x")))]})]})
    assert adf_errors(adf) == []


def test_headings_inside_list_items_become_paragraphs() -> None:
    adf = html_to_adf("<ul><li><h2>title</h2></li></ul>")
    assert adf == doc({"type": "bulletList", "content": [item(para(text("title")))]})


def test_javascript_href_is_not_written_as_a_link() -> None:
    assert html_to_adf('<a href=" javascript:alert(1)">x</a>') == doc(para(text("x")))


def test_script_and_style_content_is_not_text() -> None:
    assert html_to_adf("<p>a<script>alert(1)</script><style>p{}</style>b</p>") == doc(para(text("ab")))


def test_a_whole_html_page_gives_its_body() -> None:
    page = "<!doctype html><html><head><title>T</title><style>p{}</style></head><body><p>x</p></body></html>"
    assert html_to_adf(page) == doc(para(text("x")))


def test_image_becomes_its_alt_text() -> None:
    assert html_to_adf('<p>see <img src="a.png" alt="the chart"></p>') == doc(para(text("see the chart")))


def test_mention_span_becomes_a_mention_node() -> None:
    adf = html_to_adf('<p>cc <span data-mention-id="557058:f58131cb"><b>@Ann</b></span></p>')
    assert adf == doc(para(text("cc "), {"type": "mention", "attrs": {"id": "557058:f58131cb", "text": "@Ann"}}))


def test_stray_end_tags_and_unclosed_elements_are_tolerated() -> None:
    adf = html_to_adf("</li></ul><p>a<ul><li>b")
    assert adf == doc(para(text("a")), {"type": "bulletList", "content": [item(para(text("b")))]})
    assert adf_errors(adf) == []


def test_a_quote_directly_inside_a_list_gives_its_text_to_a_list_item() -> None:
    adf = html_to_adf("<ul><blockquote>quoted</blockquote></ul>")
    assert adf == doc({"type": "bulletList", "content": [item(para(text("quoted")))]})


def test_blockquote_and_rule() -> None:
    adf = html_to_adf("<blockquote><p>quoted</p><blockquote>inner</blockquote></blockquote><hr>")
    assert adf == doc({"type": "blockquote", "content": [para(text("quoted")), para(text("inner"))]},
                      {"type": "rule"})


# -- the structure rules ---------------------------------------------------------------------------

def test_adf_errors_names_each_broken_rule() -> None:
    bad = {"type": "doc", "version": 2, "content": [
        {"type": "heading", "attrs": {"level": 7}, "content": [text("")]},
        {"type": "bulletList", "content": []},
        {"type": "codeBlock", "content": [text("x", STRONG)]},
        para(text("y", CODE, STRONG), {"type": "mention", "attrs": {}}, {"type": "paragraph"})]}
    assert adf_errors(bad) == [
        "$: version must be 1",
        "$.content[0]: heading level must be 1-6",
        "$.content[0].content[0]: text must be a non-empty string",
        "$.content[1]: a list needs at least one listItem",
        "$.content[2]: codeBlock text cannot carry marks",
        "$.content[3].content[0]: the code mark combines with link only",
        "$.content[3].content[1]: a mention needs attrs.id",
        "$.content[3].content[2]: 'paragraph' is not allowed in paragraph",
    ]


def test_adf_errors_rejects_what_is_not_a_document() -> None:
    assert adf_errors({"type": "paragraph"}) == ["$: not a doc node"]


# -- properties ------------------------------------------------------------------------------------

HTML_WHITESPACE = " \t\n\r\f"
word = st.text(st.characters(exclude_characters=HTML_WHITESPACE, exclude_categories=("Cs",)),
               min_size=1, max_size=6)
phrase = st.lists(word, min_size=1, max_size=4).map(" ".join)
href = st.builds(lambda scheme, rest: scheme + rest, st.sampled_from(["https://e.com/", "http://x.io", "mailto:a@b",
                                                                      "/relative/", "#frag"]),
                 st.text(st.sampled_from('ab&"<> ?=#/%é'), max_size=8))
plain_marks = st.lists(st.sampled_from(["strong", "em", "underline", "strike"]), unique=True).map(
    lambda kinds: [{"type": k} for k in ("strong", "em", "underline", "strike") if k in kinds])
marks = st.one_of(
    st.tuples(st.none() | href, plain_marks).map(lambda t: ([link(t[0])] if t[0] is not None else []) + t[1]),
    st.tuples(st.none() | href).map(lambda t: ([link(t[0])] if t[0] is not None else []) + [CODE]))
text_node = st.builds(lambda value, m: text(value, *m), phrase, marks)
mention = st.builds(lambda ident, shown: {"type": "mention", "attrs": {"id": ident, "text": "@" + shown}},
                    st.text("0123456789abcdef:", min_size=1, max_size=12), phrase)
inline_node = st.one_of(text_node, text_node, mention, st.just({"type": "hardBreak"}))


def merged(nodes: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Adjacent texts with the same marks are one text node in canonical ADF."""
    out: list[dict[str, Any]] = []
    for node in nodes:
        previous = out[-1] if out else None
        if previous and node["type"] == previous["type"] == "text" and node.get("marks") == previous.get("marks"):
            out[-1] = {**previous, "text": previous["text"] + node["text"]}
        else:
            out.append(node)
    return out


inlines = st.lists(inline_node, max_size=6).map(merged)
paragraph = inlines.map(lambda content: {"type": "paragraph", "content": content})
heading = st.builds(lambda level, content: {"type": "heading", "attrs": {"level": level}, "content": content},
                    st.integers(1, 6), inlines)
code_text = st.text(st.characters(exclude_categories=("Cs",), exclude_characters="\r\x00"), min_size=1)
code_block = st.builds(
    lambda language, body: {"type": "codeBlock", **({"attrs": {"language": language}} if language else {}),
                            "content": [text(body)] if body else []},
    st.none() | st.sampled_from(["python", "js", "c++", "sql"]), st.none() | code_text)


ORDERS = st.none() | st.integers(0, 999)


def lists_of(block: st.SearchStrategy[dict[str, Any]], first: st.SearchStrategy[dict[str, Any]] | None = None,
             orders: st.SearchStrategy[int | None] = ORDERS) -> st.SearchStrategy[dict[str, Any]]:
    """Bullet and ordered lists of items starting with ``first`` (a paragraph or code block) then ``block``s."""
    items = st.builds(lambda head, rest: item(head, *rest), first if first is not None else paragraph | code_block,
                      st.lists(block, max_size=2))
    bullet = st.lists(items, min_size=1, max_size=3).map(lambda c: {"type": "bulletList", "content": c})
    ordered = st.builds(lambda c, order: {"type": "orderedList", "content": c,
                                          **({"attrs": {"order": order}} if order is not None else {})},
                        st.lists(items, min_size=1, max_size=3), orders)
    return bullet | ordered


nestable = st.recursive(paragraph | code_block, lists_of, max_leaves=6)
quote = st.lists(nestable, min_size=1, max_size=3).map(lambda c: {"type": "blockquote", "content": c})
block = st.one_of(paragraph, heading, code_block, nestable, quote, st.just({"type": "rule"}))
documents = st.lists(block, max_size=5).map(lambda blocks: doc(*blocks))


@settings(max_examples=300, deadline=None)
@given(documents)
def test_adf_to_html_to_adf_is_the_same_document(adf: dict[str, Any]) -> None:
    assert adf_errors(adf) == []
    back = html_to_adf(adf_to_html(adf))
    assert back == adf
    assert adf_errors(back) == []


@settings(max_examples=300, deadline=None)
@given(documents)
def test_rendered_html_holds_only_the_converters_own_elements(adf: dict[str, Any]) -> None:
    allowed = {("p", ()), ("strong", ()), ("em", ()), ("u", ()), ("s", ()), ("code", ()), ("code", ("class",)),
               ("a", ("href",)), ("br", ()), ("span", ("class", "data-mention-id")), ("pre", ()),
               ("ul", ()), ("ol", ()), ("ol", ("start",)), ("li", ()), ("blockquote", ()), ("hr", ())}
    allowed |= {(f"h{level}", ()) for level in range(1, 7)}
    assert tags_and_attributes(adf_to_html(adf)) <= allowed


TAGS = ["p", "b", "i", "a href='https://e.com'", "a href='javascript:x'", "ul", "ol start='2'", "li", "pre",
        "code", "h1", "h4", "blockquote", "div", "table", "td", "span data-mention-id='u1'", "br", "hr",
        "script", "img alt='pic'"]
soup_piece = st.one_of(st.sampled_from(TAGS).map(lambda t: f"<{t}>"),
                       st.sampled_from(TAGS).map(lambda t: f"</{t.split()[0]}>"),
                       st.text(max_size=5))


@settings(max_examples=300, deadline=None)
@given(st.lists(soup_piece, max_size=40).map("".join))
def test_any_html_becomes_a_valid_adf_document(markup: str) -> None:
    assert adf_errors(html_to_adf(markup)) == []


@settings(max_examples=200, deadline=None)
@given(st.text())
def test_any_plain_text_becomes_a_valid_adf_document(value: str) -> None:
    assert adf_errors(html_to_adf(value)) == []


def tags_and_attributes(markup: str) -> set[tuple[str, tuple[str, ...]]]:
    """Every element of ``markup`` as (tag, sorted attribute names), the way a browser would parse it."""
    seen: set[tuple[str, tuple[str, ...]]] = set()

    class Collector(HTMLParser):
        def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
            seen.add((tag, tuple(sorted(name for name, _ in attrs))))

    collector = Collector()
    collector.feed(markup)
    collector.close()
    return seen
