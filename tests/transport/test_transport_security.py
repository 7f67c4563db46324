"""Connecting securely: passwords, tokens and TLS against real servers; secrets never shown."""

from __future__ import annotations

import datetime as dt
import ipaddress
import logging
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from grid_events import ConfigurationError, GridApplication
from grid_events.transport import EmbeddedNatsServer, NatsAuthenticationError, NatsSettings, OutboxRelay, connect

from .transport_helpers import EventWriter, assert_stream_is_the_store, fast_relay_settings, read_stream

PASSWORD = "pw-Зелёный-7f3a"  # noqa: S105 (a test server's password)
TOKEN = "tok-9d1c2b7e"  # noqa: S105 (a test server's token)
WRONG_PASSWORD = "wrong-password"  # noqa: S105 (refused on purpose)


def test_the_repr_shows_that_secrets_are_set_never_what_they_are() -> None:
    """Passwords, tokens and passwords inside URLs stay out of repr."""
    settings = NatsSettings(servers=("nats://admin:hunter2@nats.example:4222",), user="relay", password=PASSWORD)
    with_token = NatsSettings(token=TOKEN)

    shown = repr(settings) + repr(with_token)

    assert PASSWORD not in shown
    assert TOKEN not in shown
    assert "hunter2" not in shown
    assert "password='***'" in shown
    assert "nats://***@nats.example:4222" in shown


def test_settings_are_read_from_the_environment(tmp_path: Path) -> None:
    """Servers, user and a password kept in a file come from GRID_EVENTS_NATS_* variables."""
    secret = tmp_path / "nats-password"
    secret.write_text(PASSWORD + "\n")

    settings = NatsSettings.from_environ(
        {
            "GRID_EVENTS_NATS_URL": "nats://a:4222, nats://b:4222",
            "GRID_EVENTS_NATS_USER": "relay",
            "GRID_EVENTS_NATS_PASSWORD_FILE": str(secret),
            "GRID_EVENTS_NATS_TLS_CA": str(tmp_path / "ca.pem"),
        }
    )

    assert ("nats://a:4222", "nats://b:4222") == settings.servers
    assert PASSWORD == settings.password
    assert settings.uses_tls
    assert -1 == settings.max_reconnect_attempts


@pytest.mark.parametrize(
    "arguments",
    [
        {"user": "relay", "password": PASSWORD, "token": TOKEN},
        {"user": "relay"},
        {"tls_cert_file": "client.pem"},
        {"servers": ("http://nats.example",)},
        {"servers": ()},
    ],
    ids=["two-methods", "user-without-password", "cert-without-key", "bad-scheme", "no-server"],
)
def test_contradictory_settings_are_refused(arguments: dict[str, object]) -> None:
    """Two ways to authenticate, half a credential, or a URL that is not NATS are configuration errors."""
    with pytest.raises(ConfigurationError):
        NatsSettings(**arguments)  # type: ignore[arg-type]


@pytest.mark.asyncio
async def test_user_and_password_authentication(
    tmp_path: Path, sqlite_app: GridApplication, caplog: pytest.LogCaptureFixture
) -> None:
    """A server requiring a password accepts the relay with it, refuses a wrong one, and no log shows it."""
    caplog.set_level(logging.DEBUG, logger="grid_events.transport")
    with EmbeddedNatsServer(tmp_path / "nats", extra_args=("--user", "relay", "--pass", PASSWORD)) as server:
        good = NatsSettings(servers=(server.url,), user="relay", password=PASSWORD, reconnect_time_wait=0.05)
        bad = NatsSettings(servers=(server.url,), user="relay", password=WRONG_PASSWORD, reconnect_time_wait=0.05)

        await relay_some_events(sqlite_app, good, server.url, user="relay", password=PASSWORD)
        with pytest.raises(NatsAuthenticationError):
            await connect(bad)

    assert PASSWORD not in caplog.text
    assert WRONG_PASSWORD not in caplog.text


@pytest.mark.asyncio
async def test_token_authentication(tmp_path: Path, sqlite_app: GridApplication) -> None:
    """A server requiring a token accepts the relay with it and refuses a client without it."""
    with EmbeddedNatsServer(tmp_path / "nats", extra_args=("--auth", TOKEN)) as server:
        await relay_some_events(sqlite_app, NatsSettings(servers=(server.url,), token=TOKEN), server.url, token=TOKEN)
        with pytest.raises(NatsAuthenticationError):
            await connect(NatsSettings(servers=(server.url,), reconnect_time_wait=0.05))


@pytest.mark.asyncio
async def test_tls_with_a_private_ca_and_client_certificates(tmp_path: Path, sqlite_app: GridApplication) -> None:
    """Over mutual TLS the relay verifies the server by our CA and proves itself with its certificate."""
    pki = make_pki(tmp_path / "pki")
    arguments = (
        *("--tls", "--tlscert", str(pki["server.pem"]), "--tlskey", str(pki["server.key"])),
        *("--tlsverify", "--tlscacert", str(pki["ca.pem"])),
    )
    with EmbeddedNatsServer(tmp_path / "nats", extra_args=arguments, scheme="tls") as server:
        settings = NatsSettings(
            servers=(server.url,),
            tls_ca_file=pki["ca.pem"],
            tls_cert_file=pki["client.pem"],
            tls_key_file=pki["client.key"],
            reconnect_time_wait=0.05,
        )
        await relay_some_events(sqlite_app, settings, server.url, tls=settings.ssl_context())

        without_our_ca = NatsSettings(servers=(server.url,), tls=True, reconnect_time_wait=0.05)
        with pytest.raises(Exception, match="CERTIFICATE_VERIFY_FAILED"):
            await connect(without_our_ca)


async def relay_some_events(app: GridApplication, settings: NatsSettings, url: str, **credentials: Any) -> None:
    """Relay a few events with *settings* and check the stream, reading it with *credentials*."""
    last = EventWriter(app).write(30)
    async with OutboxRelay(app, fast_relay_settings(settings)) as relay:
        await relay.wait_published(last, timeout=10)
    assert_stream_is_the_store(await read_stream(url, **credentials), app.recorder)


def make_pki(directory: Path) -> dict[str, Path]:
    """Write a CA, a server certificate for 127.0.0.1 and a client certificate, all signed by the CA."""
    directory.mkdir()
    now = dt.datetime.now(dt.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "grid-events test CA")])
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=False,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .sign(ca_key, hashes.SHA256())
    )
    files = {"ca.pem": ca.public_bytes(serialization.Encoding.PEM)}
    for name, usage, alternative in (
        ("server", ExtendedKeyUsageOID.SERVER_AUTH, x509.IPAddress(ipaddress.ip_address("127.0.0.1"))),
        ("client", ExtendedKeyUsageOID.CLIENT_AUTH, x509.DNSName("relay.grid-events.test")),
    ):
        key = ec.generate_private_key(ec.SECP256R1())
        certificate = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)]))
            .issuer_name(ca_name)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(minutes=5))
            .not_valid_after(now + dt.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([alternative]), critical=False)
            .add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
            .sign(ca_key, hashes.SHA256())
        )
        files[f"{name}.pem"] = certificate.public_bytes(serialization.Encoding.PEM)
        files[f"{name}.key"] = key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    paths = {}
    for file_name, content in files.items():
        path = directory / file_name
        path.write_bytes(content)
        path.chmod(0o600)
        paths[file_name] = path
    return paths
