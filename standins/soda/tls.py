"""Self-signed certificate for the stand-in's HTTPS side (socrata-py only speaks https)."""

from __future__ import annotations

import datetime as dt
import ipaddress
import logging
import ssl
import subprocess
from pathlib import Path

LOG = logging.getLogger("standins.soda.tls")


def ensure_certificate(directory: Path, host: str) -> tuple[Path, Path] | None:
    """Create (once) a self-signed certificate valid for localhost/127.0.0.1/``host``.

    Args:
        directory: Where ``cert.pem`` and ``key.pem`` are kept.
        host: The host the server binds to (added to the subject alternative names).

    Returns:
        ``(cert_path, key_path)``, or ``None`` if neither ``cryptography`` nor the
        ``openssl`` CLI is available (the server then speaks plain HTTP only).
    """
    directory.mkdir(parents=True, exist_ok=True)
    cert, key = directory / "cert.pem", directory / "key.pem"
    if cert.exists() and key.exists():
        return cert, key
    try:
        _with_cryptography(cert, key, host)
    except ImportError:
        try:
            _with_openssl(cert, key, host)
        except (OSError, subprocess.CalledProcessError):
            LOG.warning("no TLS: neither cryptography nor openssl is available")
            return None
    return cert, key


def _names(host: str) -> tuple[list[str], list[str]]:
    dns, ips = ["localhost"], ["127.0.0.1", "::1"]
    try:
        ipaddress.ip_address(host)
        if host not in ips and host not in ("0.0.0.0", "::"):
            ips.append(host)
    except ValueError:
        if host not in dns:
            dns.append(host)
    return dns, ips


def _with_cryptography(cert: Path, key: Path, host: str) -> None:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    private_key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "soda-standin.local")])
    dns, ips = _names(host)
    alt = [x509.DNSName(d) for d in dns] + [x509.IPAddress(ipaddress.ip_address(i)) for i in ips]
    now = dt.datetime.now(dt.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(private_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=3650))
        .add_extension(x509.SubjectAlternativeName(alt), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(private_key, hashes.SHA256())
    )
    key.write_bytes(
        private_key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    key.chmod(0o600)
    cert.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))


def _with_openssl(cert: Path, key: Path, host: str) -> None:
    dns, ips = _names(host)
    san = ",".join([f"DNS:{d}" for d in dns] + [f"IP:{i}" for i in ips])
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
            "-days",
            "3650",
            "-subj",
            "/CN=soda-standin.local",
            "-addext",
            f"subjectAltName={san}",
            "-keyout",
            str(key),
            "-out",
            str(cert),
        ],
        check=True,
        capture_output=True,
    )


def server_context(cert: Path, key: Path) -> ssl.SSLContext:
    """Server-side TLS context for the stand-in."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    return context
