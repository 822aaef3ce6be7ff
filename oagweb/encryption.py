"""Encryption at rest for secrets the platform must use again (provider keys, tool headers).

Fernet (AES-128-CBC + HMAC-SHA256) with a key derived from SECRET_KEY: changing SECRET_KEY
makes stored secrets unreadable, and they must then be entered again.
"""

import base64
import hashlib

from cryptography.fernet import Fernet, InvalidToken
from django.conf import settings

from oagweb.errors import ApplicationError


def _fernet() -> Fernet:
    digest = hashlib.sha256(b"oagweb-secrets:" + settings.SECRET_KEY.encode()).digest()
    return Fernet(base64.urlsafe_b64encode(digest))


def secret_encrypt(plain: str) -> str:
    return _fernet().encrypt(plain.encode()).decode() if plain else ""


def secret_decrypt(token: str) -> str:
    if not token:
        return ""
    try:
        return _fernet().decrypt(token.encode()).decode()
    except InvalidToken:
        raise ApplicationError(
            "A stored secret cannot be decrypted (SECRET_KEY changed?): enter it again"
        ) from None


def secret_hint(plain: str) -> str:
    """What may be shown of a secret: its last four characters, if it is long enough."""
    return f"…{plain[-4:]}" if len(plain) >= 12 else "…"
