"""Who is on the other end: the direct peer's address, or, when that peer is a trusted proxy,
the address the proxies name in ``X-Forwarded-For``.

The header is read from the right: each proxy appends the address it received the request
from, so the right-most address that is not itself a trusted proxy is the first one that no
trusted party vouches for, which is the client. Anything left of it may be made up by the
client. From a peer that is not a trusted proxy the header is ignored: anyone can send it.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network

UNKNOWN = "unknown"
"""The address of a request that has no peer (ASGI servers that do not say)."""


def _ip(text: str) -> IPv4Address | IPv6Address | None:
    """``text`` as an IP address, also with a port (``1.2.3.4:80``, ``[::1]:80``); IPv4
    addresses mapped into IPv6 come back as IPv4. None if it is no address."""
    text = text.strip()
    if text.startswith("["):
        text = text[1:].partition("]")[0]
    elif text.count(":") == 1:
        text = text.partition(":")[0]
    try:
        ip = ipaddress.ip_address(text)
    except ValueError:
        return None
    if isinstance(ip, IPv6Address) and ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    return ip


class ClientAddress:
    """Resolves a request's client address given the trusted proxies.

    >>> ClientAddress(["10.0.0.0/8"]).of("10.0.0.2", ["6.6.6.6, 203.0.113.7, 10.0.0.9"])
    '203.0.113.7'
    >>> ClientAddress([]).of("198.51.100.4", ["203.0.113.7"])
    '198.51.100.4'
    """

    def __init__(self, trusted_proxies: Iterable[str]) -> None:
        self.networks: tuple[IPv4Network | IPv6Network, ...] = tuple(
            ipaddress.ip_network(entry, strict=False) for entry in trusted_proxies
        )

    def trusts(self, address: str) -> bool:
        """Whether ``address`` is one of the trusted proxies."""
        ip = _ip(address)
        return ip is not None and any(ip in network for network in self.networks)

    def of(self, peer: str | None, forwarded_for: Iterable[str]) -> str:
        """The client address of a request from ``peer`` carrying the ``X-Forwarded-For``
        header values ``forwarded_for`` (in the order received)."""
        if not peer:
            return UNKNOWN
        if not self.trusts(peer):
            return _canonical(peer)
        hops = [hop.strip() for value in forwarded_for for hop in value.split(",")]
        hops = [hop for hop in hops if hop]
        for hop in reversed(hops):
            if not self.trusts(hop):
                return _canonical(hop)
        return _canonical(hops[0]) if hops else _canonical(peer)


def _canonical(address: str) -> str:
    """One spelling per address (``::ffff:10.0.0.1`` is ``10.0.0.1``); not an address: as
    given, cut to 100 characters (a proxy wrote it; it still keys one client)."""
    ip = _ip(address)
    return str(ip) if ip is not None else address.strip()[:100]
