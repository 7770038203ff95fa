"""Another plugin's classes may carry the kernel's and repair's class names.

In a fresh process, classes named ``Customer``, ``Branch``, ``WorkOrder`` ... of another
module are mapped before the kernel's and repair's: relationships, branch scoping
through parents (a customer's contacts) and a whole registration still work, because
nothing finds a class by its bare name.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

SUPPORT = Path(__file__).resolve().parents[2] / "support"

PROBE = """
import json, sys
sys.path.insert(0, sys.argv[2])
import shadow_models  # mapped first: every name below is now ambiguous
from sqlalchemy import select
from sqlalchemy.orm import configure_mappers
from kernel.site import Site
from kernel.models import Customer, CustomerContact

app = Site.load(sys.argv[1]).start()
try:
    configure_mappers()
    with app.context(user="zhengli") as ctx:  # front desk of SH: sees SH only
        customer = ctx.session.scalar(select(Customer).where(Customer.code == "C0002"))
        contacts = [c.name for c in customer.contacts]
        seen = {c.customer.branch.code for c in ctx.session.scalars(select(CustomerContact))}
        from plugins.repair import services
        made = services.register(ctx, fault_description="卡纸", channel="phone",
                                 customer=customer)
        lines = list(made.lines)
        number, branch = made.number, made.branch.code
    with app.context(user="wufang") as ctx:
        ctx.run_action("repair_work_order", made.id, "dispatch", engineer="E002")
    with app.context(user="wufang") as ctx:
        from plugins.repair.models import WorkOrder
        dispatched = ctx.session.get(WorkOrder, made.id)
        engineer = dispatched.engineer.code
    print(json.dumps({"contacts": len(contacts), "seen": sorted(seen), "number": number,
                      "branch": branch, "lines": len(lines), "engineer": engineer}))
finally:
    app.close()
"""


def test_classes_named_like_the_kernel_s_break_nothing(make_site):
    site = make_site(["repair"], demo=True, branch_code="SH", branch_name="上海服务中心")
    done = subprocess.run([sys.executable, "-c", PROBE, str(site.path), str(SUPPORT)],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    found = json.loads(done.stdout.splitlines()[-1])
    assert found["contacts"] >= 1 and found["seen"] == ["SH"]
    assert found["number"].startswith("WO-SH-") and found["branch"] == "SH"
    assert (found["lines"], found["engineer"]) == (0, "E002")
