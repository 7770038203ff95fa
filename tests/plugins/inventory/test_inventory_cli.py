"""``fixdesk inventory``: check, stock, ledger, reorder, run in this process on a site with
hand-checked stock; a stock row broken behind the ledger's back makes ``check`` fail."""

from __future__ import annotations

from decimal import Decimal as D

import pytest
from sqlalchemy import text
from stock_data import make_stock_data


@pytest.fixture
def shop(inventory_app):
    """A site with inventory alone (no demo stock) and this stock in SH:

    - DR-2206 in SH-P: 3 received at 100, 2 at 110 (average 104), 4 issued → 1 worth 104;
    - TN-2206 in SH-P: 10 received at 95, 6 of them reserved → 4 available;
    - FU-2206 in SH-R: 1 received at 620.
    """
    from plugins.inventory import ledger
    from plugins.inventory.ledger import Move, Voucher
    from plugins.inventory.models import Movement

    app = inventory_app
    ids = make_stock_data(app)
    drum, toner, fuser = ids["DR-2206"], ids["TN-2206"], ids["FU-2206"]
    parts, reserve = ids["SH-P"], ids["SH-R"]
    moves = [(drum, parts, 3, "100.00"), (drum, parts, 2, "110.00"), (drum, parts, -4, None),
             (toner, parts, 10, "95.00"), (fuser, reserve, 1, "620.00")]
    with app.context() as ctx:
        for n, (part, house, qty, cost) in enumerate(moves, 1):
            kind = Movement.RECEIPT if qty > 0 else Movement.ISSUE
            ledger.post(ctx, Voucher("inventory_stock_entry", n, f"SE-T-{n}", ids["branch"]),
                        [Move(part, house, qty, kind, D(cost) if cost else None)])
        ledger.reserve(ctx, toner, parts, 6, job=None, source=None)
    return app.site, app, ids


HEADER = "PART\tNAME\tWAREHOUSE\tON HAND\tRESERVED\tAVAILABLE\tAVERAGE COST\tSTOCK VALUE"
DRUM = "DR-2206\t硒鼓\tSH-P\t1\t0\t1\t104.00\t104.00"
TONER = "TN-2206\t墨粉\tSH-P\t10\t6\t4\t95.00\t950.00"
FUSER = "FU-2206\t定影组件\tSH-R\t1\t0\t1\t620.00\t620.00"


def test_reports_of_the_stock(shop, fixdesk):
    site, _app, _ids = shop
    for args, lines in [
        (("check",), ["ledger and stock agree: 3 stock rows"]),
        (("stock",), [HEADER, DRUM, FUSER, TONER, "TOTAL\t\t\t\t\t\t\t1674.00"]),
        (("stock", "--warehouse", "SH-P"), [HEADER, DRUM, TONER, "TOTAL\t\t\t\t\t\t\t1054.00"]),
        (("stock", "--part", "FU-2206"), [HEADER, FUSER, "TOTAL\t\t\t\t\t\t\t620.00"]),
        (("stock", "--part", "FU-2206", "--warehouse", "SH-P"),
         [HEADER, "TOTAL\t\t\t\t\t\t\t0.00"]),
        (("reorder", "--branch", "SH"),
         ["BRANCH\tPART\tNAME\tON HAND\tRESERVED\tON ORDER\tREORDER LEVEL\tTO BUY\tSUPPLIER",
          "SH\tDR-2206\t硒鼓\t1\t0\t0\t2\t5\tSUP1",
          "SH\tTN-2206\t墨粉\t10\t6\t0\t5\t10\tSUP1"]),  # 6 of 10 reserved: 4 < 5
    ]:
        done = fixdesk("--site", site.path, "inventory", *args)
        assert (done.code, done.out.splitlines(), done.err) == (0, lines, ""), args

    movements = fixdesk("--site", site.path, "inventory", "ledger", "--part", "DR-2206")
    assert movements.code == 0, movements
    rows = [line.split("\t") for line in movements.out.splitlines()]
    assert rows[0] == ["POSTED AT", "WAREHOUSE", "MOVEMENT", "QUANTITY", "UNIT COST",
                       "VALUE CHANGE", "BALANCE", "DOCUMENT"]
    # newest first, each with the balance after it
    assert [row[1:] for row in rows[1:]] == [
        ["SH-P", "issue", "-4", "104.00", "-416.00", "1", "SE-T-3"],
        ["SH-P", "receipt", "2", "110.00", "220.00", "5", "SE-T-2"],
        ["SH-P", "receipt", "3", "100.00", "300.00", "3", "SE-T-1"]]
    latest = fixdesk("--site", site.path, "inventory", "ledger", "--part", "DR-2206",
                     "--warehouse", "SH-P", "--limit", "1")
    assert [line.split("\t")[-2:] for line in latest.out.splitlines()[1:]] == [["1", "SE-T-3"]]


def test_bad_input_is_one_line_and_exit_2(shop, fixdesk):
    site, _app, _ids = shop
    for args, message in [
        (("stock", "--part", "NOPE"), "error: no part NOPE"),
        (("stock", "--warehouse", "XX"), "error: no warehouse XX"),
        (("stock", "--part", "DR\x002206"), "error: arguments must not contain NUL"),
        (("ledger", "--part", "NOPE"), "error: no part NOPE"),
        (("ledger", "--part", "DR-2206", "--warehouse", "XX"), "error: no warehouse XX"),
        (("ledger", "--part", "DR-2206", "--limit", "0"), "'--limit'"),
        (("ledger", "--part", "DR-2206", "--limit", "many"), "'--limit'"),
        (("ledger",), "'--part'"),
        (("reorder", "--branch", "ZZ"), "error: no branch ZZ"),
    ]:
        done = fixdesk("--site", site.path, "inventory", *args)
        assert (done.code, done.out) == (2, ""), (args, done)
        assert len(done.err.splitlines()) == 1 and message in done.err, (args, done)


def test_check_names_a_broken_stock_row(shop, fixdesk):
    site, app, ids = shop
    with app.engine.begin() as conn:  # behind the ledger's back
        conn.execute(text("UPDATE inventory_stock SET qty = qty + 1 WHERE part_id = :part"),
                     {"part": ids["DR-2206"]})
    done = fixdesk("--site", site.path, "inventory", "check")
    assert done.code == 1, done
    assert done.out.splitlines() == [
        "DR-2206 硒鼓 iR 2206 in 上海配件库: on hand is 2 on the stock row but 1 in the ledger"]
    assert done.err.strip() == "1 differences between the stock and the ledger"


def test_commands_speak_chinese(shop, fixdesk, monkeypatch):
    site, _app, _ids = shop
    monkeypatch.setenv("FIXDESK_LANG", "zh_CN")
    assert fixdesk("--site", site.path, "inventory", "check").out == \
        "台账与库存一致：3 条库存记录\n"
    assert fixdesk("--site", site.path, "inventory", "stock", "--part", "NOPE").err == \
        "错误：配件 NOPE 不存在\n"
