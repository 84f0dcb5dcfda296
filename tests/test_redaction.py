"""``Redactor`` on its own: which values it hides, in text, in nested bodies and in URLs.

Through the gateway (``_raw``, error details, log lines) it is covered by tests/test_secrets.py
and tests/test_secrets_in_query.py; here each rule is pinned down on plain values.
"""

from __future__ import annotations

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


def test_empty_and_shorter_than_four_character_values_are_not_treated_as_secrets() -> None:
    redactor = Redactor(["", "abc", "abcd"])
    assert redactor.secrets == ["abcd"]
    assert redactor.text("abc abcd") == f"abc {REDACTED}"


def test_nested_bodies_are_redacted_in_every_string_of_lists_and_dicts() -> None:
    body = {"token": "s3cret", "items": [{"note": "uses s3cret"}, "s3cret"], "count": 3, "ok": True, "none": None}
    assert Redactor(["s3cret"]).deep(body) == {"token": REDACTED, "items": [{"note": f"uses {REDACTED}"}, REDACTED],
                                                "count": 3, "ok": True, "none": None}


def test_dict_keys_are_kept_as_they_are() -> None:
    assert Redactor(["s3cret"]).deep({"s3cret": "value"}) == {"s3cret": "value"}


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
    assert Redactor([]).url("https://t.example/a?q=open&empty=&flag=") == "https://t.example/a?q=open&empty=&flag="


def test_a_url_hides_a_stored_secret_in_its_path_too() -> None:
    assert Redactor(["tenant-s3cret"]).url("https://t.example/hooks/tenant-s3cret/issues?x=1") == \
        f"https://t.example/hooks/{REDACTED}/issues?x=1"
