"""Cryptography checks: recording encryption key configuration and key rotation."""

from __future__ import annotations

from gcevidence.checks.common import parse_time, records
from gcevidence.checks.registry import CheckContext, Outcome, register_check
from gcevidence.findings import ExceptionItem

NB = "A10_cryptography"
# Approximate length of each rotation period, for comparison with the cryptoperiod.
PERIOD_DAYS = {"DAILY": 1, "WEEKLY": 7, "MONTHLY": 31, "YEARLY": 365}
_NOT_ENCRYPTING = ("None", "Native", "")


@register_check("crypto.recording_keys", notebook=NB, needs=("recording_key_configs",))
def recording_keys(ctx: CheckContext) -> Outcome:
    configs = records(ctx.snapshot.table("recording_key_configs"))
    if not configs:
        return Outcome([ExceptionItem("key_config", "(none)", "",
                                      "no recording key configuration exists")], population=0,
                       reason="no recording key configuration exists")
    exceptions = []
    for c in sorted(configs, key=lambda c: c["id"]):
        kind = c["key_configuration_type"]
        if kind in _NOT_ENCRYPTING:
            exceptions.append(ExceptionItem(
                "key_config", c["id"], kind or "(no type)",
                f"key configuration type {kind or 'missing'}: no customer-managed recording "
                "key is in use"))
        elif c["last_error_code"] or c["last_error_message"]:
            exceptions.append(ExceptionItem(
                "key_config", c["id"], kind,
                f"{kind} configuration reports an error: "
                f"{c['last_error_code'] or ''} {c['last_error_message'] or ''}".strip()))
    return Outcome(exceptions, population=len(configs),
                   reason=f"{len(exceptions)} of {len(configs)} key configurations unusable"
                   if exceptions else f"{len(configs)} key configuration(s) in use without error",
                   extra={"types": sorted({c['key_configuration_type'] for c in configs})})


@register_check("crypto.key_rotation", notebook=NB,
                needs=("key_rotation_schedule", "recording_keys"))
def key_rotation(ctx: CheckContext) -> Outcome:
    limit = ctx.threshold("key_cryptoperiod_days")
    schedule = ctx.snapshot.object("key_rotation_schedule") or {}
    period = str(schedule.get("period") or "DISABLED").upper()
    exceptions = []
    if period == "DISABLED":
        exceptions.append(ExceptionItem("setting", "rotationschedule.period", period,
                                        "automatic key rotation is disabled"))
    elif PERIOD_DAYS.get(period, limit + 1) > limit:
        exceptions.append(ExceptionItem(
            "setting", "rotationschedule.period", period,
            f"rotation period {period} is longer than the cryptoperiod of {limit} days"))
    keys = records(ctx.snapshot.table("recording_keys"))
    ages = []
    for k in keys:
        created = parse_time(k["create_date"])
        if created:
            ages.append({"id": k["id"], "name": k["name"], "created": str(created.date()),
                         "age_days": (ctx.today - created.date()).days})
    ages.sort(key=lambda a: a["created"])
    if not ages:
        exceptions.append(ExceptionItem("key", "(none)", "",
                                        "no dated recording key exists to show rotation"))
    elif ages[-1]["age_days"] > limit:
        newest = ages[-1]
        exceptions.append(ExceptionItem(
            "key", newest["id"], newest["name"],
            f"newest key created {newest['created']}, {newest['age_days']} days old "
            f"(cryptoperiod {limit} days)"))
    return Outcome(exceptions, population=len(keys),
                   reason=f"rotation {period}; {len(keys)} key(s); newest "
                          f"{ages[-1]['age_days'] if ages else '-'} days old (cryptoperiod "
                          f"{limit} days)",
                   extra={"key_ages": ages, "rotation_period": period,
                          "cryptoperiod_days": limit})
