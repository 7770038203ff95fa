"""Hooks the hello plugin offers to other plugins (added by ``fixdesk_addhooks``)."""

from kernel import hookspec


@hookspec
def hello_greeted(ctx, greeting) -> str | None:
    """Called after :func:`fixdesk_hello.services.greet` saved a greeting, in its transaction.

    :param ctx: the :class:`kernel.Context` of the transaction.
    :param greeting: the new :class:`fixdesk_hello.models.Greeting` (flushed: it has an id).
    :return: a reply, or None; ``greet`` hands the replies back to its caller.
    """
