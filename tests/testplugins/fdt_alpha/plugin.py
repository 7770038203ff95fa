"""Test plugin without tables: records when its hooks run."""

from kernel import hookimpl


@hookimpl
def fixdesk_demo_data(ctx):
    ctx.demo_calls = [*getattr(ctx, "demo_calls", []), "fdt_alpha"]


@hookimpl
def fdt_notes_added(ctx, note):
    return "alpha"


#: messages "sent" by the SMS channel below, for tests to read
SENT_SMS: list = []


@hookimpl
def fixdesk_send_notification(message):
    """A stand-in SMS gateway: delivers the ``sms`` channel."""
    if message.channel != "sms":
        return None
    SENT_SMS.append(message)
    return f"sms-{len(SENT_SMS)}"
