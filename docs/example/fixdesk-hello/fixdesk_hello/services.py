"""The plugin's domain operation: plain functions taking a Context."""

from decimal import Decimal

from kernel import Context, Money, ValidationError
from kernel.i18n import _
from kernel.masterdata import get_branch

from .models import Greeting


def greet(ctx: Context, branch_code: str, text: str,
          tip: Decimal | str = "0") -> tuple[Greeting, list[str]]:
    """Save a greeting at branch ``branch_code`` and tell the other plugins.

    :return: the greeting and the replies of the ``hello_greeted`` implementations.
    :raise ValidationError: no text, or a tip that is not an amount of money.
    :raise NotFound: no branch ``branch_code``.
    """
    text = (text or "").strip()
    if not text:
        raise ValidationError(_("a greeting needs some text"), field="text")
    try:
        tip = Money.to_decimal(tip)
    except (TypeError, ValueError) as exc:
        raise ValidationError(str(exc), field="tip") from exc
    greeting = Greeting(branch_id=get_branch(ctx, branch_code).id, text=text, tip=tip)
    ctx.session.add(greeting)
    ctx.session.flush()
    return greeting, ctx.hook.hello_greeted(ctx=ctx, greeting=greeting)
