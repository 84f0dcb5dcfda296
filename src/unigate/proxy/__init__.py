"""The Proxy API (``/proxy``): a call to the connection's own tracker with its credentials injected.

``call`` runs it; ``target`` decides where it may go (the connection's origin only); ``headers``
what it carries each way.
"""

from unigate.proxy.call import PROXY_PATH, proxy

__all__ = ["PROXY_PATH", "proxy"]
