"""SM2 signatures (GB/T 32918) for checkpoints, with the signing key outside PostgreSQL.

pyca ``cryptography`` has no SM2, so the bundled signer drives the OpenSSL 3 command line
(``openssl dgst -sm3 -sign ... -sigopt distid:...``): native speed, and the private key is read
by OpenSSL from its file, never by this process, so it cannot end up in a log or a traceback.

Production plugs an HSM (or a cloud KMS with SM2) in by implementing :class:`Signer`: the key
stays inside the device and ``sign`` sends it the message (a PKCS#11 ``C_Sign`` with
``CKM_SM2_SM3`` and the distinguishing id below, or the vendor's SDF ``SDF_InternalSign_ECC``
after computing Z||M with SM3). Verification needs only the public key, which may be anywhere.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Protocol

DISTINGUISHING_ID = "1234567812345678"
"""The SM2 user id of GM/T 0009's default; signer and verifier must use the same one."""


class SigningError(RuntimeError):
    """The key or OpenSSL cannot be used; the message says what to do."""


class Signer(Protocol):
    """Signs checkpoints; the private key never leaves the implementation."""

    @property
    def key_id(self) -> str:
        """Names the key (SM3 of its public key), so a verifier can tell keys apart."""
        ...

    def public_key_pem(self) -> bytes:
        """The public key, to publish to whoever verifies."""
        ...

    def sign(self, message: bytes) -> bytes:
        """An SM2-with-SM3 signature (DER) of ``message`` under ``DISTINGUISHING_ID``."""
        ...


def _openssl() -> str:
    found = shutil.which("openssl")
    if found is None:
        raise SigningError(
            "找不到 openssl 命令 the openssl command (OpenSSL 3, with SM2) is not on PATH; "
            "install it (Debian: apt-get install openssl) or use an HSM signer"
        )
    return found


def _run(args: list[str], *, stdin: bytes = b"") -> bytes:
    done = subprocess.run(  # noqa: S603 (fixed program, arguments built here)
        [_openssl(), *args], input=stdin, capture_output=True, check=False
    )
    if done.returncode != 0:
        # OpenSSL's stderr names files and algorithms, never key material.
        detail = done.stderr.decode(errors="replace").strip().splitlines()
        raise SigningError(
            f"openssl {args[0]} 失败 failed ({detail[0] if detail else done.returncode}); "
            "check that the key is an SM2 key in PEM and OpenSSL is version 3"
        )
    return done.stdout


def key_id_of(public_pem: bytes) -> str:
    """SM3 of the PEM text with line ends normalised: stable whoever wrote the file."""
    return hashlib.new("sm3", b"\n".join(public_pem.strip().splitlines())).hexdigest()


def generate_key(path: Path) -> Path:
    """A new SM2 private key at ``path`` (mode 0600, never overwritten) and its public key at
    ``path`` + ``.pub``; returns the public key's path."""
    if path.exists():
        raise SigningError(
            f"密钥文件已存在 {path} exists; keys are never overwritten: choose another path"
        )
    path.parent.mkdir(parents=True, exist_ok=True)
    old = os.umask(0o077)
    try:
        _run(["genpkey", "-algorithm", "SM2", "-out", str(path)])
    finally:
        os.umask(old)
    public = path.with_name(path.name + ".pub")
    public.write_bytes(_run(["pkey", "-in", str(path), "-pubout"]))
    return public


class FileSigner:
    """A private key in a PEM file, for development, tests and a single operator host.

    The file must be readable by its owner alone: a key the services' account can read could be
    used to sign a forged checkpoint after a rewrite.
    """

    def __init__(self, path: Path) -> None:
        if not path.is_file():
            raise SigningError(
                f"签名密钥不存在 signing key {path} not found; create one with "
                f"`python -m petitions.eventstore keygen --key {path}` or set "
                "PETITIONS_CHECKPOINT_KEY"
            )
        if os.name == "posix" and path.stat().st_mode & 0o077:
            raise SigningError(
                f"签名密钥权限过宽 signing key {path} is readable by others; run `chmod 600 {path}`"
            )
        self._path = path
        self._public = _run(["pkey", "-in", str(path), "-pubout"])
        self._key_id = key_id_of(self._public)

    @property
    def key_id(self) -> str:
        return self._key_id

    def public_key_pem(self) -> bytes:
        return self._public

    def sign(self, message: bytes) -> bytes:
        return _run(
            [
                "dgst",
                "-sm3",
                "-sign",
                str(self._path),
                "-sigopt",
                f"distid:{DISTINGUISHING_ID}",
            ],
            stdin=message,
        )

    def __repr__(self) -> str:  # the path only: never anything read from the file
        return f"FileSigner({str(self._path)!r})"


def verify_signature(public_pem: bytes, message: bytes, signature: bytes) -> bool:
    """True when ``signature`` is an SM2 signature of ``message`` by the key ``public_pem``."""
    with tempfile.TemporaryDirectory(prefix="petitions-sm2-") as tmp:
        key = Path(tmp) / "public.pem"
        sig = Path(tmp) / "signature.der"
        key.write_bytes(public_pem)
        sig.write_bytes(signature)
        done = subprocess.run(  # noqa: S603
            [
                _openssl(),
                "dgst",
                "-sm3",
                "-verify",
                str(key),
                "-sigopt",
                f"distid:{DISTINGUISHING_ID}",
                "-signature",
                str(sig),
            ],
            input=message,
            capture_output=True,
            check=False,
        )
    if done.returncode == 0 and b"Verified OK" in done.stdout:
        return True
    if b"Verification failure" in done.stdout or b"Verification failure" in done.stderr:
        return False
    # Neither answer: a malformed key or signature is a failed check, not a crash, but say so.
    if b"Could not read" in done.stderr or b"unable to load" in done.stderr.lower():
        raise SigningError(
            "公钥无法读取 the public key cannot be read; set PETITIONS_CHECKPOINT_PUBLIC_KEY to "
            "the SM2 public key (PEM) that `keygen` wrote beside the private key"
        )
    return False
