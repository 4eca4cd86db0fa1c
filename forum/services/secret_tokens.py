"""Random tokens the forum hands out once and keeps only as digests: sessions, API keys, mailed links, invitations.

A token is 256 random bits, so a plain SHA-256 digest (not a slow password hash) keeps a leaked table from being
replayed, and a lookup by digest is an indexed equality."""
import hashlib
import secrets


def new_token() -> str:
    """256 random bits, safe in a URL or a cookie."""
    return secrets.token_urlsafe(32)


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()
