"""Property-based run of the whole OpenAPI document (schemathesis), logged in with a token.

For every operation, generated requests must never cause a 5xx and every
response must conform to the schema (status code, content type, body).
The site is built when the module is collected (schemathesis reads the
schema at collection time) in a temporary folder removed at exit.
"""

from __future__ import annotations

import atexit
import shutil
import tempfile
from pathlib import Path

import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.specs.openapi.checks import positive_data_acceptance

from kernel.auth import add_user, create_token, get_user
from kernel.masterdata import get_branch
from kernel.provision import create_site
from kernel.site import SiteConfig
from kernel.web.app import create_app


def _build_app():
    folder = Path(tempfile.mkdtemp(prefix="fixdesk-schemathesis-"))
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    site = create_site(folder / "site", SiteConfig(plugins=["fdt_notes"]),
                       company="华东办公设备服务有限公司", branch_code="SH",
                       branch_name="上海服务中心", demo=True)
    web = create_app(site)
    with web.state.fixdesk.context() as ctx:
        add_user(ctx, "robot", "robot", "password-123", get_branch(ctx, "SH"),
                 roles=["front_desk", "accountant"])
        _row, token = create_token(ctx, get_user(ctx.session, "robot"), "schemathesis")
    atexit.register(web.state.fixdesk.close)
    return web, token


APP, TOKEN = _build_app()
schema = schemathesis.openapi.from_asgi("/api/v1/openapi.json", APP)


@schema.parametrize()
@settings(max_examples=12, deadline=None, suppress_health_check=list(HealthCheck))
def test_api_conforms_and_never_fails(case):
    # Business rules legitimately refuse some schema-valid data (a customer id that does
    # not exist, another branch's record): 422/404, so that check is left out.
    case.call_and_validate(headers={"Authorization": f"Bearer {TOKEN}"},
                           excluded_checks=[positive_data_acceptance])
