"""The .pyi stubs of the compiled speedups agree with the pure-Python twins (issue 21).

Type checkers read ``kafkaio/_speedups/_<name>.pyi`` for the compiled modules; the twins are the
reference for what those modules offer. Every public function and class of a twin, every public method,
property and slot of its classes, must appear in the stub with the same parameters (names, kinds, and
which have defaults; the stub writes defaults as ``...``). When the compiled module is built, every
name the stub declares must exist in it. The stubs are read from the installed package, so the test
also checks a wheel ships them.
"""
from __future__ import annotations

import ast
import importlib
import inspect
import os
import types

import pytest

import kafkaio._speedups as speedups

SPEEDUPS_DIR = os.path.dirname(speedups.__file__)

# What the twins have that the compiled modules deliberately lack, with the reason.
EXEMPT = {
    ("records", "Batch", "__init__"): "the compiled Batch is made by read_batches() only, not by users",
}
# dunders whose signature is part of the API (others, like __repr__, take only self)
API_DUNDERS = {"__init__", "__await__", "__iter__", "__next__", "__call__"}

Param = tuple[str, str, bool]  # name, kind, has a default


def _twin(name: str) -> types.ModuleType:
    return importlib.import_module(f"kafkaio._speedups.{name}_py")


def _stub(name: str) -> ast.Module:
    path = os.path.join(SPEEDUPS_DIR, f"_{name}.pyi")
    with open(path, encoding="utf-8") as f:
        return ast.parse(f.read(), path)


def _public_names(mod: types.ModuleType) -> list[str]:
    if hasattr(mod, "__all__"):
        return list(mod.__all__)
    return sorted(
        n for n, v in vars(mod).items()
        if not n.startswith("_") and (inspect.isfunction(v) or inspect.isclass(v))
        and v.__module__ == mod.__name__
    )


def _twin_params(fn: object) -> list[Param]:
    return [(p.name, p.kind.name, p.default is not inspect.Parameter.empty)
            for p in inspect.signature(fn).parameters.values()]


def _stub_params(fn: ast.FunctionDef) -> list[Param]:
    a = fn.args
    out: list[Param] = []
    positional = [*a.posonlyargs, *a.args]
    first_default = len(positional) - len(a.defaults)
    for i, arg in enumerate(positional):
        kind = "POSITIONAL_ONLY" if i < len(a.posonlyargs) else "POSITIONAL_OR_KEYWORD"
        out.append((arg.arg, kind, i >= first_default))
    if a.vararg:
        out.append((a.vararg.arg, "VAR_POSITIONAL", False))
    for arg, default in zip(a.kwonlyargs, a.kw_defaults):
        out.append((arg.arg, "KEYWORD_ONLY", default is not None))
    if a.kwarg:
        out.append((a.kwarg.arg, "VAR_KEYWORD", False))
    return out


def _decorators(fn: ast.FunctionDef) -> set[str]:
    return {ast.unparse(d) for d in fn.decorator_list}


class _StubClass:
    def __init__(self, node: ast.ClassDef) -> None:
        self.methods: dict[str, ast.FunctionDef] = {}
        self.properties: set[str] = set()
        self.setters: set[str] = set()
        self.attributes: set[str] = set()
        for item in node.body:
            if isinstance(item, ast.FunctionDef):
                decorators = _decorators(item)
                if "property" in decorators:
                    self.properties.add(item.name)
                elif f"{item.name}.setter" in decorators:
                    self.setters.add(item.name)
                else:
                    self.methods[item.name] = item
            elif isinstance(item, ast.AnnAssign) and isinstance(item.target, ast.Name):
                self.attributes.add(item.target.id)


def _stub_tables(tree: ast.Module) -> tuple[dict[str, ast.FunctionDef], dict[str, _StubClass], set[str]]:
    functions = {n.name: n for n in tree.body if isinstance(n, ast.FunctionDef)}
    classes = {n.name: _StubClass(n) for n in tree.body if isinstance(n, ast.ClassDef)}
    names = set(functions) | set(classes)
    for n in tree.body:
        if isinstance(n, ast.AnnAssign) and isinstance(n.target, ast.Name):
            names.add(n.target.id)
    return functions, classes, names


def test_every_compiled_module_has_a_stub_and_a_twin() -> None:
    for name in speedups.COMPILED:
        assert os.path.exists(os.path.join(SPEEDUPS_DIR, f"_{name}.pyi")), f"no stub for _{name}"
        _twin(name)
    pyx = sorted(f[1:-4] for f in os.listdir(SPEEDUPS_DIR) if f.startswith("_") and f.endswith(".pyx"))
    if pyx:  # a source checkout (wheels carry no .pyx)
        assert pyx == sorted(speedups.COMPILED), "COMPILED in kafkaio/_speedups/__init__.py is out of date"


@pytest.mark.parametrize("name", speedups.COMPILED)
def test_stub_matches_twin(name: str) -> None:
    twin = _twin(name)
    functions, classes, _ = _stub_tables(_stub(name))
    problems: list[str] = []
    for public in _public_names(twin):
        obj = getattr(twin, public)
        if inspect.isclass(obj):
            if public not in classes:
                problems.append(f"class {public} missing")
                continue
            problems += _compare_class(name, obj, classes[public])
        elif callable(obj):
            if public not in functions:
                problems.append(f"function {public} missing")
            elif _twin_params(obj) != _stub_params(functions[public]):
                problems.append(f"{public}: twin {_twin_params(obj)} != stub {_stub_params(functions[public])}")
    assert not problems, f"_{name}.pyi disagrees with {name}_py:\n" + "\n".join(problems)


def _compare_class(module: str, cls: type, stub: _StubClass) -> list[str]:
    problems = []
    for attr, value in vars(cls).items():
        where = f"{cls.__name__}.{attr}"
        if (module, cls.__name__, attr) in EXEMPT:
            continue
        if isinstance(value, property):
            if attr.startswith("_"):
                continue
            if attr not in stub.properties and attr not in stub.attributes:
                problems.append(f"property {where} missing")
            elif value.fset is not None and attr not in stub.setters and attr not in stub.attributes:
                problems.append(f"{where} is settable in the twin, read-only in the stub")
        elif inspect.isfunction(value):
            if attr.startswith("_") and attr not in API_DUNDERS:
                continue
            if attr not in stub.methods:
                problems.append(f"method {where} missing")
            elif _twin_params(value) != _stub_params(stub.methods[attr]):
                problems.append(f"{where}: twin {_twin_params(value)} != stub {_stub_params(stub.methods[attr])}")
    for slot in getattr(cls, "__slots__", ()):
        if not slot.startswith("_") and slot not in stub.attributes and slot not in stub.properties:
            problems.append(f"attribute {cls.__name__}.{slot} missing")
    return problems


@pytest.mark.parametrize("name", speedups.COMPILED)
def test_stub_names_exist_in_compiled_module(name: str) -> None:
    try:
        compiled = importlib.import_module(f"kafkaio._speedups._{name}")
    except ImportError:
        pytest.skip(f"_{name} is not built")
    functions, classes, names = _stub_tables(_stub(name))
    missing = [n for n in sorted(names) if not hasattr(compiled, n)]
    for cls_name, stub in classes.items():
        cls = getattr(compiled, cls_name, None)
        if cls is not None:
            declared = set(stub.methods) | stub.properties | stub.attributes
            # cdef public/readonly attributes are descriptors on the type: hasattr sees them
            missing += [f"{cls_name}.{m}" for m in sorted(declared) if not hasattr(cls, m)]
    assert not missing, f"_{name}.pyi declares what the compiled module lacks: {missing}"


def test_producer_stub_types_send_result() -> None:
    """``Producer.send()`` returns a RecordFuture: its stub says what awaiting it gives."""
    _, classes, _ = _stub_tables(_stub("producer"))
    result = classes["RecordFuture"].methods["result"]
    assert result.returns is not None and ast.unparse(result.returns) == "RecordMetadata"
