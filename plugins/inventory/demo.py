"""Demo data of the inventory plugin: the copier-service company's parts, suppliers and
warehouses (SH and JD, the engineers' vans), warehouse keepers, and a few months of stock
history written through the documents' own services (opening stock, purchases with
inspection, requisitions, a transfer, a scrapping, a stock count), so that the reports,
the dashboard and the ledger tell a believable story. The history is dated back from the
day the demo is made.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy import select

from kernel.demo import add_demo_accounts
from kernel.masterdata import the_company
from kernel.models import Branch, Employee

from .models import (
    Part,
    PartCategory,
    PartModel,
    ReserveLevel,
    Supplier,
    SupplierStatus,
    Warehouse,
    WarehouseKind,
)

CATEGORIES = [("DRUM", "感光鼓/硒鼓"), ("TONER", "墨粉"), ("FUSER", "定影组件"),
              ("FEED", "搓纸进纸"), ("BOARD", "电路板"), ("SENSOR", "传感器"),
              ("SUPPLY", "维修耗材")]

SUPPLIERS = [
    ("SUP-CANON", "佳能（中国）上海耗材总代理", SupplierStatus.APPROVED, "周经理", "021-62881234"),
    ("SUP-RICOH", "理光配件华东代理有限公司", SupplierStatus.APPROVED, "陈小姐", "021-54329876"),
    ("SUP-KYO", "京瓷办公信息系统（上海）有限公司", SupplierStatus.APPROVED, "李先生",
     "021-68761100"),
    ("SUP-GEN", "义乌通用耗材有限公司", SupplierStatus.PENDING, "何老板", "0579-85551234"),
    ("SUP-OLD", "上海旧件回收站", SupplierStatus.SUSPENDED, "吴师傅", "021-33334444"),
]

# code, name, model, specification, unit, category, cost, supplier, shelf days,
# reorder level, reorder qty, compatible models, barcode
PARTS = [
    ("DR-2206", "硒鼓", "NPG-59 鼓组件", "iR 2206/2206N 用", "支", "DRUM", "380.00",
     "SUP-CANON", None, 2, 4, ["iR 2206", "iR 2630"], "6901234500019"),
    ("TN-2206", "墨粉", "NPG-59", "黑色 480g", "瓶", "TONER", "95.00", "SUP-CANON", 730, 6,
     12, ["iR 2206"], "6901234500026"),
    ("TN-2630", "墨粉", "NPG-67", "黑色 520g", "瓶", "TONER", "128.00", "SUP-CANON", 730, 4,
     10, ["iR 2630"], "6901234500033"),
    ("DR-MP2555", "感光鼓", "D0BQ-9510", "MP 2555/3055 用", "支", "DRUM", "420.00",
     "SUP-RICOH", None, 2, 4, ["MP 2555", "MP 3055"], "6901234500040"),
    ("TN-MP2555", "墨粉", "MP 2554C", "黑色 380g", "瓶", "TONER", "160.00", "SUP-RICOH", 730,
     4, 10, ["MP 2555", "MP 3055"], "6901234500057"),
    ("FU-TH01", "定影热敏电阻", "AW11-0118", "MP 2555/3055 用", "个", "SENSOR", "85.00",
     "SUP-RICOH", None, 3, 6, ["MP 2555", "MP 3055"], "6901234500064"),
    ("FU-CL01", "定影分离爪", "AE04-4069", "一套 4 个", "套", "FUSER", "36.00", "SUP-RICOH",
     None, 4, 10, ["MP 2555", "MP 3055", "iR 2206"], "6901234500071"),
    ("FD-RL01", "搓纸轮", "FC6-7083", "橡胶", "个", "FEED", "48.00", "SUP-CANON", None, 5, 10,
     ["iR 2206", "iR 2630"], "6901234500088"),
    ("FU-UR01", "定影上辊", "AE01-1131", "热辊", "根", "FUSER", "260.00", "SUP-RICOH", None, 1,
     3, ["MP 2555", "MP 3055"], "6901234500095"),
    ("CL-BL01", "清洁刮板", "D0BQ-2250", "感光鼓清洁", "片", "SUPPLY", "30.00", "SUP-RICOH",
     None, 4, 10, ["MP 2555", "MP 3055"], "6901234500101"),
    ("DR-TA2020", "感光鼓组件", "DK-1150", "TASKalfa 2020 用", "支", "DRUM", "460.00",
     "SUP-KYO", None, 1, 3, ["TASKalfa 2020"], "6901234500118"),
    ("TN-TA2020", "墨粉", "TK-4148", "黑色", "瓶", "TONER", "135.00", "SUP-KYO", 730, 3, 8,
     ["TASKalfa 2020"], "6901234500125"),
    ("BD-MB2206", "主控板", "FM1-B701", "iR 2206 主板", "块", "BOARD", "1280.00", "SUP-CANON",
     None, 0, 1, ["iR 2206"], "6901234500132"),
    ("BD-PS2555", "电源板", "D0BQ-5610", "MP 2555 电源板", "块", "BOARD", "860.00",
     "SUP-RICOH", None, 0, 1, ["MP 2555", "MP 3055"], "6901234500149"),
    ("SN-PS01", "纸张传感器", "WG8-5696", "光电式", "个", "SENSOR", "42.00", "SUP-CANON",
     None, 3, 6, ["iR 2206", "iR 2630"], "6901234500156"),
    ("SP-GR01", "定影硅脂", "HY-410", "50g 管装", "管", "SUPPLY", "25.00", "SUP-GEN", 365, 2,
     6, [], "6901234500163"),
    ("SP-CL02", "清洁棉签", "工业级", "100 支/包", "包", "SUPPLY", "12.00", "SUP-GEN", None, 5,
     20, [], "6901234500170"),
    ("FD-SP01", "分页器", "FL2-1347", "手送纸分页", "个", "FEED", "55.00", "SUP-CANON", None,
     2, 6, ["iR 2206"], "6901234500187"),
]

# code, name, branch, kind, engineer code
WAREHOUSES = [
    ("SH-P", "上海配件库", "SH", WarehouseKind.PARTS, None),
    ("SH-W", "上海待修品库", "SH", WarehouseKind.AWAITING_REPAIR, None),
    ("SH-S", "上海样品库", "SH", WarehouseKind.SAMPLES, None),
    ("SH-X", "上海报废库", "SH", WarehouseKind.SCRAP, None),
    ("SH-T", "上海退货库", "SH", WarehouseKind.RETURNS, None),
    ("SH-R", "上海应急储备库", "SH", WarehouseKind.EMERGENCY_RESERVE, None),
    ("VAN-E001", "王工车载库", "SH", WarehouseKind.VAN, "E001"),
    ("JD-P", "嘉定配件库", "JD", WarehouseKind.PARTS, None),
    ("JD-R", "嘉定应急储备库", "JD", WarehouseKind.EMERGENCY_RESERVE, None),
    ("VAN-E006", "赵磊车载库", "JD", WarehouseKind.VAN, "E006"),
]

#: warehouse → part → minimum the emergency reserve must hold
RESERVE = {"SH-R": {"DR-2206": 1, "DR-MP2555": 1, "FU-TH01": 2, "BD-PS2555": 1},
           "JD-R": {"DR-TA2020": 1, "FU-TH01": 1, "TN-TA2020": 2}}

#: the warehouse keepers the demo adds (username, full name, home branch)
KEEPERS = [("sunqin", "孙琴", "SH"), ("liuyun", "刘芸", "JD")]


def load_demo(ctx) -> None:
    """Add the demo parts, suppliers, warehouses, keepers and stock history (only on the
    demo company: both demo branches must exist)."""
    branches = {b.code: b for b in ctx.session.scalars(select(Branch))}
    if not {"SH", "JD"} <= set(branches):
        return
    data = _master_data(ctx, branches)
    add_demo_accounts(ctx, KEEPERS, "warehouse_keeper", branches)
    from .demo_history import load_history

    load_history(ctx, data)


def _master_data(ctx, branches) -> dict:
    company = the_company(ctx)
    add = ctx.session.add
    categories = {code: PartCategory(company_id=company.id, code=code, name=name)
                  for code, name in CATEGORIES}
    suppliers = {code: Supplier(company_id=company.id, code=code, name=name, status=status,
                                contact_name=contact, phone=phone,
                                approved_at=ctx.now() - dt.timedelta(days=400)
                                if status is SupplierStatus.APPROVED else None)
                 for code, name, status, contact, phone in SUPPLIERS}
    ctx.session.add_all([*categories.values(), *suppliers.values()])
    ctx.session.flush()
    parts = {}
    for (code, name, model, spec, unit, category, cost, supplier, shelf, level, qty, _fits,
         barcode) in PARTS:
        part = Part(company_id=company.id, code=code, name=name, model=model,
                    specification=spec, unit=unit, category_id=categories[category].id,
                    standard_cost=Decimal(cost), default_supplier_id=suppliers[supplier].id,
                    shelf_life_days=shelf, reorder_level=level, reorder_qty=qty,
                    barcode=barcode)
        add(part)
        parts[code] = part
    ctx.session.flush()
    for code, *_ignored, fits, _barcode in PARTS:
        for model in fits:
            add(PartModel(part_id=parts[code].id, model=model))
    engineers = {e.code: e for e in ctx.session.scalars(select(Employee))}
    houses = {}
    for code, name, branch, kind, engineer in WAREHOUSES:
        house = Warehouse(company_id=company.id, branch_id=branches[branch].id, code=code,
                          name=name, kind=kind,
                          engineer_id=engineers[engineer].id if engineer in engineers
                          else None)
        if kind is WarehouseKind.VAN and house.engineer_id is None:
            continue
        add(house)
        houses[code] = house
    ctx.session.flush()
    for house, levels in RESERVE.items():
        for part, least in levels.items():
            add(ReserveLevel(warehouse_id=houses[house].id, part_id=parts[part].id,
                             min_qty=least))
    ctx.session.flush()
    return {"branches": branches, "parts": parts, "suppliers": suppliers,
            "warehouses": houses, "engineers": engineers}
