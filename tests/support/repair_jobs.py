"""Repair jobs made by the demo's staff through repair's own services, for tests of what
happens around them (hooks switched per branch, papers to preview)."""

from __future__ import annotations

from sqlalchemy import select

from kernel.hookspecs import hookimpl


class SmsGateway:
    """A plugin that delivers SMS, so that repair sends its survey link by SMS."""

    @hookimpl
    def fixdesk_send_notification(self, message):
        return None


def closed_order(app, *, jd: bool) -> str:
    """A free job repaired and closed at JD (嘉定实验学校's Canon) or SH (申达物流's Ricoh),
    as the demo's staff of that branch: its number."""
    from plugins.repair import services

    equipment, front, boss, engineer, code = (
        ("XQH30112", "hejuan", "huangtao", "zhaolei", "E006") if jd else
        ("E335M820091", "zhengli", "wufang", "wanggong", "E001"))
    with app.context(user=front) as ctx:
        number = services.register(ctx, channel="phone", equipment=equipment,
                                   fault_description="卡纸", category="C",
                                   category_reason="保修期内").number
    with app.context(user=boss) as ctx:
        services.dispatch(ctx, number, engineer=code)
    with app.context(user=engineer) as ctx:
        services.record_arrival(ctx, number)
        services.start(ctx, number)
        services.complete(ctx, number, method="清理搓纸轮", cause="搓纸轮脏污")
    with app.context(user=front) as ctx:
        services.close(ctx, number)
    return number


def survey_sms(app) -> list[str]:
    """The numbers of the orders whose survey link was queued as an SMS."""
    from kernel.jobs import Job

    with app.sessions() as session:
        jobs = session.scalars(select(Job).where(Job.name == "kernel.notify"))
        return [j.payload["context"]["number"] for j in jobs
                if j.payload["template"] == "repair_survey_link"
                and j.payload["channel"] == "sms"]
