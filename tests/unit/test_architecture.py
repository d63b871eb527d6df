"""The architecture as a test: services share only the shared library, never each other."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SERVICES = ("intake", "assignment", "reporting")


def imported_top_level_modules(package_dir: Path) -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for path in package_dir.rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            for name in names:
                found.setdefault(name.split(".")[0], set()).add(str(path.relative_to(ROOT)))
    return found


@pytest.mark.parametrize("service", SERVICES)
def test_a_service_imports_no_other_service(service: str) -> None:
    imports = imported_top_level_modules(ROOT / "services" / service / "src")
    offenders = {
        other: sorted(imports[other]) for other in SERVICES if other != service and other in imports
    }
    assert offenders == {}, f"{service} imports another service: {offenders}"


def test_the_shared_library_imports_no_service() -> None:
    imports = imported_top_level_modules(ROOT / "shared" / "src")
    assert not set(SERVICES) & imports.keys()


def test_the_check_itself_sees_imports(tmp_path: Path) -> None:
    (tmp_path / "m.py").write_text("import intake.main\nfrom reporting import x\n")
    global ROOT
    saved, ROOT = ROOT, tmp_path
    try:
        assert {"intake", "reporting"} <= imported_top_level_modules(tmp_path).keys()
    finally:
        ROOT = saved
