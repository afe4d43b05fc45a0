"""Authentication checks: the org password policy against the baseline, and MFA."""

from __future__ import annotations

from gcevidence.checks.registry import CheckContext, Outcome, register_check
from gcevidence.findings import ExceptionItem

_COMPOSITION = (
    "minimumDigits",
    "minimumLetters",
    "minimumUpper",
    "minimumLower",
    "minimumSpecials",
)


def _num(reqs: dict, key: str) -> int:
    value = reqs.get(key)
    return int(value) if isinstance(value, int | float) and not isinstance(value, bool) else 0


def _setting(key: str, value: object, detail: str) -> ExceptionItem:
    return ExceptionItem(
        "setting",
        f"passwordRequirements.{key}",
        key,
        f"{detail} (org value: {value if value is not None else 'not set'})",
    )


@register_check("auth.password_policy")
def password_policy(ctx: CheckContext) -> Outcome:
    reqs = (ctx.snapshot.object("auth_settings") or {}).get("passwordRequirements")
    if not isinstance(reqs, dict):
        return Outcome(
            status="not_evaluable",
            reason="the organisation's authentication settings carry no password requirements",
        )
    exceptions = []
    min_len = ctx.threshold("password_min_length")
    if _num(reqs, "minimumLength") < min_len:
        exceptions.append(
            _setting(
                "minimumLength",
                reqs.get("minimumLength"),
                f"minimum length below the baseline's {min_len}",
            )
        )
    if ctx.threshold("password_require_digits") and _num(reqs, "minimumDigits") < 1:
        exceptions.append(
            _setting(
                "minimumDigits",
                reqs.get("minimumDigits"),
                "digits are not required; the baseline requires them",
            )
        )
    letters = sum(_num(reqs, k) for k in ("minimumLetters", "minimumUpper", "minimumLower"))
    if ctx.threshold("password_require_letters") and letters < 1:
        exceptions.append(
            _setting(
                "minimumLetters",
                reqs.get("minimumLetters"),
                "letters are not required; the baseline requires them",
            )
        )
    if ctx.threshold("password_composition_forbidden"):
        for key in _COMPOSITION:
            if _num(reqs, key) > 0:
                exceptions.append(
                    _setting(
                        key, reqs.get(key), "a composition rule is set; the baseline forbids them"
                    )
                )
    max_age = ctx.threshold("password_max_age_days")
    expiry = _num(reqs, "expirationDays")
    if max_age == 0 and expiry > 0:
        exceptions.append(
            _setting(
                "expirationDays",
                reqs.get("expirationDays"),
                "passwords expire periodically; the baseline forbids it",
            )
        )
    elif max_age and (expiry == 0 or expiry > max_age):
        what = "passwords never expire" if expiry == 0 else f"passwords expire after {expiry} days"
        exceptions.append(
            _setting(
                "expirationDays",
                reqs.get("expirationDays"),
                f"{what}; the baseline requires at most {max_age}",
            )
        )
    return Outcome(
        exceptions,
        population=len(reqs),
        reason=f"{len(exceptions)} password setting(s) below the {ctx.params.baseline} baseline"
        if exceptions
        else f"password requirements meet the {ctx.params.baseline} baseline",
        extra={"password_requirements": reqs},
    )


@register_check("auth.mfa_required")
def mfa_required(ctx: CheckContext) -> Outcome:
    settings = ctx.snapshot.object("auth_settings") or {}
    value = settings.get("multifactorAuthenticationRequired")
    if not ctx.threshold("mfa_required"):
        return Outcome(
            population=1,
            reason="the effective thresholds do not require MFA",
            extra={"multifactorAuthenticationRequired": value},
        )
    exceptions = []
    if value is not True:
        shown = "not set" if value is None else str(value).lower()
        exceptions.append(
            ExceptionItem(
                "setting",
                "multifactorAuthenticationRequired",
                "multifactorAuthenticationRequired",
                f"MFA is not required org-wide (value: {shown})",
            )
        )
    return Outcome(
        exceptions,
        population=1,
        reason="MFA is not required org-wide" if exceptions else "MFA is required org-wide",
        extra={"multifactorAuthenticationRequired": value},
    )
