"""HTTP clients for connectors that cannot be pointed at internal services (SSRF).

Rules, applied to every request a client sends (not only to its base URL):
- https only; http only to a host REVOPS_CONNECTOR_ALLOWED_PRIVATE_NETWORKS lists by
  name, or whose every address lies in a network it lists;
- the host is resolved when the connection is opened, and every address must be
  public (`ipaddress` `is_global`, and not multicast/reserved; IPv4 embedded in
  IPv6 is judged as IPv4) unless the host or the address is allowed;
- the socket connects to the address that was checked, so DNS cannot change
  between the check and the connection (rebinding); TLS SNI, certificate checks
  and the Host header still use the host name;
- redirects are not followed: a 3xx comes back as the response, and
  `connectors.errors.classify_http` makes it a configuration error;
- no proxies or .netrc from the environment;
- a request sent while work runs for a flow carries its correlation id in
  `X-Correlation-ID` (`revops.correlation`), so the other system's logs join ours.

Mechanism: an httpcore `NetworkBackend` (httpcore's supported extension point for
opening connections) resolves and checks, then opens the socket to the checked
address. Our transport gives httpcore one connection pool for https and one for
http, each with a backend for that scheme's rule, and maps httpcore's exceptions to
httpx's as httpx's own transport does.

`validate_base_url` applies the same rules when a connector is saved, for a form
error; the check at connect time is the one that protects.
"""

from __future__ import annotations

import contextlib
import ipaddress
import socket
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

import httpcore
import httpx
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from connectors.errors import ConfigurationError
from revops.correlation import add_header

SETTING = "REVOPS_CONNECTOR_ALLOWED_PRIVATE_NETWORKS"

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_SHARED = ipaddress.ip_network("100.64.0.0/10")


class UnsafeURLError(ConfigurationError):
    """A connector URL or address that the SSRF rules refuse."""


def _embedded_ipv4(ip: IPAddress) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 address stands for (mapped, 6to4, Teredo, NAT64)."""
    if ip.version != 6:
        return None
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip.sixtofour is not None:
        return ip.sixtofour
    if ip.teredo is not None:
        return ip.teredo[1]
    if ip in _NAT64:
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return None


def non_public_reason(ip: IPAddress) -> str | None:
    """Why `ip` is not a public address ("private", "loopback", ...), or None if it is."""
    embedded = _embedded_ipv4(ip)
    if embedded is not None:
        reason = non_public_reason(embedded)
        if reason:
            return reason
    if ip.is_unspecified:
        return "unspecified"
    if ip.is_loopback:
        return "loopback"
    if ip.is_link_local:
        return "link-local"
    if ip.is_multicast:
        return "multicast"
    if ip.version == 4 and ip in _SHARED:
        return "shared (carrier-grade NAT)"
    if ip.is_private:
        return "private"
    if ip.is_reserved:
        return "reserved"
    if not ip.is_global:
        return "non-public"
    return None


def _strip_host(host: str) -> str:
    return host.strip().strip("[]").rstrip(".").lower()


def _ip_literal(host: str) -> IPAddress | None:
    try:
        return ipaddress.ip_address(host.split("%", 1)[0])
    except ValueError:
        return None


@dataclass(frozen=True)
class AddressPolicy:
    """The hosts and networks connectors may reach over private addresses and http."""

    hostnames: frozenset[str] = frozenset()
    networks: tuple[IPNetwork, ...] = ()

    @classmethod
    def from_entries(cls, entries: Iterable[str]) -> AddressPolicy:
        hostnames: set[str] = set()
        networks: list[IPNetwork] = []
        for raw in entries:
            entry = _strip_host(str(raw))
            if not entry:
                continue
            try:
                networks.append(ipaddress.ip_network(entry, strict=False))
            except ValueError:
                if "/" in entry or ":" in entry:
                    raise ImproperlyConfigured(
                        f"{SETTING}: {raw!r} is neither a host name, an IP nor a CIDR."
                    ) from None
                hostnames.add(entry)
        return cls(frozenset(hostnames), tuple(networks))

    @classmethod
    def from_settings(cls) -> AddressPolicy:
        return cls.from_entries(getattr(settings, SETTING, []))

    def allows_name(self, host: str) -> bool:
        return _strip_host(host) in self.hostnames

    def allows_address(self, ip: IPAddress) -> bool:
        candidates = [ip] + [e for e in [_embedded_ipv4(ip)] if e is not None]
        return any(c in net for c in candidates for net in self.networks if c.version == net.version)

    def check(self, host: str, addresses: Iterable[IPAddress], *, plain_http: bool) -> None:
        """Raise UnsafeURLError unless every address of `host` may be reached."""
        if self.allows_name(host):
            return
        literal = _ip_literal(_strip_host(host))
        for ip in addresses:
            if self.allows_address(ip):
                continue
            reason = non_public_reason(ip)
            if reason:
                subject = f"{ip} is" if literal == ip else f"{_strip_host(host)} resolves to {ip}, which is"
                raise UnsafeURLError(
                    f"{subject} a {reason} address; connectors may only reach public addresses "
                    f"unless {SETTING} allows it"
                )
            if plain_http:
                raise _plain_http_refused(host)


def _plain_http_refused(host: str) -> UnsafeURLError:
    return UnsafeURLError(
        f"http://{_strip_host(host)} is refused: connectors use https unless {SETTING} allows the host"
    )


def resolve(host: str, port: int) -> list[IPAddress]:
    """Every address `host` resolves to, in the resolver's order (an IP stays itself)."""
    literal = _ip_literal(_strip_host(host))
    if literal is not None:
        return [literal]
    infos = socket.getaddrinfo(_strip_host(host), port, type=socket.SOCK_STREAM)
    addresses: list[IPAddress] = []
    for _family, _type, _proto, _canon, sockaddr in infos:
        ip = ipaddress.ip_address(str(sockaddr[0]).split("%", 1)[0])
        if ip not in addresses:
            addresses.append(ip)
    return addresses


def _parse(url: str | httpx.URL) -> httpx.URL:
    """The URL if its shape is acceptable (scheme, host, no user info)."""
    try:
        parsed = httpx.URL(url)
    except (httpx.InvalidURL, TypeError) as exc:
        raise UnsafeURLError(f"{url!r} is not a valid URL: {exc}") from None
    if parsed.scheme not in ("http", "https"):
        raise UnsafeURLError(f"{parsed.scheme or 'scheme-less'} URLs are not allowed: connectors use https")
    if not parsed.host:
        raise UnsafeURLError(f"{str(url)!r} has no host")
    if parsed.userinfo:
        raise UnsafeURLError(
            "user names and passwords in the URL are not allowed: put them in the credentials"
        )
    return parsed


def validate_base_url(url: str, *, allowed_private: Iterable[str] | None = None) -> str:
    """`url`, stripped, if the SSRF rules let connectors reach it now; UnsafeURLError otherwise."""
    url = url.strip()
    parsed = _parse(url)
    policy = (
        AddressPolicy.from_settings()
        if allowed_private is None
        else AddressPolicy.from_entries(allowed_private)
    )
    plain_http = parsed.scheme == "http"
    try:
        addresses = resolve(parsed.host, parsed.port or (80 if plain_http else 443))
    except (OSError, UnicodeError) as exc:
        raise UnsafeURLError(f"{parsed.host} could not be resolved ({exc})") from None
    policy.check(parsed.host, addresses, plain_http=plain_http)
    return url


class _GuardedBackend(httpcore.NetworkBackend):
    """Resolves at connect time, checks every address, connects to a checked one."""

    def __init__(self, policy: AddressPolicy, *, plain_http: bool):
        self._policy = policy
        self._plain_http = plain_http
        self._sockets = httpcore.SyncBackend()

    def connect_tcp(self, host, port, timeout=None, local_address=None, socket_options=None):
        try:
            addresses = resolve(host, port)
        except (OSError, UnicodeError) as exc:
            raise httpcore.ConnectError(f"{host} could not be resolved ({exc})") from exc
        self._policy.check(host, addresses, plain_http=self._plain_http)
        last_error: Exception | None = None
        for ip in addresses:
            try:
                return self._sockets.connect_tcp(
                    str(ip), port, timeout=timeout, local_address=local_address, socket_options=socket_options
                )
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                last_error = exc
        raise last_error or httpcore.ConnectError(f"{host} has no address")

    def connect_unix_socket(self, path, timeout=None, socket_options=None):
        raise UnsafeURLError("connectors do not connect to unix sockets")

    def sleep(self, seconds: float) -> None:
        self._sockets.sleep(seconds)


# Most specific first: the first match wins.
_EXCEPTIONS: tuple[tuple[type[Exception], type[httpx.HTTPError]], ...] = (
    (httpcore.ConnectTimeout, httpx.ConnectTimeout),
    (httpcore.ReadTimeout, httpx.ReadTimeout),
    (httpcore.WriteTimeout, httpx.WriteTimeout),
    (httpcore.PoolTimeout, httpx.PoolTimeout),
    (httpcore.TimeoutException, httpx.TimeoutException),
    (httpcore.ConnectError, httpx.ConnectError),
    (httpcore.ReadError, httpx.ReadError),
    (httpcore.WriteError, httpx.WriteError),
    (httpcore.NetworkError, httpx.NetworkError),
    (httpcore.ProxyError, httpx.ProxyError),
    (httpcore.UnsupportedProtocol, httpx.UnsupportedProtocol),
    (httpcore.LocalProtocolError, httpx.LocalProtocolError),
    (httpcore.RemoteProtocolError, httpx.RemoteProtocolError),
    (httpcore.ProtocolError, httpx.ProtocolError),
)


@contextlib.contextmanager
def _httpx_exceptions() -> Iterator[None]:
    try:
        yield
    except Exception as exc:
        for core, mapped in _EXCEPTIONS:
            if isinstance(exc, core):
                raise mapped(str(exc)) from exc
        raise


class _ResponseStream(httpx.SyncByteStream):
    def __init__(self, stream: Iterable[bytes]):
        self._stream = stream

    def __iter__(self) -> Iterator[bytes]:
        with _httpx_exceptions():
            yield from self._stream

    def close(self) -> None:
        close = getattr(self._stream, "close", None)
        if close is not None:
            close()


class GuardedTransport(httpx.BaseTransport):
    """An httpx transport whose connections obey the SSRF rules of this module."""

    def __init__(self, policy: AddressPolicy, *, limits: httpx.Limits | None = None):
        limits = limits or httpx.Limits(
            max_connections=20, max_keepalive_connections=10, keepalive_expiry=5.0
        )
        pool_options = {
            "max_connections": limits.max_connections,
            "max_keepalive_connections": limits.max_keepalive_connections,
            "keepalive_expiry": limits.keepalive_expiry,
        }
        self._pools = {
            b"https": httpcore.ConnectionPool(
                ssl_context=httpx.create_ssl_context(),
                network_backend=_GuardedBackend(policy, plain_http=False),
                **pool_options,
            ),
            b"http": httpcore.ConnectionPool(
                network_backend=_GuardedBackend(policy, plain_http=True), **pool_options
            ),
        }

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        pool = self._pools.get(request.url.raw_scheme)
        if pool is None:
            raise UnsafeURLError(f"{request.url.scheme} URLs are not allowed: connectors use https")
        assert isinstance(request.stream, httpx.SyncByteStream)
        core_request = httpcore.Request(
            method=request.method,
            url=httpcore.URL(
                scheme=request.url.raw_scheme,
                host=request.url.raw_host,
                port=request.url.port,
                target=request.url.raw_path,
            ),
            headers=request.headers.raw,
            content=request.stream,
            extensions=request.extensions,
        )
        with _httpx_exceptions():
            response = pool.handle_request(core_request)
        return httpx.Response(
            status_code=response.status,
            headers=response.headers,
            stream=_ResponseStream(response.stream),
            extensions=response.extensions,
        )

    def close(self) -> None:
        for pool in self._pools.values():
            pool.close()


def build_http_client(
    base_url: str,
    *,
    timeout: float = 20.0,
    headers: dict[str, str] | None = None,
    allowed_private: Iterable[str] | None = None,
) -> httpx.Client:
    """An httpx client for `base_url` that enforces the SSRF rules on every request.
    `allowed_private` replaces REVOPS_CONNECTOR_ALLOWED_PRIVATE_NETWORKS when given."""
    _parse(base_url)
    policy = (
        AddressPolicy.from_settings()
        if allowed_private is None
        else AddressPolicy.from_entries(allowed_private)
    )
    return httpx.Client(
        base_url=base_url,
        timeout=timeout,
        headers=headers,
        follow_redirects=False,
        trust_env=False,
        transport=GuardedTransport(policy),
        event_hooks={"request": [add_header]},
    )
