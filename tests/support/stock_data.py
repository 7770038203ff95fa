"""Master data for inventory tests: a category, a supplier, parts and warehouses of the SH
branch, made through the plugin's entities in one transaction."""

from __future__ import annotations

from decimal import Decimal

from kernel.masterdata import get_branch, the_company


def make_stock_data(app) -> dict:
    """Parts ``DR-2206`` (drum, ¥380), ``TN-2206`` (toner, ¥95, shelf life 365 days) and
    ``FU-2206`` (fuser); supplier ``SUP1`` (approved) and ``SUP2`` (pending); warehouses
    ``SH-P`` (parts) and ``SH-R`` (emergency reserve). Returns their ids by code."""
    from plugins.inventory.models import (
        Part,
        PartCategory,
        Supplier,
        SupplierStatus,
        Warehouse,
        WarehouseKind,
    )

    with app.context() as ctx:
        company, branch = the_company(ctx), get_branch(ctx, "SH")
        drums = PartCategory(company_id=company.id, code="DRUM", name="硒鼓")
        toner = PartCategory(company_id=company.id, code="TONER", name="墨粉")
        sup1 = Supplier(company_id=company.id, code="SUP1", name="佳能耗材上海总代",
                        status=SupplierStatus.APPROVED)
        sup2 = Supplier(company_id=company.id, code="SUP2", name="未审核供应商")
        ctx.session.add_all([drums, toner, sup1, sup2])
        ctx.session.flush()
        parts = [Part(company_id=company.id, code="DR-2206", name="硒鼓", model="iR 2206",
                      unit="支", category_id=drums.id, standard_cost=Decimal("380.00"),
                      default_supplier_id=sup1.id, reorder_level=2, reorder_qty=5,
                      barcode="6901234567892"),
                 Part(company_id=company.id, code="TN-2206", name="墨粉", model="iR 2206",
                      unit="瓶", category_id=toner.id, standard_cost=Decimal("95.00"),
                      shelf_life_days=365, default_supplier_id=sup1.id, reorder_level=5,
                      reorder_qty=10),
                 Part(company_id=company.id, code="FU-2206", name="定影组件", model="iR 2206",
                      standard_cost=Decimal("620.00"), default_supplier_id=sup1.id)]
        houses = [Warehouse(company_id=company.id, branch_id=branch.id, code="SH-P",
                            name="上海配件库", kind=WarehouseKind.PARTS),
                  Warehouse(company_id=company.id, branch_id=branch.id, code="SH-R",
                            name="上海应急储备库", kind=WarehouseKind.EMERGENCY_RESERVE)]
        ctx.session.add_all(parts + houses)
        ctx.session.flush()
        ids = {p.code: p.id for p in parts} | {w.code: w.id for w in houses}
        ids |= {"SUP1": sup1.id, "SUP2": sup2.id, "branch": branch.id}
    return ids
