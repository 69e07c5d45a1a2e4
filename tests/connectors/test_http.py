"""SSRF rules of connector HTTP clients, checked against a real server on 127.0.0.1."""

from __future__ import annotations

import datetime
import http.server
import ipaddress
import socket
import ssl
import threading

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from django.core.exceptions import ImproperlyConfigured
from django.test import override_settings

from connectors.errors import ConfigurationError, TransientError, classify_http
from connectors.http import (
    AddressPolicy,
    UnsafeURLError,
    build_http_client,
    non_public_reason,
    validate_base_url,
)

PUBLIC_IP = "93.184.215.14"
_real_getaddrinfo = socket.getaddrinfo


class _Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802  # the name http.server calls
        self.server.seen.append((self.path, self.headers.get("Host")))
        if self.path.startswith("/redirect"):
            self.send_response(302)
            self.send_header("Location", "/landed")
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        body = b"ok"
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format, *args):  # keep test output quiet
        pass


@pytest.fixture
def server():
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    httpd.seen = []
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield httpd
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture
def fake_dns(monkeypatch):
    """Names resolve to the addresses queued for them, one answer per lookup;
    anything else goes to the real resolver. Records every name asked."""
    answers: dict[str, list[list[str]]] = {}
    asked: list[str] = []

    def getaddrinfo(host, port, family=0, type=0, proto=0, flags=0):
        asked.append(host)
        if host not in answers:
            return _real_getaddrinfo(host, port, family, type, proto, flags)
        queue = answers[host]
        addresses = queue.pop(0) if len(queue) > 1 else queue[0]
        result = []
        for address in addresses:
            if ipaddress.ip_address(address).version == 6:
                result.append((socket.AF_INET6, socket.SOCK_STREAM, 6, "", (address, port, 0, 0)))
            else:
                result.append((socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, port)))
        return result

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)

    def answer(host: str, *responses: list[str]) -> None:
        answers[host] = list(responses)

    answer.asked = asked
    return answer


def test_it_refuses_loopback_unless_allowed(server):
    url = f"http://127.0.0.1:{server.server_port}"
    with (
        build_http_client(url, allowed_private=[]) as client,
        pytest.raises(UnsafeURLError, match="loopback"),
    ):
        client.get("/")
    assert server.seen == []

    with build_http_client(url, allowed_private=["127.0.0.1"]) as client:
        response = client.get("/hello")
    assert response.status_code == 200 and response.text == "ok"
    assert server.seen == [("/hello", f"127.0.0.1:{server.server_port}")]


def test_it_reads_the_allow_list_from_settings(server):
    url = f"http://127.0.0.1:{server.server_port}"
    with (
        override_settings(REVOPS_CONNECTOR_ALLOWED_PRIVATE_NETWORKS=["127.0.0.1"]),
        build_http_client(url) as client,
    ):
        assert client.get("/").status_code == 200
    with (
        override_settings(REVOPS_CONNECTOR_ALLOWED_PRIVATE_NETWORKS=[]),
        build_http_client(url) as client,
        pytest.raises(UnsafeURLError),
    ):
        client.get("/")


def test_it_allows_a_cidr(server):
    with build_http_client(
        f"http://127.0.0.1:{server.server_port}", allowed_private=["127.0.0.0/8"]
    ) as client:
        assert client.get("/").status_code == 200
    with (
        build_http_client(f"http://127.0.0.1:{server.server_port}", allowed_private=["10.0.0.0/8"]) as client,
        pytest.raises(UnsafeURLError, match="127.0.0.1 is a loopback address"),
    ):
        client.get("/")


def test_it_connects_to_the_checked_address_and_keeps_the_host_name(server, fake_dns):
    fake_dns("billing.internal.test", ["127.0.0.1"])
    url = f"http://billing.internal.test:{server.server_port}"

    with build_http_client(url, allowed_private=["127.0.0.0/8"]) as client:
        assert client.get("/a").status_code == 200

    assert server.seen == [("/a", f"billing.internal.test:{server.server_port}")]
    assert fake_dns.asked.count("billing.internal.test") == 1  # resolved once, at connect time


def test_it_allows_a_listed_host_name_whatever_it_resolves_to(server, fake_dns):
    fake_dns("localstripe", ["127.0.0.1"])
    with build_http_client(
        f"http://localstripe:{server.server_port}", allowed_private=["localstripe"]
    ) as client:
        assert client.get("/").status_code == 200


def test_it_refuses_a_redirect_instead_of_following_it(server):
    with build_http_client(f"http://127.0.0.1:{server.server_port}", allowed_private=["127.0.0.1"]) as client:
        response = client.get("/redirect")

    assert response.status_code == 302
    assert response.headers["location"] == "/landed"
    assert server.seen == [("/redirect", f"127.0.0.1:{server.server_port}")]  # /landed never asked
    error = classify_http(response)
    assert isinstance(error, ConfigurationError) and "redirects are not followed" in error.message


def test_it_refuses_plain_http_to_a_public_name(fake_dns):
    fake_dns("api.vendor.test", [PUBLIC_IP])
    with pytest.raises(UnsafeURLError, match="connectors use https"):
        validate_base_url("http://api.vendor.test/v1", allowed_private=[])
    with pytest.raises(UnsafeURLError, match="connectors use https"):
        validate_base_url("http://api.vendor.test/v1", allowed_private=["10.0.0.0/8"])
    with (
        build_http_client("http://api.vendor.test", allowed_private=["10.0.0.0/8"]) as client,
        pytest.raises(UnsafeURLError, match=r"http://api\.vendor\.test is refused"),
    ):
        client.get("/")
    assert (
        validate_base_url(" https://api.vendor.test/v1 ", allowed_private=[]) == "https://api.vendor.test/v1"
    )


def test_it_checks_again_at_connect_time_against_dns_rebinding(fake_dns):
    fake_dns("rebind.vendor.test", [PUBLIC_IP], ["127.0.0.1"])
    url = "https://rebind.vendor.test"
    assert validate_base_url(url, allowed_private=[]) == url  # the first answer was public

    with (
        build_http_client(url, allowed_private=[]) as client,
        pytest.raises(
            UnsafeURLError, match=r"rebind\.vendor\.test resolves to 127\.0\.0\.1, which is a loopback"
        ),
    ):
        client.get("/v1/customers")


def test_it_refuses_a_name_with_any_private_address(fake_dns):
    fake_dns("mixed.vendor.test", [PUBLIC_IP, "10.1.2.3"])
    with pytest.raises(UnsafeURLError, match="10.1.2.3, which is a private address"):
        validate_base_url("https://mixed.vendor.test", allowed_private=[])
    assert validate_base_url("https://mixed.vendor.test", allowed_private=["10.0.0.0/8"])


def test_it_gives_the_precise_message_for_a_private_ip():
    with pytest.raises(UnsafeURLError) as raised:
        validate_base_url("https://10.0.0.5/api", allowed_private=[])
    assert str(raised.value) == (
        "10.0.0.5 is a private address; connectors may only reach public addresses unless "
        "REVOPS_CONNECTOR_ALLOWED_PRIVATE_NETWORKS allows it"
    )


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("https://[::1]/", "::1 is a loopback address"),
        ("https://[::ffff:127.0.0.1]/", "loopback"),
        ("https://[::ffff:10.0.0.5]/", "private"),
        ("https://[fe80::1]/", "link-local"),
        ("https://169.254.169.254/latest/meta-data", "link-local"),
        ("https://0.0.0.0/", "unspecified"),
        ("https://100.64.0.1/", "shared"),
        ("https://224.0.0.1/", "multicast"),
        ("https://[2002:7f00:1::1]/", "loopback"),  # 6to4 wrapping 127.0.0.1
        ("https://[64:ff9b::a00:5]/", "private"),  # NAT64 wrapping 10.0.0.5
    ],
)
def test_it_refuses_non_public_addresses(url, reason):
    with pytest.raises(UnsafeURLError, match=reason):
        validate_base_url(url, allowed_private=[])


def test_it_refuses_ipv6_loopback_at_connect_time():
    with (
        build_http_client("https://[::1]:8443", allowed_private=[]) as client,
        pytest.raises(UnsafeURLError, match="::1 is a loopback address"),
    ):
        client.get("/")


def test_it_applies_the_rules_to_absolute_urls_too(server):
    with (
        build_http_client(f"http://127.0.0.1:{server.server_port}", allowed_private=["127.0.0.1"]) as client,
        pytest.raises(UnsafeURLError, match="169.254.169.254 is a link-local address"),
    ):
        client.get("https://169.254.169.254/latest/meta-data")
        with pytest.raises(UnsafeURLError, match="connectors use https"):
            client.get("http://93.184.215.14/")


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("ftp://example.com/", "ftp URLs are not allowed"),
        ("https://user:pw@example.com/", "passwords in the URL"),
        ("https:///nohost", "no host"),
    ],
)
def test_it_refuses_malformed_urls(url, message):
    with pytest.raises(UnsafeURLError, match=message):
        validate_base_url(url, allowed_private=[])
    with pytest.raises(UnsafeURLError, match=message):
        build_http_client(url, allowed_private=[])


def test_it_reports_an_unresolvable_name(fake_dns, monkeypatch):
    def no_such_host(*args, **kwargs):
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    monkeypatch.setattr(socket, "getaddrinfo", no_such_host)
    with pytest.raises(UnsafeURLError, match="could not be resolved"):
        validate_base_url("https://nowhere.vendor.test", allowed_private=[])
    with (
        build_http_client("https://nowhere.vendor.test", allowed_private=[]) as client,
        pytest.raises(httpx.ConnectError) as raised,
    ):
        client.get("/")
    assert isinstance(classify_http(raised.value), TransientError)  # DNS may come back


def test_it_rejects_a_malformed_allow_list_entry():
    with pytest.raises(ImproperlyConfigured, match="10.0.0.0/33"):
        AddressPolicy.from_entries(["10.0.0.0/33"])
    policy = AddressPolicy.from_entries(["[::1]", "LocalStripe.", "192.168.0.0/16"])
    assert policy.allows_name("localstripe")
    assert policy.allows_address(ipaddress.ip_address("::1"))
    assert policy.allows_address(ipaddress.ip_address("::ffff:192.168.1.1"))


def test_it_knows_public_from_non_public():
    assert non_public_reason(ipaddress.ip_address(PUBLIC_IP)) is None
    assert non_public_reason(ipaddress.ip_address("2606:4700:4700::1111")) is None
    assert non_public_reason(ipaddress.ip_address("192.168.1.1")) == "private"
    assert non_public_reason(ipaddress.ip_address("2001:db8::1")) is not None  # documentation range


def _self_signed(tmp_path, name):
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return cert_path, key_path


def test_it_sends_the_host_name_as_sni_and_refuses_an_untrusted_certificate(tmp_path, fake_dns):
    cert_path, key_path = _self_signed(tmp_path, "tls.vendor.test")
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert_path, key_path)
    sni_seen: list[str | None] = []
    context.sni_callback = lambda sock, name, ctx: sni_seen.append(name)
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]

    def serve_one():
        conn, _ = listener.accept()
        try:
            context.wrap_socket(conn, server_side=True).close()
        except (ssl.SSLError, OSError):
            pass  # the client refuses the certificate mid-handshake
        finally:
            conn.close()

    thread = threading.Thread(target=serve_one, daemon=True)
    thread.start()
    fake_dns("tls.vendor.test", ["127.0.0.1"])
    try:
        with (
            build_http_client(f"https://tls.vendor.test:{port}", allowed_private=["127.0.0.1"]) as client,
            pytest.raises(httpx.ConnectError) as raised,
        ):
            client.get("/")
    finally:
        thread.join(timeout=5)
        listener.close()

    assert sni_seen == ["tls.vendor.test"]  # connected to 127.0.0.1, spoke TLS to the name
    error = classify_http(raised.value)
    assert isinstance(error, ConfigurationError) and "certificate" in error.message
