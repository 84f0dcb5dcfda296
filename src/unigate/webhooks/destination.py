"""Where a webhook may be delivered: public addresses only, unless the operator opts in (SSRF).

A ``delivery_url`` is chosen by an app, and the gateway POSTs to it from inside the operator's
network, so it is checked when a subscription is created or updated (a 400 naming
``delivery_url``) and again before every delivery:

- ``http`` or ``https``, a host, no userinfo, no whitespace, control characters or backslashes,
  no IPv6 zone; an IPv4 address only as four decimal numbers (``127.1``, ``2130706433``,
  ``0x7f.0.0.1``, ``0177.0.0.1`` are refused, as resolvers read them as loopback);
- the host is resolved and **every** address must be public (``is_global``): loopback, private,
  shared, link-local (cloud metadata at ``169.254.169.254``), reserved, unspecified and multicast
  addresses are refused, IPv4 embedded in IPv6 (``::ffff:127.0.0.1``, 6to4, Teredo, NAT64)
  judged as the IPv4 it carries;
- at delivery the connection goes to the address just checked (the URL's host replaced by it,
  ``Host`` and TLS SNI/certificate kept to the name), so a name that resolves somewhere else a
  moment later (DNS rebinding) is never connected to; redirects are not followed.

``UNIGATE_WEBHOOK_ALLOW_PRIVATE`` lets an operator's receivers on a private network through:
``1`` (or ``on``/``*``) allows loopback, private, shared and reserved addresses (link-local,
unspecified and multicast stay refused); otherwise a comma-separated list of host names (any
address they resolve to) and CIDRs (``10.1.0.0/16``, ``169.254.0.0/16``) is allowed beside the
public internet. ``unigate sandbox`` and the tests' local receivers set it.
"""

from __future__ import annotations

import asyncio
import ipaddress
import re
import socket
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import httpx

if TYPE_CHECKING:
    from unigate.settings import Settings

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Resolver = Callable[[str, int], Awaitable[list[str]]]   # (host, port) -> addresses
ANY_PRIVATE = "*"
RESOLVE_TIMEOUT = 5.0
_FORBIDDEN = re.compile(r"[\x00-\x20\x7f\\]")
_NUMERIC_LABEL = re.compile(r"^(0x[0-9a-f]*|[0-9]+)$", re.IGNORECASE)
_CANONICAL_V4 = re.compile(r"^(0|[1-9][0-9]{0,2})(\.(0|[1-9][0-9]{0,2})){3}$")
_NAT64 = ipaddress.ip_network("64:ff9b::/96")


class DestinationRefused(ValueError):
    """The delivery URL may not be called; the message says why (it names no secret)."""


async def system_resolve(host: str, port: int) -> list[str]:
    """The host's addresses from the system resolver (an IP literal is returned as is)."""
    loop = asyncio.get_running_loop()
    found = await asyncio.wait_for(loop.getaddrinfo(host, port, type=socket.SOCK_STREAM), RESOLVE_TIMEOUT)
    return list(dict.fromkeys(str(info[4][0]) for info in found))


@dataclass(frozen=True)
class Pinned:
    """A checked delivery URL and the address to connect to."""

    url: httpx.URL            # the URL with its host replaced by ``address``
    address: str
    headers: dict[str, str]   # Host: the name the app gave
    extensions: dict[str, str]


@dataclass(frozen=True)
class Egress:
    """The delivery URL policy: public addresses, plus what the operator allowed."""

    any_private: bool = False
    hosts: frozenset[str] = frozenset()
    networks: tuple[Network, ...] = ()
    resolve: Resolver = field(default=system_resolve, compare=False)

    @classmethod
    def from_settings(cls, settings: Settings, resolve: Resolver = system_resolve) -> Egress:
        return cls.parse(settings.webhook_allow_private, resolve)

    @classmethod
    def parse(cls, allowed: tuple[str, ...], resolve: Resolver = system_resolve) -> Egress:
        """``allowed``: ``*`` (any private address), host names and CIDRs."""
        hosts, networks = set(), []
        for entry in (e.strip().lower().rstrip(".") for e in allowed if e.strip()):
            if entry == ANY_PRIVATE:
                continue
            try:
                networks.append(ipaddress.ip_network(entry, strict=False))
            except ValueError:
                hosts.add(entry)
        return cls(ANY_PRIVATE in {e.strip() for e in allowed}, frozenset(hosts), tuple(networks), resolve)

    async def check(self, url: str) -> Pinned:
        """The URL pinned to its first address, once every address the host resolves to is allowed."""
        parsed = parse_url(url)
        host, port = parsed.host, parsed.port or (443 if parsed.scheme == "https" else 80)
        try:
            addresses = [ipaddress.ip_address(a.partition("%")[0]) for a in await self.resolve(host, port)]
        except (OSError, TimeoutError, ValueError) as exc:
            raise DestinationRefused(f"the host {host!r} does not resolve ({type(exc).__name__})") from None
        if not addresses:
            raise DestinationRefused(f"the host {host!r} does not resolve")
        for address in addresses:
            self.judge(host, address)
        return pin(parsed, addresses[0])

    def judge(self, host: str, address: Address) -> None:
        """Refuse ``address`` (one of ``host``'s) unless it is public or allowed."""
        for carried in embedded(address):
            if carried.is_unspecified or carried.is_multicast:
                raise DestinationRefused(f"{host!r} resolves to {address}, {kind(carried)}")
            if host.rstrip(".").lower() in self.hosts or any(carried in n for n in self.networks):
                continue
            if carried.is_global and not carried.is_reserved:
                continue
            if self.any_private and not carried.is_link_local:
                continue
            raise DestinationRefused(f"{host!r} resolves to {address}, {kind(carried)}: webhooks are delivered to "
                                     "public addresses only (the operator can allow others with "
                                     "UNIGATE_WEBHOOK_ALLOW_PRIVATE)")


def parse_url(url: str) -> httpx.URL:
    """``url`` parsed, or refused for its form (scheme, userinfo, host spelling)."""
    if _FORBIDDEN.search(url):
        raise DestinationRefused("the URL contains whitespace, a control character or a backslash")
    scheme, _, rest = url.partition(":")
    if scheme.lower() not in ("http", "https") or not rest.startswith("//"):
        raise DestinationRefused("the URL must be http:// or https://")
    if "@" in re.split(r"[/?#]", rest[2:], maxsplit=1)[0]:
        raise DestinationRefused("userinfo (user@host) is not accepted in the URL")
    try:
        parsed = httpx.URL(url)
    except (httpx.InvalidURL, ValueError, UnicodeError):
        raise DestinationRefused("the URL is not a valid URL") from None
    if not parsed.host or parsed.userinfo:
        raise DestinationRefused("the URL has no host" if not parsed.host else "userinfo is not accepted")
    check_host_spelling(parsed.host)
    return parsed


def check_host_spelling(host: str) -> None:
    """An IPv4 address only as four decimal numbers; no IPv6 zone."""
    if "%" in host:
        raise DestinationRefused("an IPv6 zone (%) is not accepted in the URL's host")
    labels = host.rstrip(".").split(".")
    if ":" not in host and _NUMERIC_LABEL.match(labels[-1]) and not _CANONICAL_V4.match(host):
        raise DestinationRefused(f"the host {host!r} reads as an IPv4 address: write it as four decimal numbers "
                                 "(a.b.c.d)")


def embedded(address: Address) -> list[Address]:
    """``address``, or the IPv4 addresses an IPv6 one carries (mapped, 6to4, Teredo, NAT64)."""
    if isinstance(address, ipaddress.IPv4Address):
        return [address]
    if address.ipv4_mapped is not None:
        return [address.ipv4_mapped]
    if address.sixtofour is not None:
        return [address, address.sixtofour]
    if address.teredo is not None:
        return [address, *address.teredo]
    if address in _NAT64:
        return [address, ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)]
    return [address]


def kind(address: Address) -> str:
    """What ``address`` is, in a refusal."""
    for label, test in (("the unspecified address", address.is_unspecified), ("multicast", address.is_multicast),
                        ("loopback", address.is_loopback),
                        ("link-local (cloud metadata lives there)", address.is_link_local),
                        ("a private address", address.is_private), ("a reserved address", address.is_reserved)):
        if test:
            return label
    return "not a public address"


def pin(url: httpx.URL, address: Address) -> Pinned:
    """``url`` to be sent to ``address``: Host header and TLS name stay the URL's host."""
    extensions = {"sni_hostname": url.host} if url.scheme == "https" else {}
    return Pinned(url.copy_with(host=str(address)), str(address), {"host": url.netloc.decode("ascii")}, extensions)


__all__ = ["DestinationRefused", "Egress", "Pinned", "embedded", "parse_url", "system_resolve"]
