"""The operator who runs a collection: params `operator`, overridden by `--operator` (12 §1)."""

from __future__ import annotations

import json

import pytest
from gcevidence.cli import build_parser, main
from gcevidence.config import load_params
from gcevidence.errors import InputError


def params(tmp_path, text: str = "") -> object:
    path = tmp_path / "params.yaml"
    path.write_text("period: {end: 2026-11-30}\n" + text, encoding="utf-8")
    return path


def test_the_command_line_wins_over_the_params(tmp_path):
    path = params(tmp_path, "operator: Jane Doe (GRC)\n")
    assert load_params(path).operator == "Jane Doe (GRC)"
    assert load_params(path, operator="Ali Khan").operator == "Ali Khan"
    assert load_params(params(tmp_path)).operator == ""  # not stated: the index says so


def test_run_and_demo_take_operator(tmp_path):
    for command in (["run", "--params", "p.yaml"], ["demo"]):
        args = build_parser(command).parse_args([*command, "--operator", "Ali Khan"])
        assert args.operator == "Ali Khan"


@pytest.mark.parametrize("bad", ["", " Jane", "Jane\nDoe", "x" * 201, 42])
def test_a_bad_operator_in_the_params_is_refused(tmp_path, bad):
    path = params(tmp_path, f"operator: {json.dumps(bad)}\n")  # JSON is YAML, escapes too
    if bad == "":
        assert load_params(path).operator == ""  # empty is the same as not stated
        return
    with pytest.raises(InputError) as err:
        load_params(path)
    assert str(err.value).startswith(f"{path}: operator=")


def test_a_bad_operator_on_the_command_line_exits_2_before_anything(tmp_path, capsys):
    path = params(tmp_path, "output: {dir: out}\n")
    assert main(["run", "--params", str(path), "--operator", "Jane\tDoe"]) == 2
    (line,) = capsys.readouterr().err.strip().splitlines()
    assert line.startswith(f"gcevidence: error: {path}: --operator='Jane\\tDoe': must be")
    assert not (tmp_path / "out").exists()
