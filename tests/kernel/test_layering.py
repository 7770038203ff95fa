"""The import structure: the kernel's core sits below its web layer and its CLI, no two
modules of the kernel import each other (directly or round a loop, imports inside
functions included), and no plugin imports another plugin.

Imports are read from the source (``ast``), so an import hidden inside a function
counts like one at the top; imports under ``if TYPE_CHECKING:`` do not (they never run).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
#: the layers above the core: the core never imports them
UPPER = ("kernel.web", "kernel.cli", "kernel.__main__")
#: plugin packages outside plugins/ that the suite installs (tests and docs)
OUTSIDE_PLUGINS = [ROOT / "docs" / "example" / "fixdesk-hello" / "fixdesk_hello",
                   *sorted(p for p in (ROOT / "tests" / "distributions").glob("*/*")
                           if (p / "manifest.toml").is_file()),
                   *sorted(p for p in (ROOT / "tests" / "testplugins").glob("*")
                           if (p / "manifest.toml").is_file())]


def module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def imported(path: Path, name: str, known: set[str] | None = None) -> set[str]:
    """The modules ``path`` (module ``name``) imports; ``from a import b`` names ``a.b``
    when that is a module of ``known``, else ``a``."""
    is_package = path.name == "__init__.py"
    found: set[str] = set()

    class Visitor(ast.NodeVisitor):
        def visit_If(self, node):
            if isinstance(node.test, ast.Name) and node.test.id == "TYPE_CHECKING":
                for child in node.orelse:
                    self.visit(child)
                return
            self.generic_visit(node)

        def visit_Import(self, node):
            found.update(alias.name for alias in node.names)

        def visit_ImportFrom(self, node):
            if node.level:
                base = name.split(".") if is_package else name.split(".")[:-1]
                base = base[:len(base) - node.level + 1]
                module = ".".join([*base, *([node.module] if node.module else [])])
            else:
                module = node.module
            subs = {f"{module}.{a.name}" for a in node.names}
            inside = subs & (known or set())
            found.update(inside)
            if len(inside) < len(subs):
                found.add(module)

    Visitor().visit(ast.parse(path.read_text(encoding="utf-8")))
    return found


def kernel_graph() -> dict[str, set[str]]:
    files = {module_name(p, ROOT): p for p in (ROOT / "kernel").rglob("*.py")
             if "migrations" not in p.parts}
    known = set(files)
    graph = {}
    for name, path in files.items():
        targets = set()
        for target in imported(path, name, known):
            while target and target not in known:
                target = target.rpartition(".")[0]
            if target and target != name:
                targets.add(target)
        graph[name] = targets
    return graph


def is_upper(module: str) -> bool:
    return any(module == top or module.startswith(top + ".") for top in UPPER)


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Groups of modules that import each other round a loop (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in graph.get(node, ()):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_the_core_imports_neither_the_web_layer_nor_the_cli():
    graph = kernel_graph()
    upward = {name: sorted(t for t in targets if is_upper(t))
              for name, targets in graph.items() if not is_upper(name)}
    assert {name: targets for name, targets in upward.items() if targets} == {}


def test_no_kernel_modules_import_each_other_round_a_loop():
    assert cycles(kernel_graph()) == []


def test_the_cycle_finder_finds_a_loop():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def _plugin_packages() -> list[tuple[str, Path]]:
    inside = [(f"plugins.{p.name}", p) for p in sorted((ROOT / "plugins").iterdir())
              if (p / "manifest.toml").is_file()]
    return inside + [(p.name, p) for p in OUTSIDE_PLUGINS]


@pytest.mark.parametrize("package,folder", _plugin_packages(), ids=lambda v: str(v).split("/")[-1])
def test_a_plugin_imports_the_kernel_and_itself_only(package, folder):
    ours = {p for p, _f in _plugin_packages()} | {"plugins"}
    wrong = {}
    for path in folder.rglob("*.py"):
        if "tests" in path.relative_to(folder).parts:
            continue
        name = f"{package}.{module_name(path, folder)}".rstrip(".")
        for target in imported(path, name):
            top = next((p for p in sorted(ours, key=len, reverse=True)
                        if target == p or target.startswith(p + ".")), None)
            if top is not None and top != package:
                wrong.setdefault(str(path.relative_to(ROOT)), []).append(target)
    assert wrong == {}
