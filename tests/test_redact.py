"""Field paths for what is removed before an answer is stored (redact.py)."""

from __future__ import annotations

from gcevidence.redact import remove_fields, without_fields


def listing() -> dict:
    return {
        "entities": [
            {"id": "t1", "properties": {"trunk_Auth_PASSWORD": 1, "trunk_x": 2}, "chat": {"j": 1}},
            {"id": "t2", "properties": {"trunk_x": 3}},
        ],
        "total": 2,
    }


def test_patterns_lists_and_what_is_reported():
    doc = listing()
    removed = remove_fields(doc, ["entities[].properties.*password*", "entities[].chat", "nope"])
    assert removed == ["entities[].chat", "entities[].properties.trunk_Auth_PASSWORD"]
    assert doc["entities"][0] == {"id": "t1", "properties": {"trunk_x": 2}}
    assert doc["entities"][1] == {"id": "t2", "properties": {"trunk_x": 3}} and doc["total"] == 2


def test_list_items_selected_by_a_value():
    doc = {"changes": [{"p": "phone", "v": [1]}, {"p": "state", "v": [2]}, {"p": "fax", "v": [3]}]}
    assert remove_fields(doc, ["changes[p=phone|fax].v"]) == [
        "changes[p=fax].v",
        "changes[p=phone].v",
    ]
    assert doc == {"changes": [{"p": "phone"}, {"p": "state", "v": [2]}, {"p": "fax"}]}


def test_nothing_removed_leaves_the_document_as_it_was():
    doc = listing()
    assert remove_fields(doc, ["entities[].secret", "total.x"]) == [] and doc == listing()


def test_without_fields_copies_and_never_changes_its_input():
    doc = listing()
    clean = without_fields(doc, ["entities[].chat"])
    assert "chat" not in clean["entities"][0] and doc == listing()
    assert without_fields({"a": 1, "b": 2}, ["b"]) == {"a": 1}
