"""Test plugin whose import fails."""

import fdt_this_module_does_not_exist  # noqa: F401
