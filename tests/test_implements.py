"""A connector's own implementation of an operation is declared (@implements), never found by name."""

from __future__ import annotations

import pytest

from unigate.kit import Connector, OperationContext, OperationResult, implements


def test_a_method_named_like_an_operation_must_be_declared() -> None:
    with pytest.raises(TypeError, match=r'declare it with @implements\("tickets.update"\)'):
        class Undeclared(Connector):
            async def tickets_update(self, ctx: OperationContext) -> OperationResult:
                return OperationResult({})


def test_implements_names_a_unified_operation() -> None:
    with pytest.raises(ValueError, match=r"'tickets.archive' is not a unified operation"):
        implements("tickets.archive")


def test_declared_implementations_and_their_calls_are_in_the_class_table() -> None:
    class Declared(Connector):
        @implements("comments.add", calls=("comments_add_link",))
        async def add_and_link(self, ctx: OperationContext) -> OperationResult:
            return OperationResult({"id": "1"})

    class Inherited(Declared):
        pass

    assert Declared.implementations == {("comments", "add"): Declared.add_and_link}
    assert Inherited.implementations == Declared.implementations
    assert Declared.code_call_ids == ("comments_add_link",)
    assert Connector.implementations == {}
