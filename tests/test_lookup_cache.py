"""LookupCache: per-connection reference lists with a time limit and a bound."""

from __future__ import annotations

from unigate.connector.lookups import LookupCache


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def key(connection: str = "c1", revision: int = 1, call_id: str = "statuses") -> tuple:
    return (connection, revision, call_id, "/statuses", ())


def test_a_list_is_served_until_its_ttl_passes() -> None:
    clock = Clock()
    cache = LookupCache(clock=clock)
    cache.put(key(), [{"id": 1}], ttl=60)
    clock.now += 59
    assert cache.get(key()) == [{"id": 1}]
    clock.now += 2
    assert cache.get(key()) is None


def test_connections_and_revisions_do_not_share_lists() -> None:
    cache = LookupCache()
    cache.put(key(), [{"id": 1}], ttl=60)
    assert cache.get(key(connection="c2")) is None
    assert cache.get(key(revision=2)) is None


def test_forget_drops_one_call_of_one_connection() -> None:
    cache = LookupCache()
    cache.put(key(), [{"id": 1}], ttl=60)
    cache.put(key(call_id="keywords"), [{"id": 2}], ttl=60)
    cache.put(key(connection="c2"), [{"id": 3}], ttl=60)
    cache.forget("c1", "statuses")
    assert cache.get(key()) is None
    assert cache.get(key(call_id="keywords")) == [{"id": 2}]
    assert cache.get(key(connection="c2")) == [{"id": 3}]


def test_the_oldest_entry_goes_past_the_bound() -> None:
    cache = LookupCache(max_entries=2)
    for n in range(3):
        cache.put(key(connection=f"c{n}"), [{"id": n}], ttl=60)
    assert len(cache) == 2
    assert cache.get(key(connection="c0")) is None
    assert cache.get(key(connection="c2")) == [{"id": 2}]
