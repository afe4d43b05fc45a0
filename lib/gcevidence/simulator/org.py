"""The synthetic contact-center org: deterministic from (seed, now), with planted cases.

PLANTED.md (next to this file) documents every planted case and the subject-id conventions.
"""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import random
from pathlib import Path

from gcevidence.simulator.audit import AuditLog, Event
from gcevidence.simulator.certs import saml_certificate
from gcevidence.simulator.model import (
    Division,
    Grant,
    RosterRow,
    SimGroup,
    SimRole,
    SimUser,
    Subject,
    TrunkBase,
    new_id,
)

DOMAIN = "acme-cc.example"
GAP_DAY_OFFSET = 37  # the one day without audit events: today - 37 days
# The SSO org switched Genesys login off this many days ago: password logins are older.
SSO_SINCE_DAYS = 240

# Built-in and custom roles: (name, defaultRoleId, description, permissions).
ROLE_SPECS = (
    (
        "Master Admin",
        "masterAdmin",
        "Administrator",
        ("*:*:*", "admin", "authorization:grant:add", "directory:organization:admin"),
    ),
    (
        "admin",
        "admin",
        "Full administrator",
        ("admin", "directory:user:edit", "routing:queue:edit", "architect:flow:edit"),
    ),
    ("employee", "employee", "Every user", ("directory:user:view", "conversation:message:view")),
    ("User", "user", "Basic user", ("directory:user:view", "conversation:call:add")),
    (
        "Supervisor",
        "supervisor",
        "Monitors agents and queues",
        ("analytics:queueObservation:view", "routing:queue:view", "quality:evaluation:view"),
    ),
    (
        "Quality Evaluator",
        "qualityEvaluator",
        "Evaluates interactions",
        ("quality:evaluation:add", "quality:evaluation:edit", "recording:recording:view"),
    ),
    (
        "Quality Administrator",
        "qualityAdministrator",
        "Administers evaluation forms",
        ("quality:evaluationForm:add", "quality:calibration:add", "recording:recording:delete"),
    ),
    (
        "People Admin",
        "peopleAdmin",
        "Manages people",
        ("directory:user:add", "directory:user:edit"),
    ),
    ("Communicate - User", "communicateUser", "Calls and chat", ("voicemail:acdVoicemail:view",)),
    (
        "Telephony Admin",
        "telephonyAdmin",
        "Edges, sites and trunks",
        ("telephony:plugin:all", "telephony:trunk:edit"),
    ),
    (
        "Reporting Admin",
        "reportingAdmin",
        "Reports and exports",
        ("analytics:report:edit", "analytics:dataExport:add"),
    ),
    ("Trusted External User", "trustedUser", "Trusted org user", ("directory:user:view",)),
    ("Wallboard User", "wallboardUser", "Wallboards", ("analytics:queueObservation:view",)),
    ("Outbound Admin", "outboundAdmin", "Outbound campaigns", ("outbound:campaign:edit",)),
    (
        "Collections Team Lead",
        "",
        "Custom: collections supervisors",
        ("routing:queue:edit", "outbound:campaign:view"),
    ),
)

DIVISION_NAMES = ("Home", "Customer Care", "Sales", "Collections", "Back Office")

FIRST = (
    "Maria",
    "James",
    "Aisha",
    "Wei",
    "Olga",
    "Carlos",
    "Fatima",
    "John",
    "Priya",
    "Lars",
    "Noah",
    "Emma",
    "Kenji",
    "Sofia",
    "Ahmed",
    "Lucia",
    "Tom",
    "Ines",
    "Ravi",
    "Hana",
    "Pierre",
    "Zoe",
    "Mateo",
    "Nia",
    "Ola",
    "Sven",
    "Leila",
    "Diego",
    "Anna",
    "Kofi",
)
LAST = (
    "Garcia",
    "Smith",
    "Khan",
    "Chen",
    "Ivanova",
    "Silva",
    "Haddad",
    "Brown",
    "Patel",
    "Nilsson",
    "Muller",
    "Rossi",
    "Tanaka",
    "Costa",
    "Ali",
    "Moreau",
    "Novak",
    "Okafor",
    "Kowalski",
    "Jensen",
    "Dubois",
    "Lopez",
    "Schmidt",
    "Yilmaz",
    "Kim",
    "Nguyen",
)
AGENT_DEPARTMENTS = ("Customer Care", "Sales", "Collections")
HOSTILE_NAMES = (
    "<img src=x onerror=alert(1)>",
    "@SUM(1)",
    "Zo\u00eb \U0001f469\u200d\U0001f4bb Ng",
    "\u202eevil\u202c Reversed",
    "\u05e9\u200f\u05dc\u05d5\u05dd Cohen",
    "Za\u0335lgo\u0338 Te\u0336xt",
    "-2+3 Minus",
)
HOSTILE_DEPARTMENT = "<script>alert(1)</script>"


class Org:
    """Everything the simulated API serves, plus the HR roster and the planted cases."""

    def __init__(
        self,
        seed: int,
        users: int,
        now: dt.datetime,
        audit_events_per_day: int,
        audit_history_days: int,
        sign_in: str = "sso",
    ):
        if users < 45:
            raise ValueError("the simulated org needs at least 45 users for its planted cases")
        self.seed, self.now, self.sign_in = seed, now, sign_in
        self.rng = random.Random(seed)
        rng = self.rng
        self.id = new_id(rng)
        self.name = "Acme Contact Center (simulated)"
        self.divisions = [
            Division(new_id(rng), n, f"{n} division", n == "Home") for n in DIVISION_NAMES
        ]
        self.home = self.divisions[0]
        self.roles = [
            SimRole(new_id(rng), name, description, default_id, perms)
            for name, default_id, description, perms in ROLE_SPECS
        ]
        self.role_by_name = {r.name: r for r in self.roles}
        self.role_by_id = {r.id: r for r in self.roles}
        self.division_by_id = {d.id: d for d in self.divisions}
        self.users: dict[str, SimUser] = {}
        self.grants: dict[str, list[Grant]] = {}  # subject id (user, group, client...) -> grants
        self.subjects: dict[str, Subject] = {}  # grantees that are not users: clients, trustees
        self.oauth_clients: dict[str, dict] = {}  # client id -> OAuthClient (clients.py)
        # planted PeoplePermissions/Role events: event id -> (action, role id, grantee id)
        self.member_events: dict[str, tuple[str, str, str]] = {}
        self._shapes = 0  # alternates the two shapes of role events and of deactivations
        self.unused: dict[str, set[str]] = {}  # user id -> role ids reported unused
        self.groups: list[SimGroup] = []
        self.roster: dict[str, RosterRow] = {}  # lower-case email -> row
        self.named: dict[str, str] = {}  # planted role in the story -> user id
        self._emp = 100000
        self._name_n = 0
        today = now.date()
        self.gap_day = today - dt.timedelta(days=GAP_DAY_OFFSET)
        history_start = today - dt.timedelta(days=audit_history_days)
        self._build_people(users)
        self._build_settings()
        self.audit = AuditLog(
            seed, history_start, self.gap_day, audit_events_per_day, self._actor_pools(), now
        )
        self._plant_events()
        self._index()

    # -- helpers ------------------------------------------------------------------------------
    def at(self, days_ago: float, hour: int = 14, minute: int = 0) -> dt.datetime:
        """A timestamp `days_ago` whole days before today at the given UTC time."""
        day = self.now.date() - dt.timedelta(days=int(days_ago))
        return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=dt.UTC)

    def role(self, name: str) -> SimRole:
        return self.role_by_name[name]

    def sign_in_at(self, user: SimUser, when: dt.datetime | None) -> None:
        """Record a sign-in: a password login and its token, or (SSO) only the token."""
        lag = dt.timedelta(minutes=self.rng.randrange(0, 360))  # drawn in both modes
        if when is None:
            return
        if self.sign_in == "password":
            user.date_last_login = when
            # API calls on behalf of the user refresh the token after the login.
            user.last_token_issued = min(self.now, when + lag)
        else:
            user.last_token_issued = when

    def _person_name(self) -> str:
        rng = self.rng
        self._name_n += 1
        return f"{rng.choice(FIRST)} {rng.choice(LAST)}"

    def add_user(
        self,
        kind: str,
        *,
        name: str | None = None,
        department: str = "Customer Care",
        title: str = "Agent",
        roster_groups: tuple[str, ...] = (),
        roles: tuple = (),
        login_days: float | None = 3,
        welcome_days: float = 400,
        in_roster: bool = True,
        state: str = "active",
        manager_id: str | None = None,
        division: Division | None = None,
        email: str | None = None,
        roster_department: str | None = None,
    ) -> SimUser:
        rng = self.rng
        uid = new_id(rng)
        name = name or self._person_name()
        if email is None:
            local = (
                "".join(
                    ch
                    for ch in name.lower().replace(" ", ".")
                    if ch.isascii() and (ch.isalnum() or ch == ".")
                ).strip(".")
                or "user"
            )
            email = f"{local}{len(self.users) + 1}@{DOMAIN}"
        signed_in = (
            None
            if login_days is None
            else min(
                self.now - dt.timedelta(minutes=1),
                self.at(login_days, rng.randrange(7, 19), rng.randrange(60)),
            )
        )
        user = SimUser(
            id=uid,
            name=name,
            email=email,
            kind=kind,
            department=department,
            title=title,
            division_id=(division or self.home).id,
            manager_id=manager_id,
            state=state,
            date_last_login=None,
            date_welcome_sent=self.at(welcome_days, 9, rng.randrange(60)),
            phone=f"+1 317 555 {rng.randrange(10000):04d}",
        )
        # Drawn in both modes, so that both orgs of a seed have the same people and ids.
        had_password, password_age = rng.random(), rng.randrange(SSO_SINCE_DAYS + 5, 900)
        password_minute = rng.randrange(60)
        self.sign_in_at(user, signed_in)
        if (
            self.sign_in == "sso"
            and signed_in is not None
            and had_password < 0.6
            and welcome_days > password_age
        ):
            # Before SSO, this person logged in with a Genesys password.
            user.date_last_login = self.at(password_age, 10, password_minute)
        self.users[uid] = user
        if state != "deleted":
            grants = [("employee", self.home)] + [
                (r, self.home) if isinstance(r, str) else r for r in roles
            ]
            made = self.at(welcome_days, 9)
            self.grants[uid] = [Grant(self.role(r).id, d.id, made) for r, d in grants]
        if in_roster:
            self._emp += 1
            self.roster[email.lower()] = RosterRow(
                f"E{self._emp}",
                email.lower(),
                "active",
                None,
                department if roster_department is None else roster_department,
                roster_groups,
            )
        return user

    def terminate(self, user: SimUser, day: dt.date) -> None:
        row = self.roster[user.email.lower()]
        row.status, row.termination_date = "terminated", day

    def grant(
        self, user_id: str, role_name: str, made_at: dt.datetime, division: Division | None = None
    ) -> Grant:
        g = Grant(self.role(role_name).id, (division or self.home).id, made_at)
        self.grants.setdefault(user_id, []).append(g)
        return g

    # -- people -------------------------------------------------------------------------------
    def _build_people(self, total: int) -> None:
        rng, named = self.rng, self.named
        admins = [
            self.add_user(
                "admin",
                department="IT",
                title="Platform Administrator",
                roster_groups=("GC-Platform-Admins", "IT"),
                roles=("admin", "Master Admin"),
                login_days=1,
                welcome_days=900,
            )
            for _ in range(3)
        ]
        for i, a in enumerate(admins):
            named[f"platform_admin_{i + 1}"] = a.id
        # Master Admin everywhere: one grant per division, as an org admin would set it up.
        for a in admins:
            for d in self.divisions[1:]:
                self.grant(a.id, "Master Admin", self.at(900, 9), d)
        tel = [
            self.add_user(
                "telephony",
                department="IT",
                title="Telephony Engineer",
                roster_groups=("Telephony", "IT"),
                roles=("Telephony Admin",),
                login_days=2,
                welcome_days=700,
            )
            for _ in range(2)
        ]
        named["telephony_engineer"] = tel[0].id
        self.grant(tel[0].id, "Master Admin", self.at(300, 10))
        # Master Admin through a group: one member in the allowed HR group, one outside it.
        on_call = self.add_user(
            "admin",
            department="IT",
            title="On-call Administrator",
            roster_groups=("GC-Platform-Admins", "IT"),
            roles=("admin",),
            login_days=2,
            welcome_days=500,
        )
        admins_group = SimGroup(new_id(rng), "Platform On-Call", [on_call.id, tel[1].id])
        self.groups.append(admins_group)
        self.grants[admins_group.id] = [
            Grant(self.role("Master Admin").id, self.home.id, self.at(400, 10))
        ]
        named.update(
            master_admin_group=admins_group.id,
            group_admin_allowed=on_call.id,
            group_admin_outside=tel[1].id,
        )
        # Master Admin held by an OAuth client (a deployment pipeline) and a partner's user.
        client_id, partner_org, trustee_id = new_id(rng), new_id(rng), new_id(rng)
        client = Subject(
            client_id,
            "CI Deploy Pipeline",
            "PC_OAUTH_CLIENT",
            f"/api/v2/oauth/clients/{client_id}",
        )
        # The selfUri of a trustee grant is UNCONFIRMED; this path is where trustee users live.
        trustee = Subject(
            trustee_id,
            "Partner Support Engineer",
            "PC_TRUSTEE_USER",
            f"/api/v2/orgauthorization/trustees/{partner_org}/users/{trustee_id}",
        )
        for subject, days in ((client, 250), (trustee, 180)):
            self.subjects[subject.id] = subject
            self.grants[subject.id] = [
                Grant(self.role("Master Admin").id, self.home.id, self.at(days, 10))
            ]
        named.update(master_admin_client=client.id, master_admin_trustee=trustee.id)
        contractor = self.add_user(
            "contractor",
            department="IT",
            title="IT Contractor",
            roster_groups=("Contractors",),
            login_days=4,
            welcome_days=60,
        )
        named["it_contractor"] = contractor.id
        hr = self.add_user(
            "hr",
            department="Human Resources",
            title="HR Partner",
            roster_groups=("HR",),
            roles=("People Admin",),
            login_days=1,
            welcome_days=800,
        )
        named["people_admin"] = hr.id
        n_sup = max(5, total * 6 // 100)
        sups = [
            self.add_user(
                "supervisor",
                department=AGENT_DEPARTMENTS[i % 3],
                title="Team Supervisor",
                roster_groups=("Supervisors",),
                roles=("Supervisor", "User"),
                login_days=rng.randrange(0, 10),
                welcome_days=rng.randrange(200, 1500),
            )
            for i in range(n_sup)
        ]
        named["supervisor_granter"], named["supervisor_qe_holder"] = sups[0].id, sups[1].id
        self.grant(sups[2].id, "Telephony Admin", self.at(500, 10))
        self.grant(sups[3].id, "Reporting Admin", self.at(480, 10))
        self.grant(sups[4].id, "Telephony Admin", self.at(420, 10))
        for s in sups[2:5]:
            self.unused[s.id] = {self.grants[s.id][-1].role_id}
        named.update(unused_role_1=sups[2].id, unused_role_2=sups[3].id, unused_role_3=sups[4].id)
        collections = self.divisions[3]
        for s in sups:
            if s.department == "Collections":
                self.grant(s.id, "Collections Team Lead", self.at(365, 10), collections)
        leads = [
            self.add_user(
                "qa_lead",
                department="Quality Assurance",
                title="QA Lead",
                roster_groups=("QA Department", "QA Leads"),
                roles=("Quality Administrator",),
                login_days=1,
                welcome_days=1000,
            )
            for _ in range(2)
        ]
        named["qa_lead_granter"], named["sod_qa_lead"] = leads[0].id, leads[1].id
        self.grant(leads[1].id, "Quality Evaluator", self.at(200, 10))
        n_eval = max(4, total * 2 // 100)
        evals = [
            self.add_user(
                "evaluator",
                department="Quality Assurance",
                title="QA Evaluator",
                roster_groups=("QA Department",),
                roles=("Quality Evaluator",),
                login_days=rng.randrange(0, 8),
                manager_id=leads[0].id,
                welcome_days=rng.randrange(200, 1200),
            )
            for _ in range(n_eval)
        ]
        named["sod_evaluator"] = evals[1].id
        self.grant(evals[1].id, "Quality Administrator", self.at(150, 10))
        named["evaluator_granted_in_period"] = evals[0].id
        # Orphans: active, not in the roster.
        named["orphan_service"] = self.add_user(
            "service",
            name="Integration Service Account",
            department="IT",
            title="Service",
            email=f"svc.integration@{DOMAIN}",
            in_roster=False,
            login_days=0,
            welcome_days=600,
        ).id
        named["orphan_temp"] = self.add_user(
            "agent", name="Temp Agent 01", in_roster=False, login_days=5, welcome_days=300
        ).id
        named["orphan_hostile"] = self.add_user(
            "agent",
            name="<script>alert(1)</script>",
            in_roster=False,
            login_days=2,
            welcome_days=250,
            email=f"script.agent@{DOMAIN}",
        ).id

        # Agents fill the rest; some become planted cases, some leave.
        n_old_leavers = max(4, total * 3 // 100)
        special_agents = 2 + 3 + 4 + 3 + 2  # terminated-active, slow, fast, dormant, new hires
        n_agents = total - len(self.users) - n_old_leavers - special_agents
        if n_agents < 5:
            raise ValueError("the simulated org needs at least 45 users for its planted cases")
        overflow = SimGroup(new_id(rng), "Overflow Agents")
        reporting = SimGroup(new_id(rng), "Reporting Analysts")
        self.groups += [overflow, reporting]

        sups_by_dept = {d: [s for s in sups if s.department == d] for d in AGENT_DEPARTMENTS}

        def agent(**kw) -> SimUser:
            dept = kw.pop("department", AGENT_DEPARTMENTS[rng.randrange(3)])
            div = (
                self.divisions[1 + AGENT_DEPARTMENTS.index(dept)]
                if dept in AGENT_DEPARTMENTS
                else self.home
            )
            sup = sups_by_dept.get(dept) or sups
            kw.setdefault("roles", ("User", "Communicate - User"))
            kw.setdefault("login_days", rng.randrange(0, 15))
            kw.setdefault("welcome_days", rng.randrange(120, 1600))
            kw.setdefault("roster_groups", ("Contact Center Agents",))
            return self.add_user(
                "agent",
                department=dept,
                division=div,
                manager_id=sup[rng.randrange(len(sup))].id,
                **kw,
            )

        for i in range(n_agents):
            kw: dict = {}
            if i < len(HOSTILE_NAMES):
                kw["name"] = HOSTILE_NAMES[i]
            if i % 97 == 5:
                kw.update(department=HOSTILE_DEPARTMENT)
            if i % 89 == 7:
                kw.update(title="+cmd")
            a = agent(**kw)
            if i % 211 == 3:  # mixed-case email in Genesys, lower-case in HR: must still match
                row = self.roster.pop(a.email)
                a.email = a.email.title().replace(f"@{DOMAIN.title()}", "@Acme-CC.example")
                self.roster[a.email.lower()] = row
                row.email = a.email.lower()
            if i % 40 == 11:
                overflow.member_ids.append(a.id)
        for s in sups[5::4]:
            reporting.member_ids.append(s.id)
        self.grants[overflow.id] = [
            Grant(self.role("Communicate - User").id, self.home.id, self.at(700, 10))
        ]
        self.grants[reporting.id] = [
            Grant(self.role("Reporting Admin").id, self.home.id, self.at(650, 10))
        ]

        # Terminated in HR, still active in Genesys.
        t1 = agent(name='=HYPERLINK("http://evil","x")', login_days=22)
        t2 = agent(login_days=47)
        self.terminate(t1, self.at(20).date())
        self.terminate(t2, self.at(45).date())
        named.update(terminated_active_1=t1.id, terminated_active_2=t2.id)
        # Leavers inside the period: (termination days ago, removal days ago, deleted?).
        # (user id, when, "inactive"|"deleted")
        self.leavers: list[tuple[str, dt.datetime, str]] = []
        for key, term, gone, deleted in (
            ("slow_1", 30, 26, False),
            ("slow_2", 70, 61, False),
            ("slow_3", 50, 44, True),
            ("fast_1", 15, 15, False),
            ("fast_2", 33, 33, False),
            ("fast_3", 64, 64, False),
            ("fast_4", 80, 80, True),
        ):
            u = agent(login_days=term + 1)
            self.terminate(u, self.at(term).date())
            self._leave(u, self.at(gone, 17, 5 if deleted else 0), deleted)
            named[f"deprovision_{key}"] = u.id
        # Old leavers, removed the day they left (before the period).
        for _ in range(n_old_leavers):
            term = rng.randrange(100, 390)
            u = agent(login_days=term + 1, welcome_days=term + rng.randrange(100, 900))
            self.terminate(u, self.at(term).date())
            self._leave(u, self.at(term, 16, rng.randrange(60)), rng.random() < 0.3)
        # Dormant: last login long ago, or never logged in since a welcome long ago.
        named["dormant_1"] = agent(login_days=120).id
        named["dormant_2"] = agent(login_days=200, department=HOSTILE_DEPARTMENT).id
        named["dormant_never"] = agent(login_days=None, welcome_days=150).id
        # New hires who have not logged in yet: not dormant.
        for key, days in (("new_hire_1", 3), ("new_hire_2", 10)):
            u = agent(login_days=None, welcome_days=days)
            named[key] = u.id
            self.grants[u.id] = [
                Grant(g.role_id, g.division_id, self.at(days, 9, 30)) for g in self.grants[u.id]
            ]
        # HR people without a Genesys account (back office): in the roster only.
        for i in range(3):
            self._emp += 1
            email = f"backoffice.{i + 1}@{DOMAIN}"
            self.roster[email] = RosterRow(
                f"E{self._emp}", email, "active", None, "Finance", ("Finance",)
            )

    def _leave(self, user: SimUser, when: dt.datetime, deleted: bool) -> None:
        """Deactivate (or delete) a user; the audit event is planted later."""
        user.state = "deleted" if deleted else "inactive"
        user.version += 1
        if deleted:
            self.grants.pop(user.id, None)
        else:
            privileged = {
                self.role(n).id
                for n in ("Master Admin", "Quality Evaluator", "Quality Administrator")
            }
            self.grants[user.id] = [
                g for g in self.grants.get(user.id, []) if g.role_id not in privileged
            ]
        self.unused.pop(user.id, None)
        self.leavers.append((user.id, when, user.state))

    # -- settings -----------------------------------------------------------------------------
    def _build_settings(self) -> None:
        rng = self.rng
        self.auth_settings = {
            "multifactorAuthenticationRequired": False,
            "domainAllowlistEnabled": False,
            "domainAllowlist": [],
            "ipAddressAllowlist": [],
            "passwordRequirements": {
                "minimumLength": 8,
                "minimumDigits": 0,
                "minimumLetters": 1,
                "minimumUpper": 0,
                "minimumLower": 0,
                "minimumSpecials": 0,
                "minimumAgeSeconds": 0,
                "expirationDays": 90,
            },
        }
        self.token_timeout = {"idleTokenTimeoutSeconds": 1800, "enableIdleTokenTimeout": True}
        self._build_sign_in()
        kms = new_id(rng)
        self.key_configs = [
            {
                "id": kms,
                "url": "arn:aws:kms:us-east-1:000000000000:alias/recordings",
                "keyConfigurationType": "KmsSymmetric",
            },
            {
                "id": new_id(rng),
                "url": "https://keys.acme-cc.example/decrypt",
                "apiId": "lkm-client",
                "keyConfigurationType": "LocalKeyManager",
                "lastError": {
                    "message": "Local key manager did not answer: connect timeout",
                    "code": "recording.keyconfig.unreachable",
                    "status": 504,
                },
            },
        ]
        self.named["key_config_error"] = self.key_configs[1]["id"]
        self.recording_keys = []
        for age in (400, 780, 1150):
            self.recording_keys.append(
                {
                    "id": new_id(rng),
                    "createDate": self.at(age, 3),
                    "keydataSummary": f"MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8A{rng.getrandbits(64):016x}",
                    "keyConfigurationType": "KmsSymmetric",
                    "kmsKeyArn": self.key_configs[0]["url"],
                }
            )
        self.named["newest_recording_key"] = self.recording_keys[0]["id"]
        self.rotation = {"id": new_id(rng), "name": "Recording key rotation", "period": "DISABLED"}
        self.recording_settings = {
            "maxSimultaneousStreams": 10,
            "maxConfigurableScreenRecordingStreams": 2,
            "regionalRecordingStorageEnabled": False,
            "recordingPlaybackUrlTtl": 60,
            "recordingBatchDownloadUrlTtl": 60,
            "stopRecordingWhenOnlyExternalParticipants": True,
        }
        srtp = ("AES_CM_128_HMAC_SHA1_80",)
        made = self.at(700, 12)

        def trunk(name, state, ttype, meta, transport, suites):
            return TrunkBase(
                new_id(rng),
                name,
                state,
                ttype,
                meta,
                transport,
                suites,
                made,
                self.at(rng.randrange(5, 200), 12),
            )

        self.trunks = [
            trunk(
                "BYOC Carrier - Primary",
                "active",
                "EXTERNAL",
                "external_sip_pcv_byoc_carrier.json",
                "tls",
                srtp,
            ),
            trunk(
                "BYOC Carrier - Secondary",
                "active",
                "EXTERNAL",
                "external_sip_pcv_byoc_carrier.json",
                "tls",
                srtp,
            ),
            trunk(
                "Legacy PBX (UDP)",
                "active",
                "EXTERNAL",
                "external_sip_pcv_byoc_carrier.json",
                "udp",
                (),
            ),
            trunk(
                "AWS Carrier - No SRTP",
                "active",
                "EXTERNAL",
                "external_sip_pcv_byoc_carrier.json",
                "tls",
                (),
            ),
            trunk(
                "Old Carrier (decommissioned)",
                "inactive",
                "EXTERNAL",
                "external_sip_pcv_byoc_carrier.json",
                "udp",
                (),
            ),
            trunk("WebRTC Phones", "active", "PHONE", "phone_connections_cdm.json", "tcp", ()),
        ]
        # Genesys Cloud Voice: operated by Genesys, its properties are not returned to us.
        managed = trunk(
            "PureCloud Voice - AWS", "active", "EXTERNAL", "external_sip_pcv_aws.json", "tls", srtp
        )
        self.trunks.append(dataclasses.replace(managed, managed=True))
        self.named.update(
            trunk_udp=self.trunks[2].id,
            trunk_no_srtp=self.trunks[3].id,
            trunk_managed=self.trunks[-1].id,
        )

    def _build_sign_in(self) -> None:
        """Genesys' own login and the SAML identity providers (PLANTED.md: sign-in)."""
        rng, today = self.rng, self.now.date()
        sso = self.sign_in == "sso"
        # With SSO only, "Disable Genesys Cloud Login" is on: GET /identityproviders/purecloud
        # answers disabled: true.
        self.genesys_login = {"id": new_id(rng), "name": "PureCloud", "disabled": sso}

        def saml(name: str, host: str, disabled: bool, issued_days: int) -> dict:
            pem = saml_certificate(
                f"{host} SAML signing",
                today - dt.timedelta(days=issued_days),
                today - dt.timedelta(days=issued_days) + dt.timedelta(days=3 * 365),
            )
            return {
                "id": new_id(rng),
                "name": name,
                "disabled": disabled,
                "issuerURI": f"https://{host}/saml/metadata",
                "ssoTargetURI": f"https://{host}/app/genesys-cloud/sso/saml",
                "certificate": pem,
                "certificates": [pem],
                "nameIdentifierFormat": "urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress",
                "ssoBinding": "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST",
                "providerName": name,
                "displayOnLogin": not disabled,
                "forceAuthn": False,
            }

        okta = saml("Okta", "acme-cc.okta.example", False, 300)
        adfs = saml("ADFS", "adfs.acme-cc.example", True, 900)  # a trial, switched off
        self.identity_providers = [okta, adfs] if sso else [adfs]
        if sso:
            self.named["identity_provider"] = okta["id"]
        self.named["identity_provider_disabled"] = adfs["id"]

    # -- audit events ----------------------------------------------------------------------------
    def _actor_pools(self) -> dict[str, list[str]]:
        by_kind: dict[str, list[str]] = {}
        for u in self.users.values():
            by_kind.setdefault(u.kind, []).append(u.id)
        return {
            "anyone": [u.id for u in self.users.values()],
            "admins": by_kind["admin"] + by_kind["telephony"],
            "supervisors": by_kind["supervisor"],
            "qa": by_kind["evaluator"] + by_kind["qa_lead"],
            "user": [u.id for u in self.users.values()],
            "role": [r.id for r in self.roles],
        }

    def event(
        self,
        ts: dt.datetime,
        service: str,
        etype: str,
        action: str,
        entity_id: str,
        entity_name: str,
        actor: str | None,
        changes: tuple = (),
    ) -> Event:
        rng = self.rng
        return self.audit.add(
            Event(
                ts,
                new_id(rng),
                service,
                etype,
                action,
                entity_id,
                entity_name,
                actor,
                changes,
                f"10.1.{rng.randrange(256)}.{rng.randrange(1, 255)}",
            )
        )

    def member_event(
        self, ts: dt.datetime, action: str, user_id: str, role_name: str, actor: str
    ) -> Event:
        """A role grant/removal, alternately with entity.id = the role and without an id.

        Both shapes carry entity.name = userId--roleId--orgId (genesys-api.md §8.8: which
        one Genesys sends is unconfirmed, so the org sends both).
        """
        role = self.role(role_name)
        self._shapes += 1
        event = self.event(
            ts,
            "PeoplePermissions",
            "Role",
            action,
            role.id if self._shapes % 2 else "",
            f"{user_id}--{role.id}--{self.id}",
            actor,
        )
        self.member_events[event.id] = (action, role.id, user_id)
        return event

    def removal_event(self, user_id: str, when: dt.datetime, state: str, actor: str) -> Event:
        """Delete for a deleted user; Deactivate, or an Update of `state`, for an inactive one."""
        if state == "deleted":
            return self.event(
                when, "Directory", "User", "Delete", user_id, self.users[user_id].name, actor
            )
        self._shapes += 1
        if self._shapes % 2:
            return self.event(
                when, "Directory", "User", "Deactivate", user_id, self.users[user_id].name, actor
            )
        return self.event(
            when,
            "Directory",
            "User",
            "Update",
            user_id,
            self.users[user_id].name,
            actor,
            (("state", ("active",), ("inactive",)),),
        )

    def _plant_events(self) -> None:
        n = self.named
        hr = n["people_admin"]
        for uid, when, state in self.leavers:
            if when.date() != self.gap_day:
                self.removal_event(uid, when, state, hr)
        self.privileged_grant_events: list[str] = []
        # Allowed privileged grants inside the period.
        a3 = n["platform_admin_3"]
        self.grants[a3] = [
            Grant(g.role_id, g.division_id, self.at(60, 11))
            if g.role_id == self.role("Master Admin").id and g.division_id == self.home.id
            else g
            for g in self.grants[a3]
        ]
        self.member_event(self.at(60, 11), "MemberAdd", a3, "Master Admin", n["platform_admin_1"])
        ev0 = n["evaluator_granted_in_period"]
        self.grants[ev0] = [
            Grant(g.role_id, g.division_id, self.at(50, 10))
            if g.role_id == self.role("Quality Evaluator").id
            else g
            for g in self.grants[ev0]
        ]
        self.member_event(
            self.at(50, 10), "MemberAdd", ev0, "Quality Evaluator", n["qa_lead_granter"]
        )
        # Grants by people who may not grant these roles.
        contractor = n["it_contractor"]
        self.grant(contractor, "Master Admin", self.at(30, 15))
        n["bad_grant_master_admin"] = self.member_event(
            self.at(30, 15), "MemberAdd", contractor, "Master Admin", n["telephony_engineer"]
        ).id
        holder = n["supervisor_qe_holder"]
        self.grant(holder, "Quality Evaluator", self.at(25, 16))
        n["bad_grant_quality_evaluator"] = self.member_event(
            self.at(25, 16), "MemberAdd", holder, "Quality Evaluator", n["supervisor_granter"]
        ).id
        # Hires' onboarding grants inside the period.
        for key, days in (("new_hire_1", 3), ("new_hire_2", 10)):
            uid = n[key]
            self.event(
                self.at(days, 9, 25), "Directory", "User", "Create", uid, self.users[uid].name, hr
            )
            for g in self.grants[uid]:
                role = next(r for r in self.roles if r.id == g.role_id)
                self.member_event(self.at(days, 9, 30), "MemberAdd", uid, role.name, hr)

    # -- indexes --------------------------------------------------------------------------------
    def _index(self) -> None:
        """Sorted views the API pages through; rebuilt after every change to people or grants."""
        ordered = sorted(self.users.values(), key=lambda u: (u.name.casefold(), u.id))
        self.by_state = {
            "any": ordered,
            "active": [u for u in ordered if u.state == "active"],
            "inactive": [u for u in ordered if u.state == "inactive"],
            "deleted": [u for u in ordered if u.state == "deleted"],
        }
        group_ids = {g.id: g for g in self.groups}
        holders: dict[str, dict[str, list[str]]] = {r.id: {} for r in self.roles}
        for sid, grants in self.grants.items():
            for g in grants:
                holders[g.role_id].setdefault(sid, []).append(g.division_id)
        # role id -> (subject id, name, subject type, division ids, selfUri)
        self.role_subjects = {}
        for rid, subjects in holders.items():
            rows = []
            for sid, divs in subjects.items():
                if sid in group_ids:
                    rows.append(
                        (sid, group_ids[sid].name, "PC_GROUP", divs, f"/api/v2/groups/{sid}")
                    )
                elif sid in self.subjects:
                    other = self.subjects[sid]
                    rows.append((sid, other.name, other.kind, divs, other.self_uri))
                elif self.users[sid].state != "deleted":
                    rows.append(
                        (sid, self.users[sid].name, "PC_USER", divs, f"/api/v2/users/{sid}")
                    )
            rows.sort(key=lambda r: (r[1].casefold(), r[0]))
            self.role_subjects[rid] = rows
        self.role_users = {
            rid: [r[0] for r in rows if r[2] == "PC_USER"]
            for rid, rows in self.role_subjects.items()
        }
        self.user_groups: dict[str, list[SimGroup]] = {}
        for g in self.groups:
            for uid in g.member_ids:
                self.user_groups.setdefault(uid, []).append(g)

    # -- roster ------------------------------------------------------------------------------------
    def write_roster(self, path: Path) -> Path:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("w", encoding="utf-8", newline="") as fh:
            w = csv.writer(fh)
            w.writerow(
                ["employee_id", "email", "status", "termination_date", "department", "groups"]
            )
            for row in sorted(self.roster.values(), key=lambda r: r.employee_id):
                w.writerow(
                    [
                        row.employee_id,
                        row.email,
                        row.status,
                        row.termination_date.isoformat() if row.termination_date else "",
                        row.department,
                        ";".join(row.groups),
                    ]
                )
        return path
