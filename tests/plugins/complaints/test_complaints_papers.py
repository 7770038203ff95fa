"""The complaint papers printed to PDF in Chinese and English and read back with poppler
(``pdftotext``, ``pdffonts``): the register form, the handling form with a line per
approving department, the letter to the customer and the monthly complaint report.

One site with complaints alone, printed on 2026-06-15, so the monthly report covers May
2026. Jobs are counted by a stand-in for repair (``complaints_job_counts``): 412 jobs in
上海服务中心 (SH) and 100 in 嘉定分公司 (JD) in May, 400 and 90 in every other month.

May's complaints counted: SH three (A serious, human factors, 售后服务部's fault; B
ordinary, product quality, 李明 of 售后服务部 responsible; C ordinary, software, not
determined yet), JD one; a praise and a complaint cancelled as a duplicate do not count.
SH's rate 3 / 412 = 0.73 %, JD's 1 / 100 = 1.00 %, the company's 4 / 512 = 0.78 %. In
January SH had one complaint: 1 / 400 = 0.25 %.
"""

from __future__ import annotations

import datetime as dt
import re
from zoneinfo import ZoneInfo

import pytest
from pdf_tools import pdffonts, pdftotext
from sqlalchemy import select

from kernel import Conflict, hookimpl
from kernel.documents.service import print_records
from kernel.i18n import use_locale
from kernel.models import Branch, Company, Customer, Employee
from plugins.complaints import services
from plugins.complaints.models import Complaint, Department

SHANGHAI = ZoneInfo("Asia/Shanghai")
NOW = dt.datetime(2026, 6, 15, 10, 0, tzinfo=SHANGHAI)
MAY = dt.datetime(2026, 5, 1, tzinfo=SHANGHAI)
#: a word of English in a Chinese paper (numbers such as CP-SH-2026-00001 carry digits)
ENGLISH = re.compile(r"(?<![\w-])[A-Za-z]{2,}(?![\w-])")


class Jobs:
    """repair's answer to the complaint rate's question, as numbers."""

    def __init__(self, branches):
        self.branches = branches

    @hookimpl
    def complaints_job_counts(self, ctx, branch_ids, start, end):
        """412 and 100 jobs in May, 400 and 90 in other months."""
        may = start == MAY.astimezone(dt.UTC)
        counts = {self.branches["SH"]: 412 if may else 400,
                  self.branches["JD"]: 100 if may else 90}
        return {b: n for b, n in counts.items() if branch_ids is None or b in branch_ids}


def _at(app, user="admin"):
    return app.context(user=user, clock=lambda: NOW)


def _by_code(ctx, cls, code):
    return ctx.session.scalar(select(cls).where(cls.code == code))


def _register(ctx, customer, when, **values):
    return services.register(ctx, **{
        "customer_id": _by_code(ctx, Customer, customer).id, "topic": "complaint",
        "channel": "phone", "received_at": when.astimezone(dt.UTC), **values})


def _chinese(pdf: bytes, names=()) -> str:
    """The text of a Chinese paper: no English word (but the ``names`` of things, such as
    a branch's code), the CJK font embedded."""
    text = pdftotext(pdf, layout=True)
    assert [word for word in ENGLISH.findall(text) if word not in names] == [], text
    _embedded(pdf)
    return text


def _embedded(pdf: bytes) -> None:
    fonts = pdffonts(pdf)
    assert "Fixdesk-Print-Sans" in fonts
    assert all(line.split()[-5] == "yes" for line in fonts.splitlines()[2:])


def _flat(text: str) -> str:
    return re.sub(r"\s+", "", text)


def _make_complaints(app) -> dict:
    """The complaints of the module's docstring, registered at NOW; A's handling form
    approved by 售后服务部 (吴芳), 人事部 still to decide."""
    with _at(app) as ctx:
        staff = {code: _by_code(ctx, Employee, code) for code in ("S001", "S002", "E001",
                                                                   "E002")}
        for code, name, head in (("SVC", "售后服务部", "S001"), ("HR", "人事部", "S002")):
            ctx.session.add(Department(company_id=staff[head].company_id, code=code,
                                       name=name, head_id=staff[head].id))
        ctx.session.flush()
        svc = _by_code(ctx, Department, "SVC")
        a = _register(ctx, "C0001", dt.datetime(2026, 5, 12, 9, 30, tzinfo=SHANGHAI),
                      severity="serious", category="human_factors", contact_name="钱经理",
                      phone="021-6888 1234", engineer_id=staff["E001"].id,
                      about={"entity": "employee", "id": staff["E001"].id},
                      description="工程师态度粗鲁，碳粉洒在地毯上")
        services.investigate(ctx, a)
        services.determine(ctx, a, cause="工程师更换硒鼓时操作不当且态度生硬", our_fault=True,
                           department=svc)
        services.propose(ctx, a, resolution="免费清洗地毯，上门致歉，更换工程师",
                         departments="SVC,HR")
        b = _register(ctx, "C0002", dt.datetime(2026, 5, 20, 14, 0, tzinfo=SHANGHAI),
                      category="product_quality", description="新换的定影器又坏了")
        services.investigate(ctx, b)
        services.determine(ctx, b, cause="定影器批次质量问题", our_fault=True, department=svc,
                           person=staff["E002"])
        _register(ctx, "C0006", dt.datetime(2026, 5, 28, 16, 0, tzinfo=SHANGHAI),
                  category="software", description="扫描软件无法登录")
        _register(ctx, "C0006", dt.datetime(2026, 5, 29, 10, 0, tzinfo=SHANGHAI),
                  topic="praise", description="工程师很专业")
        twice = _register(ctx, "C0006", dt.datetime(2026, 5, 29, 11, 0, tzinfo=SHANGHAI),
                          description="扫描软件无法登录（重复）")
        services.cancel(ctx, twice, reason="重复登记")
        _register(ctx, "C0001", dt.datetime(2026, 1, 8, 11, 0, tzinfo=SHANGHAI),
                  description="报修电话无人接听")
        _register(ctx, "C0001", dt.datetime(2026, 5, 6, 11, 0, tzinfo=SHANGHAI),
                  branch_id=_by_code(ctx, Branch, "JD").id, description="嘉定工程师迟到两小时")
        ids = {"a": a.id, "b": b.id}
    with _at(app, "wufang") as ctx:
        services.approve(ctx, ctx.session.get(Complaint, ids["a"]), "SVC",
                         comment="同意，尽快上门")
    return ids


def _handle_to_the_end(app, complaint_id: int) -> None:
    """人事部 (郑丽) approves A's handling form; the customer agrees, it is carried out,
    the supervisor calls the customer and tells the result."""
    with _at(app, "zhengli") as ctx:
        services.approve(ctx, ctx.session.get(Complaint, complaint_id), "HR", comment="同意")
    with _at(app, "wufang") as ctx:
        a = ctx.session.get(Complaint, complaint_id)
        services.agree(ctx, a, note="客户电话同意")
        services.carry_out(ctx, a, note="已清洗地毯，主管上门致歉")
        services.record_contact(ctx, a, summary="主管致电客户致歉，客户接受")
        services.inform(ctx, a, result="客户对处理结果表示满意", satisfied=True)


def _has(text: str, *expected: str) -> None:
    for wanted in expected:
        assert wanted in text, wanted


def test_complaint_papers_in_chinese_and_english(complaints_app):
    app = complaints_app
    ids = _make_complaints(app)
    with _at(app) as ctx:
        register = _chinese(print_records(ctx, "complaints.register", [ids["a"]],
                                          locale="zh_CN"))
        pending = _chinese(print_records(ctx, "complaints.handling", [ids["a"]],
                                         locale="zh_CN"))
        with use_locale("zh_CN"), pytest.raises(Conflict, match="客户投诉处理表.*审批"):
            print_records(ctx, "complaints.handling", [ids["b"]], locale="zh_CN")
        with pytest.raises(Conflict):  # the customer was not told the result yet
            print_records(ctx, "complaints.letter", [ids["a"]], locale="zh_CN")
        # without a plugin counting jobs the rate is not shown
        alone = _flat(pdftotext(print_records(ctx, "complaints.monthly",
                                              [_by_code(ctx, Branch, "SH").id], locale="zh_CN")))
    _has(_flat(register), "客户投诉登记表", "CP-SH-2026-", "申达物流有限公司", "钱经理",
         "员工：E001王建国", "工程师态度粗鲁，碳粉洒在地毯上", "■投诉", "■严重", "■人为因素",
         "投诉渠道", "2026-05-1209:30", "受理人", "主管")
    _has(_flat(pending), "客户投诉处理表", "售后服务部已批准同意，尽快上门吴芳2026-06-1510:00",
         "人事部待审批", "工程师更换硒鼓时操作不当", "■是", "免费清洗地毯")
    _has(alone, "投诉率：—", "没有统计工单数的模块", "各月投诉数")

    _handle_to_the_end(app, ids["a"])
    with _at(app) as ctx:
        branches = {b.code: b.id for b in ctx.session.scalars(select(Branch))}
        app.pm.register(Jobs(branches), name="jobs_stand_in")
        try:
            letter = _chinese(print_records(ctx, "complaints.letter", [ids["a"]],
                                            locale="zh_CN"))
            english = " ".join(pdftotext(print_records(ctx, "complaints.handling", [ids["a"]],
                                                       locale="en"), layout=True).split())
            again = _flat(pdftotext(print_records(ctx, "complaints.register", [ids["a"]],
                                                  locale="zh_CN")))
            monthly = _chinese(print_records(ctx, "complaints.monthly", [branches["SH"]],
                                             locale="zh_CN"), names=("SH",))
            company = " ".join(pdftotext(print_records(
                ctx, "complaints.monthly_company", [ctx.session.scalar(select(Company.id))],
                locale="en"), layout=True).split())
        finally:
            app.pm.unregister(name="jobs_stand_in")
    _has(_flat(letter), "致客户函", "尊敬的申达物流有限公司：", "CP-SH-2026-00001",
         "2026年5月12日", "调查结果：工程师更换硒鼓时操作不当", "此事属我方（售后服务部）责任",
         "已清洗地毯", "深表歉意", "021-58306600", "联系人：吴芳", "盖章处", "2026年6月15日")
    _has(english, "Complaint handling form", "售后服务部 approved 同意，尽快上门 吴芳",
         "人事部 approved 同意 郑丽", "Agreed with the", "客户电话同意", "serious · human factors",
         "Customer satisfied：Yes")
    assert "副本" in again and "主管致电客户致歉，客户接受" in again
    _has(_flat(monthly), "月度客户投诉分析报告", "SH-202605", "2026年5月",
         "上海服务中心SH34120.73%", "产品质量133.33%", "人为因素133.33%",
         "售后服务部2266.67%", "未指定部门1033.33%", "李明E002上海服务中心11", "各月投诉率",
         "0.25%")
    assert "嘉定分公司" not in monthly
    _has(company, "Monthly complaint report", "May 2026", "上海服务中心 SH 3 412 0.73%",
         "嘉定分公司 JD 1 100 1.00%", "Total 4 512 0.78%")
