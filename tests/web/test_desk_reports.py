"""The desk's report pages through real HTTP, on SQLite and PostgreSQL.

The demo site speaks Chinese; ``fdt_notes.by_branch`` (test plugin) may be run by the
front desk: lily (SH) and jdfront (JD); the engineer wangli may not.
"""

from __future__ import annotations

import html
import io
import re
import subprocess

import pytest
from openpyxl import load_workbook

from kernel.i18n import translations
from kernel.masterdata import get_branch

zh = translations("zh_CN").gettext
PAGE = "/desk/reports/fdt_notes.by_branch"


@pytest.fixture
def notes(desk):
    """A note per branch besides the demo one (SH 12.30): SH 30.00, JD 7.70."""
    import fdt_notes.plugin as plugin

    with desk.app.context() as ctx:
        plugin.add_note(ctx, get_branch(ctx, "SH").id, "换粉盒", "30.00")
        plugin.add_note(ctx, get_branch(ctx, "JD").id, "送纸", "7.70")
    return desk


def cells(page) -> list[list[str]]:
    """The result table's body, as text."""
    body = page.text.split('<table class="list report">', 1)[1].split("</tbody>", 1)[0]
    return [[html.unescape(c) for c in re.findall(r"<td[^>]*>([^<]*)</td>", row)]
            for row in re.findall(r"<tr>(.*?)</tr>", body.split("<tbody>", 1)[1], re.S)]


def test_home_lists_the_reports_the_user_may_run(notes):
    home = notes.login("lily").get("/")
    assert f'href="{PAGE}"' in home.text and "Notes by branch" in home.text
    assert zh("Reports") in home.text or "Reports" in home.text
    assert f'href="{PAGE}"' not in notes.login("wangli").get("/").text


def test_the_form_has_a_widget_per_parameter_kind(notes):
    page = notes.login("lily").get(PAGE)
    assert page.status_code == 200, page.text
    assert 'method="get"' in page.text and 'name="run" value="1"' in page.text
    assert re.search(r'<input id="p-since" name="since" type="date" value="\d{4}-\d\d-\d\d"',
                     page.text)  # a required date starts at today
    branch = page.text.split('id="p-branch"', 1)[1].split("</select>", 1)[0]
    assert '<option value="SH">SH 上海服务中心</option>' in branch
    assert "JD" not in branch  # lily sees SH only
    assert '<option value="urgent">urgent</option>' in page.text
    assert 'name="min_amount" type="text"' in page.text and 'inputmode="decimal"' in page.text
    assert '<table class="list report">' not in page.text  # not run yet


def test_running_shows_the_table_with_export_and_print(notes, tmp_path):
    browser = notes.login("supersh")  # a supervisor: no right to the report
    assert browser.get(PAGE).status_code == 403
    browser = notes.login("root")
    page = browser.get(PAGE, params={"since": "2020-01-01", "branch": "", "min_amount": "",
                                     "show": "", "run": "1"})
    assert page.status_code == 200, page.text
    assert "<th scope=\"col\">分支机构</th>" in page.text  # translated header
    assert cells(page)[:2] == [["嘉定分公司", "1", "7.70", "33.3%", cells(page)[0][4]],
                               ["上海服务中心", "2", "42.30", "66.7%", cells(page)[1][4]]]
    footer = page.text.split("<tfoot>", 1)[1].split("</tfoot>", 1)[0]
    assert zh("Total") in footer and ">50.00<" in footer
    export = re.search(r'href="([^"]+/export\.xlsx[^"]*)"', page.text).group(1)
    assert html.unescape(export) == f"{PAGE}/export.xlsx?since=2020-01-01"
    sheet = browser.get(html.unescape(export))
    assert sheet.status_code == 200 and "attachment" in sheet.headers["content-disposition"]
    book = load_workbook(io.BytesIO(sheet.content)).active
    assert book["A3"].value == "嘉定分公司" and book["C4"].value == 42.3

    preview = html.unescape(re.search(r'href="([^"]+/print\?[^"]*)" target="pdf-preview"',
                                      page.text).group(1))
    paper = browser.get(preview)
    assert paper.status_code == 200 and paper.headers["content-type"] == "application/pdf"
    assert "inline" in paper.headers["content-disposition"]
    path = tmp_path / "paper.pdf"
    path.write_bytes(paper.content)
    text = subprocess.run(["pdftotext", "-layout", path, "-"], check=True, capture_output=True,
                          text=True).stdout
    assert "Notes by branch" in text and "上海服务中心" in text and "42.30" in text
    download = browser.get(preview + "&download=1")
    assert "attachment" in download.headers["content-disposition"]
    assert "副本 2" in subprocess.run(["pdftotext", "-", "-"], input=download.content,
                                      check=True, capture_output=True).stdout.decode()


def test_the_url_holds_the_parameters_and_the_users_branches_apply(notes):
    page = notes.login("jdfront").get(PAGE, params={"since": "2020-01-01", "run": "1"})
    assert [row[0] for row in cells(page)] == ["嘉定分公司"]
    assert f'href="{PAGE}?since=2020-01-01&amp;run=1"' in page.text  # the link to share


@pytest.mark.parametrize("params, field, message", [
    ({"since": "16.11.2026"}, "since", zh("must be a date like 2026-05-29")),
    ({"since": ""}, "since", zh("is required")),
    ({"since": "2020-01-01", "branch": "JD"}, "branch", zh("nothing matches {text}").format(
        text="JD")),  # another branch's: as if it did not exist
    ({"since": "2020-01-01", "min_amount": "1.005"}, "min_amount",
     zh("must be an amount with at most two decimals")),
])
def test_errors_show_next_to_the_field(notes, params, field, message):
    page = notes.login("lily").get(PAGE, params={**params, "run": "1"})
    assert page.status_code == 422
    error = re.search(rf'<p class="field-error" id="p-{field}-error">([^<]*)</p>', page.text)
    assert error and html.unescape(error.group(1)) == message
    assert 'id="error-summary"' in page.text and "Traceback" not in page.text
    assert '<table class="list report">' not in page.text
    if field != "branch":  # the form comes back as typed
        assert f'name="{field}" type="' in page.text and f'value="{params[field]}"' in page.text


def test_unknown_reports_and_stray_parameters(notes):
    browser = notes.login("lily")
    assert browser.get("/desk/reports/fdt_notes.nope").status_code == 404
    stray = browser.get(PAGE, params={"since": "2020-01-01", "colour": "red", "run": "1"})
    assert stray.status_code == 422 and "colour" in html.unescape(stray.text)
    bad_export = browser.get(f"{PAGE}/export.xlsx", params={"since": "nope"})
    assert bad_export.status_code == 422 and "Traceback" not in bad_export.text
    assert browser.get(f"{PAGE}/print", params={"since": "2020-01-01"}).status_code == 200
    assert notes.login("wangli").get(f"{PAGE}/print",
                                     params={"since": "2020-01-01"}).status_code == 403
