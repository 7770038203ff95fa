"""The hello plugin's hook implementations: short, delegating to the modules beside them."""

from kernel import hookimpl

from . import hookspecs
from .models import Greeting
from .services import greet


@hookimpl
def fixdesk_addhooks(pluginmanager):
    """Offer ``hello_greeted`` to the other plugins."""
    pluginmanager.add_hookspecs(hookspecs)


@hookimpl
def fixdesk_entities():
    """The tables this plugin owns."""
    return [Greeting]


@hookimpl
def fixdesk_demo_data(ctx):
    """One greeting at the demo's Shanghai branch (the kernel's demo data exists already)."""
    greet(ctx, "SH", "你好！欢迎来到上海服务中心。", tip="8.80")
