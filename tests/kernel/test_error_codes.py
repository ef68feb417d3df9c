"""One registry of error codes (kernel/error_codes.py): every code the source can
answer with is registered, with one meaning and one status, and docs/errors.md lists them.

The source is read (ast), not run: a code reaches a client through ``ApplicationError(code,
...)`` (directly, or through a helper that takes the code, in the same module or imported), a
subclass's ``super().__init__(code, ...)``, a JSON error body ``{"code": ..., "message": ...}``
(the exception handler, middleware, webhooks) or a branded-app ``Problem(code, ...)``. A code
given as a constant, a module constant, a conditional, a loop over a literal table or a local
list, or an f-string over a helper's parameter is followed to its strings; anything else fails
``test_every_error_site_is_readable`` so a new pattern cannot hide a code."""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

import pytest

from kernel import error_codes

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = (
    "saas_platform",
    "kernel",
    "demo",
    "tenants",
    "portal",
    "portal_api",
    "portal_web",
    "portal_console",
    "platform_console",
    "theming",
    "branded_apps",
)
ERROR_TYPES = {"ApplicationError"}


class Unresolved(Exception):
    pass


@dataclass
class Module:
    path: Path
    tree: ast.Module
    parents: dict


def _modules() -> list[Module]:
    out = []
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            if "migrations" in path.parts:
                continue
            tree = ast.parse(path.read_text(), filename=str(path))
            parents = {
                child: node for node in ast.walk(tree) for child in ast.iter_child_nodes(node)
            }
            out.append(Module(path.relative_to(ROOT), tree, parents))
    return out


def _name(func: ast.expr) -> str | None:
    return func.id if isinstance(func, ast.Name) else getattr(func, "attr", None)


def _path(target: ast.expr, name: str) -> list[int]:
    """Where ``name`` sits in a (nested) unpacking target: ``(a, (b, c))``, c -> [1, 1]."""
    if isinstance(target, ast.Name):
        return []
    for index, elt in enumerate(getattr(target, "elts", [])):
        if isinstance(elt, ast.Name) and elt.id == name:
            return [index]
        if isinstance(elt, ast.Tuple) and name in {
            n.id for n in ast.walk(elt) if isinstance(n, ast.Name)
        }:
            return [index, *_path(elt, name)]
    raise Unresolved(name)


class Scanner:
    def __init__(self) -> None:
        self.modules = _modules()
        self.constants: dict[str, set[str]] = {}
        self.dicts: dict[str, ast.Dict] = {}
        self.functions: dict[str, list[tuple[Module, ast.FunctionDef]]] = {}
        self.calls: dict[str, list[tuple[Module, ast.Call]]] = {}
        self.coded_classes: set[str] = set()
        for module in self.modules:
            for node in module.tree.body:
                if isinstance(node, ast.Assign) and len(node.targets) == 1:
                    target = node.targets[0]
                    if isinstance(target, ast.Name):
                        if isinstance(node.value, ast.Constant) and isinstance(
                            node.value.value, str
                        ):
                            self.constants.setdefault(target.id, set()).add(node.value.value)
                        elif isinstance(node.value, ast.Dict):
                            self.dicts[target.id] = node.value
                        elif (
                            isinstance(node.value, ast.Tuple)
                            and node.value.elts
                            and isinstance(node.value.elts[0], ast.Constant)
                            and isinstance(node.value.elts[0].value, str)
                        ):  # (code, message) pairs, raised as ApplicationError(*PAIR)
                            self.constants.setdefault(target.id, set()).add(
                                node.value.elts[0].value
                            )
                if isinstance(node, ast.ClassDef):
                    bases = {_name(base) for base in node.bases}
                    if bases & ERROR_TYPES:
                        ERROR_TYPES.add(node.name)
                    fields = {
                        item.target.id
                        for item in node.body
                        if isinstance(item, ast.AnnAssign) and isinstance(item.target, ast.Name)
                    }
                    if "code" in fields and "message" in fields:
                        self.coded_classes.add(node.name)
            for node in ast.walk(module.tree):
                if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                    self.functions.setdefault(node.name, []).append((module, node))
                elif isinstance(node, ast.Call) and _name(node.func):
                    self.calls.setdefault(_name(node.func), []).append((module, node))

    def imported_names(self, module: Module) -> set[str]:
        return {
            alias.asname or alias.name
            for node in ast.walk(module.tree)
            if isinstance(node, ast.ImportFrom)
            for alias in node.names
        }

    # --- where codes are produced --------------------------------------------------------------

    def sites(self):
        """(module, node, code expression, enclosing function) of every place a code is made."""
        for module in self.modules:
            for node in ast.walk(module.tree):
                if isinstance(node, ast.Call):
                    name = _name(node.func)
                    is_super_init = (
                        name == "__init__"
                        and isinstance(node.func, ast.Attribute)
                        and isinstance(node.func.value, ast.Call)
                        and _name(node.func.value.func) == "super"
                        and self._class_of(module, node) in ERROR_TYPES - {"ApplicationError"}
                    )
                    # A subclass has a signature of its own: its super().__init__ is the site.
                    if name == "ApplicationError" or name in self.coded_classes or is_super_init:
                        expr = self._arg(node, 0, "code")
                        if expr is not None:
                            yield module, node, expr
                elif isinstance(node, ast.Dict):
                    keys = [k.value for k in node.keys if isinstance(k, ast.Constant)]
                    if {"code", "message"} <= set(keys) and not isinstance(
                        node.values[keys.index("code")], ast.Dict
                    ):  # an error body; not a schema describing one
                        yield module, node, node.values[keys.index("code")]

    @staticmethod
    def _arg(call: ast.Call, index: int, keyword: str) -> ast.expr | None:
        for kw in call.keywords:
            if kw.arg == keyword:
                return kw.value
        if len(call.args) > index and not isinstance(call.args[index], ast.Starred):
            return call.args[index]
        if call.args and isinstance(call.args[0], ast.Starred):
            return call.args[0].value  # ApplicationError(*PAIR): the pair's first item
        return None

    def _class_of(self, module: Module, node: ast.AST) -> str | None:
        while node in module.parents:
            node = module.parents[node]
            if isinstance(node, ast.ClassDef):
                return node.name
        return None

    def _function_of(self, module: Module, node: ast.AST):
        while node in module.parents:
            node = module.parents[node]
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
                return node
        return None

    # --- what a code expression can be ---------------------------------------------------------

    def resolve(self, module: Module, expr: ast.expr, bindings=None, depth: int = 0) -> set[str]:
        if depth > 8:
            raise Unresolved(ast.unparse(expr))
        bindings = bindings or {}
        again = lambda e, b=bindings: self.resolve(module, e, b, depth + 1)  # noqa: E731
        if isinstance(expr, ast.Constant):
            if isinstance(expr.value, str):
                return {expr.value}
            if expr.value is None:
                return set()
        if isinstance(expr, ast.IfExp):
            return again(expr.body) | again(expr.orelse)
        if isinstance(expr, ast.BoolOp):
            return set().union(*(again(value) for value in expr.values))
        if isinstance(expr, ast.Tuple) and expr.elts:
            return again(expr.elts[0])
        if isinstance(expr, ast.Attribute) and expr.attr == "code":
            return set()  # an error or problem made elsewhere: that site is checked itself
        if isinstance(expr, ast.JoinedStr):
            out = {""}
            for part in expr.values:
                pieces = {part.value} if isinstance(part, ast.Constant) else again(part.value)
                out = {a + b for a in out for b in pieces}
            return out
        if isinstance(expr, ast.Name):
            if expr.id in bindings:
                return bindings[expr.id]
            return self._resolve_name(module, expr, bindings, depth)
        raise Unresolved(ast.unparse(expr))

    def _resolve_name(self, module, expr: ast.Name, bindings, depth) -> set[str]:
        function = self._function_of(module, expr)
        while function is not None:
            local = self._local(module, function, expr.id, bindings, depth)
            if local is not None:
                return local
            params = [a.arg for a in (*function.args.posonlyargs, *function.args.args)]
            kwonly = [a.arg for a in function.args.kwonlyargs]
            if expr.id in params or expr.id in kwonly:
                return self._from_callers(module, function, expr.id, depth)
            function = self._function_of(module, function)
        if expr.id in self.constants:
            return self.constants[expr.id]
        if expr.id in self.dicts:
            return set()
        raise Unresolved(expr.id)

    def _local(self, module, function, name, bindings, depth) -> set[str] | None:
        found: set[str] | None = None

        def add(values):
            nonlocal found
            found = (found or set()) | values

        for node in ast.walk(function):
            if isinstance(node, ast.Assign):
                for target in node.targets:
                    if isinstance(target, ast.Name) and target.id == name:
                        add(self._value(module, node.value, bindings, depth))
                    elif isinstance(target, ast.Tuple):
                        for i, elt in enumerate(target.elts):
                            if isinstance(elt, ast.Name) and elt.id == name:
                                if isinstance(node.value, ast.Tuple):
                                    add(
                                        self.resolve(
                                            module, node.value.elts[i], bindings, depth + 1
                                        )
                                    )
                                elif isinstance(node.value, ast.Subscript):
                                    add(set())  # unpacking a message table: not the code
                                else:
                                    raise Unresolved(ast.unparse(node))
            elif isinstance(node, ast.For | ast.comprehension) and name in {
                n.id for n in ast.walk(node.target) if isinstance(n, ast.Name)
            }:
                add(self._loop(module, function, node, name, bindings, depth))
        return found

    def _value(self, module, value, bindings, depth) -> set[str]:
        if isinstance(value, ast.Call) and isinstance(value.func, ast.Name):
            definitions = [f for m, f in self.functions.get(value.func.id, []) if m is module]
            if definitions:
                out: set[str] = set()
                for node in ast.walk(definitions[0]):
                    if isinstance(node, ast.Return) and node.value is not None:
                        out |= self.resolve(module, node.value, bindings, depth + 1)
                return out
        return self.resolve(module, value, bindings, depth + 1)

    def _loop(self, module, function, loop, name, bindings, depth) -> set[str]:
        """``for <target> in <iter>`` (or a comprehension's): the codes ``name`` takes."""
        path = _path(loop.target, name)
        items: list[ast.expr] = []
        source = loop.iter
        if isinstance(source, ast.Call) and _name(source.func) == "items":
            table = source.func.value
            if not (isinstance(table, ast.Name) and table.id in self.dicts):
                raise Unresolved(ast.unparse(loop.iter))
            table = self.dicts[table.id]
            items = [ast.Tuple(elts=[k, v]) for k, v in zip(table.keys, table.values, strict=True)]
        elif isinstance(source, ast.List | ast.Tuple):
            items = list(source.elts)
        elif isinstance(source, ast.Name):
            for node in ast.walk(function):
                if (isinstance(node, ast.Call) and _name(node.func) == "append"
                        and isinstance(node.func.value, ast.Name)
                        and node.func.value.id == source.id):  # fmt: skip
                    items.append(node.args[0])
                if (
                    isinstance(node, ast.Assign)
                    and any(isinstance(t, ast.Name) and t.id == source.id for t in node.targets)
                    and isinstance(node.value, ast.List | ast.Tuple)
                ):
                    items.extend(node.value.elts)
        else:
            raise Unresolved(ast.unparse(loop.iter))
        out: set[str] = set()
        for item in items:
            for index in path:
                if not isinstance(item, ast.Tuple):
                    raise Unresolved(ast.unparse(item))
                item = item.elts[index]
            out |= self.resolve(module, item, bindings, depth + 1)
        return out

    def _from_callers(self, module, function, param: str, depth) -> set[str]:
        """A helper that takes the code as a parameter: the codes its callers pass."""
        args = function.args
        positional = [a.arg for a in (*args.posonlyargs, *args.args)]
        if positional and positional[0] in ("self", "cls"):
            positional = positional[1:]
        index = positional.index(param) if param in positional else None
        callers = [
            (other, call)
            for other, call in self.calls.get(function.name, [])
            if other is module or function.name in self.imported_names(other)
        ]
        if not callers:
            raise Unresolved(f"{function.name}({param}) is never called")
        out: set[str] = set()
        for caller_module, call in callers:
            expr = self._arg(call, index if index is not None else 10**6, param)
            if expr is None:
                defaults = dict(zip(reversed(positional), reversed(args.defaults), strict=False))
                if param in defaults:
                    expr = defaults[param]
                    out |= self.resolve(module, expr, None, depth + 1)
                    continue
                raise Unresolved(f"{caller_module.path}:{call.lineno} {ast.unparse(call)}")
            out |= self.resolve(caller_module, expr, None, depth + 1)
        return out


def _scan() -> tuple[dict[str, list[str]], list[str], list[tuple[str, str, int]]]:
    """{code: [where]}, the unreadable sites, and (where, code, status) of sites whose status
    is a literal."""
    scanner = Scanner()
    found: dict[str, list[str]] = {}
    unresolved: list[str] = []
    statuses: list[tuple[str, str, int]] = []
    for module, node, expr in scanner.sites():
        where = f"{module.path}:{node.lineno}"
        try:
            codes = scanner.resolve(module, expr)
        except Unresolved as exc:
            unresolved.append(f"{where}: {exc}")
            continue
        for code in codes:
            found.setdefault(code, []).append(where)
        if isinstance(node, ast.Call) and _name(node.func) == "ApplicationError":
            status = next((kw.value for kw in node.keywords if kw.arg == "status"), None)
            if status is None and len(node.args) < 3:
                status = ast.Constant(400)
            if isinstance(status, ast.Constant):
                statuses.extend((where, code, status.value) for code in codes)
    return found, unresolved, statuses


@dataclass
class Scan:
    found: dict[str, list[str]]
    unresolved: list[str]
    statuses: list[tuple[str, str, int]]


@pytest.fixture(scope="module")
def scan() -> Scan:
    # A fixture, not a module constant: the walk over the whole source costs ~3 s, and run at
    # import it was paid by every pytest-xdist process at collection, and by runs that
    # deselect these tests.
    return Scan(*_scan())


def test_every_error_site_is_readable(scan):
    assert scan.unresolved == []


def test_the_scan_finds_the_codes_of_each_kind_of_site(scan):
    # Direct, through helpers, from the exception handler's table, JSON bodies, subclasses,
    # f-strings over a helper's parameter and branded-app problems: the scan is not blind.
    kinds = ("cart_empty", "absence_too_late", "not_authenticated", "invalid_input", "unknown_host",
             "tenant_not_found", "hold_not_found", "app_id_missing", "slug_reserved",
             "domain_verification_mismatch", "invalid_credentials")  # fmt: skip
    for code in kinds:
        assert code in scan.found, code
    assert len(scan.found) > 200


def test_every_code_in_the_source_is_registered(scan):
    missing = sorted(code for code in scan.found if code not in error_codes.REGISTRY)
    listing = "\n".join(f"  {code}: raised at {', '.join(scan.found[code])}" for code in missing)
    assert not missing, (
        "Register these codes (status, meaning) in kernel/error_codes.py, then run "
        f"python -m kernel.error_codes > docs/errors.md:\n{listing}"
    )


def test_every_registered_code_is_used(scan):
    assert sorted(set(error_codes.REGISTRY) - set(scan.found)) == []


def test_a_code_answers_with_its_registered_status(scan):
    wrong = [
        (where, code, status)
        for where, code, status in scan.statuses
        if code in error_codes.REGISTRY and error_codes.REGISTRY[code].status != status
    ]
    assert wrong == []


def test_each_code_is_registered_once_with_a_meaning():
    codes = [entry.code for group in error_codes.ALL for entry in group]
    assert len(codes) == len(set(codes)) == len(error_codes.REGISTRY)
    for entry in error_codes.REGISTRY.values():
        assert entry.meaning.endswith(".") and 400 <= entry.status < 600, entry
        assert entry.code.isascii() and entry.code.replace("_", "").isalnum(), entry


def test_not_found_is_only_the_routers(scan):
    """A missing object named by the caller has its own code; not_found is what the router,
    Http404 and DRF's NotFound answer, never an ApplicationError."""
    files = {where.rpartition(":")[0] for where in scan.found["not_found"]}
    assert files == {"saas_platform/views.py", "kernel/api/exception_handler.py"}


def test_docs_list_every_code():
    assert (ROOT / "docs/errors.md").read_text() == error_codes.markdown(), (
        "regenerate: python -m kernel.error_codes > docs/errors.md"
    )
