"""The gateway process's heap and Python's cyclic garbage collector.

A full collection walks every object the collector tracks. In a served gateway most of them are
what start-up built (imported modules, the connector registry, compiled mappings, the downstream
transport): ~180k objects that live as long as the process, walked again by each full collection,
~0.1-0.25 s on a 2-core VM, every few hundred list requests (``docs/benchmarks.md``, "The gateway's
own CPU against a hand-written floor"). :func:`settle` collects start-up's garbage and then freezes
what is left (``gc.freeze``): those objects are left out of every later collection, which then
walk only what requests made. Called once by ``unigate serve``, after the transport is imported.
"""

from __future__ import annotations

import gc


def settle() -> None:
    """Collect the garbage made so far, then leave every surviving object out of later collections."""
    gc.collect()
    gc.freeze()
