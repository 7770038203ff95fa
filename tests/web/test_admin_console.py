"""The admin console's frame: only admins reach it, and only they see it in their menus."""

from __future__ import annotations

import re

from kernel.web.desk.admin import SECTIONS, routers

ADMIN_PATH = re.compile(r"^/desk/admin(/|$)")


def admin_routes() -> list[tuple[str, str]]:
    """Every (method, path) of the console, with a 1 for each path parameter."""
    found = []
    for route in (r for router in routers() for r in router.routes):
        path = route.path
        assert ADMIN_PATH.match(path), path
        concrete = re.sub(r"\{[^}]+\}", "1", path)
        found += [(method, concrete) for method in sorted(route.methods - {"HEAD"})]
    return found


def test_admin_sees_console_and_every_section(desk):
    root = desk.login("root")
    home = root.get("/")
    assert 'href="/desk/admin"' in home.text
    page = root.get("/desk/admin")
    assert page.status_code == 200
    for slug, _title, _about in SECTIONS:
        assert f'href="/desk/admin/{slug}"' in page.text
        assert root.get(f"/desk/admin/{slug}").status_code == 200, slug


def test_others_get_403_on_every_console_url_and_no_menu_entry(desk):
    routes = admin_routes()
    assert len(routes) >= len(SECTIONS) + 1
    for username in ("lily", "wangli", "supersh", "jdfront"):  # one site for all four
        client = desk.login(username)
        assert "/desk/admin" not in client.get("/").text, username
        for method, path in routes:
            answer = client.request(method, path, data={"csrf": client.csrf})
            assert answer.status_code == 403, (username, method, path, answer.status_code)


def test_logged_out_is_sent_to_login(desk):
    answer = desk.browser().get("/desk/admin/users")
    assert answer.status_code == 303
    assert answer.headers["location"].startswith("/login")
