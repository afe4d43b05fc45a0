"""Authentication checks: the org password policy against the baseline, and MFA.

Both Genesys settings govern Genesys login only. Where Genesys login is disabled (SSO only)
they are not used, and the checks are not_evaluable naming the identity provider whose policy
the auditor must obtain; they never pass without evidence for every way in.
"""

from __future__ import annotations

from gcevidence.checks.registry import CheckContext, Outcome, register_check
from gcevidence.checks.signin_paths import sign_in_paths
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
    paths = sign_in_paths(ctx)
    extra = {"password_requirements": reqs, **paths.extra()}
    if paths.native is False:
        # "Disable Genesys Cloud Login": Genesys' password requirements are disabled, kept for
        # a switch back; the IdP's password policy is what protects sign-in.
        dormant = (
            "; ".join(f"{k} {v}" for k, v in sorted(reqs.items()))
            if isinstance(reqs, dict)
            else "none recorded"
        )
        extra["dormant_exceptions"] = (
            [e.subject_id for e in _password_exceptions(ctx, reqs)]
            if isinstance(reqs, dict)
            else []
        )
        return Outcome(
            status="not_evaluable",
            population=len(reqs) if isinstance(reqs, dict) else None,
            evidence=paths.evidence,
            extra=extra,
            reason=f"{paths.off_text()} Genesys' password requirements are disabled and not "
            f"used; obtain the password policy of {paths.provider_text()} (length, "
            f"composition, expiry, history and lockout for the accounts that sign in to "
            f"Genesys Cloud) to judge it against the {ctx.params.baseline} baseline. The "
            f"dormant Genesys settings, kept for the record: {dormant}",
        )
    if paths.native is None:
        return Outcome(
            status="not_evaluable", evidence=paths.evidence, extra=extra, reason=paths.unknown
        )
    if not isinstance(reqs, dict):
        return Outcome(
            status="not_evaluable",
            reason="the organisation's authentication settings carry no password requirements",
            extra=extra,
        )
    exceptions = _password_exceptions(ctx, reqs)
    if exceptions:
        reason = f"{len(exceptions)} password setting(s) below the {ctx.params.baseline} baseline"
    else:
        reason = f"password requirements meet the {ctx.params.baseline} baseline"
    reason += paths.native_note()
    if not exceptions and paths.providers:
        return Outcome(
            status="not_evaluable",
            population=len(reqs),
            evidence=paths.evidence,
            extra=extra,
            reason=reason + f"; people signing in through {paths.provider_text()} use its "
            "password policy, not Genesys': obtain it before this can pass",
        )
    return Outcome(
        exceptions, population=len(reqs), reason=reason, extra=extra, evidence=paths.evidence
    )


def _password_exceptions(ctx: CheckContext, reqs: dict) -> list[ExceptionItem]:
    """Each password requirement below the baseline."""
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
    return exceptions


@register_check("auth.mfa_required")
def mfa_required(ctx: CheckContext) -> Outcome:
    settings = ctx.snapshot.object("auth_settings") or {}
    value = settings.get("multifactorAuthenticationRequired")
    paths = sign_in_paths(ctx)
    extra = {"multifactorAuthenticationRequired": value, **paths.extra()}
    if not ctx.threshold("mfa_required"):
        return Outcome(
            population=1, reason="the effective thresholds do not require MFA", extra=extra
        )
    shown = "not set" if value is None else str(value).lower()
    # Genesys' MFA setting covers Genesys login only: people signing in through an
    # identity provider get no Genesys MFA prompt.
    if paths.native is False:
        return Outcome(
            status="not_evaluable",
            population=1,
            evidence=paths.evidence,
            extra=extra,
            reason=f"{paths.off_text()} Genesys' MFA setting (multifactorAuthenticationRequired: "
            f"{shown}) applies to Genesys login only and is not used; obtain from "
            f"{paths.provider_text()} its MFA policy for the Genesys Cloud application (the "
            "sign-on rule that requires a second factor, and who is exempt) to judge MFA",
        )
    if paths.native is None:
        return Outcome(
            status="not_evaluable", evidence=paths.evidence, extra=extra, reason=paths.unknown
        )
    if value is not True:
        exception = ExceptionItem(
            "setting",
            "multifactorAuthenticationRequired",
            "multifactorAuthenticationRequired",
            f"MFA is not required org-wide for Genesys login (value: {shown})",
        )
        reason = "MFA is not required org-wide" + paths.native_note()
        if paths.providers:
            reason += (
                f"; people signing in through {paths.provider_text()} are not prompted by "
                "Genesys either: their MFA is the provider's"
            )
        return Outcome(
            [exception], population=1, reason=reason, extra=extra, evidence=paths.evidence
        )
    reason = "MFA is required org-wide for Genesys login" + paths.native_note()
    if paths.providers:
        return Outcome(
            status="not_evaluable",
            population=1,
            evidence=paths.evidence,
            extra=extra,
            reason=reason + f"; people signing in through {paths.provider_text()} get no "
            "Genesys MFA prompt: obtain the provider's MFA policy for the Genesys Cloud "
            "application before this can pass",
        )
    return Outcome(population=1, reason=reason, extra=extra, evidence=paths.evidence)
