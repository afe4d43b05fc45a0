"""Authentication checks: the password policy and MFA, idle sessions, identity providers.

Genesys' password and MFA settings govern Genesys login only. Where Genesys login is disabled
(SSO only) they are not used, and those checks are not_evaluable naming the identity provider
whose policy the auditor must obtain; they never pass without evidence for every way in. The
idle timeout applies to every session, however it was signed in; the identity providers'
signing certificates are judged against the period end.
"""

from __future__ import annotations

import datetime as dt

from gcevidence.checks.common import parse_json, parse_time, records
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


# -- idle sessions -----------------------------------------------------------------------------

API_ACTIVITY_NOTE = (
    "Any API call made with a user's token counts as activity, so a page that keeps polling "
    "holds its session open: a manual idle test complements this check."
)


def _seconds(value: object) -> int | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return int(value)


def _duration(seconds: int) -> str:
    """A timeout in words: "10 minutes", "240 minutes (4 hours)", "90 seconds"."""
    if seconds % 60:
        return f"{seconds} seconds"
    minutes = seconds // 60
    text = f"{minutes} minute{'s' if minutes != 1 else ''}"
    if minutes >= 60 and minutes % 60 == 0:
        hours = minutes // 60
        text += f" ({hours} hour{'s' if hours != 1 else ''})"
    return text


@register_check("auth.idle_timeout")
def idle_timeout(ctx: CheckContext) -> Outcome:
    timeout = ctx.snapshot.object("token_timeout") or {}
    settings = ctx.snapshot.object("auth_settings") or {}
    limit = ctx.threshold("idle_timeout_minutes")
    groups = {g["id"]: g for g in records(ctx.snapshot.table("groups"))}
    exceptions: list[ExceptionItem] = []
    enabled = timeout.get("enableIdleTokenTimeout")
    seconds = _seconds(timeout.get("idleTokenTimeoutSeconds"))
    if enabled is not True:
        shown = "not set" if enabled is None else str(enabled).lower()
        exceptions.append(
            ExceptionItem(
                "setting",
                "enableIdleTokenTimeout",
                "enableIdleTokenTimeout",
                f"the idle token timeout is not enabled (value: {shown}): idle sessions do not "
                f"end, the baseline allows {limit} minutes",
            )
        )
    elif seconds is None or seconds > limit * 60:
        what = "no timeout length is given" if seconds is None else _duration(seconds)
        exceptions.append(
            ExceptionItem(
                "setting",
                "idleTokenTimeoutSeconds",
                "idleTokenTimeoutSeconds",
                f"idle sessions end after {what}, above the baseline's {limit} minutes",
            )
        )
    groups_on = timeout.get("inactivityTimeoutGroupsEnabled") is True
    bundles, judged = [], 1
    for bundle in sorted(
        (b for b in timeout.get("inactivityTimeoutGroupBundles") or [] if isinstance(b, dict)),
        key=lambda b: _seconds(b.get("priority")) or 0,
    ):
        bundle_seconds = _seconds(bundle.get("timeoutSeconds"))
        members = []
        for gid in (str(g) for g in bundle.get("groups") or []):
            group = groups.get(gid)
            members.append(
                {
                    "id": gid,
                    "name": group["name"] if group else "",
                    "member_count": group["member_count"] if group else "",
                }
            )
            if not groups_on:
                continue
            judged += 1
            if bundle_seconds is not None and bundle_seconds <= limit * 60:
                continue
            what = "no timeout" if bundle_seconds is None else _duration(bundle_seconds)
            who = (
                f"the {group['member_count'] or '?'} member(s) of {group['name'] or gid}"
                if group
                else f"the members of group {gid} (not in the directory's group listing)"
            )
            exceptions.append(
                ExceptionItem(
                    "group",
                    gid,
                    group["name"] if group and group["name"] else gid,
                    f"{who} are signed out after {what} idle (group timeout, priority "
                    f"{bundle.get('priority', '?')}), above the baseline's {limit} minutes",
                )
            )
        bundles.append(
            {
                "priority": bundle.get("priority"),
                "timeout_seconds": bundle_seconds,
                "unit": bundle.get("inactivityTimeoutUnit"),
                "in_force": groups_on,
                "groups": members,
            }
        )
    exempt = [str(x) for x in settings.get("inactivityTimeoutExclusions") or []]
    extra = {
        "idle_timeout": {
            "enabled": enabled,
            "seconds": seconds,
            "unit": timeout.get("inactivityTimeoutUnit"),
            "group_timeouts_enabled": groups_on,
        },
        "group_timeouts": bundles,
        "inactivity_timeout_exclusions": exempt,
        "note": API_ACTIVITY_NOTE,
    }
    org_wide = _duration(seconds) if enabled is True and seconds is not None else "none"
    scope = f"(org-wide: {org_wide}; {judged - 1} group timeout(s) in force)"
    if exceptions:
        reason = (
            f"{len(exceptions)} idle timeout(s) missing or above the baseline's {limit} "
            f"minutes {scope}"
        )
    else:
        reason = f"idle sessions end within {limit} minutes {scope}"
    if bundles and not groups_on:
        reason += f"; {len(bundles)} group timeout(s) listed, not in force (groups disabled)"
    if exempt:
        reason += (
            f"; {len(exempt)} API(s) exempt from the inactivity timeout, listed for review: "
            + "; ".join(exempt)
        )
    return Outcome(exceptions, population=judged, reason=reason, extra=extra)


# -- identity providers ----------------------------------------------------------------------


@register_check("auth.sso_providers")
def sso_providers(ctx: CheckContext) -> Outcome:
    warning_days = ctx.threshold("idp_certificate_warning_days")
    period_end = ctx.as_of  # the end of the period's last day
    window_end = period_end + dt.timedelta(days=warning_days)
    providers = sorted(
        records(ctx.snapshot.table("identity_providers")),
        key=lambda p: ((p["name"] or p["id"]).casefold(), p["id"]),
    )
    exceptions: list[ExceptionItem] = []
    listed, enabled_count = [], 0
    for provider in providers:
        name = provider["name"] or provider["id"]
        # A provider whose `disabled` is not given is taken as enabled: it may be used.
        enabled = provider["disabled"] != "true"
        enabled_count += enabled
        certs = [c for c in parse_json(provider.get("certificates", ""), []) if isinstance(c, dict)]
        summary = []
        problems: list[ExceptionItem] = []
        for cert in certs:
            not_after = parse_time(cert.get("not_after", ""))
            if not_after is None:
                summary.append({**cert, "verdict": "unreadable"})
                problems.append(
                    ExceptionItem(
                        "certificate",
                        f"{provider['id']}/certificates[{cert.get('index', '?')}]",
                        f"{name} signing certificate {cert.get('index', '?')}",
                        f"identity provider {name}: {cert.get('error') or 'no expiry date'}; "
                        "its validity cannot be judged",
                    )
                )
                continue
            days = (not_after - period_end).days
            if not_after <= period_end:
                verdict = f"expired on {not_after.date()}, before the period end"
            elif not_after <= window_end:
                verdict = (
                    f"expires on {not_after.date()}, {days} day(s) after the period end "
                    f"(warning window: {warning_days} days)"
                )
            else:
                summary.append({**cert, "verdict": f"valid until {not_after.date()}"})
                continue
            summary.append({**cert, "verdict": verdict})
            problems.append(
                ExceptionItem(
                    "certificate",
                    cert.get("sha256", ""),
                    f"{name}: {cert.get('subject') or 'signing certificate'}",
                    f"identity provider {name}: signing certificate "
                    f"{cert.get('subject') or '(no subject)'} {verdict}",
                )
            )
        if enabled and not certs:
            problems.append(
                ExceptionItem(
                    "identity_provider",
                    provider["id"],
                    name,
                    f"identity provider {name} is enabled but carries no signing certificate",
                )
            )
        if enabled and problems:
            valid = [c for c in summary if str(c.get("verdict", "")).startswith("valid")]
            if valid:
                problems = [
                    ExceptionItem(
                        e.subject_type,
                        e.subject_id,
                        e.subject_name,
                        f"{e.detail}; the provider also carries {len(valid)} certificate(s) "
                        "valid beyond the window",
                    )
                    for e in problems
                ]
            exceptions.extend(problems)
        listed.append(
            {
                "id": provider["id"],
                "name": name,
                "enabled": enabled,
                "certificates": summary,
            }
        )
    disabled = [p["name"] for p in listed if not p["enabled"]]
    if not enabled_count:
        reason = "no identity provider is enabled: nobody signs in through SAML"
    elif exceptions:
        reason = (
            f"{len(exceptions)} signing certificate problem(s) among {enabled_count} enabled "
            f"identity provider(s) (expired, or expiring within {warning_days} days of the "
            "period end)"
        )
    else:
        reason = (
            f"every signing certificate of the {enabled_count} enabled identity provider(s) "
            f"stays valid beyond {warning_days} days after the period end"
        )
    if disabled:
        reason += f"; disabled, listed only: {'; '.join(disabled)}"
    return Outcome(
        exceptions,
        population=enabled_count,
        reason=reason,
        extra={
            "identity_providers": listed,
            "period_end": period_end.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "warning_until": window_end.strftime("%Y-%m-%dT%H:%M:%SZ"),
        },
    )
