"""Commands for the background worker, the job queue and notifications."""

from __future__ import annotations

import click

from kernel.cli.base import RECORD_ID, CliState, FiniteFloatRange, cli, pass_state, print_table
from kernel.i18n import _


@cli.command(help=_("Run queued and scheduled jobs."))
@click.option("--once", is_flag=True, help=_("Run what is due, then stop."))
@click.option("--poll", default=1.0, type=FiniteFloatRange(0.05, 3600),
              help=_("Seconds between polls."))
@click.option("--lease", type=click.IntRange(1, 86400),
              help=_("Seconds a job stays claimed (default: the job's own)."))
@click.option("--grace", default=30.0, type=FiniteFloatRange(0, 86400),
              help=_("On SIGTERM, seconds the job in progress may take to finish before it "
                     "is stopped and put back in the queue."))
@click.option("--log-format", type=click.Choice(["text", "json"]), default="text",
              envvar="FIXDESK_LOG_FORMAT", show_envvar=True,
              help=_("Log lines on standard error: text, or one JSON object a line."))
@pass_state
def worker(state: CliState, once, poll, lease, grace, log_format):
    from kernel.jobs import Worker
    from kernel.logs import configure

    configure(log_format)

    with state.app() as app:
        runner = Worker(app, lease_seconds=lease)
        click.echo(_("worker {id} started").format(id=runner.id), err=True)
        restore = _stop_on_signals(runner, grace)
        try:
            ran = runner.run(once=once, poll_seconds=poll)
        except KeyboardInterrupt:
            ran = None
        finally:
            restore()
    if runner.stopping:
        click.echo(_("worker {id} stopped").format(id=runner.id), err=True)
    if ran is not None:
        click.echo(_("{count} jobs run").format(count=ran))


def _stop_on_signals(runner, grace: float):
    """SIGTERM or SIGINT: the worker finishes its job, takes no other and exits 0. The job
    still running after ``grace`` seconds, or at a second signal, is stopped, its work
    rolled back and the job put back in the queue. Returns what restores the handlers."""
    import signal
    import threading

    if threading.current_thread() is not threading.main_thread():
        return lambda: None  # signals reach the main thread only

    def stop(_signum, _frame):
        if runner.stopping:  # the second time: do not wait
            runner.interrupt()
        runner.stop()
        signal.setitimer(signal.ITIMER_REAL, grace or 0.001)

    def overdue(_signum, _frame):
        runner.interrupt()

    previous = {signum: signal.signal(signum, handler) for signum, handler in (
        (signal.SIGTERM, stop), (signal.SIGINT, stop), (signal.SIGALRM, overdue))}

    def restore():
        signal.setitimer(signal.ITIMER_REAL, 0)
        for signum, handler in previous.items():
            signal.signal(signum, handler)

    return restore


@cli.group(help=_("The durable job queue."))
def jobs():
    pass


@jobs.command("list", help=_("Recent jobs, newest first."))
@click.option("--status", type=click.Choice(["queued", "running", "done", "failed"]))
@click.option("--limit", default=50, type=click.IntRange(1, 10000))
@pass_state
def jobs_list(state: CliState, status, limit):
    from kernel.jobs import jobs_summary

    with state.app() as app:
        rows = jobs_summary(app, status, limit)
        tz = app.site.config.tz
    print_table((_("ID"), _("JOB"), _("STATUS"), _("ATTEMPTS"), _("RUN AT"), _("ERROR")),
                [(job.id, job.name, job.status, f"{job.attempts}/{job.max_attempts}",
                  job.run_at.astimezone(tz).strftime("%Y-%m-%d %H:%M:%S"),
                  job.last_error.splitlines()[0] if job.last_error else "")
                 for job in rows])


@jobs.command("retry", help=_("Queue a failed job again."))
@click.argument("job_id", type=RECORD_ID)
@pass_state
def jobs_retry(state: CliState, job_id):
    from kernel.db import utcnow
    from kernel.jobs import retry

    with state.app() as app:
        retry(app, job_id, utcnow())
    click.echo(_("job {id} queued again").format(id=job_id))


@cli.command(help=_("Queue a test notification (sent by the worker)."))
@click.option("--to", required=True, help=_("Recipient address."))
@click.option("--channel", default="email", help=_("email, or a channel a plugin delivers."))
@click.option("--locale", type=click.Choice(["zh_CN", "en"]), help=_("Language."))
@pass_state
def notify(state: CliState, to, channel, locale):
    from kernel.masterdata import the_company
    from kernel.notifications import notify as queue_notification

    with state.context() as ctx:
        job = queue_notification(ctx, channel=channel, to=to, template="test",
                                 context={"company": the_company(ctx).name}, locale=locale)
        job_id = job.id
    click.echo(_("notification queued as job {id}; `fixdesk worker --once` sends it").format(
        id=job_id))
