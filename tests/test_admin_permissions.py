"""What counts as an administrative permission: catalog data, validated, matched as globs."""

from __future__ import annotations

import shutil

import pytest
from gcevidence.catalog.permissions import (
    ADMIN_PERMISSIONS_FILE,
    admin_patterns,
    admin_permissions,
    read_admin_patterns,
)
from gcevidence.datasets.directory import role_permissions
from gcevidence.errors import CatalogError


@pytest.mark.parametrize(
    "permission, administrative",
    [
        ("*:*:*", True),
        ("routing:*:*", True),
        ("architect:flow:*", True),
        ("admin", True),
        ("authorization:grant:add", True),
        ("authorization:role:edit", True),
        ("authorization:division:grant", True),
        ("directory:user:add", True),
        ("directory:group:edit", True),
        ("directory:organization:admin", True),
        ("oauth:client:add", True),
        ("telephony:plugin:all", True),
        ("telephony:trunk:edit", True),
        ("recording:recording:delete", True),
        ("recording:encryptionKey:edit", True),
        # Reading is not administering: the collector's own read permissions stay out.
        ("authorization:role:view", False),
        ("audits:audit:view", False),
        ("recording:encryptionKey:view", False),
        ("sso:provider:view", False),
        ("directory:user:view", False),
        ("quality:evaluation:add", False),
        ("analytics:dataExport:add", False),
        ("Admin", False),  # case-sensitive, like Genesys permission names
    ],
)
def test_administrative_permissions(permission, administrative):
    assert bool(admin_permissions([permission])) is administrative


def test_each_match_says_what_the_permission_allows():
    [match] = admin_permissions(
        ["routing:queue:view", "telephony:plugin:all", "telephony:plugin:all"]
    )
    assert (match.permission, match.pattern) == ("telephony:plugin:all", "telephony:plugin:all")
    assert match.means == "telephony, edges and trunks can be administered"
    assert len(admin_patterns()) == len({p.pattern for p in admin_patterns()}) >= 20


def test_a_roles_permissions_include_its_permission_policies():
    role = {
        "permissions": ["directory:user:view", "admin"],
        "permissionPolicies": [
            {"domain": "telephony", "entityName": "trunk", "actionSet": ["view", "edit"]},
            {"domain": "routing", "entityName": "queue", "actionSet": ["*"]},
            {"domain": "", "entityName": "x", "actionSet": ["view"]},
        ],
    }
    assert role_permissions(role) == [
        "admin",
        "directory:user:view",
        "routing:queue:*",
        "telephony:trunk:edit",
        "telephony:trunk:view",
    ]
    assert role_permissions({}) == []


@pytest.mark.parametrize(
    "old, new, field, problem",
    [
        ("patterns: [admin]", "patterns: [admin, admin]", "groups[1].patterns", "non-unique"),
        (
            "patterns: [admin]",
            'patterns: ["admin now"]',
            "groups[1].patterns[0]",
            "permission glob",
        ),
        (
            "  - means: the all-powerful",
            "  - mean: the all-powerful",
            "groups[1].mean",
            "unknown key",
        ),
        (
            '"telephony:trunk:add", ',
            '"directory:user:add", ',
            "groups[6].patterns[1]",
            "already listed",
        ),
    ],
)
def test_a_typo_in_the_patterns_names_file_key_and_value(tmp_path, old, new, field, problem):
    path = tmp_path / "admin_permissions.yaml"
    shutil.copyfile(ADMIN_PERMISSIONS_FILE, path)
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    with pytest.raises(CatalogError) as err:
        read_admin_patterns(path)
    assert err.value.file == str(path) and err.value.field == field
    assert problem in str(err.value) and err.value.exit_status == 2
