"""One language at a time: a Chinese desk shows no English word.

Every page a user reaches by following links from the home page (as each demo role),
every paper of every enabled plugin, every report as PDF, the errors of empty forms and
actions, API errors and CLI errors under a Chinese locale: the Latin words left must be
the site's own data (names, models, usernames) or abbreviations a Chinese office writes
in Latin letters (:data:`tests.support.one_language.ALLOWED`).
"""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter

import pytest
from desk_sessions import demo_sessions
from fastapi.testclient import TestClient
from one_language import WORD, data_words, english, same_site_links, visible
from pdf_tools import pdftotext

from kernel.web.app import create_app

#: the demo's people, one per role (``sunqin``: inventory's warehouse keeper, ``qianhui``:
#: billing's accountant, ``zhouzong``: complaints' vice general manager)
ROLES = ("admin", "wufang", "zhengli", "wanggong", "huangtao", "sunqin", "qianhui",
         "zhouzong")
#: pages of one shape (ids replaced) visited at most this often: twice as the admin, who
#: reaches every shape (another record of it may show other labels); once as each other
#: role, whose own are the buttons and sections of the pages it reaches
PER_SHAPE = {"admin": 2}
PER_SHAPE_OF_A_ROLE = 1
#: a guard against a crawl that never ends: reaching it would leave pages unchecked, so the
#: test fails instead (repair, inventory, billing and complaints make about 800 pages for the
#: admin, 300-450 for another role)
MAX_PAGES = 1000
#: besides downloads: a list page reached backwards by its pager (``before=``) or counted
#: (``count=``) holds the same words as the page after it and the uncounted one
SKIPPED = re.compile(r"^/(logout|login|api/|openapi|docs)|download=1|/export\.|/print(/|$|\?)|"
                     r"\.(pdf|csv|xlsx|png|svg|js|css)(\?|$)|/_static/|/files?/|"
                     r"[?&](before|count)=")


@pytest.fixture(scope="module")
def site_and_web(tmp_path_factory):
    from site_cache import cached_site

    folder = tmp_path_factory.mktemp("one-language") / "site"
    site = cached_site(folder, ["repair", "inventory", "billing", "complaints"],
                       company="华东办公设备服务有限公司", branch_code="SH",
                       branch_name="上海服务中心", demo=True)
    web = create_app(site)
    yield web
    web.state.fixdesk.close()


@pytest.fixture(scope="module")
def allowed(site_and_web):
    return data_words(site_and_web.state.fixdesk)


@pytest.fixture(scope="module")
def login(site_and_web):
    """``login("wufang")``: a Chinese desk session of a demo user."""
    with demo_sessions(site_and_web) as open_session:
        def chinese(username: str):
            client = open_session(username)
            client.cookies.set("fixdesk_lang", "zh_CN")
            return client

        yield chinese


def shape(url: str) -> str:
    path, _, query = url.partition("?")
    keys = sorted({pair.split("=", 1)[0] for pair in query.split("&") if pair})
    return re.sub(r"\d+", "N", path) + ("?" + "&".join(keys) if keys else "")


def crawl(client: TestClient, per_shape: int) -> dict[str, str]:
    """Every desk page reachable from the home page: url → its visible text (each page is
    parsed once: the parse costs about as much as the request)."""
    seen: dict[str, str] = {}
    shapes: Counter = Counter()
    queue = ["/"]
    while queue and len(seen) < MAX_PAGES:
        url = queue.pop(0)
        if url in seen or SKIPPED.search(url) or shapes[shape(url)] >= per_shape:
            continue
        shapes[shape(url)] += 1
        response = client.get(url)
        assert response.status_code < 500, f"{url}: {response.status_code}"
        seen[url] = ""
        if "text/html" in response.headers.get("content-type", ""):
            seen[url], links = visible(response.text)
            queue += [link for link in same_site_links(url, links) if link not in seen]
    return seen


@pytest.mark.parametrize("username", ROLES)
def test_every_page_speaks_chinese(login, allowed, username):
    client = login(username)
    pages = crawl(client, PER_SHAPE.get(username, PER_SHAPE_OF_A_ROLE))
    assert 5 < len(pages) < MAX_PAGES, len(pages)  # every shape reached, none left over
    found = {url: english(text, allowed) for url, text in pages.items() if text}
    found = {url: lines for url, lines in found.items() if lines}
    assert not found, "English on a Chinese desk:\n" + "\n".join(
        f"{url}: {lines[:5]}" for url, lines in list(found.items())[:30])


def test_every_paper_and_report_speaks_chinese(site_and_web, login, allowed):
    app = site_and_web.state.fixdesk
    client = login("admin")
    problems = {}
    for document in app.documents.values():
        cls = app.entity_class(document.entity)
        with app.sessions() as session:
            from sqlalchemy import select

            ids = session.scalars(select(cls.id).order_by(cls.id.desc()).limit(3)).all()
        for record_id in ids:
            response = client.get(f"/desk/{document.entity}/{record_id}/print/{document.name}")
            if response.status_code != 200:
                continue  # not printable for this record (a receipt of an on-site job)
            lines = english(pdftotext(response.content), allowed)
            if lines:
                problems[f"{document.name} #{record_id}"] = lines[:5]
            break
    today = dt.date.today()
    month = {"start": (today - dt.timedelta(days=60)).isoformat(), "end": today.isoformat(),
             "day": today.isoformat(), "month": today.strftime("%Y-%m")}
    for report in app.reports.values():
        params = {p.name: month[p.name] for p in report.params if p.name in month}
        response = client.get(f"/desk/reports/{report.name}/print", params=params)
        assert response.status_code == 200, (report.name, response.text[:300])
        lines = english(pdftotext(response.content), allowed)
        if lines:
            problems[report.name] = lines[:5]
    assert not problems, "English on Chinese papers:\n" + "\n".join(
        f"{name}: {lines}" for name, lines in problems.items())


def test_errors_speak_chinese(site_and_web, login, allowed):
    """Empty forms and actions sent as they are: every message in Chinese, under its field."""
    app = site_and_web.state.fixdesk
    client = login("admin")
    csrf = client.csrf
    problems = {}
    for name in app.exposed:
        page = client.get(f"/desk/{name}/new")
        if page.status_code != 200:
            continue
        sent = client.post(f"/desk/{name}/new", data={"csrf": csrf})
        lines = english(visible(sent.text)[0], allowed)
        if lines:
            problems[f"new {name}"] = lines[:5]
    for (entity, action), _found in app.actions.items():
        cls = app.entity_class(entity)
        with app.sessions() as session:
            from sqlalchemy import select

            record_id = session.scalar(select(cls.id).order_by(cls.id.desc()).limit(1))
        if record_id is None:
            continue
        sent = client.post(f"/desk/{entity}/{record_id}/action/{action}", data={"csrf": csrf})
        if sent.status_code in (200, 303, 404):
            continue
        lines = english(visible(sent.text)[0], allowed)
        if lines:
            problems[f"{entity}.{action}"] = lines[:5]
    assert not problems, "English in errors:\n" + "\n".join(
        f"{name}: {lines}" for name, lines in problems.items())


def test_cli_errors_speak_chinese(site_and_web, allowed, fixdesk, monkeypatch):
    """The CLI's refusals under a Chinese terminal, click's usage errors included."""
    monkeypatch.setenv("FIXDESK_LANG", "zh_CN")
    folder = site_and_web.state.fixdesk.site.path
    problems = {}
    for args in (("report", "run", "repair.compliance"),
                 ("report", "run", "repair.compliance", "-p", "start=2026-13-01"),
                 ("print", "repair.service_voucher", "999999"),
                 ("settings", "set", "nope", "1"), ("report", "run", "nope"),
                 ("print", "nope", "1"), ("audit", "customer", "99999"),
                 # click's own usage errors
                 ("calendar", "deadline", "--hours", "abc"), ("report", "nope"),
                 ("report", "run", "repair.compliance", "--nonsense")):
        done = fixdesk("--site", folder, *args)
        assert done.code == 2, (args, done)
        # what the user typed (names of reports, settings, papers) is not the CLI's English
        typed = {w for a in args for w in WORD.findall(a)} | {"list"}  # commands it suggests
        lines = english(done.err, allowed | typed)
        if lines:
            problems[" ".join(args)] = lines
    assert not problems, problems


def test_api_errors_speak_the_accepted_language(site_and_web, login, allowed):
    """``Accept-Language: zh-CN``: refusals, pydantic's checks and unknown records in
    Chinese, each naming its field; without the header the process default stays."""
    from kernel.web.deps import CSRF_HEADER

    client = login("wufang")
    zh = {"Accept-Language": "zh-CN,zh;q=0.9,en;q=0.8", CSRF_HEADER: client.csrf}
    answers = [
        client.post("/api/v1/customer", content=b"{not json", headers={
            **zh, "Content-Type": "application/json"}),
        client.post("/api/v1/customer", json={"code": 5, "nonsense": 1}, headers=zh),
        client.get("/api/v1/repair_work_order/999999", headers=zh),
        client.post("/api/v1/repair_work_order/999999/dispatch", json={}, headers=zh),
    ]
    problems = []
    for answer in answers:
        assert 400 <= answer.status_code < 500, answer.text
        error = answer.json()["error"]
        text = "\n".join([error["message"], *error["fields"].values()])
        problems += english(text, allowed | {"code", "nonsense"})  # the keys it sent
    assert not problems, problems
    assert answers[0].json()["error"]["fields"] == {"body": "请求内容不是有效的 JSON"}
    english_answer = client.get("/api/v1/repair_work_order/999999",
                                headers={"Accept-Language": "en-US,en;q=0.9"})
    assert english_answer.json()["error"]["message"] == "no Work order 999999"
