"""The rules that keep the code easy to change, checked on the source itself.

- `annotations` builds on `policies`, never the reverse: no module of `policies` (tests aside,
  which exercise both apps together) imports `annotations`.
- Who may do what is decided in `policies/permissions.py` only: no other application module
  reads `is_staff`, `is_superuser` or a user's groups.
- No function longer than 60 lines outside tests and bench.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
APPS = ("policies", "annotations", "api", "config")
MAX_FUNCTION_LINES = 60
# Functions allowed to be longer (none today); name them here with the reason if ever needed.
KNOWN_LONG: set[str] = set()


def _modules(*apps: str, tests: bool = False) -> list[Path]:
    paths = []
    for app in apps:
        for path in sorted((ROOT / app).rglob("*.py")):
            parts = set(path.relative_to(ROOT).parts)
            if "migrations" in parts or (not tests and "tests" in parts):
                continue
            paths.append(path)
    return paths


def _imported_modules(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module)
    return names


def test_policies_never_imports_annotations():
    offenders = [
        f"{path.relative_to(ROOT)} imports {name}"
        for path in _modules("policies")
        for name in sorted(_imported_modules(path))
        if name == "annotations" or name.startswith("annotations.")
    ]
    assert offenders == [], "policies must not import annotations (use policies.extensions)"


def test_the_direction_check_sees_an_import(tmp_path):
    # The check above must not pass for lack of looking: it finds an import written either way.
    module = tmp_path / "m.py"
    module.write_text("import annotations.models\nfrom annotations.lineage import follow\n")
    assert _imported_modules(module) == {"annotations.models", "annotations.lineage"}


def test_only_the_permissions_module_reads_roles():
    allowed = {
        ROOT / "policies" / "permissions.py",
        # Creates the demo accounts (staff flag, groups): data, not a permission check.
        ROOT / "policies" / "management" / "commands" / "create_demo_users.py",
    }
    offenders = []
    for path in _modules(*APPS):
        if path in allowed:
            continue
        text = path.read_text()
        for needle in (".is_staff", ".is_superuser", ".groups."):
            if needle in text:
                offenders.append(f"{path.relative_to(ROOT)} reads {needle}")
    assert offenders == [], "ask policies.permissions instead"


def test_no_function_over_sixty_lines():
    long_functions = []
    for path in _modules(*APPS):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                length = node.end_lineno - node.lineno + 1
                known = f"{path.relative_to(ROOT)}:{node.name}" in KNOWN_LONG
                if length > MAX_FUNCTION_LINES and not known:
                    where = f"{path.relative_to(ROOT)}:{node.lineno}"
                    long_functions.append(f"{where} {node.name} ({length} lines)")
    assert long_functions == []
