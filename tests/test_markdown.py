"""Markdown <-> HTML (unigate.mapping.markdown): Linear's Markdown read as the converters' canonical
HTML, and HTML written as CommonMark that reads back the same."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from unigate.mapping.adf import adf_to_html
from unigate.mapping.markdown import html_to_markdown, markdown_to_html

from .test_adf import code_block, doc, link, lists_of, merged, text


# -- Markdown -> HTML ------------------------------------------------------------------------------
def test_markdown_reads_as_canonical_html() -> None:
    markdown = "# Title\n\nSteps: **log in**, *wait*, ~~retry~~ `code`\n\n- one\n- two\n\n3. three\n\n> quoted\n\n---"
    assert markdown_to_html(markdown) == (
        "<h1>Title</h1><p>Steps: <strong>log in</strong>, <em>wait</em>, <s>retry</s> <code>code</code></p>"
        "<ul><li><p>one</p></li><li><p>two</p></li></ul><ol start=\"3\"><li><p>three</p></li></ol>"
        "<blockquote><p>quoted</p></blockquote><hr>")


def test_a_fenced_block_keeps_its_language_and_not_the_closing_newline() -> None:
    assert markdown_to_html("```python\nx = 1\n```") == '<pre><code class="language-python">x = 1</code></pre>'


def test_html_typed_in_markdown_stays_text_and_unsafe_links_are_not_links() -> None:
    assert markdown_to_html("<script>x</script> [a](javascript:alert(1))") == \
        "<p>&lt;script&gt;x&lt;/script&gt; [a](javascript:alert(1))</p>"


def test_a_hard_break_and_nothing() -> None:
    assert markdown_to_html("a\\\nb") == "<p>a<br>b</p>"
    assert markdown_to_html("") == markdown_to_html(None) == ""


# -- HTML -> Markdown ------------------------------------------------------------------------------
def test_html_becomes_commonmark() -> None:
    html = ('<h2>Plan</h2><p>Do <strong>this</strong> and <em>that</em> <a href="https://e.com/x">here</a></p>'
            '<ol start="2"><li>two<ul><li>nested</li></ul></li></ol><pre><code class="language-sql">select 1</code></pre>')
    assert html_to_markdown(html) == ("## Plan\n\nDo **this** and *that* [here](<https://e.com/x>)\n\n"
                                      "2. two\n\n   - nested\n\n```sql\nselect 1\n```")


def test_text_is_escaped_so_no_text_becomes_markdown() -> None:
    html = "<p>1. not a list, *not em*, [not](a link) &lt;b&gt; #tag</p><p>- not an item</p>"
    markdown = html_to_markdown(html)
    assert markdown_to_html(markdown) == html


def test_plain_text_is_taken_as_markdown_already() -> None:
    assert html_to_markdown("**bold** and List<String>") == "**bold** and List<String>"


def test_what_markdown_cannot_say_keeps_its_text() -> None:
    html = '<p><u>under</u> <span class="mention" data-mention-id="u1">@Ann</span></p><h3>a<br>b</h3>'
    assert markdown_to_html(html_to_markdown(html)) == "<p>under @Ann</p><h3>a b</h3>"


def test_emphasis_inside_a_word_is_written_when_commonmark_can_delimit_it() -> None:
    assert html_to_markdown("<p>foo<strong>bar</strong>baz</p>") == "foo**bar**baz"


def test_emphasis_markdown_cannot_delimit_is_written_without_it_never_as_stray_stars() -> None:
    markdown = html_to_markdown("<p>foo<strong>(bar)</strong> <a href='https://e.com'>x</a></p>")
    assert "*" not in markdown.replace("\\*", "")
    assert markdown_to_html(markdown) == '<p>foo(bar) <a href="https://e.com">x</a></p>'


def test_a_list_after_a_list_of_its_kind_stays_a_list_of_its_own() -> None:
    html = "<ul><li><p>a</p></li></ul><ul><li><p>b</p></li></ul><ol><li><p>c</p></li></ol><ol><li><p>d</p></li></ol>"
    assert markdown_to_html(html_to_markdown(html)) == html


def test_code_with_backticks_gets_a_longer_fence() -> None:
    html = "<p><code>a`b</code></p><pre><code>```\nx</code></pre>"
    assert markdown_to_html(html_to_markdown(html)) == html


# -- the round trip: HTML -> Markdown -> HTML is the same HTML --------------------------------------
HTML_WHITESPACE = " \t\n\r\f"
# Markdown trims Unicode spaces (Zs, such as U+00A0) at a line's edges: words here hold none
any_word = st.text(st.characters(exclude_characters=HTML_WHITESPACE, exclude_categories=("Cs", "Cc", "Zs")),
                   min_size=1, max_size=6)
plain_word = st.text(st.characters(categories=("L", "Nd")), min_size=1, max_size=6)
href = st.builds(lambda scheme, rest: scheme + rest, st.sampled_from(["https://e.com/", "http://x.io/", "mailto:a@b.c"]),
                 st.text(st.sampled_from("abz09/?=&#-_.~"), max_size=8))
emphasis = st.lists(st.sampled_from(["strong", "em", "strike"]), unique=True, min_size=1).map(
    lambda kinds: [{"type": k} for k in ("strong", "em", "strike") if k in kinds])


def phrase(words: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    return st.lists(words, min_size=1, max_size=4).map(" ".join)


unmarked = st.builds(text, phrase(any_word))   # any text: escaping keeps it text
marked = st.builds(lambda value, m: text(value, *m), phrase(plain_word), emphasis)   # emphasis CommonMark can delimit
linked = st.builds(lambda value, target, m: text(value, link(target), *m), phrase(plain_word), href, st.just([]) | emphasis)
coded = st.builds(lambda value, target: text(value, *([link(target)] if target else []), {"type": "code"}),
                  phrase(any_word), st.none() | href)


def spaced(nodes: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Runs apart by a space, as words are (a mark starting inside a word after punctuation cannot be
    delimited in CommonMark: test_emphasis_markdown_cannot_delimit_...)."""
    out: list[dict[str, Any]] = []
    for node in nodes:
        out += ([text(" ")] if out else []) + [node]
    return merged(out)


texts = st.lists(st.one_of(unmarked, unmarked, marked, linked, coded), min_size=1, max_size=4).map(spaced)


def with_breaks(runs: list[list[dict[str, Any]]]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for run in runs:
        out += ([{"type": "hardBreak"}] if out else []) + run
    return merged(out)


inlines = st.lists(texts, min_size=1, max_size=3).map(with_breaks)
paragraph = inlines.map(lambda content: {"type": "paragraph", "content": content})
heading = st.builds(lambda level, content: {"type": "heading", "attrs": {"level": level}, "content": content},
                    st.integers(1, 6), texts)


def markdown_lists(block: st.SearchStrategy[dict[str, Any]]) -> st.SearchStrategy[dict[str, Any]]:
    """Lists as test_adf's, of this module's paragraphs; an ordered list starting at 1 says no start."""
    return lists_of(block, paragraph | code_block, st.none() | st.integers(2, 999) | st.just(0))


nestable = st.recursive(paragraph | code_block, markdown_lists, max_leaves=6)
quote = st.lists(nestable, min_size=1, max_size=3).map(lambda c: {"type": "blockquote", "content": c})
block = st.one_of(paragraph, heading, code_block, nestable, quote, st.just({"type": "rule"}))
documents = st.lists(block, min_size=1, max_size=5).map(lambda blocks: doc(*blocks))


@settings(max_examples=100, deadline=None)
@given(documents)
def test_html_to_markdown_to_html_is_the_same_html(adf: dict[str, Any]) -> None:
    html = adf_to_html(adf)
    assert markdown_to_html(html_to_markdown(html)) == html


@settings(max_examples=200, deadline=None)
@given(st.text())
def test_any_markdown_reads_as_html_that_writes_back_to_markdown_reading_the_same(markdown: str) -> None:
    html = markdown_to_html(markdown)
    back = markdown_to_html(html_to_markdown(html))
    assert back.replace("<p></p>", "") == html.replace("<p></p>", "")   # an empty paragraph is written as nothing
