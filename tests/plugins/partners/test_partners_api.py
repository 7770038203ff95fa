"""The partner plugins through the API and the CLI: alone, together with repair, with
repair switched off, and switched off for one branch."""

from __future__ import annotations

import pytest
from partner_sites import ALL, an_order, an_order_of
from pdf_tools import pdftotext

PARTNERS = ["acme_warranty", "acme_rating"]


# --------------------------------------------------------------------------
# alone
# --------------------------------------------------------------------------


@pytest.mark.parametrize("plugin", PARTNERS)
def test_each_runs_alone_and_waits_for_repair(open_web, fixdesk, plugin):
    web = open_web([plugin])
    assert web.app.enabled_plugins == [plugin] and web.app.failed_plugins == {}
    [waiting] = web.app.inactive
    assert (waiting.plugin, waiting.what, waiting.needs) == \
        (plugin, f"part {plugin}.repair", ("repair",))
    assert not any(entity == "repair_work_order" for entity, _name in web.app.actions)
    categories = web.api("admin").get(f"/api/v1/{plugin}_category?count=true").json()
    assert categories["total"] >= 2  # its own entity, with its demo data
    paths = web.client().get("/api/v1/openapi.json").json()["paths"]
    assert f"/api/v1/{plugin}_category" in paths
    assert not any("repair_work_order" in path for path in paths)
    listing = fixdesk("--site", web.app.site.path, "plugins", "list").out
    assert f"  - part {plugin}.repair: inactive (needs repair)" in listing


def test_both_alone_each_with_a_category_class_of_its_own(open_web):
    web = open_web(PARTNERS)
    classes = {web.app.entity_class(f"{p}_category") for p in PARTNERS}
    assert {cls.__name__ for cls in classes} == {"Category"} and len(classes) == 2
    admin = web.api("admin")
    made = admin.post("/api/v1/acme_rating_category",
                      json={"code": "PCB", "name": "板级", "weight_percent": 130})
    assert made.status_code == 201, made.text
    assert admin.get("/api/v1/acme_warranty_category?code=PCB&count=true").json()["total"] == 0


# --------------------------------------------------------------------------
# together with repair
# --------------------------------------------------------------------------


def test_the_work_order_carries_both_plugins_fields(both):
    order_id = an_order(both, status="dispatched")
    supervisor = both.api("wufang")
    found = supervisor.get(f"/api/v1/repair_work_order/{order_id}").json()
    assert found["acme_rating"] == {"difficulty": "normal", "category_id": None, "note": None}
    assert found["acme_warranty"] == {"claimable": False, "category_id": None, "amount": None,
                                      "claim_no": None, "filed_at": None}
    board = supervisor.get("/api/v1/acme_rating_category?code=BOARD").json()["items"][0]["id"]
    changed = supervisor.patch(f"/api/v1/repair_work_order/{order_id}", json={
        "acme_rating": {"difficulty": "major", "category_id": board, "note": "主板烧毁"},
        "acme_warranty": {"amount": "320.50"}})
    assert changed.status_code == 200, changed.text
    assert changed.json()["acme_rating"] == {"difficulty": "major", "category_id": board,
                                             "note": "主板烧毁"}
    assert changed.json()["acme_warranty"]["amount"] == "320.50"
    assert changed.json()["status"] == "dispatched"  # repair's own fields untouched

    only_major = supervisor.get("/api/v1/repair_work_order",
                                params={"acme_rating.difficulty": "major"}).json()
    assert [o["id"] for o in only_major["items"]] == [order_id]
    first = supervisor.get("/api/v1/repair_work_order",
                           params={"sort": "-acme_warranty.amount", "limit": 1}).json()
    assert first["items"][0]["id"] == order_id

    history = supervisor.get(f"/api/v1/repair_work_order/{order_id}/history").json()
    assert history[-1]["changes"]["acme_warranty.amount"] == [None, "320.50"]
    assert history[-2]["changes"]["acme_rating.difficulty"] == [None, "major"]

    with both.app.context() as ctx:  # the companions' relationships, by each own Category
        rating = ctx.session.get(both.app.entity_class("acme_rating_rating"), order_id)
        assert rating.category.code == "BOARD"


def test_writing_a_plugin_s_fields_needs_its_permission_and_valid_values(both):
    order_id = an_order(both, status="dispatched")
    url = f"/api/v1/repair_work_order/{order_id}"
    refused = both.api("zhengli").patch(url, json={"acme_rating": {"difficulty": "easy"}})
    assert refused.status_code == 403  # front desk may read but not rate
    supervisor = both.api("wufang")
    bad = supervisor.patch(url, json={"acme_rating": {"difficulty": "impossible"},
                                      "acme_warranty": {"claim_no": "X", "amount": "1.234"}})
    assert bad.status_code == 422
    assert set(bad.json()["error"]["fields"]) == {
        "acme_rating.difficulty", "acme_warranty.claim_no", "acme_warranty.amount"}
    assert supervisor.patch(url, json={"acme_rating": {"mood": "x"}}).status_code == 422
    assert supervisor.patch(url, json={"status": "closed"}).status_code in (403, 409, 422)
    unchanged = supervisor.get(url).json()
    assert unchanged["acme_rating"]["difficulty"] == "normal"
    assert unchanged["acme_warranty"]["amount"] is None


def test_openapi_documents_the_plugins_fields(both):
    spec = both.client().get("/api/v1/openapi.json").json()
    order = spec["components"]["schemas"]["RepairWorkOrder"]["properties"]
    assert {"acme_rating", "acme_warranty"} <= set(order)
    rating = spec["components"]["schemas"]["RepairWorkOrderAcmeRating"]["properties"]
    assert set(rating) == {"difficulty", "category_id", "note"}
    listing = spec["paths"]["/api/v1/repair_work_order"]["get"]["parameters"]
    assert "acme_rating.difficulty" in {p["name"] for p in listing}
    assert "/api/v1/repair_work_order/{record_id}/acme_warranty_file_claim" in spec["paths"]
    assert "/api/v1/repair_work_order/{record_id}/acme_rating_escalate" in spec["paths"]


def test_an_action_of_one_plugin_runs_another_s_through_the_same_path(both):
    from kernel import hookimpl

    done = []

    class Listener:
        @hookimpl
        def fixdesk_action_done(self, entity, record, action, params):
            done.append((entity, record.id, action, dict(params)))

    both.app.pm.register(Listener(), name="listener")
    order_id = an_order(both, status="dispatched", urgent=False)
    escalated = both.api("wufang").post(
        f"/api/v1/repair_work_order/{order_id}/acme_rating_escalate")
    assert escalated.status_code == 200, escalated.text
    assert escalated.json()["urgent"] is True and \
        escalated.json()["acme_rating"]["difficulty"] == "major"
    assert done == [("repair_work_order", order_id, "edit", {"urgent": True}),
                    ("repair_work_order", order_id, "acme_rating_escalate", {})]
    history = both.api("wufang").get(f"/api/v1/repair_work_order/{order_id}/history").json()
    assert any(entry["changes"].get("urgent") == [False, True] for entry in history)
    again = both.api("wufang").post(f"/api/v1/repair_work_order/{order_id}/acme_rating_escalate")
    assert again.status_code == 409


def test_the_engineers_asked_for_a_major_job_are_the_seniors(both):
    order_id = an_order(both, status="pending")
    supervisor = both.api("wufang")
    before = supervisor.get(f"/api/repair/work_orders/{order_id}/suggestions").json()
    supervisor.patch(f"/api/v1/repair_work_order/{order_id}",
                     json={"acme_rating": {"difficulty": "major"}})
    after = supervisor.get(f"/api/repair/work_orders/{order_id}/suggestions").json()
    order = ("expert", "senior", "regular", "trainee")
    assert [order.index(c["grade"]) for c in after] == \
        sorted(order.index(c["grade"]) for c in after)
    assert {c["employee_id"] for c in after} == {c["employee_id"] for c in before}


def test_a_claim_is_filed_by_a_plugin_role_and_printed(both):
    from kernel.auth import add_user
    from kernel.masterdata import get_branch

    with both.app.context() as ctx:
        add_user(ctx, "qianli", "钱力", "password-123", get_branch(ctx, "SH"),
                 roles=["warranty_clerk"])
    order_id = an_order(both, status="closed")
    clerk = both.api("qianli")
    url = f"/api/v1/repair_work_order/{order_id}/acme_warranty_file_claim"
    assert clerk.post(url, json={}).status_code == 422  # the category is required
    filed = clerk.post(url, json={"category": "PARTS"})
    assert filed.status_code == 200, filed.text
    claim = filed.json()["acme_warranty"]
    assert claim["claim_no"].startswith("CLM-WO-SH-") and claim["claimable"] is True
    assert clerk.post(url, json={"category": "PARTS"}).status_code == 409
    assert both.api("wufang").post(url, json={"category": "PARTS"}).status_code == 403
    pdf = clerk.get(f"/api/v1/repair_work_order/{order_id}/print/acme_warranty.claim_form",
                    params={"lang": "zh_CN"})
    assert pdf.status_code == 200
    text = pdftotext(pdf.content)
    assert claim["claim_no"] in text and "索赔单号" in text and "整机保修（含配件）" in text
    sheet = both.api("wufang").get(
        f"/api/v1/repair_work_order/{order_id}/print/acme_rating.difficulty_sheet",
        params={"lang": "zh_CN"})
    assert sheet.status_code == 200 and "维修难度评定表" in pdftotext(sheet.content)


def test_a_warranty_repair_completed_twice_is_claimed_once(both):
    """``repair_order_completed`` fires again after rework; the claim stays one row."""
    from sqlalchemy import func, select

    order_id = an_order(both, status="in_repair", category="C")
    with both.app.context(user="admin") as ctx:
        ctx.run_action("repair_work_order", order_id, "complete", method="更换定影", cause="老化")
        ctx.run_action("repair_work_order", order_id, "audit", passed=False, note="复查漏粉")
        ctx.run_action("repair_work_order", order_id, "complete", method="更换定影和粉仓",
                       cause="老化")
    claims = both.app.entity_class("acme_warranty_claim")
    with both.app.context() as ctx:
        assert ctx.session.scalar(select(func.count()).select_from(claims).where(
            claims.record_id == order_id)) == 1
        assert ctx.session.get(claims, order_id).claimable is True


# --------------------------------------------------------------------------
# switched off for a branch, and repair disabled
# --------------------------------------------------------------------------


def test_switched_off_for_one_branch_the_plugin_shows_nothing_there(both, fixdesk):
    site = both.app.site.path
    for hook in ("fixdesk_extensions", "fixdesk_actions", "fixdesk_documents",
                 "fixdesk_form_sections", "fixdesk_list_columns"):
        done = fixdesk("--site", site, "hooks", "disable", "acme_rating.repair", hook,
                       "--branch", "JD")
        assert done.code == 0, done.err
    listed = fixdesk("--site", site, "hooks", "list", "--branch", "JD").out
    assert "acme_rating.repair\tfixdesk_form_sections\toff" in listed
    assert "acme_warranty.repair\tfixdesk_form_sections\ton" in listed
    jd_order = an_order_of(both, "JD")
    sh_order = an_order(both, status="dispatched")
    jd, sh = both.api("huangtao"), both.api("wufang")
    seen_in_jd = jd.get(f"/api/v1/repair_work_order/{jd_order}").json()
    assert seen_in_jd["acme_rating"] is None and seen_in_jd["acme_warranty"] is not None
    assert sh.get(f"/api/v1/repair_work_order/{sh_order}").json()["acme_rating"] is not None
    assert jd.get("/api/v1/repair_work_order",
                  params={"acme_rating.difficulty": "major"}).status_code == 422
    assert jd.patch(f"/api/v1/repair_work_order/{jd_order}",
                    json={"acme_rating": {"difficulty": "major"}}).status_code == 422
    assert jd.post(f"/api/v1/repair_work_order/{jd_order}/acme_rating_escalate"
                   ).status_code == 404
    assert jd.get(f"/api/v1/repair_work_order/{jd_order}/print/acme_rating.difficulty_sheet"
                  ).status_code == 404
    assert sh.get(f"/api/v1/repair_work_order/{sh_order}/print/acme_rating.difficulty_sheet"
                  ).status_code == 200


def test_with_repair_disabled_the_partners_keep_running_and_their_data(both, fixdesk,
                                                                       open_web):
    from kernel.site import Site

    order_id = an_order(both, status="dispatched")
    both.api("wufang").patch(f"/api/v1/repair_work_order/{order_id}",
                             json={"acme_rating": {"difficulty": "easy"}})
    site = both.app.site.path
    both.close()
    assert fixdesk("--site", site, "plugins", "disable", "repair").code == 0
    alone = open_web(None, site=Site.load(site))
    assert alone.app.enabled_plugins == sorted(PARTNERS)
    assert {i.what for i in alone.app.inactive} == {"part acme_warranty.repair",
                                                    "part acme_rating.repair"}
    assert alone.api("admin").get("/api/v1/acme_rating_category").status_code == 200
    assert fixdesk("--site", site, "migrate", "--check").code == 0
    assert fixdesk("--site", site, "plugins", "enable", "repair").code == 0
    back = open_web(None, site=Site.load(site))
    kept = back.api("wufang").get(f"/api/v1/repair_work_order/{order_id}").json()
    assert kept["acme_rating"]["difficulty"] == "easy"


def test_enabling_repair_later_creates_the_glue_tables(open_web, fixdesk):
    from sqlalchemy import inspect

    from kernel.site import Site

    web = open_web(PARTNERS)
    site = web.app.site.path
    assert "acme_rating_rating" not in inspect(web.app.engine).get_table_names()
    web.close()
    assert fixdesk("--site", site, "plugins", "enable", "repair").code == 0
    after = open_web(None, site=Site.load(site))
    tables = inspect(after.app.engine).get_table_names()
    assert {"acme_rating_rating", "acme_warranty_claim"} <= set(tables)
    assert after.app.units == ["kernel", *sorted(ALL[1:]), "repair", "acme_rating.repair",
                               "acme_warranty.repair"]
