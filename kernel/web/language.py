"""The API speaks the caller's language: ``Accept-Language`` (``zh-CN``, ``en``) decides
the language of every message of a request under ``/api/``, errors included; without
the header the site's process default stays (the terminal's, else English)."""

from __future__ import annotations

from kernel.i18n import use_locale

SHIPPED = {"zh": "zh_CN", "en": "en"}


def accepted_locale(header: str | None) -> str | None:
    """The first shipped language of an ``Accept-Language`` header, by preference."""
    if not header:
        return None
    ranked = []
    for position, part in enumerate(header.split(",")):
        tag, _sep, params = part.strip().partition(";")
        try:
            weight = float(params.strip()[2:]) if params.strip().startswith("q=") else 1.0
        except ValueError:
            weight = 0.0
        primary = tag.strip().split("-")[0].split("_")[0].lower()
        if primary in SHIPPED and weight > 0:
            ranked.append((-weight, position, SHIPPED[primary]))
    return min(ranked)[2] if ranked else None


class ApiLanguage:
    """ASGI middleware: the request's messages under ``/api/`` in the accepted language."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] == "http" and scope["path"].startswith("/api/"):
            header = dict(scope.get("headers") or ()).get(b"accept-language")
            locale = accepted_locale(header.decode("latin-1") if header else None)
            if locale:
                with use_locale(locale):
                    await self.app(scope, receive, send)
                return
        await self.app(scope, receive, send)
