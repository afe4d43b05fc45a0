"""The simulated Genesys Cloud endpoints: paths, permissions and wire shapes (genesys-api.md).

Each endpoint is a function (request, state) -> Reply; server.py does HTTP, auth, limits and faults.
"""

from __future__ import annotations

import datetime as dt
import math
import re
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import quote

from gcevidence.simulator import audit as audit_mod
from gcevidence.simulator.audit import AuditQuery, event_to_wire
from gcevidence.simulator.model import SimUser, TrunkBase, iso
from gcevidence.simulator.oauth_clients import client_wire, usage_rows

MAX_PAGE_SIZE = 500
INACTIVE_DEPTH_LIMIT = 10_000
REALTIME_DAYS = 14
# IntegrationStatusInfo.code (SDK models/integration_status_info.py).
INTEGRATION_STATES = ("ACTIVE", "ACTIVATING", "INACTIVE", "DEACTIVATING", "ERROR")
USER_EXPANSIONS = (
    "authorization",
    "authorization.unusedRoles",
    "dateLastLogin",
    "dateWelcomeSent",
    "groups",
    "lasttokenissued",
)


class ApiFailure(Exception):
    """An ErrorBody answer (4xx/5xx) raised by an endpoint."""

    def __init__(self, status: int, code: str, message: str, params: dict | None = None):
        super().__init__(message)
        self.status, self.code, self.message, self.params = status, code, message, params or {}


def bad_request(message: str, code: str = "bad.request") -> ApiFailure:
    return ApiFailure(400, code, message)


def not_found() -> ApiFailure:
    return ApiFailure(404, "not.found", "The requested resource was not found.")


@dataclass
class Request:
    method: str
    path: str
    query: list[tuple[str, str]]  # in request order, repeated keys kept
    body: object = None
    match: dict[str, str] = field(default_factory=dict)

    def values(self, name: str) -> list[str]:
        """All values of a list parameter: repeated (`a=x&a=y`) or comma-joined (`a=x,y`)."""
        out: list[str] = []
        for key, value in self.query:
            if key == name:
                out.extend(v for v in value.split(",") if v)
        return out

    def first(self, name: str, default: str | None = None) -> str | None:
        for key, value in self.query:
            if key == name:
                return value
        return default

    def integer(self, name: str, default: int) -> int:
        raw = self.first(name)
        if raw is None or raw == "":
            return default
        try:
            return int(raw)
        except ValueError:
            raise bad_request(
                f"The value [{raw}] is not valid for {name}.", "invalid.value"
            ) from None

    def flag(self, name: str, default: bool) -> bool:
        raw = self.first(name)
        return default if raw is None else raw.lower() == "true"


@dataclass
class Reply:
    status: int
    body: object


# -- page-number listings -------------------------------------------------------------------------
def paged(
    req: Request, items: list, to_wire: Callable, *, uris: bool = True, extra: dict | None = None
) -> Reply:
    size, number = req.integer("pageSize", 25), req.integer("pageNumber", 1)
    if not 1 <= size <= MAX_PAGE_SIZE:
        raise bad_request(f"pageSize must be between 1 and {MAX_PAGE_SIZE}.", "invalid.value")
    if number < 1:
        raise bad_request("pageNumber must be at least 1.", "invalid.value")
    total = len(items)
    page_count = math.ceil(total / size)
    chunk = items[(number - 1) * size : number * size]
    body: dict = {
        "entities": [to_wire(x) for x in chunk],
        "pageSize": size,
        "pageNumber": number,
        "total": total,
    }
    if extra:
        body.update(extra)
    if uris:
        others = "".join(
            f"&{quote(k, safe='')}={quote(v, safe=',')}"
            for k, v in req.query
            if k not in ("pageSize", "pageNumber")
        )

        def uri(n: int) -> str:
            return f"{req.path}?pageSize={size}&pageNumber={n}{others}"

        body["firstUri"] = uri(1)
        body["selfUri"] = uri(number)
        if number < page_count:
            body["nextUri"] = uri(number + 1)
        if number > 1:
            body["previousUri"] = uri(min(number - 1, max(page_count, 1)))
        body["lastUri"] = uri(max(page_count, 1))
    body["pageCount"] = page_count
    return Reply(200, body)


def ref(kind: str, ident: str, name: str | None = None) -> dict:
    out = {"id": ident}
    if name is not None:
        out["name"] = name
    out["selfUri"] = f"/api/v2/{kind}/{ident}"
    return out


def compact(d: dict) -> dict:
    """Drop None and empty values, as Genesys omits them."""
    return {k: v for k, v in d.items() if v is not None and v != "" and v != [] and v != {}}


# -- the route table -----------------------------------------------------------------------------
@dataclass(frozen=True)
class Route:
    """One simulated endpoint: method, path with the SDK's {placeholder}, handler, permission.

    The permission is what the SDK's API docs state for the endpoint ("Requires ANY/ALL
    permissions"; "" for "Requires no permissions").
    """

    method: str
    path: str
    handler: str  # the Api method answering it
    permission: str = ""

    def pattern(self) -> re.Pattern:
        # Handlers read the first placeholder as match["id"], any later one by its own name.
        parts = re.split(r"\{([A-Za-z]+)\}", self.path)
        literals, names = parts[::2], ["id", *parts[3::2]]
        regex = re.escape(literals[0])
        for name, literal in zip(names, literals[1:], strict=False):
            regex += f"(?P<{name}>[^/]+)" + re.escape(literal)
        return re.compile("^" + regex + "$")


_U, _A, _R, _Q = "/api/v2/users", "/api/v2/authorization", "/api/v2/recording", "/api/v2/audits"
_TRUNKS = "/api/v2/telephony/providers/edges/trunkbasesettings"
_KEY_VIEW, _AUDIT_VIEW = "recording:encryptionKey:view", "audits:audit:view"
_O, _CLIENT_VIEW = "/api/v2/oauth/clients", "oauth:client:view"
# First match wins: a literal segment is listed before the placeholder it would also match.
ROUTES = (
    Route("GET", _U, "users"),
    Route("GET", _U + "/{userId}", "user"),
    Route("GET", _U + "/{subjectId}/roles", "user_roles", "authorization:grant:view"),
    Route("GET", _A + "/roles", "roles", "authorization:role:view"),
    Route("GET", _A + "/roles/{roleId}", "role", "authorization:role:view"),
    Route("GET", _A + "/roles/{roleId}/users", "role_users"),
    Route("GET", _A + "/roles/{roleId}/subjectgrants", "subject_grants", "authorization:role:view"),
    Route("GET", _A + "/subjects/{subjectId}", "subject", "authorization:grant:view"),
    Route("GET", _A + "/divisions", "divisions"),
    Route("GET", _A + "/divisions/home", "home_division"),
    Route("GET", "/api/v2/identityproviders", "identity_providers", "sso:provider:view"),
    Route("GET", "/api/v2/identityproviders/purecloud", "genesys_login", "sso:provider:view"),
    Route("GET", "/api/v2/groups", "groups"),
    Route("GET", "/api/v2/groups/{groupId}", "group"),
    Route("GET", "/api/v2/groups/{groupId}/members", "group_members"),
    Route("GET", "/api/v2/organizations/me", "organization"),
    Route(
        "GET",
        "/api/v2/organizations/authentication/settings",
        "auth_settings",
        "directory:organization:admin",
    ),
    Route("GET", "/api/v2/tokens/timeout", "token_timeout"),
    Route("GET", "/api/v2/integrations", "integrations", "integrations:integration:view"),
    Route("GET", "/api/v2/oauth/clients/{clientId}", "oauth_client", "oauth:client:view"),
    Route("GET", _R + "/keyconfigurations", "key_configs", _KEY_VIEW),
    Route("GET", _R + "/keyconfigurations/{keyConfigurationId}", "key_config", _KEY_VIEW),
    Route("GET", _R + "/recordingkeys", "recording_keys", _KEY_VIEW),
    Route("GET", _R + "/recordingkeys/rotationschedule", "rotation", _KEY_VIEW),
    Route("GET", _R + "/settings", "recording_settings"),
    Route("GET", _TRUNKS, "trunks", "telephony:plugin:all"),
    Route("GET", _TRUNKS + "/{trunkBaseSettingsId}", "trunk", "telephony:plugin:all"),
    Route("POST", _Q + "/query", "audit_submit", _AUDIT_VIEW),
    Route("GET", _Q + "/query/servicemapping", "audit_mapping", _AUDIT_VIEW),
    Route("GET", _Q + "/query/realtime/servicemapping", "audit_mapping", _AUDIT_VIEW),
    Route("POST", _Q + "/query/realtime", "audit_realtime", _AUDIT_VIEW),
    Route("GET", _Q + "/query/{transactionId}", "audit_status", _AUDIT_VIEW),
    Route("GET", _Q + "/query/{transactionId}/results", "audit_results", _AUDIT_VIEW),
    # OAuth clients and their usage (ANY of oauth:client:view, usage:client:view: the first),
    # partners' access, recording retention.
    Route("GET", _O, "oauth_clients", _CLIENT_VIEW),
    Route("GET", _O + "/{clientId}/usage/summary", "usage_summary", _CLIENT_VIEW),
    Route(
        "GET", _O + "/{clientId}/usage/query/results/{executionId}", "usage_result", _CLIENT_VIEW
    ),
    Route("GET", "/api/v2/orgauthorization/trustees", "trustees", "authorization:orgTrustee:view"),
    Route(
        "GET",
        _R + "/mediaretentionpolicies",
        "retention_policies",
        "recording:retentionPolicy:view",
    ),
)


# -- endpoints -----------------------------------------------------------------------------------
class Api:
    """Endpoint implementations over one Org; `sim` gives access to faults and the RNG."""

    def __init__(self, sim):
        self.sim = sim
        self.routes: list[tuple[str, re.Pattern, Callable, str]] = [
            (r.method, r.pattern(), getattr(self, r.handler), r.permission) for r in ROUTES
        ]

    @property
    def org(self):
        return self.sim.org

    def resolve(self, method: str, path: str) -> tuple[Callable, str, dict] | None:
        for m, rx, func, perm in self.routes:
            hit = rx.match(path)
            if hit and m == method:
                return func, perm, hit.groupdict()
        return None

    # users --------------------------------------------------------------------------------------
    def user_wire(self, u: SimUser, expand: set[str]) -> dict:
        org = self.org
        div = org.division_by_id[u.division_id]
        body: dict = {
            "id": u.id,
            "name": u.name,
            "division": ref("authorization/divisions", div.id, div.name),
            "chat": {"jabberId": f"{u.id[:24].replace('-', '')}@acme-cc.orgspan.com"},
            "department": u.department,
            "email": u.email,
            "primaryContactInfo": [{"address": u.email, "mediaType": "EMAIL", "type": "PRIMARY"}],
            # Personal data no check needs (privacy.py): a work phone as E.164 and as shown,
            # and a profile image.
            "addresses": [
                {
                    "address": "+" + "".join(ch for ch in u.phone if ch.isdigit()),
                    "display": u.phone,
                    "mediaType": "PHONE",
                    "type": "WORK",
                }
            ]
            if u.phone
            else None,
            "images": [{"resolution": "x96", "imageUri": f"https://images.example/{u.id}/x96.jpg"}],
            "state": u.state,
            "title": u.title,
            "username": u.email,
            "manager": ref("users", u.manager_id) if u.manager_id else None,
            "version": u.version,
            "acdAutoAnswer": False,
            "selfUri": f"/api/v2/users/{u.id}",
        }
        body = compact(body)
        if "authorization" in expand or "authorization.unusedRoles" in expand:
            auth = self.authorization(u.id) if "authorization" in expand else {}
            if "authorization.unusedRoles" in expand:
                by_id = org.role_by_id
                auth["unusedRoles"] = [
                    {"id": rid, "name": by_id[rid].name} for rid in sorted(org.unused.get(u.id, ()))
                ]
            body["authorization"] = auth
        if "dateLastLogin" in expand and u.date_last_login:
            body["dateLastLogin"] = iso(u.date_last_login)
        if "dateWelcomeSent" in expand and u.date_welcome_sent:
            body["dateWelcomeSent"] = iso(u.date_welcome_sent)
        if "groups" in expand:
            body["groups"] = [ref("groups", g.id) for g in org.user_groups.get(u.id, ())]
        if "lasttokenissued" in expand and u.last_token_issued:
            body["lastTokenIssued"] = {"dateIssued": iso(u.last_token_issued)}
        return body

    def authorization(self, user_id: str) -> dict:
        org = self.org
        by_id = org.role_by_id
        role_ids = sorted(
            {g.role_id for g in org.grants.get(user_id, ())}, key=lambda rid: by_id[rid].name
        )
        perms = sorted({p for rid in role_ids for p in by_id[rid].permissions})
        return {
            "roles": [{"id": rid, "name": by_id[rid].name} for rid in role_ids],
            "permissions": perms,
        }

    def users(self, req: Request) -> Reply:
        state = req.first("state", "active")
        if state not in ("active", "inactive", "deleted", "any"):
            raise bad_request(f"The value [{state}] is not valid for state.", "invalid.value")
        size, number = req.integer("pageSize", 25), req.integer("pageNumber", 1)
        if state == "inactive" and size * number > INACTIVE_DEPTH_LIMIT:
            raise bad_request(
                "Paging past 10000 inactive users is not supported; narrow the request.",
                "bad.request",
            )
        items = self.org.by_state[state]
        ids = set(req.values("id"))
        if ids:
            items = [u for u in items if u.id in ids]
        if req.first("sortOrder", "ASC").lower() in ("desc", "descending"):
            items = items[::-1]
        expand = set(req.values("expand"))
        dropped = self.sim.dropped_expansion(sorted(expand & set(USER_EXPANSIONS)))
        expand.discard(dropped)
        if "lasttokenissued" in expand and self.sim.token_dropped(
            (state, size, number, tuple(sorted(ids)))
        ):
            expand.discard("lasttokenissued")
        return paged(req, items, lambda u: self.user_wire(u, expand))

    def _user(self, req: Request, allow_deleted: bool) -> SimUser:
        u = self.org.users.get(req.match["id"])
        if u is None or (u.state == "deleted" and not allow_deleted):
            raise not_found()
        return u

    def user(self, req: Request) -> Reply:
        state = req.first("state", "active")
        u = self._user(req, state == "deleted")
        return Reply(200, self.user_wire(u, set(req.values("expand"))))

    def user_roles(self, req: Request) -> Reply:
        u = self._user(req, False)
        return Reply(200, self.authorization(u.id))

    # roles and grants -----------------------------------------------------------------------
    def role_wire(self, role, user_count: bool) -> dict:
        body = {
            "id": role.id,
            "name": role.name,
            "description": role.description,
            "defaultRoleId": role.default_role_id or None,
            "permissions": list(role.permissions),
            "permissionPolicies": [
                {
                    "domain": p.split(":")[0],
                    "entityName": p.split(":")[1],
                    "actionSet": [p.split(":")[2]],
                }
                for p in role.permissions
                if p.count(":") == 2
            ],
            "userCount": len(self.org.role_users[role.id]) if user_count else None,
            "roleNeedsUpdate": False,
            "default": bool(role.default_role_id),
            "base": False,
            "selfUri": f"/api/v2/authorization/roles/{role.id}",
        }
        return {k: v for k, v in body.items() if v is not None and v != []}

    def roles(self, req: Request) -> Reply:
        items = self.org.roles
        name = req.first("name")
        if name:
            items = [r for r in items if name.lower() in r.name.lower()]
        ids = set(req.values("id"))
        if ids:
            items = [r for r in items if r.id in ids]
        # `permission` keeps the roles that list one of the permissions as written; whether
        # Genesys also matches wildcard policies (*:*:*) is unconfirmed, so this does not.
        wanted = set(req.values("permission"))
        if wanted:
            items = [r for r in items if wanted & set(r.permissions)]
        items = sorted(items, key=lambda r: r.name.casefold())
        count = req.flag("userCount", True)
        return paged(req, items, lambda r: self.role_wire(r, count))

    def _role(self, req: Request):
        role = next((r for r in self.org.roles if r.id == req.match["id"]), None)
        if role is None:
            raise not_found()
        return role

    def role(self, req: Request) -> Reply:
        return Reply(200, self.role_wire(self._role(req), req.flag("userCount", True)))

    def role_users(self, req: Request) -> Reply:
        role = self._role(req)
        return paged(req, self.org.role_users[role.id], lambda uid: ref("users", uid), uris=False)

    def subject_grants(self, req: Request) -> Reply:
        role = self._role(req)
        divs = {d.id: d for d in self.org.divisions}

        def wire(row):
            sid, name, kind, div_ids, self_uri = row
            return {
                "id": sid,
                "name": name,
                "divisions": [ref("authorization/divisions", d, divs[d].name) for d in div_ids],
                "type": kind,
                "selfUri": self_uri,
            }

        return paged(req, self.org.role_subjects[role.id], wire)

    def division_wire(self, d) -> dict:
        return {
            "id": d.id,
            "name": d.name,
            "description": d.description,
            "homeDivision": d.home,
            "selfUri": f"/api/v2/authorization/divisions/{d.id}",
        }

    def subject(self, req: Request) -> Reply:
        org, sid = self.org, req.match["id"]
        group = next((g for g in org.groups if g.id == sid), None)
        user = org.users.get(sid)
        if group is None and (user is None or user.state == "deleted"):
            raise not_found()
        by_role = {r.id: r for r in org.roles}
        divs = {d.id: d for d in org.divisions}
        sources = [(sid, org.grants.get(sid, []))]
        if user and req.flag("includeDuplicates", False):
            sources += [(g.id, org.grants.get(g.id, [])) for g in org.user_groups.get(sid, ())]
        grants = []
        for subject_id, gs in sources:
            for g in gs:
                role = by_role[g.role_id]
                grants.append(
                    {
                        "subjectId": subject_id,
                        "division": self.division_wire(divs[g.division_id]),
                        "role": {
                            "id": role.id,
                            "name": role.name,
                            "description": role.description,
                            "default": bool(role.default_role_id),
                            "selfUri": f"/api/v2/authorization/roles/{role.id}",
                        },
                        "grantMadeAt": iso(g.made_at),
                    }
                )
        return Reply(
            200,
            {
                "id": sid,
                "name": group.name if group else user.name,
                "grants": grants,
                "version": user.version if user else 1,
                "selfUri": f"/api/v2/authorization/subjects/{sid}",
            },
        )

    def divisions(self, req: Request) -> Reply:
        return paged(req, self.org.divisions, self.division_wire)

    # groups --------------------------------------------------------------------------------
    def _group(self, req: Request):
        group = next((g for g in self.org.groups if g.id == req.match["id"]), None)
        if group is None:
            raise not_found()
        return group

    def group_wire(self, g) -> dict:
        return {
            "id": g.id,
            "name": g.name,
            "dateModified": iso(self.org.at(90, 10)),
            "memberCount": len(self._members(g)),
            "state": "active",
            "version": 2,
            "type": "official",
            "rulesVisible": True,
            "visibility": "public",
            "rolesEnabled": True,
            "selfUri": f"/api/v2/groups/{g.id}",
        }

    def group(self, req: Request) -> Reply:
        return Reply(200, self.group_wire(self._group(req)))

    def groups(self, req: Request) -> Reply:
        items = sorted(self.org.groups, key=lambda g: (g.name.casefold(), g.id))
        ids = set(req.values("id"))
        if ids:
            items = [g for g in items if g.id in ids]
        if req.first("sortOrder", "ASC").lower() in ("desc", "descending"):
            items.reverse()
        return paged(req, items, self.group_wire)

    def _members(self, group) -> list[SimUser]:
        users = self.org.users
        members = [users[uid] for uid in group.member_ids if users[uid].state != "deleted"]
        return sorted(members, key=lambda u: (u.name.casefold(), u.id))

    def group_members(self, req: Request) -> Reply:
        members = self._members(self._group(req))
        if req.first("sortOrder", "ASC").lower() in ("desc", "descending"):
            members.reverse()
        expand = set(req.values("expand"))
        return paged(req, members, lambda u: self.user_wire(u, expand))

    # sign-in -------------------------------------------------------------------------------
    def identity_providers(self, req: Request) -> Reply:
        def wire(p: dict) -> dict:
            return {**p, "selfUri": f"/api/v2/identityproviders/{p['id']}"}

        return paged(req, self.org.identity_providers, wire)

    def genesys_login(self, req: Request) -> Reply:
        login = self.org.genesys_login
        return Reply(200, {**login, "selfUri": "/api/v2/identityproviders/purecloud"})

    def home_division(self, req: Request) -> Reply:
        return Reply(200, self.division_wire(self.org.home))

    # organization and auth -------------------------------------------------------------------
    def organization(self, req: Request) -> Reply:
        org = self.org
        return Reply(
            200,
            {
                "id": org.id,
                "name": org.name,
                "defaultLanguage": "en-us",
                "defaultCountryCode": "US",
                "thirdPartyOrgName": "acme-cc",
                "domain": "acme-cc",
                "version": 12,
                "state": "active",
                "voicemailEnabled": True,
                "productPlatform": "GenesysCloud",
                "features": {"purecloud": True, "realtimeCIC": False},
                "selfUri": f"/api/v2/organizations/{org.id}",
            },
        )

    def auth_settings(self, req: Request) -> Reply:
        return Reply(200, compact(dict(self.org.auth_settings)))

    def token_timeout(self, req: Request) -> Reply:
        return Reply(200, compact(dict(self.org.token_timeout)))

    # integrations -------------------------------------------------------------------------
    def integration_wire(self, i: dict) -> dict:
        state = dict(i["reportedState"])
        state["lastUpdated"] = iso(state["lastUpdated"])
        kind = i["integrationType"]
        return compact(
            {
                **i,
                "integrationType": {
                    **kind,
                    "selfUri": f"/api/v2/integrations/types/{kind['id']}",
                },
                "reportedState": state,
                "selfUri": f"/api/v2/integrations/{i['id']}",
            }
        )

    def integrations(self, req: Request) -> Reply:
        items = sorted(self.org.integrations, key=lambda i: (i["name"].casefold(), i["id"]))
        kind = req.first("integrationType")
        if kind:
            items = [i for i in items if i["integrationType"]["id"] == kind]
        state = req.first("reportedState")
        if state:
            if state.upper() not in INTEGRATION_STATES:
                raise bad_request(
                    f"The value [{state}] is not valid for reportedState.", "invalid.value"
                )
            items = [i for i in items if i["reportedState"]["code"] == state.upper()]
        ids = set(req.values("ids"))
        if ids:
            items = [i for i in items if i["id"] in ids]
        return paged(req, items, self.integration_wire)

    def oauth_client(self, req: Request) -> Reply:
        return Reply(200, client_wire(self.org, self._client(req.match["id"])))

    # recording ------------------------------------------------------------------------------
    def key_config_wire(self, c: dict) -> dict:
        return {**c, "selfUri": f"/api/v2/recording/keyconfigurations/{c['id']}"}

    def key_configs(self, req: Request) -> Reply:
        entities = [self.key_config_wire(c) for c in self.org.key_configs]
        return Reply(
            200,
            {
                "total": len(entities),
                "entities": entities,
                "selfUri": "/api/v2/recording/keyconfigurations",
            },
        )

    def key_config(self, req: Request) -> Reply:
        c = next((c for c in self.org.key_configs if c["id"] == req.match["id"]), None)
        if c is None:
            raise not_found()
        return Reply(200, self.key_config_wire(c))

    def recording_keys(self, req: Request) -> Reply:
        keys = sorted(self.org.recording_keys, key=lambda k: k["createDate"], reverse=True)

        def wire(k):
            return {
                **k,
                "createDate": iso(k["createDate"]),
                "selfUri": f"/api/v2/recording/recordingkeys/{k['id']}",
            }

        return paged(req, keys, wire)

    def rotation(self, req: Request) -> Reply:
        return Reply(
            200,
            {**self.org.rotation, "selfUri": "/api/v2/recording/recordingkeys/rotationschedule"},
        )

    def recording_settings(self, req: Request) -> Reply:
        return Reply(200, dict(self.org.recording_settings))

    # telephony -----------------------------------------------------------------------------
    def trunk_wire(self, t: TrunkBase) -> dict:
        def prop(value):
            return {"value": {"instance": value}}

        trunk_type = {
            "external_sip_pcv_aws.json": "external.pcv.aws",
            "phone_connections_cdm.json": "station.cdm",
        }.get(t.metabase_id, "external.pcv.byoc.carrier")
        props = {
            "trunk_type": prop(trunk_type),
            "trunk_protocol": prop("SIP"),
            "trunk_enabled": prop(t.state == "active"),
            "trunk_transport_protocolVariant": prop(t.transport),
            "trunk_transport_serverProxyList": prop(
                [
                    f"sip.{t.name.split()[0].lower()}.example:"
                    f"{5061 if t.transport == 'tls' else 5060}"
                ]
            ),
            "trunk_recording_enabled": prop(True),
        }
        if t.srtp or t.transport == "udp":  # the UDP trunk sends an empty list; the other omits it
            props["trunk_media_srtpCipherSuites"] = prop(list(t.srtp))
        body = {
            "id": t.id,
            "name": t.name,
            "division": ref("authorization/divisions", self.org.home.id, self.org.home.name),
            "version": 3,
            "dateCreated": iso(t.created),
            "dateModified": iso(t.modified),
            "state": t.state,
            "trunkMetabase": {"id": t.metabase_id, "name": t.metabase_id.removesuffix(".json")},
            "properties": props,
            "trunkType": t.trunk_type,
            "managed": t.managed,
            "selfUri": f"/api/v2/telephony/providers/edges/trunkbasesettings/{t.id}",
        }
        if t.managed:
            # "Managed properties will not be returned unless the user is assigned the
            # internal:trunk:edit permission" (SDK docs): a customer sees none of them.
            del body["properties"]
        return body

    def trunks(self, req: Request) -> Reply:
        items = sorted(self.org.trunks, key=lambda t: t.name.casefold())
        managed = req.first("managed")
        if managed is not None:
            items = [t for t in items if t.managed == (managed.lower() == "true")]
        if req.first("sortOrder", "ASC").upper() in ("DESC", "DESCENDING"):
            items.reverse()
        return paged(req, items, self.trunk_wire)

    def trunk(self, req: Request) -> Reply:
        t = next((t for t in self.org.trunks if t.id == req.match["id"]), None)
        if t is None:
            raise not_found()
        return Reply(200, self.trunk_wire(t))

    # audits --------------------------------------------------------------------------------
    def parse_audit_body(self, body: object) -> tuple[AuditQuery, dict]:
        if not isinstance(body, dict):
            raise bad_request("The request body must be a JSON object.")
        interval = body.get("interval")
        try:
            start_s, end_s = str(interval).split("/")
            start = dt.datetime.fromisoformat(start_s.replace("Z", "+00:00"))
            end = dt.datetime.fromisoformat(end_s.replace("Z", "+00:00"))
            if start.tzinfo is None:
                start = start.replace(tzinfo=dt.UTC)
            if end.tzinfo is None:
                end = end.replace(tzinfo=dt.UTC)
        except (ValueError, TypeError):
            raise bad_request(
                f"The interval [{interval}] is not a valid ISO-8601 interval.", "invalid.date"
            ) from None
        if end <= start:
            raise bad_request("The interval end must be after its start.", "invalid.date")
        service = body.get("serviceName")
        if service is not None and service not in audit_mod.SERVICES:
            raise bad_request(
                f"The value [{service}] is not valid for serviceName.", "invalid.value"
            )
        filters = []
        for f in body.get("filters") or []:
            if (
                not isinstance(f, dict)
                or f.get("property") not in audit_mod.FILTER_FIELDS
                or "value" not in f
            ):
                raise bad_request(f"Invalid filter {f!r}.", "invalid.value")
            filters.append((f["property"], str(f["value"])))
        descending = False
        for s in body.get("sort") or []:
            order = (s or {}).get("sortOrder", "ascending")
            if order not in ("ascending", "descending"):
                raise bad_request(
                    f"The value [{order}] is not valid for sortOrder.", "invalid.value"
                )
            descending = order == "descending"
        query = AuditQuery(
            start.astimezone(dt.UTC), end.astimezone(dt.UTC), service, tuple(filters), descending
        )
        echo = compact(
            {
                "interval": interval,
                "serviceName": service,
                "filters": body.get("filters"),
                "sort": body.get("sort"),
            }
        )
        return query, echo

    def audit_submit(self, req: Request) -> Reply:
        query, echo = self.parse_audit_body(req.body)
        tx = str(uuid.UUID(int=self.sim.rng_bits(128), version=4))
        status = {"id": tx, "state": "Queued", "startDate": iso(dt.datetime.now(dt.UTC)), **echo}
        self.sim.audit_queries[tx] = {
            "query": query,
            "status": status,
            "polls": 0,
            "submitted": time.monotonic(),
        }
        while len(self.sim.audit_queries) > 2000:
            self.sim.audit_queries.pop(next(iter(self.sim.audit_queries)))
        return Reply(202, dict(status))

    def _audit(self, req: Request) -> dict:
        entry = self.sim.audit_queries.get(req.match["id"])
        if entry is None:
            raise not_found()
        return entry

    def audit_status(self, req: Request) -> Reply:
        if req.match["id"] in ("servicemapping", "realtime"):
            raise not_found()
        entry = self._audit(req)
        faults = self.sim.faults
        status = entry["status"]
        if status["state"] not in ("Succeeded", "Failed"):
            entry["polls"] += 1
            if faults.audit_fail:
                status["state"] = "Failed"
            elif faults.audit_never_finish:
                status["state"] = "Running"
            elif faults.audit_polls is not None:
                running = entry["polls"] <= faults.audit_polls
                status["state"] = "Running" if running else "Succeeded"
            else:
                running = time.monotonic() - entry["submitted"] < faults.audit_seconds
                status["state"] = "Running" if running else "Succeeded"
        code = 200 if status["state"] in ("Succeeded", "Failed", "Cancelled") else 202
        return Reply(code, dict(status))

    def audit_results(self, req: Request) -> Reply:
        entry = self._audit(req)
        if entry["status"]["state"] != "Succeeded":
            raise bad_request(
                f"Audit query {req.match['id']} is {entry['status']['state']}; "
                "results are available once it has Succeeded."
            )
        size = req.integer("pageSize", 25)
        if not 1 <= size <= MAX_PAGE_SIZE:
            raise bad_request(f"pageSize must be between 1 and {MAX_PAGE_SIZE}.", "invalid.value")
        try:
            events, cursor = self.org.audit.page(entry["query"], req.first("cursor") or None, size)
        except (ValueError, UnicodeDecodeError):
            raise bad_request("The cursor is not valid.", "invalid.value") from None
        names = self._user_names(req.values("expand"))
        body: dict = {"id": req.match["id"], "pageSize": size}
        if cursor:
            body["cursor"] = cursor
        body["entities"] = [event_to_wire(e, self.org.id, names) for e in events]
        return Reply(200, body)

    def _user_names(self, expand: list[str]):
        if "user" not in expand:
            return None
        users, others = self.org.users, self.org.subjects  # others: a partner's (trustee) user
        return lambda uid: users[uid].name if uid in users else getattr(others.get(uid), "name", "")

    def audit_realtime(self, req: Request) -> Reply:
        query, _ = self.parse_audit_body(req.body)
        now = self.org.now
        if query.end - query.start > dt.timedelta(
            days=REALTIME_DAYS
        ) or query.start < now - dt.timedelta(days=REALTIME_DAYS):
            raise bad_request(
                f"Realtime audit queries cover at most the last {REALTIME_DAYS} "
                "days; use POST /api/v2/audits/query for older events.",
                "invalid.value",
            )
        body = req.body if isinstance(req.body, dict) else {}
        size, number = int(body.get("pageSize") or 25), int(body.get("pageNumber") or 1)
        if not 1 <= size <= MAX_PAGE_SIZE or number < 1:
            raise bad_request("pageSize/pageNumber out of range.", "invalid.value")
        found = self.org.audit.all_matches(query)
        names = self._user_names(req.values("expand"))
        chunk = found[(number - 1) * size : number * size]
        return Reply(
            200,
            {
                "entities": [event_to_wire(e, self.org.id, names) for e in chunk],
                "pageSize": size,
                "pageNumber": number,
                "total": len(found),
                "pageCount": math.ceil(len(found) / size),
            },
        )

    def audit_mapping(self, req: Request) -> Reply:
        return Reply(200, audit_mod.service_mapping())

    # OAuth clients, trustees, retention -----------------------------------------------------
    def oauth_clients(self, req: Request) -> Reply:
        # The SDK's get_oauth_clients takes no paging parameters: one answer holds every client.
        entities = [client_wire(self.org, c) for c in self.org.oauth_clients]
        body = {
            "entities": entities,
            "pageSize": max(len(entities), 1),
            "pageNumber": 1,
            "total": len(entities),
            "firstUri": f"{req.path}?pageSize={max(len(entities), 1)}&pageNumber=1",
            "selfUri": f"{req.path}?pageSize={max(len(entities), 1)}&pageNumber=1",
            "lastUri": f"{req.path}?pageSize={max(len(entities), 1)}&pageNumber=1",
            "pageCount": 1,
        }
        return Reply(200, body)

    def _client(self, client_id: str):
        client = next((c for c in self.org.oauth_clients if c.id == client_id), None)
        if client is None:
            raise not_found()
        return client

    def usage_summary(self, req: Request) -> Reply:
        client = self._client(req.match["id"])
        days = req.integer("days", 7)
        if days < 1:
            raise bad_request(f"The value [{days}] is not valid for days.", "invalid.value")
        execution = str(uuid.UUID(int=self.sim.rng_bits(128), version=4))
        self.sim.usage_queries[execution] = {"client": client.id, "days": days, "polls": 0}
        while len(self.sim.usage_queries) > 2000:
            self.sim.usage_queries.pop(next(iter(self.sim.usage_queries)))
        return Reply(
            200,
            {
                "executionId": execution,
                "resultsUri": f"{req.path.rsplit('/', 1)[0]}/query/results/{execution}",
            },
        )

    def usage_result(self, req: Request) -> Reply:
        client = self._client(req.match["id"])
        entry = self.sim.usage_queries.get(req.match["executionId"])
        if entry is None or entry["client"] != client.id:
            raise not_found()
        entry["polls"] += 1
        if self.sim.faults.usage_fail:
            return Reply(200, {"queryStatus": "Failed"})
        if entry["polls"] <= self.sim.faults.usage_polls:
            return Reply(200, {"queryStatus": "Running"})
        rows = usage_rows(client, entry["days"], self.org.now.date())
        return Reply(200, {"results": rows, "queryStatus": "Complete"})

    def trustees(self, req: Request) -> Reply:
        return paged(req, self.org.trustees, compact)

    def retention_policies(self, req: Request) -> Reply:
        return paged(req, self.org.retention_policies, dict)
