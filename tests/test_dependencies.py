"""Every runtime dependency in pyproject.toml is one the bot uses: a dependency nothing imports
only drags its own pins into every install (botbuilder-dialogs brought Babel 2.9.1, emoji and
aiounittest)."""

from __future__ import annotations

import ast
import re
import tomllib
from importlib import metadata
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("bot", "dialogs", "storage")
# Drivers SQLAlchemy loads for the database URL (sqlite+aiosqlite://, postgresql+asyncpg://).
LOADED_BY_URL = {"aiosqlite", "asyncpg"}


def _declared() -> list[str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    names = [re.split(r"[\s\[<>=!~;]", requirement, maxsplit=1)[0] for requirement in project["dependencies"]]
    return [metadata.distribution(name).metadata["Name"] for name in names]


def _modules_of(distribution: str) -> set[str]:
    """The import names a distribution provides: its shallowest packages (botbuilder-core gives
    botbuilder.core, PyYAML gives yaml) or its top-level modules."""
    files = [str(f) for f in metadata.files(distribution) or [] if str(f).endswith(".py")]
    packages = [f.split("/")[:-1] for f in files if f.endswith("/__init__.py") and ".dist-info" not in f]
    if packages:
        depth = min(len(parts) for parts in packages)
        return {".".join(parts) for parts in packages if len(parts) == depth}
    return {f.removesuffix(".py") for f in files if "/" not in f}


def _imported() -> set[str]:
    found: set[str] = set()
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.Import):
                    found.update(alias.name for alias in node.names)
                elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                    found.add(node.module)
                    found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return found


def _uses(imported: set[str], module: str) -> bool:
    return any(name == module or name.startswith(module + ".") for name in imported)


def test_every_runtime_dependency_is_imported_by_the_bot() -> None:
    imported = _imported()
    unused = []
    for distribution in _declared():
        if distribution.lower() in LOADED_BY_URL:
            continue
        modules = _modules_of(distribution)
        assert modules, f"{distribution} provides no modules?"
        if not any(_uses(imported, module) for module in modules):
            unused.append(f"{distribution} ({', '.join(sorted(modules))})")
    assert unused == [], f"declared in pyproject.toml but imported nowhere in {PACKAGES}: {unused}"
