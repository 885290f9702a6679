"""TLS material for the sandbox: a private CA (trustme) and a server certificate.

Graph and the identity platform are HTTPS-only and real clients (requests,
msal, Odoo's HTTP stack) verify certificates, so the sandbox serves real TLS
for ``127.0.0.1``/``localhost`` signed by its own CA, whose PEM file clients
are given (``Sandbox.ca_path``). Making a CA costs a little, so one per
process is shared by all in-process sandboxes; the CLI can keep it in a
directory so a configured client keeps trusting it across restarts.
"""

from __future__ import annotations

import atexit
import os
import shutil
import ssl
import tempfile
import threading
from dataclasses import dataclass

_lock = threading.Lock()
_shared: dict[str, TlsMaterial] = {}  # one CA per process


@dataclass(frozen=True)
class TlsMaterial:
    ca_path: str
    cert_path: str
    key_path: str

    def server_context(self) -> ssl.SSLContext:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.minimum_version = ssl.TLSVersion.TLSv1_2
        context.load_cert_chain(self.cert_path, self.key_path)
        return context


def _generate(directory: str) -> TlsMaterial:
    import trustme

    ca = trustme.CA(organization_name="m365 sandbox", organization_unit_name="test CA")
    cert = ca.issue_cert("127.0.0.1", "localhost", "::1")
    material = TlsMaterial(
        ca_path=os.path.join(directory, "ca.pem"),
        cert_path=os.path.join(directory, "server.pem"),
        key_path=os.path.join(directory, "server.key"),
    )
    ca.cert_pem.write_to_path(material.ca_path)
    with open(material.cert_path, "wb") as handle:
        for blob in cert.cert_chain_pems:
            handle.write(blob.bytes())
    cert.private_key_pem.write_to_path(material.key_path)
    os.chmod(material.key_path, 0o600)
    return material


def material(directory: str | None = None) -> TlsMaterial:
    """TLS files: kept in ``directory`` (reused if present) or shared per process."""
    with _lock:
        if directory:
            os.makedirs(directory, exist_ok=True)
            existing = TlsMaterial(
                os.path.join(directory, "ca.pem"),
                os.path.join(directory, "server.pem"),
                os.path.join(directory, "server.key"),
            )
            if all(
                os.path.exists(p) for p in (existing.ca_path, existing.cert_path, existing.key_path)
            ):
                return existing
            return _generate(directory)
        if "process" not in _shared:
            temp = tempfile.mkdtemp(prefix="m365-sandbox-tls-")
            atexit.register(shutil.rmtree, temp, True)
            _shared["process"] = _generate(temp)
        return _shared["process"]
