"""Template filters: `|int`, `|str` and `|origin`."""

from __future__ import annotations

import pytest

from unigate.mapping.template import TemplateError, compile_template


def test_origin_filter_keeps_scheme_host_and_port() -> None:
    context = {"settings": {"base_url": "http://localhost:8917/demo/"}}
    assert compile_template("{settings.base_url|origin}").render(context) == "http://localhost:8917"


def test_origin_filter_refuses_a_relative_url() -> None:
    with pytest.raises(TemplateError, match="absolute URL"):
        compile_template("{settings.base_url|origin}").render({"settings": {"base_url": "demo"}})


def test_int_filter_turns_the_type() -> None:
    assert compile_template("{collection_id|int}").render({"collection_id": "42"}) == 42
