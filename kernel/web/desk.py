"""The staff desk (server-rendered). Placeholder until the desk module lands."""


def install(web, app) -> None:
    """Mount the desk's pages on ``web``."""
