"""Cryptography checks: recording encryption key configuration and key rotation."""

from __future__ import annotations

from gcevidence.checks.common import join_names, parse_time, records
from gcevidence.checks.registry import CheckContext, Outcome, register_check
from gcevidence.findings import ExceptionItem

# Approximate length of each rotation period, for comparison with the cryptoperiod.
PERIOD_DAYS = {"DAILY": 1, "WEEKLY": 7, "MONTHLY": 31, "YEARLY": 365}
USABLE_TYPES = ("KmsSymmetric", "LocalKeyManager")  # None / Native = encryption config off


@register_check("crypto.recording_keys")
def recording_keys(ctx: CheckContext) -> Outcome:
    configs = sorted(records(ctx.snapshot.table("recording_key_configs")), key=lambda c: c["id"])
    types = sorted({c["key_configuration_type"] or "(none)" for c in configs})
    if not any(c["key_configuration_type"] in USABLE_TYPES for c in configs):
        found = f"only {join_names(types)}" if configs else "none at all"
        return Outcome(
            [
                ExceptionItem(
                    "key_config",
                    "keyconfigurations",
                    "recording key configurations",
                    f"no KmsSymmetric or LocalKeyManager key configuration ({found}): "
                    "recordings are not encrypted with customer-managed keys",
                )
            ],
            population=len(configs),
            reason="no usable recording key configuration",
            extra={"types": types},
        )
    exceptions = []
    for c in configs:
        kind = c["key_configuration_type"]
        if kind not in USABLE_TYPES:
            exceptions.append(
                ExceptionItem(
                    "key_config",
                    c["id"],
                    kind or "(no type)",
                    f"key configuration type {kind or 'missing'}: "
                    "encryption configuration disabled",
                )
            )
        elif c["last_error_code"] or c["last_error_message"]:
            exceptions.append(
                ExceptionItem(
                    "key_config",
                    c["id"],
                    kind,
                    f"{kind} configuration reports an error: "
                    f"{c['last_error_code']} {c['last_error_message']}".strip(),
                )
            )
    return Outcome(
        exceptions,
        population=len(configs),
        reason=f"{len(exceptions)} of {len(configs)} key configurations unusable"
        if exceptions
        else f"{len(configs)} key configuration(s) in use without error",
        extra={"types": types},
    )


@register_check("crypto.key_rotation")
def key_rotation(ctx: CheckContext) -> Outcome:
    limit = ctx.threshold("key_cryptoperiod_days")
    schedule = ctx.snapshot.object("key_rotation_schedule") or {}
    period = str(schedule.get("period") or "DISABLED").upper()
    exceptions = []
    if period == "DISABLED":
        exceptions.append(
            ExceptionItem(
                "setting", "rotationschedule.period", period, "automatic key rotation is disabled"
            )
        )
    elif PERIOD_DAYS.get(period, limit + 1) > limit:
        exceptions.append(
            ExceptionItem(
                "setting",
                "rotationschedule.period",
                period,
                f"rotation period {period} is longer than the cryptoperiod of {limit} days",
            )
        )
    keys = records(ctx.snapshot.table("recording_keys"))
    ages = []
    for k in keys:
        created = parse_time(k["create_date"])
        if created:
            ages.append(
                {
                    "id": k["id"],
                    "name": k["name"],
                    "created": str(created.date()),
                    "age_days": (ctx.today - created.date()).days,
                }
            )
    ages.sort(key=lambda a: a["created"])
    if not ages:
        exceptions.append(
            ExceptionItem("key", "(none)", "", "no dated recording key exists to show rotation")
        )
    elif ages[-1]["age_days"] > limit:
        newest = ages[-1]
        exceptions.append(
            ExceptionItem(
                "key",
                newest["id"],
                newest["name"],
                f"newest key created {newest['created']}, {newest['age_days']} days old "
                f"(cryptoperiod {limit} days)",
            )
        )
    return Outcome(
        exceptions,
        population=len(keys),
        reason=f"rotation {period}; {len(keys)} key(s); newest "
        f"{ages[-1]['age_days'] if ages else '-'} days old (cryptoperiod "
        f"{limit} days)",
        extra={"key_ages": ages, "rotation_period": period, "cryptoperiod_days": limit},
    )
