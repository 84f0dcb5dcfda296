"""``Redactor`` on its own: which values it hides, in text, in nested bodies and in URLs.

Through the gateway (``_raw``, error details, log lines) it is covered by tests/test_secrets.py
and tests/test_secrets_in_query.py; here each rule is pinned down on plain values.
"""

from __future__ import annotations

import pickle

from unigate.downstream.redact import REDACTED, Redactor


def test_a_secret_is_replaced_wherever_it_occurs_in_text() -> None:
    assert Redactor(["s3cret"]).text("a s3cret, another s3cret.") == f"a {REDACTED}, another {REDACTED}."


def test_text_without_a_secret_is_unchanged() -> None:
    assert Redactor(["s3cret"]).text("nothing to hide") == "nothing to hide"


def test_every_secret_is_replaced() -> None:
    assert Redactor(["alpha-key", "beta-token"]).text("alpha-key / beta-token") == f"{REDACTED} / {REDACTED}"


def test_a_secret_containing_another_is_replaced_whole() -> None:
    """``abcd`` inside ``abcd-efgh``: replacing the short one first would leave ``-efgh`` behind."""
    assert Redactor(["abcd", "abcd-efgh"]).text("key=abcd-efgh") == f"key={REDACTED}"


def test_an_empty_value_is_no_secret() -> None:
    assert Redactor(["", "s3cret"]).text("a s3cret b") == f"a {REDACTED} b"


def test_a_secret_shorter_than_four_characters_is_redacted_as_a_whole_word_only() -> None:
    assert Redactor(["bob"]).text("user bob not found; bobcat, _bob, bob2") == \
        f"user {REDACTED} not found; bobcat, _bob, bob2"


def test_a_four_character_secret_is_redacted_inside_words_too() -> None:
    assert Redactor(["abcd"]).text("xabcdx abcd") == f"x{REDACTED}x {REDACTED}"


def test_a_short_secret_inside_a_long_one_leaves_nothing_of_the_long_one() -> None:
    assert Redactor(["ab", "ab-cdef"]).text("ab-cdef ab") == f"{REDACTED} {REDACTED}"


def test_nested_bodies_are_redacted_in_every_string_of_lists_and_dicts() -> None:
    body = {"token": "s3cret", "items": [{"note": "uses s3cret"}, "s3cret"], "count": 3, "ok": True, "none": None}
    assert Redactor(["s3cret"]).deep(body) == {"token": REDACTED, "items": [{"note": f"uses {REDACTED}"}, REDACTED],
                                                "count": 3, "ok": True, "none": None}


def test_dict_keys_are_redacted_too() -> None:
    assert Redactor(["s3cret"]).deep({"s3cret": "value", 7: "s3cret"}) == {REDACTED: "value", 7: REDACTED}


def test_two_keys_redacted_alike_keep_both_values() -> None:
    assert Redactor(["alpha1", "beta22"]).deep({"alpha1": 1, "beta22": 2}) == {REDACTED: 1, f"{REDACTED}'": 2}


def test_a_short_secret_alone_still_redacts_bodies() -> None:
    assert Redactor(["bob"]).deep({"user": "bob", "list": ["bob"]}) == {"user": REDACTED, "list": [REDACTED]}


def test_without_secrets_a_body_is_returned_as_it_is() -> None:
    body = {"a": ["b"]}
    assert Redactor([]).deep(body) is body


def test_a_url_hides_sensitive_query_parameters_by_name_in_any_case() -> None:
    url = "https://t.example/api/issues?page=2&API_KEY=k1&Token=k2&access_token=k3&password=p&secret=s&key=k&apikey=a"
    redacted = Redactor([]).url(url)
    assert redacted == ("https://t.example/api/issues?page=2" + "".join(
        f"&{name}=%5BREDACTED%5D" for name in ["API_KEY", "Token", "access_token", "password", "secret", "key",
                                               "apikey"]))


def test_a_url_keeps_other_parameters_and_empty_values() -> None:
    assert Redactor(["s3cret"]).url("https://t.example/a?q=open&empty=&flag=") == \
        "https://t.example/a?q=open&empty=&flag="


def test_a_url_hides_a_stored_secret_in_its_path_too() -> None:
    assert Redactor(["tenant-s3cret"]).url("https://t.example/hooks/tenant-s3cret/issues?x=1") == \
        f"https://t.example/hooks/{REDACTED}/issues?x=1"


def test_a_percent_encoded_secret_is_hidden_in_the_query_and_the_path() -> None:
    redactor = Redactor(["p@ss word/1"])
    assert redactor.url("https://t.example/u/p%40ss%20word%2F1/x?pw=p%40ss+word%2F1&n=1") == \
        f"https://t.example/u/{REDACTED}/x?pw=%5BREDACTED%5D&n=1"


def test_a_secret_used_as_a_query_parameter_name_is_hidden() -> None:
    assert Redactor(["s3cret"]).url("https://t.example/a?s3cret=1") == "https://t.example/a?%5BREDACTED%5D=1"


def test_a_secret_is_replaced_whole_even_when_a_shorter_one_sorts_after_it() -> None:
    """``bcde`` sorts after ``abcdefg`` but lies inside it: the longer one must go first."""
    assert Redactor(["bcde", "abcdefg"]).text("id abcdefg") == f"id {REDACTED}"


def test_a_short_secret_that_begins_a_longer_short_one_leaves_nothing_of_it() -> None:
    assert Redactor(["a", "a b"]).text("x a b y") == f"x {REDACTED} y"


def test_several_short_secrets_are_each_redacted() -> None:
    assert Redactor(["bob", "amy"]).text("bob and amy") == f"{REDACTED} and {REDACTED}"


def test_a_form_encoded_secret_keeping_its_slashes_is_hidden() -> None:
    """``quote_plus(secret, safe="/")``: spaces as ``+``, slashes as they are."""
    assert Redactor(["pa ss/word"]).text("token=pa+ss/word&x=1") == f"token={REDACTED}&x=1"


def test_a_url_that_cannot_be_parsed_is_shown_without_its_query() -> None:
    """A bracketed host that is no IP address makes ``urlsplit`` raise; the path is still redacted."""
    assert Redactor(["s3cret"]).url("http://[not-an-ip]/p/s3cret?token=abc?x=1") == \
        f"http://[not-an-ip]/p/{REDACTED}?{REDACTED}"


def test_a_url_that_cannot_be_parsed_and_has_no_query_keeps_its_end() -> None:
    assert Redactor(["s3cret"]).url("http://[not-an-ip]/p/s3cret") == f"http://[not-an-ip]/p/{REDACTED}"


def test_a_redactor_sent_to_the_log_writer_process_redacts_as_the_original() -> None:
    original = Redactor(["s3cret-token-value-0042", "k9x"])
    copy = pickle.loads(pickle.dumps(original))
    text = "token=s3cret-token-value-0042&key=k9x&word=k9xylophone, s3cret-token-value-0042%20"
    assert copy.text(text) == original.text(text) != text
    assert "k9xylophone" in copy.text(text)  # a short secret only as a whole word
    assert pickle.loads(pickle.dumps(Redactor(["s3cret-token-value-0042", "k9x"]))) is copy  # one per set of secrets
