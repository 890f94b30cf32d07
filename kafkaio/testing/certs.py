"""Throw-away TLS material for a local test cluster: a CA, a broker certificate, a client certificate.

Made at test time with ``trustme`` (a development dependency) and written as PEM files the broker
reads directly (``ssl.keystore.type=PEM``): Kafka wants the private key in PKCS#8 form followed by
the certificate chain in one file.
"""
from __future__ import annotations

import dataclasses
from pathlib import Path

__all__ = ["ClusterCerts", "make_cluster_certs"]


@dataclasses.dataclass(frozen=True)
class ClusterCerts:
    """Paths of the PEM files for one cluster (all in ``directory``)."""

    directory: Path
    ca_file: Path  # the CA certificate: a client's ``ssl_cafile``, the broker's truststore
    server_keystore_pem: Path  # broker key (PKCS#8) + certificate chain
    client_cert_file: Path  # a client certificate signed by the CA (for ssl.client.auth)
    client_key_file: Path  # its private key (PKCS#8, unencrypted)


def _pkcs8(key_pem: bytes) -> bytes:
    from cryptography.hazmat.primitives import serialization

    key = serialization.load_pem_private_key(key_pem, password=None)
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def make_cluster_certs(directory: Path, hostnames: tuple[str, ...] = ("127.0.0.1", "localhost")) -> ClusterCerts:
    """Create a CA and certificates for ``hostnames`` under ``directory`` and return their paths."""
    try:
        import trustme
    except ImportError as exc:  # pragma: no cover - dev extra
        from kafkaio.testing.broker import BrokerLauncherError

        raise BrokerLauncherError(
            "SSL listeners need the `trustme` package to make test certificates: pip install trustme"
        ) from exc
    directory.mkdir(parents=True, exist_ok=True)
    ca = trustme.CA(key_type=trustme.KeyType.RSA, organization_name="kafkaio test CA")
    server = ca.issue_cert(*hostnames, key_type=trustme.KeyType.RSA)
    client = ca.issue_cert("kafkaio-client", key_type=trustme.KeyType.RSA)

    ca_file = directory / "ca.pem"
    ca.cert_pem.write_to_path(str(ca_file))
    keystore = directory / "server-keystore.pem"
    keystore.write_bytes(
        _pkcs8(server.private_key_pem.bytes()) + b"".join(blob.bytes() for blob in server.cert_chain_pems)
    )
    client_cert = directory / "client-cert.pem"
    client_cert.write_bytes(b"".join(blob.bytes() for blob in client.cert_chain_pems))
    client_key = directory / "client-key.pem"
    client_key.write_bytes(_pkcs8(client.private_key_pem.bytes()))
    for path in (keystore, client_key):
        path.chmod(0o600)
    return ClusterCerts(directory, ca_file, keystore, client_cert, client_key)
