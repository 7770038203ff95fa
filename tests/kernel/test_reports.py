"""Reports: the contract and registry, reading parameters, running, exporting, printing, the CLI.

The test plugin ``fdt_notes`` registers ``fdt_notes.by_branch`` (notes since a date per
branch: a required date, a branch reference, a money minimum and a choice), readable by
the front desk. The site has the demo branches SH and JD.
"""

from __future__ import annotations

import io
from decimal import Decimal

import pytest
from openpyxl import load_workbook
from pdf_tools import pdftotext
from sqlalchemy import select

from kernel import Column, Param, Report, ValidationError
from kernel.auth import PermissionDenied, add_user
from kernel.documents.registry import PrintLog
from kernel.errors import NotFound
from kernel.masterdata import get_branch
from kernel.params import read_params
from kernel.reports import registry, service

NAME = "fdt_notes.by_branch"



@pytest.fixture
def site(make_site):
    return make_site(["fdt_notes"], demo=True, branch_code="SH", branch_name="上海服务中心")


@pytest.fixture
def app(site, app_of):
    """The demo note (SH, 12.30) and three more: SH 30.00, JD 7.70 and JD 100.00 (urgent);
    users lily (front desk, SH), wangli (engineer, SH) and jdfront (front desk, JD)."""
    import fdt_notes.plugin as notes

    app = app_of(site)
    with app.context() as ctx:
        sh, jd = get_branch(ctx, "SH"), get_branch(ctx, "JD")
        notes.add_note(ctx, sh.id, "换粉盒", "30.00")
        notes.add_note(ctx, jd.id, "送纸", "7.70")
        notes.add_note(ctx, jd.id, "[加急] 卡纸", "100.00")
        for username, role, branch in (("lily", "front_desk", sh), ("wangli", "engineer", sh),
                                       ("jdfront", "front_desk", jd)):
            add_user(ctx, username, username, "password-123", branch, roles=[role])
    return app


def _figures(rows):
    return [(r["code"], r["notes"], r["amount"]) for r in rows]


# --------------------------------------------------------------------------
# the contract and the registry
# --------------------------------------------------------------------------


def test_the_site_collects_the_plugins_reports_once(app):
    report = app.reports[NAME]
    assert report.permission == "fdt_notes.by_branch.read"  # the default
    assert report.module == "fdt_notes" and report.template == "print/report.html"
    assert [p.name for p in report.params] == ["since", "branch", "min_amount", "show"]
    with pytest.raises(NotFound, match="fixdesk report list"):
        registry.get_report(app, "fdt_notes.nope")


@pytest.mark.parametrize("make, message", [
    (lambda: Column("x", "X", "colour"), "unknown kind"),
    (lambda: Column("x", "X", "text", total=True), "has no total"),
    (lambda: Report("nodot", "T", (), list), "prefix"),
    (lambda: Report("a.b", "T", (), list, params=(Param("format"),)), "reserved"),
    (lambda: Report("a.b", "T", (), list, params=(Param("x"), Param("x", "date"))), "twice"),
    (lambda: Report("a.b", "T", (), list, orientation="sideways"), "orientation"),
])
def test_bad_contributions_are_refused(make, message):
    with pytest.raises(ValueError, match=message):
        make()


# --------------------------------------------------------------------------
# parameters and running
# --------------------------------------------------------------------------


def test_parameters_are_read_by_kind(app):
    report = app.reports[NAME]
    with app.context(user="lily") as ctx:
        values = read_params(ctx, report.params, {"since": " 2020-01-01 ", "branch": "SH",
                                                  "min_amount": "10", "show": "urgent"})
        assert str(values["since"]) == "2020-01-01" and values["branch"].code == "SH"
        assert values["min_amount"] == Decimal("10.00") and values["show"] == "urgent"
        by_id = read_params(ctx, report.params, {"since": "2020-01-01",
                                                 "branch": str(values["branch"].id)})
        by_label = read_params(ctx, report.params, {"since": "2020-01-01",
                                                    "branch": "SH 上海服务中心"})
        assert by_id["branch"] is by_label["branch"] is values["branch"]
        assert read_params(ctx, report.params, {"since": "2020-01-01", "branch": ""}) == {
            "since": values["since"]}  # empty optional values are left out


@pytest.mark.parametrize("raw, field, message", [
    ({}, "since", "is required"),
    ({"since": "16.11.2026"}, "since", "must be a date like 2026-05-29"),
    ({"since": "2020-01-01", "min_amount": "1.005"}, "min_amount", "at most two decimals"),
    ({"since": "2020-01-01", "show": "some"}, "show", "must be one of: all, urgent"),
    ({"since": "2020-01-01", "branch": "XX"}, "branch", "nothing matches XX"),
    ({"since": "2020-01-01", "branch": "JD"}, "branch", "nothing matches JD"),  # not hers
    ({"since": "2020-01-01", "colour": "red"}, "colour", "unknown parameter 'colour'"),
])
def test_bad_parameters_name_the_field(app, raw, field, message):
    with app.context(user="lily") as ctx, pytest.raises(ValidationError) as caught:
        service.run(ctx, NAME, raw)
    assert caught.value.field == field and message in caught.value.fields[field]
    assert caught.value.message.startswith(f"{field}: ")


def test_runs_are_scoped_to_the_users_branches(app):
    with app.context() as ctx:  # the system sees every branch
        outcome = service.run(ctx, NAME, {"since": "2020-01-01"})
    assert _figures(outcome.rows) == [("JD", 2, Decimal("107.70")),
                                      ("SH", 2, Decimal("42.30"))]
    assert outcome.canonical == {"since": "2020-01-01"}
    with app.context(user="jdfront") as ctx:
        mine = service.run(ctx, NAME, {"since": "2020-01-01", "show": "urgent"})
    assert _figures(mine.rows) == [("JD", 1, Decimal("100.00"))]
    assert mine.rows[0]["share"] == Decimal("1")
    with app.context(user="wangli") as ctx, pytest.raises(PermissionDenied):
        service.run(ctx, NAME, {"since": "2020-01-01"})
    with app.context(user="wangli") as ctx:
        assert registry.reports_for(ctx) == []


def test_json_has_the_parameters_translated_columns_rows_and_totals(app):
    with app.context(user="lily") as ctx:
        sh = str(get_branch(ctx, "SH").id)
        body = service.render(ctx, NAME, {"since": "2020-01-01", "branch": sh}, "json",
                              "en").content
    assert body["name"] == NAME and body["title"] == "Notes by branch"
    assert body["params"] == {"since": "2020-01-01", "branch": "SH"}  # by code
    assert [c["kind"] for c in body["columns"]] == ["text", "int", "money", "share",
                                                    "datetime"]
    assert body["rows"][0]["amount"] == "42.30" and body["rows"][0]["share"] == "1.0000"
    assert body["totals"] == {"notes": 2, "amount": "42.30"}


def test_excel_csv_and_text(app):
    with app.context() as ctx:
        xlsx = service.render(ctx, NAME, {"since": "2020-01-01"}, "xlsx", "zh_CN")
        csv_file = service.render(ctx, NAME, {"since": "2020-01-01"}, "csv", "en")
        table = service.render(ctx, NAME, {"since": "2020-01-01"}, "table", "en")
    assert xlsx.filename == "fdt_notes-by_branch-2020-01-01.xlsx"
    lines = list(load_workbook(io.BytesIO(xlsx.content)).active.iter_rows(values_only=True))
    assert lines[0][0] == "Notes by branch  Since: 2020-01-01"
    assert lines[1][:3] == ("分支机构", "备注", "金额")  # headers in the language asked for
    assert lines[2][:3] == ("嘉定分公司", 2, 107.7) and lines[3][3] == 0.5
    assert len(lines) == 4  # no totals line: the sheet is data
    text = csv_file.content.decode("utf-8")
    assert text.startswith("\ufeffBranch,Notes,Amount,Share,Last note")
    assert "嘉定分公司,2,107.70,50.0%," in text and text.splitlines()[-1].startswith(
        "Total,4,150.00,,")
    assert table.content.splitlines()[0] == "Branch\tNotes\tAmount\tShare\tLast note"


# --------------------------------------------------------------------------
# printing
# --------------------------------------------------------------------------


def test_the_generic_paper_is_printed_logged_and_copied(app, tmp_path):
    raw = {"since": "2020-01-01", "show": "all"}
    with app.context(user="lily") as ctx:
        first = service.render(ctx, NAME, raw, "pdf", "en")
    text = pdftotext(first.content, layout=True)
    assert "Notes by branch" in text and "上海服务中心" in text and "嘉定分公司" not in text
    assert "Since：2020-01-01" in text and "Show：all" in text
    assert "42.30" in text and "100.0%" in text and "Total" in text
    with app.context(user="lily") as ctx:
        again = service.render(ctx, NAME, raw, "pdf", "en")
    assert "COPY 2" in pdftotext(again.content, layout=True)
    with app.sessions() as session:
        logged = session.scalars(select(PrintLog).order_by(PrintLog.id)).all()
    assert [(p.document, p.entity, p.record_id, p.copy_number, p.actor) for p in logged] == [
        (NAME, "report", "since=2020-01-01&show=all", 1, "lily"),
        (NAME, "report", "since=2020-01-01&show=all", 2, "lily")]


def test_a_failing_print_writes_no_log(site, app):
    folder = site.path / "templates" / "print"
    folder.mkdir(parents=True)
    (folder / "report.html").write_text("{{ ''.__class__.__mro__ }}")
    from kernel.documents.pdf import PrintError

    with pytest.raises(PrintError), app.context() as ctx:
        service.render(ctx, NAME, {"since": "2020-01-01"}, "pdf", "en")
    with app.sessions() as session:
        assert session.scalars(select(PrintLog)).all() == []


def test_the_site_overrides_the_generic_paper(site, app, tmp_path, fixdesk):
    folder = site.path / "templates" / "print"
    folder.mkdir(parents=True)
    (folder / "report.html").write_text(
        '{% extends "print/base.html" %}{% block content %}'
        "<p>本站报表：{{ report.title }} {{ sums.amount|money }}</p>{% endblock %}")
    with app.context() as ctx:
        data = service.render(ctx, NAME, {"since": "2020-01-01"}, "pdf", "zh_CN").content
    assert "本站报表：Notes by branch ¥150.00" in pdftotext(data, layout=True)
    listing = fixdesk("--site", site.path, "templates", "list").out.splitlines()
    assert [NAME, "print/report.html", "site"] in [line.split("\t")[:3] for line in listing]


# --------------------------------------------------------------------------
# the CLI
# --------------------------------------------------------------------------


def test_cli_lists_and_runs_reports(site, app, fixdesk, tmp_path):
    listing = fixdesk("--site", site.path, "report", "list")
    assert listing.code == 0
    assert listing.out.splitlines()[0] == "REPORT\tTITLE\tPARAMETERS\tPERMISSION"
    assert (f"{NAME}\tNotes by branch\tsince*:date branch:reference(branch) "
            "min_amount:money show:choice(all|urgent)\tfdt_notes.by_branch.read"
            ) in listing.out.splitlines()

    table = fixdesk("--site", site.path, "report", "run", NAME, "--param", "since=2020-01-01")
    assert table.code == 0, table.err
    assert table.out.splitlines()[1].startswith("嘉定分公司\t2\t107.70\t50.0%\t")
    assert table.out.splitlines()[-1] == "Total\t4\t150.00\t\t"

    as_jd = fixdesk("--site", site.path, "report", "run", NAME, "-p", "since=2020-01-01",
                    "--format", "csv", "--user", "jdfront")
    assert as_jd.code == 0 and "上海服务中心" not in as_jd.out and "嘉定分公司" in as_jd.out

    target = tmp_path / "notes.xlsx"
    written = fixdesk("--site", site.path, "report", "run", NAME, "-p", "since=2020-01-01",
                      "-p", "branch=SH", "--format", "xlsx", "-o", target, "--lang", "zh_CN")
    assert written.code == 0 and str(target) in written.out
    assert load_workbook(target).active["A3"].value == "上海服务中心"
    paper = tmp_path / "notes.pdf"
    assert fixdesk("--site", site.path, "report", "run", NAME, "-p", "since=2020-01-01",
                   "--format", "pdf", "-o", paper).code == 0
    assert "Notes by branch" in pdftotext(paper.read_bytes(), layout=True)


@pytest.mark.parametrize("args, message", [
    (["-p", "since=yesterday"], "error: since: must be a date like 2026-05-29"),
    ([], "error: since: is required"),
    (["-p", "since"], "use --param NAME=VALUE"),
    (["-p", "since=2020-01-01", "-p", "colour=red"], "error: colour: unknown parameter"),
    (["-p", "since=2020-01-01", "--user", "wangli"], "permission denied"),
    (["-p", "since=2020-01-01", "--user", "ghost"], "no user 'ghost'"),
])
def test_cli_bad_input_exits_2_with_one_line(site, app, fixdesk, args, message):
    result = fixdesk("--site", site.path, "report", "run", NAME, *args)
    assert result.code == 2 and result.err.count("\n") == 1, result
    assert message in result.err
    unknown = fixdesk("--site", site.path, "report", "run", "fdt_notes.nope")
    assert unknown.code == 2 and "no report 'fdt_notes.nope'" in unknown.err
