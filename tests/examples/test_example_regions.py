"""Each example that captures credentials defaults to a region of its own.

A Nodion registry has one set of credentials, owned by one stack, so two examples defaulting to
one region could not run side by side. tests/e2e/test_kubernetes_example.py runs two of them
on one emulator with their defaults; this checks every example and its documentation.
"""

from __future__ import annotations

import ast
from pathlib import Path

from nodion_pulumi.emulator import DEFAULT_REGIONS

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
README = EXAMPLES.parent / "README.md"


def _default_regions() -> dict[str, tuple[str, ast.Module]]:
    """Example name -> (its DEFAULT_REGION, its parsed program), for examples that have one."""
    found: dict[str, tuple[str, ast.Module]] = {}
    for program in sorted(EXAMPLES.glob("*/__main__.py")):
        tree = ast.parse(program.read_text())
        for node in tree.body:
            if (
                isinstance(node, ast.Assign)
                and [t.id for t in node.targets if isinstance(t, ast.Name)] == ["DEFAULT_REGION"]
                and isinstance(node.value, ast.Constant)
                and isinstance(node.value.value, str)
            ):
                found[program.parent.name] = (node.value.value, tree)
    return found


def _reads_region_config_or_default(tree: ast.Module) -> bool:
    """The program says ``config.get("region") or DEFAULT_REGION``."""
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.BoolOp)
            and isinstance(node.op, ast.Or)
            and len(node.values) == 2
            and isinstance(node.values[1], ast.Name)
            and node.values[1].id == "DEFAULT_REGION"
        ):
            call = node.values[0]
            if (
                isinstance(call, ast.Call)
                and isinstance(call.func, ast.Attribute)
                and call.func.attr == "get"
                and [a.value for a in call.args if isinstance(a, ast.Constant)] == ["region"]
            ):
                return True
    return False


def test_the_examples_that_capture_credentials_default_to_distinct_seeded_regions() -> None:
    defaults = _default_regions()
    assert set(defaults) == {"quickstart", "kubernetes"}
    regions = [region for region, _ in defaults.values()]
    assert len(set(regions)) == len(regions), f"two examples share a default region: {defaults}"
    # Seeded by a default emulator, so `make demo` and the README's steps find them.
    assert set(regions) <= set(DEFAULT_REGIONS)


def test_each_reads_the_region_from_config_and_documents_its_default() -> None:
    readme = " ".join(README.read_text().split())
    for name, (region, tree) in _default_regions().items():
        assert _reads_region_config_or_default(tree), f"examples/{name} ignores config 'region'"
        docstring = ast.get_docstring(tree) or ""
        assert f"default ``{region}``" in docstring, f"examples/{name}'s docstring"
        assert f"`examples/{name}`: default `{region}`" in readme, (
            f"README.md does not give examples/{name}'s default region {region}"
        )
