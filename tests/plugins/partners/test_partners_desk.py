"""The partner plugins on the desk (server-rendered, through the ASGI app): their blocks on
the work order's form, their columns on its list, their papers, in Chinese, and nothing
of a plugin in a branch that switched it off."""

from __future__ import annotations

import re

from partner_sites import an_order, an_order_of

from kernel.hookswitch import switch


def _block(page: str, name: str) -> str:
    found = re.search(rf'<section class="record block" id="block-{re.escape(name)}".*?</section>',
                      page, re.S)
    return found.group(0) if found else ""


def test_the_form_shows_each_plugin_s_block_and_saves_its_fields(both):
    order_id = an_order(both, status="dispatched")
    supervisor = both.desk("wufang")
    page = supervisor.get(f"/desk/repair_work_order/{order_id}").text
    rating, claim = _block(page, "acme_rating.difficulty"), _block(page, "acme_warranty.claim")
    assert "维修难度" in rating and "已用工时" in rating
    assert '<th scope="col">工程师</th>' in rating
    assert 'name="acme_rating.difficulty"' in rating and '<option value="major">大修' in rating
    assert "厂家保修索赔" in claim and "尚未提交索赔。" in claim
    assert 'name="acme_warranty.amount"' in claim
    assert page.index("block-acme_warranty.claim") < page.index("block-acme_rating.difficulty")

    saved = supervisor.post(f"/desk/repair_work_order/{order_id}", data={
        "csrf": supervisor.csrf, "_fields": ["acme_rating.difficulty", "acme_rating.note"],
        "acme_rating.difficulty": "major", "acme_rating.note": "主板"})
    assert saved.status_code == 303, saved.text
    after = supervisor.get(saved.headers["location"]).text
    assert '<option value="major" selected>大修' in _block(after, "acme_rating.difficulty")
    assert "主板" in after  # also in the history below the form

    wrong = supervisor.post(f"/desk/repair_work_order/{order_id}", data={
        "csrf": supervisor.csrf, "_fields": ["acme_warranty.amount"],
        "acme_warranty.amount": "12.345"})
    assert wrong.status_code == 422
    assert re.search(r'<p class="field-error" id="e-acme_warranty.amount">[^<]+</p>', wrong.text)
    assert 'value="12.345"' in wrong.text  # kept as typed


def test_who_may_not_write_a_plugin_s_fields_reads_them(both):
    order_id = an_order(both, status="dispatched")
    page = both.desk("zhengli").get(f"/desk/repair_work_order/{order_id}").text
    rating = _block(page, "acme_rating.difficulty")
    assert "维修难度" in rating and "<form" not in rating and "一般" in rating


def test_the_list_shows_the_plugins_columns_and_sorts_by_a_field(both):
    order_id = an_order(both, status="dispatched")
    supervisor = both.desk("wufang")
    supervisor.post(f"/desk/repair_work_order/{order_id}", data={
        "csrf": supervisor.csrf, "_fields": ["acme_rating.difficulty"],
        "acme_rating.difficulty": "easy"})
    page = supervisor.get("/desk/repair_work_order",
                          params={"sort": "acme_rating.difficulty", "limit": "20"}).text
    headers = re.findall(r'<th scope="col" class="k-[^"]+" aria-sort="[^"]+">(?:<a[^>]*>)?([^<]+)<',
                         page)
    assert {"索赔单", "索赔状态", "难度", "加权工时"} <= set(headers)
    assert 'aria-sort="ascending"><a href="/desk/repair_work_order?sort=-acme_rating.difficulty' \
        in page
    assert "简单" in page
    filtered = supervisor.get("/desk/repair_work_order", params={
        "f": "acme_rating.difficulty", "op": "eq", "v": "简单"}).text
    assert f'href="/desk/repair_work_order/{order_id}"' in filtered


def test_papers_of_both_plugins_are_offered_on_the_form(both):
    order_id = an_order(both, status="closed")
    page = both.desk("admin").get(f"/desk/repair_work_order/{order_id}").text
    assert "预览：保修索赔单" in page and "预览：维修难度评定表" in page
    assert "提交保修索赔" in page and "升级为重大维修" not in page  # closed: no escalation


def test_a_branch_that_switched_a_plugin_off_sees_none_of_it(both):
    with both.app.context(branch="JD") as ctx:
        for hook in ("fixdesk_form_sections", "fixdesk_list_columns", "fixdesk_extensions",
                     "fixdesk_actions", "fixdesk_documents"):
            switch(ctx, "acme_rating.repair", hook, ctx.branch, False)
    jd_order = an_order_of(both, "JD")
    jd = both.desk("huangtao").get(f"/desk/repair_work_order/{jd_order}").text
    assert "block-acme_rating" not in jd and "维修难度评定表" not in jd
    assert "block-acme_warranty.claim" in jd
    jd_list = both.desk("huangtao").get("/desk/repair_work_order").text
    assert "加权工时" not in jd_list and "索赔状态" in jd_list
    sh = both.desk("wufang").get(f"/desk/repair_work_order/{an_order(both, status='dispatched')}")
    assert "block-acme_rating.difficulty" in sh.text


def test_home_names_the_plugins_in_chinese_and_tells_admins_what_waits(open_web):
    web = open_web(["acme_rating"])
    home = web.desk("admin").get("/").text
    assert "维修难度" in home and "难度等级" in home  # the module and its entity
    assert "acme_rating.repair" in home and "repair" in home  # inactive: needs repair
    assert "Job difficulty" not in home
