"""How people work a complaint through the REST API and the desk (the ASGI app over real
HTTP), on SQLite and PostgreSQL, with complaints alone.

The people: 郑丽 (``zhengli``, SH front desk) registers; 吴芳 (``wufang``, SH supervisor,
head of 售后服务部) handles and contacts the customer; 钱副总 (``qianfz``, made here: the
vice general manager, company-wide, head of 人事部) is told of critical complaints and
approves for 人事部; 王建国 (``wanggong``, engineer) may not read complaints; 黄涛
(``huangtao``, JD) sees none of SH's.
"""

from __future__ import annotations

import datetime as dt
import re

import pytest
from api_answers import error_of, ok
from api_tokens import bearer_headers
from desk_sessions import demo_sessions
from fastapi.testclient import TestClient
from query_count import counting
from sqlalchemy import func, select

from kernel.auth import User, add_user
from kernel.jobs import Job
from kernel.masterdata import get_branch
from kernel.models import Customer, Employee
from kernel.web.app import create_app
from plugins.complaints import notices, views
from plugins.complaints.models import Complaint, Department

ZH = {"Accept-Language": "zh-CN,zh;q=0.9"}
LATIN = re.compile(r"[A-Za-z]{2,}")
URL = "/api/v1/complaints_complaint"
#: a list answer with its total
COUNT = {"count": "true"}
VGM_MAIL = "qianfz@example.com"


@pytest.fixture
def api(quiet_site):
    """A client of a complaints site with the users' bearer headers (``api.as_user``),
    the ids of customer C0001 and of the users (``api.customer``, ``api.user_id``), and
    the departments 售后服务部 (SVC, head 吴芳) and 人事部 (HR, head 钱副总)."""
    web = create_app(quiet_site(["complaints"]))
    app = web.state.fixdesk
    with app.context(user="admin", branch="SH") as ctx:
        sh = get_branch(ctx, "SH")
        company_id = sh.company_id
        boss = Employee(company_id=company_id, branch_id=sh.id, code="M001", name="钱副总")
        ctx.session.add(boss)
        ctx.session.flush()
        vgm = add_user(ctx, "qianfz", "钱副总", None, sh, roles=["vice_general_manager"],
                       company_wide=True, email=VGM_MAIL)
        vgm.employee_id = boss.id
        for user in ctx.session.scalars(select(User)):
            if user.email is None:
                user.email = f"{user.username}@example.com"
        wufang = ctx.session.scalar(select(Employee).where(Employee.code == "S001"))
        ctx.session.add_all([
            Department(company_id=company_id, code="SVC", name="售后服务部", head_id=wufang.id),
            Department(company_id=company_id, code="HR", name="人事部", head_id=boss.id)])
        headers = bearer_headers(ctx, "zhengli", "wufang", "wanggong", "huangtao", "qianfz")
        customer = ctx.session.scalar(select(Customer.id).where(Customer.code == "C0001"))
        users = {u.username: u.id for u in ctx.session.scalars(select(User))}
    with TestClient(web, raise_server_exceptions=False) as client:
        client.web, client.app_state = web, app
        client.as_user, client.customer, client.user_id = headers, customer, users
        yield client


def register(api, user="zhengli", status=201, **values):
    body = {"customer_id": api.customer, "topic": "complaint", "category": "human_factors",
            "severity": "serious", "channel": "phone", "contact_name": "钱经理",
            "phone": "021-6888 1234", "description": "工程师态度粗鲁，碳粉洒在地毯上", **values}
    answer = api.post(URL, headers=api.as_user[user], json=body)
    return ok(answer, status) if status else answer


def act(api, complaint_id, action, user="wufang", status=200, **params):
    answer = api.post(f"{URL}/{complaint_id}/{action}", headers=api.as_user[user], json=params)
    return ok(answer, status) if status else answer


def approvals(api, complaint_id) -> dict[str, dict]:
    rows = ok(api.get("/api/v1/complaints_approval", headers=api.as_user["wufang"],
                      params={"complaint_id": complaint_id}))["items"]
    codes = {d["id"]: d["code"] for d in ok(api.get(
        "/api/v1/complaints_department", headers=api.as_user["wufang"]))["items"]}
    return {codes[row["department_id"]]: row for row in rows}


def _notify_jobs(api) -> list[dict]:
    with api.app_state.context() as ctx:
        return [job.payload for job in ctx.session.scalars(
            select(Job).where(Job.name == "kernel.notify").order_by(Job.id))]


def test_a_serious_complaint_waits_for_every_department_and_the_personal_contact(api):
    made = register(api)
    assert re.fullmatch(r"CP-SH-\d{4}-00001", made["number"]), made["number"]
    assert made["status"] == "registered"
    assert made["response_due_at"] < made["resolution_due_at"]
    cid = made["id"]
    # the front desk registers, but does not handle
    for action, params in (("investigate", {}),
                           ("determine", {"cause": "态度", "our_fault": True,
                                          "department": "SVC"})):
        refused = act(api, cid, action, user="zhengli", status=None, **params)
        assert refused.status_code == 403, refused.text
    act(api, cid, "investigate")
    act(api, cid, "determine", cause="工程师态度问题", our_fault=True, department="SVC")
    no_form = act(api, cid, "propose", status=None, resolution="道歉，免费清洁")
    assert no_form.status_code == 422 and "departments" in error_of(no_form)["fields"]
    act(api, cid, "propose", resolution="道歉，免费清洁，更换工程师", departments="SVC,HR")
    act(api, cid, "approve", department="SVC", comment="同意")
    found = approvals(api, cid)
    assert (found["SVC"]["state"], found["SVC"]["decided_by_id"]) == \
        ("approved", api.user_id["wufang"])
    assert found["SVC"]["decided_at"] and found["HR"]["state"] == "pending"
    assert found["HR"]["decided_by_id"] is None and found["HR"]["decided_at"] is None

    waiting = act(api, cid, "agree", status=None, note="客户同意")
    assert waiting.status_code == 409 and "人事部" in error_of(waiting)["message"]
    for stranger in ("zhengli", "wufang"):  # neither heads nor belongs to 人事部
        refused = act(api, cid, "approve", user=stranger, status=None, department="HR")
        assert refused.status_code == 409, refused.text
        assert "人事部" in error_of(refused)["message"]
    assert approvals(api, cid)["HR"]["state"] == "pending"
    act(api, cid, "approve", user="qianfz", department="HR", comment="同意，注意培训")
    hr = approvals(api, cid)["HR"]
    assert (hr["state"], hr["decided_by_id"], hr["comment"]) == \
        ("approved", api.user_id["qianfz"], "同意，注意培训")
    assert hr["decided_at"] >= found["SVC"]["decided_at"]

    act(api, cid, "agree", note="客户电话同意")
    act(api, cid, "carry_out", note="已清洁地毯并上门致歉")
    act(api, cid, "inform", result="已告知处理结果", satisfied=True)
    refused = act(api, cid, "close", status=None)
    assert refused.status_code == 409, refused.text
    assert ok(api.get(f"{URL}/{cid}", headers=api.as_user["wufang"]))["status"] == "informed"
    act(api, cid, "record_contact", summary="主管当天致电客户致歉", method="phone")
    closed = act(api, cid, "close")
    assert (closed["status"], closed["closed_by_id"]) == ("closed", api.user_id["wufang"])
    assert closed["responded_at"] is not None

    no_reason = act(api, cid, "reopen", status=None, reason="  ")
    assert no_reason.status_code == 422 and "reason" in error_of(no_reason)["fields"]
    reopened = act(api, cid, "reopen", reason="客户来电：地毯仍有污渍")
    assert (reopened["status"], reopened["reopen_count"], reopened["reopen_reason"]) == \
        ("investigating", 1, "客户来电：地毯仍有污渍")
    assert reopened["closed_at"] is None and reopened["resolution_due_at"]


def test_a_critical_complaint_tells_the_vice_general_manager_with_its_registration(
        api, monkeypatch):
    assert _notify_jobs(api) == []
    made = register(api, severity="critical", description="复印机漏电，客户要求赔偿")
    told = [job for job in _notify_jobs(api) if job["template"] == "complaints_critical"]
    assert VGM_MAIL in {job["to"] for job in told}
    assert all(job["context"]["number"] == made["number"] for job in told)
    # an ordinary one tells nobody
    register(api, severity="ordinary")
    assert len([j for j in _notify_jobs(api) if j["template"] == "complaints_critical"]) \
        == len(told)

    # the message is queued in the registration's transaction: one fails, neither stays
    original = notices.tell_management

    def tell_then_fail(ctx, complaint):
        original(ctx, complaint)
        raise RuntimeError("the mail queue broke")

    monkeypatch.setattr(notices, "tell_management", tell_then_fail)
    before = ok(api.get(URL, params=COUNT, headers=api.as_user["wufang"]))["total"]
    broken = register(api, status=None, severity="critical", description="又一次漏电")
    assert broken.status_code == 500
    assert ok(api.get(URL, params=COUNT, headers=api.as_user["wufang"]))["total"] == before
    assert len([j for j in _notify_jobs(api) if j["template"] == "complaints_critical"]) \
        == len(told)


#: (what is sent, the body, the field the error names)
NASTY = [
    ("no description", {"description": None}, "description"),
    ("blank description", {"description": "   "}, "description"),
    ("NUL in the description", {"description": "态度差\x00"}, "description"),
    ("bad e-mail", {"email": "qian@"}, "email"),
    ("received in 1900", {"received_at": "1900-01-01T09:00:00+08:00"}, "received_at"),
    ("received next year", {"received_at": "NEXT_YEAR"}, "received_at"),
    ("unknown severity", {"severity": "extreme"}, "severity"),
    ("unknown topic", {"topic": "threat"}, "topic"),
    ("no way to reach the customer", {"customer_id": None, "phone": None}, "customer_id"),
    ("its own status", {"status": "closed"}, "status"),
]


def test_bad_input_and_wrong_people_are_refused_and_nothing_is_written(api):
    h = {**api.as_user["zhengli"], **ZH}
    next_year = f"{dt.date.today().year + 1}-03-02T10:00:00+08:00"
    problems = []
    for what, body, field in NASTY:
        body = {k: (next_year if v == "NEXT_YEAR" else v) for k, v in body.items()}
        if "description" in body and body["description"] is None:
            body.pop("description")
            payload = {"customer_id": api.customer, "severity": "serious"}
        else:
            payload = {"customer_id": api.customer, "description": "态度差",
                       "severity": "serious", **body}
        payload = {k: v for k, v in payload.items() if v is not None}
        answer = api.post(URL, headers=h, json=payload)
        if answer.status_code != 422:
            problems.append((what, answer.status_code, answer.text[:200]))
            continue
        error = error_of(answer)
        if field not in error["fields"]:
            problems.append((what, "names", error["fields"]))
        text = "\n".join([error["message"], *error["fields"].values()])
        if LATIN.search(re.sub(r"\b[a-z_]+(?=:)", "", text)):
            problems.append((what, "English", text))
    assert not problems, problems
    wufang = api.as_user["wufang"]
    assert ok(api.get(URL, params=COUNT, headers=wufang))["total"] == 0
    # nothing was used up either: the first good one is number 1
    made = register(api)
    assert made["number"].endswith("-00001")

    # an engineer may not read complaints; another branch does not see them at all
    assert api.get(f"{URL}/{made['id']}", headers=api.as_user["wanggong"]).status_code == 403
    hidden = api.get(f"{URL}/{made['id']}", headers=api.as_user["huangtao"])
    assert hidden.status_code == 404 and error_of(hidden)["code"] == "not_found"
    assert ok(api.get(URL, params=COUNT, headers=api.as_user["huangtao"]))["total"] == 0
    assert act(api, made["id"], "investigate", user="huangtao", status=None).status_code == 404
    # steps refused by the process speak Chinese too
    early = api.post(f"{URL}/{made['id']}/close", headers={**wufang, **ZH}, json={})
    assert early.status_code == 409 and not LATIN.search(error_of(early)["message"])


def _block(html: str, name: str) -> str | None:
    found = re.search(rf'<section class="record block" id="block-{re.escape(name)}".*?'
                      r"</section>", html, re.S)
    return _text(found.group(0)) if found else None


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)).strip()


def test_the_desk_shows_a_complaint_as_a_document_and_takes_new_ones(api):
    made = register(api)
    cid = made["id"]
    act(api, cid, "investigate")
    act(api, cid, "determine", cause="工程师态度问题", our_fault=True, department="SVC")
    act(api, cid, "propose", resolution="道歉，免费清洁", departments="SVC,HR")
    act(api, cid, "approve", department="SVC")
    with demo_sessions(api.web) as open_session:
        supervisor = open_session("wufang")
        page = supervisor.get(f"/desk/complaints_complaint/{cid}")
        assert page.status_code == 200
        html = page.text
        # the status bar, the header, the details in sections, the lines: no form
        assert re.search(r'class="doc-state current"[^>]*>.*?已提出处理办法', html, re.S)
        assert 'data-fact="number"' in html and 'data-fact="resolution_due_at"' in html
        assert 'data-save-form aria-label="CP-' not in html and "disabled" not in html
        assert 'data-section="group-1"' in html and "工程师态度粗鲁" in html
        for lines in ("complaints_contact", "complaints_approval", "complaints_escalation"):
            assert f'data-lines="{lines}"' in html
        form = _block(html, "complaints.handling_form")
        assert form is not None and "人事部" in form and "⏳" in form
        assert re.search(r"等待.{0,6}审批.{0,10}人事部", form), form
        assert "2 个部门中已有 1 个批准" in form
        assert form.index("人事部 ⏳ 待处理") < form.index("售后服务部 已批准 吴芳")
        times = _block(html, "complaints.deadlines")
        assert times is not None and "首次响应时限" in times and "处理时限" in times
        assert not LATIN.search(re.sub(r"CP-SH-\d{4}-\d+", "", form + times))

        customer = supervisor.get(f"/desk/customer/{api.customer}").text
        theirs = _block(customer, "complaints.customer_complaints")
        assert theirs is not None and made["number"] in theirs
        assert f'href="/desk/complaints_complaint/{cid}"' in customer
        listing = supervisor.get("/desk/customer").text
        assert "未结投诉" in listing

        engineer = open_session("wanggong")
        assert _block(engineer.get(f"/desk/customer/{api.customer}").text,
                      "complaints.customer_complaints") is None

        desk = open_session("zhengli")
        new = desk.get("/desk/complaints_complaint/new")
        assert new.status_code == 200
        shown = set(re.findall(r'name="_fields" value="([^"]+)"', new.text))
        assert {"topic", "severity", "customer_id", "description", "received_at"} <= shown
        assert not shown & {"status", "number", "resolution", "closed_at", "cause"}
        csrf = re.findall(r'name="csrf" value="([^"]+)"', new.text)[-1]
        sent = desk.post("/desk/complaints_complaint/new", data={
            "csrf": csrf, "_fields": sorted(shown), "topic": "complaint",
            "category": "product_quality", "severity": "ordinary", "channel": "in_person",
            "received_at": "", "customer_id": str(api.customer), "contact_name": "钱经理",
            "phone": "021-6888 1234", "description": "复印机卡纸", "branch_id": ""})
        assert sent.status_code == 303, _text(sent.text)[:600]
        created = desk.get(sent.headers["location"]).text
        assert re.search(r"CP-SH-\d{4}-00002", created) and "复印机卡纸" in created
    app = api.app_state
    with app.context(user="wufang", branch="SH") as ctx:
        assert ctx.session.scalar(select(func.count()).select_from(Complaint)) == 2
        ctx.can("complaints_complaint.read")  # the user's permissions, read once per request
        customers = list(ctx.session.scalars(select(Customer).order_by(Customer.id)))
        complaint = ctx.session.get(Complaint, cid)
        complaint.branch  # noqa: B018 - loaded before counting, as the form has it
        for build, record, queries in ((views.customers_open, customers, 1),
                                       (views.customer_complaints, customers[0], 1),
                                       (views.handling_form, complaint, 1)):
            with counting(app.engine) as seen:
                build(ctx, record)
            assert len(seen) == queries, (build.__name__, seen)
        assert views.customers_open(ctx, customers) == {api.customer: 2}
