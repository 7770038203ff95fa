"""``/api/v1/reports`` through real HTTP (the ASGI app), on SQLite and PostgreSQL.

The test plugin ``fdt_notes`` offers ``fdt_notes.by_branch`` (front desk may run it).
"""

from __future__ import annotations

import io
import subprocess

import pytest
from api_answers import error_of
from api_tokens import bearer_headers
from fastapi.testclient import TestClient
from openpyxl import load_workbook

from kernel.auth import add_user
from kernel.masterdata import get_branch
from kernel.web.app import create_app

URL = "/api/v1/reports/fdt_notes.by_branch"


@pytest.fixture
def api(make_site):
    """A demo site with a note per branch besides the demo one, and bearer-token headers
    for lily (front desk, SH), wangli (engineer, SH) and jdfront (front desk, JD)."""
    import fdt_notes.plugin as notes

    site = make_site(["fdt_notes"], demo=True, branch_code="SH", branch_name="上海服务中心")
    web = create_app(site)
    app = web.state.fixdesk
    with app.context() as ctx:
        sh, jd = get_branch(ctx, "SH"), get_branch(ctx, "JD")
        notes.add_note(ctx, sh.id, "换粉盒", "30.00")
        notes.add_note(ctx, jd.id, "送纸", "7.70")
        for username, role, branch in (("lily", "front_desk", sh), ("wangli", "engineer", sh),
                                       ("jdfront", "front_desk", jd)):
            add_user(ctx, username, username, "password-123", branch, roles=[role])
        headers = bearer_headers(ctx, "lily", "wangli", "jdfront")
    with TestClient(web, raise_server_exceptions=False) as client:
        client.as_user = headers
        yield client


def test_the_list_holds_the_reports_the_caller_may_run(api):
    listed = api.get("/api/v1/reports", headers=api.as_user["lily"], params={"lang": "zh_CN"})
    assert listed.status_code == 200, listed.text
    [report] = listed.json()
    assert report["name"] == "fdt_notes.by_branch" and report["module"] == "fdt_notes"
    assert [(p["name"], p["kind"], p["required"]) for p in report["params"]] == [
        ("since", "date", True), ("branch", "reference", False),
        ("min_amount", "money", False), ("show", "choice", False)]
    assert report["params"][1]["label"] == "分支机构" and report["params"][1]["reference"] \
        == "branch"
    assert report["params"][3]["choices"] == ["all", "urgent"]
    assert api.get("/api/v1/reports", headers=api.as_user["wangli"]).json() == []
    assert api.get("/api/v1/reports").status_code == 401


def test_running_as_json_is_scoped_to_the_callers_branches(api):
    mine = api.get(URL, headers=api.as_user["jdfront"], params={"since": "2020-01-01"})
    assert mine.status_code == 200, mine.text
    body = mine.json()
    assert body["params"] == {"since": "2020-01-01"}
    assert [(r["code"], r["notes"], r["amount"]) for r in body["rows"]] == [("JD", 1, "7.70")]
    assert body["totals"] == {"notes": 1, "amount": "7.70"}
    everything = api.get(URL, headers=api.as_user["lily"],
                         params={"since": "2020-01-01", "lang": "en"}).json()
    assert [r["code"] for r in everything["rows"]] == ["SH"]
    assert [c["label"] for c in everything["columns"]][:2] == ["Branch", "Notes"]


def test_excel_csv_and_pdf(api, tmp_path):
    params = {"since": "2020-01-01", "branch": "SH", "lang": "zh_CN"}
    sheet = api.get(URL, headers=api.as_user["lily"], params={**params, "format": "xlsx"})
    assert sheet.status_code == 200, sheet.text
    assert sheet.headers["content-type"].startswith(
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    assert 'filename="fdt_notes-by_branch-2020-01-01-SH.xlsx"' in \
        sheet.headers["content-disposition"]
    lines = list(load_workbook(io.BytesIO(sheet.content)).active.iter_rows(values_only=True))
    assert lines[2][:3] == ("上海服务中心", 2, 42.3)

    text = api.get(URL, headers=api.as_user["lily"], params={**params, "format": "csv"})
    assert text.headers["content-type"].startswith("text/csv")
    assert "上海服务中心,2,42.30,100.0%" in text.content.decode("utf-8")

    paper = api.get(URL, headers=api.as_user["lily"], params={**params, "format": "pdf"})
    assert paper.status_code == 200, paper.text
    assert paper.headers["content-type"] == "application/pdf"
    path = tmp_path / "r.pdf"
    path.write_bytes(paper.content)
    shown = subprocess.run(["pdftotext", "-layout", path, "-"], check=True,
                           capture_output=True, text=True).stdout
    assert "上海服务中心" in shown and "42.30" in shown and "合计" in shown


@pytest.mark.parametrize("params, field", [
    ({}, "since"),
    ({"since": "tomorrow"}, "since"),
    ({"since": "2020-01-01", "min_amount": "lots"}, "min_amount"),
    ({"since": "2020-01-01", "show": "some"}, "show"),
    ({"since": "2020-01-01", "branch": "JD"}, "branch"),  # another branch: as if unknown
    ({"since": "2020-01-01", "colour": "red"}, "colour"),
    ({"since": "2020-01-01", "format": "docx"}, "format"),
])
def test_bad_parameters_answer_422_naming_the_field(api, params, field):
    answer = api.get(URL, headers=api.as_user["lily"], params=params)
    assert answer.status_code == 422, answer.text
    assert field in error_of(answer)["fields"]


def test_rights(api):
    denied = api.get(URL, headers=api.as_user["wangli"], params={"since": "2020-01-01"})
    assert denied.status_code == 403 and error_of(denied)["code"] == "forbidden"
    unknown = api.get("/api/v1/reports/fdt_notes.nope", headers=api.as_user["lily"])
    assert unknown.status_code == 404 and error_of(unknown)["code"] == "not_found"
    assert api.get(URL, params={"since": "2020-01-01"}).status_code == 401


def test_the_openapi_document_lists_the_report_routes(api):
    paths = api.get("/api/v1/openapi.json").json()["paths"]
    assert "/api/v1/reports" in paths and "/api/v1/reports/{name}" in paths
