"""Bearer-token headers for API tests. Importable from any test (``tests/conftest.py``
puts this folder on the path)."""

from __future__ import annotations


def bearer_headers(ctx, *usernames: str) -> dict[str, dict[str, str]]:
    """``{username: {"Authorization": "Bearer …"}}``: a new API token for each user, made
    in ``ctx``'s transaction (it is valid once that commits). They never expire: ``ctx``
    may run at a made-up time months before the requests that use them."""
    from kernel.auth import create_token, get_user

    headers = {}
    for username in usernames:
        _row, token = create_token(ctx, get_user(ctx.session, username), "test", never=True)
        headers[username] = {"Authorization": f"Bearer {token}"}
    return headers
