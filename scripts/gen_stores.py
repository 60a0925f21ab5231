"""Generate the store ports and their SQL adapter from the models and repositories.

The use cases reach the database only through `callcenter.ports.records` (what a stored row
looks like) and `callcenter.ports.stores` (what can be asked of the database). Both mirror
`callcenter/db/models/` and the public async functions of `callcenter/db/repositories/`
exactly, so they are generated rather than kept in step by hand; `callcenter/db/stores.py`
binds each repository function to a session. A test (tests/unit/test_generated_stores.py)
fails when the generated files are stale: run `make stores` after changing a model or a
repository function's signature.

Hand-written because no maintained tool derives typing Protocols from SQLAlchemy models and
function modules.
"""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MODELS = ROOT / "callcenter" / "db" / "models"
REPOS = ROOT / "callcenter" / "db" / "repositories"
RECORDS_OUT = ROOT / "callcenter" / "ports" / "records.py"
STORES_OUT = ROOT / "callcenter" / "ports" / "stores.py"
ADAPTER_OUT = ROOT / "callcenter" / "db" / "stores.py"

HEADER = "# Generated from {src} by scripts/gen_stores.py: run `make stores`.\n"


def _models() -> dict[str, list[tuple[str, str, bool]]]:
    """Model name -> [(attribute, annotation inside Mapped[...], is_relationship)]."""
    found: dict[str, list[tuple[str, str, bool]]] = {}
    for path in sorted(MODELS.glob("*.py")):
        tree = ast.parse(path.read_text())
        for node in tree.body:
            if not isinstance(node, ast.ClassDef):
                continue
            attrs: list[tuple[str, str, bool]] = []
            for item in node.body:
                if not (isinstance(item, ast.AnnAssign) and isinstance(item.target, ast.Name)):
                    continue
                ann = item.annotation
                if not (
                    isinstance(ann, ast.Subscript)
                    and isinstance(ann.value, ast.Name)
                    and ann.value.id == "Mapped"
                ):
                    continue
                is_rel = (
                    isinstance(item.value, ast.Call)
                    and isinstance(item.value.func, ast.Name)
                    and item.value.func.id == "relationship"
                )
                attrs.append((item.target.id, ast.unparse(ann.slice), is_rel))
            if attrs:
                found[node.name] = attrs
    return found


def _imports_of(paths: list[Path]) -> dict[str, str]:
    """Name -> the import line bringing it, for every non-database import in `paths`."""
    names: dict[str, str] = {}
    for path in paths:
        tree = ast.parse(path.read_text())
        for node in tree.body:
            if isinstance(node, ast.ImportFrom) and node.module:
                if node.module.startswith(("sqlalchemy", "callcenter.db", "__future__")):
                    continue
                for alias in node.names:
                    names[alias.asname or alias.name] = f"from {node.module} import {alias.name}"
            elif isinstance(node, ast.Import):
                for alias in node.names:
                    if not alias.name.startswith("sqlalchemy"):
                        names[alias.asname or alias.name] = f"import {alias.name}"
    return names


def _used_names(text: str) -> set[str]:
    return {n.id for n in ast.walk(ast.parse(text)) if isinstance(n, ast.Name)}


def _import_block(used: set[str], available: dict[str, str], local: set[str]) -> list[str]:
    lines = sorted({available[n] for n in used if n in available and n not in local})
    plain = [line for line in lines if line.startswith("import ")]
    froms = [line for line in lines if line.startswith("from ")]
    stdlib = [line for line in froms if not line.startswith("from callcenter")]
    ours = [line for line in froms if line.startswith("from callcenter")]
    out = plain + stdlib
    if ours:
        out += [""] + ours
    return out


def render_records(models: dict[str, list[tuple[str, str, bool]]]) -> str:
    body: list[str] = []
    for name, attrs in models.items():
        body += ["", "", f"class {name}(Protocol):"]
        for attr, ann, is_rel in attrs:
            if is_rel:
                # relationships are read-only here (covariant): a use case changes the rows
                # through a store, not by re-pointing a relationship
                ann_ro = ann.replace("list[", "Sequence[", 1) if ann.startswith("list[") else ann
                body += ["    @property", f"    def {attr}(self) -> {ann_ro}: ..."]
            else:
                body.append(f"    {attr}: {ann}")
    text = "\n".join(body)
    available = _imports_of(sorted(MODELS.glob("*.py")))
    available["Sequence"] = "from collections.abc import Sequence"
    available["Protocol"] = "from typing import Protocol"
    used = _used_names(text) | {"Protocol"}
    imports = _import_block(used, available, set(models))
    return (
        HEADER.format(src="callcenter/db/models")
        + '"""What a stored row looks like to a use case: one Protocol per table, same names as\n'
        + "the models (the ORM rows satisfy them structurally).\"\"\"\n\n"
        + "from __future__ import annotations\n\n"
        + "\n".join(imports)
        + "\n"
        + text
        + "\n"
    )


class _Func:
    def __init__(self, node: ast.AsyncFunctionDef) -> None:
        self.name = node.name
        self.node = node
        args = node.args
        self.positional = [*args.posonlyargs, *args.args]
        self.n_posonly = len(args.posonlyargs)
        self.params = self.positional[1:]  # drop the session
        self.defaults = args.defaults
        self.kwonly = args.kwonlyargs
        self.kw_defaults = args.kw_defaults
        self.returns = ast.unparse(node.returns) if node.returns else "None"
        self.doc = ast.get_docstring(node)

    def signature(self) -> str:
        parts: list[str] = ["self"]
        positional = self.positional
        n_default_start = len(positional) - len(self.defaults)
        for i, arg in enumerate(positional):
            if i == 0:
                continue
            text = f"{arg.arg}: {ast.unparse(arg.annotation)}" if arg.annotation else arg.arg
            if i >= n_default_start:
                text += f" = {ast.unparse(self.defaults[i - n_default_start])}"
            parts.append(text)
            if i == self.n_posonly - 1:
                parts.append("/")
        if self.node.args.vararg:
            va = self.node.args.vararg
            parts.append(f"*{va.arg}: {ast.unparse(va.annotation)}" if va.annotation else f"*{va.arg}")
        elif self.kwonly:
            parts.append("*")
        for arg, default in zip(self.kwonly, self.kw_defaults, strict=True):
            text = f"{arg.arg}: {ast.unparse(arg.annotation)}" if arg.annotation else arg.arg
            if default is not None:
                text += f" = {ast.unparse(default)}"
            parts.append(text)
        kw = self.node.args.kwarg
        if kw is not None:
            parts.append(f"**{kw.arg}: {ast.unparse(kw.annotation)}" if kw.annotation else f"**{kw.arg}")
        return ", ".join(parts)

    def call_args(self, models: set[str]) -> str:
        out = ["self._session"]
        for arg in self.params:
            out.append(self._cast(arg, models))
        if self.node.args.vararg:
            out.append(f"*{self.node.args.vararg.arg}")
        for arg in self.kwonly:
            out.append(f"{arg.arg}={self._cast(arg, models)}")
        if self.node.args.kwarg is not None:
            out.append(f"**{self.node.args.kwarg.arg}")
        return ", ".join(out)

    @staticmethod
    def _cast(arg: ast.arg, models: set[str]) -> str:
        ann = ast.unparse(arg.annotation) if arg.annotation else ""
        if ann and _used_names(ann) & models:
            # the port takes any row that looks like the model; the ORM function needs the
            # mapped instance, which is what every store hands out in the first place
            return f'cast("{_qualify(ann, models)}", {arg.arg})'
        return arg.arg


def _qualify(ann: str, models: set[str]) -> str:
    tree = ast.parse(ann, mode="eval")

    class Q(ast.NodeTransformer):
        def visit_Name(self, node: ast.Name) -> ast.AST:
            if node.id in models:
                return ast.Attribute(value=ast.Name(id="m", ctx=ast.Load()), attr=node.id, ctx=node.ctx)
            return node

    return ast.unparse(Q().visit(tree))


def _read_only(ann: str, models: set[str]) -> str:
    """Rows come back in read-only containers: `list[Row]` is invariant, so the ORM's
    `list[models.Call]` would not be a `list[records.Call]`."""
    if not _used_names(ann) & models:
        return ann
    return re.sub(r"\blist\[", "Sequence[", re.sub(r"\bdict\[", "Mapping[", ann))


def _repositories() -> dict[str, list[_Func]]:
    found: dict[str, list[_Func]] = {}
    for path in sorted(REPOS.glob("*.py")):
        if path.name.startswith("_"):
            continue
        tree = ast.parse(path.read_text())
        funcs = []
        for node in tree.body:
            if (
                isinstance(node, ast.AsyncFunctionDef)
                and not node.name.startswith("_")
                and [*node.args.posonlyargs, *node.args.args]
                and [*node.args.posonlyargs, *node.args.args][0].arg == "session"
            ):
                funcs.append(_Func(node))
        if funcs:
            found[path.stem] = funcs
    return found


def _class_name(module: str) -> str:
    return "".join(part.capitalize() for part in module.split("_")) + "Store"


def render_stores(repos: dict[str, list[_Func]], models: set[str]) -> str:
    body: list[str] = []
    for module, funcs in repos.items():
        body += ["", "", f"class {_class_name(module)}(Protocol):"]
        body.append(f'    """`callcenter.db.repositories.{module}` bound to the transaction."""')
        for fn in funcs:
            body += ["", f"    async def {fn.name}({fn.signature()}) -> {_read_only(fn.returns, models)}: ..."]
    body += [
        "",
        "",
        "class StoreError(Exception):",
        '    """The database could not do what was asked."""',
        "",
        "",
        "class StoreConflict(StoreError):",
        '    """The change clashes with a unique key or a reference (a lost race, a duplicate)."""',
        "",
        "",
        "class StoreUnavailable(StoreError):",
        '    """The database failed or cannot be reached; the caller may go on without it."""',
    ]
    body += ["", "", "class Stores(Protocol):"]
    body.append('    """One transaction: every store, plus the unit-of-work controls."""')
    for module in repos:
        body += ["", "    @property", f"    def {module}(self) -> {_class_name(module)}: ..."]
    body += [
        "",
        "    async def flush(self) -> None: ...",
        "",
        "    async def commit(self) -> None: ...",
        "",
        "    async def rollback(self) -> None: ...",
        "",
        "    def savepoint(self) -> AbstractAsyncContextManager[object]: ...",
        "",
        "    async def refresh(self, row: object, /) -> None: ...",
        "",
        "    def expunge(self, row: object, /) -> None: ...",
        "",
        "    def add(self, row: object, /) -> None: ...",
        "",
        "",
        "class Transactions(Protocol):",
        '    """Opens a transaction; leaving it without `commit()` rolls back."""',
        "",
        "    def __call__(self) -> AbstractAsyncContextManager[Stores]: ...",
        "",
        "    def begin(self) -> AbstractAsyncContextManager[Stores]:",
        '        """A transaction committed on a clean exit."""',
        "        ...",
    ]
    text = "\n".join(body)
    repo_paths = sorted(p for p in REPOS.glob("*.py") if not p.name.startswith("_"))
    available = _imports_of(repo_paths + sorted(MODELS.glob("*.py")))
    for name in models:
        available[name] = f"from callcenter.ports.records import {name}"
    available["Protocol"] = "from typing import Protocol"
    available["Sequence"] = "from collections.abc import Sequence"
    available["Mapping"] = "from collections.abc import Mapping"
    available["AbstractAsyncContextManager"] = (
        "from contextlib import AbstractAsyncContextManager"
    )
    used = _used_names(text) | {"Protocol", "AbstractAsyncContextManager"}
    imports = _import_block(used, available, set())
    return (
        HEADER.format(src="callcenter/db/repositories")
        + '"""What a use case may ask of the database, one Protocol per repository module."""\n\n'
        + "from __future__ import annotations\n\n"
        + "\n".join(imports)
        + "\n"
        + text
        + "\n"
    )


TRANSLATION = '''
_P = ParamSpec("_P")
_R = TypeVar("_R")


class SqlConflict(IntegrityError, StoreConflict):
    """An IntegrityError seen through the port: both names catch it."""


@contextmanager
def _translating() -> Iterator[None]:
    try:
        yield
    except StoreConflict:
        raise
    except IntegrityError as exc:
        raise SqlConflict(exc.statement, exc.params, exc.orig or exc) from exc
    except (SQLAlchemyError, OSError) as exc:  # asyncpg reports a refused connection as OSError
        raise StoreUnavailable(str(exc)) from exc


def _translated(
    method: Callable[_P, Awaitable[_R]],
) -> Callable[_P, Coroutine[Any, Any, _R]]:
    """Database errors leave a store as the port's errors (StoreConflict, StoreUnavailable)."""

    @functools.wraps(method)
    async def wrapper(*args: _P.args, **kwargs: _P.kwargs) -> _R:
        with _translating():
            return await method(*args, **kwargs)

    return wrapper
'''


def render_adapter(repos: dict[str, list[_Func]], models: set[str]) -> str:
    body: list[str] = []
    for module, funcs in repos.items():
        cls = "Sql" + _class_name(module)
        body += ["", "", f"class {cls}:"]
        body += ["    def __init__(self, session: AsyncSession) -> None:", "        self._session = session"]
        for fn in funcs:
            call = f"{module}.{fn.name}({fn.call_args(models)})"
            body += [
                "",
                "    @_translated",
                f"    async def {fn.name}({fn.signature()}) -> {_qualify(fn.returns, models)}:",
                f"        return await {call}",
            ]
    text = "\n".join(body)
    # parameters keep the port's (record) types so the classes satisfy the Protocols
    body2: list[str] = []
    for module in repos:
        cls = "Sql" + _class_name(module)
        body2 += ["", "    @cached_property", f"    def {module}(self) -> {cls}:", f"        return {cls}(self)"]
    repo_paths = sorted(p for p in REPOS.glob("*.py") if not p.name.startswith("_"))
    available = _imports_of(repo_paths + sorted(MODELS.glob("*.py")))
    for name in models:
        available[name] = f"from callcenter.ports.records import {name}"
    used = _used_names(text)
    imports = _import_block(used - {"m", "cast", "AsyncSession", "cached_property"}, available, set())
    repo_imports = ", ".join(repos)
    return (
        HEADER.format(src="callcenter/db/repositories")
        + '"""The stores of `callcenter.ports.stores` on an SQLAlchemy session."""\n\n'
        + "from __future__ import annotations\n\n"
        + "from collections.abc import AsyncIterator\n"
        + "from contextlib import asynccontextmanager\n"
        + "from functools import cached_property\n"
        + "from typing import TYPE_CHECKING, Any, ParamSpec, TypeVar, cast\n"
        + "from collections.abc import Awaitable, Callable, Coroutine, Iterator, Sequence\n"
        + "from contextlib import contextmanager\n"
        + "import functools\n"
        + "\n".join(i for i in imports if i.startswith(("import ", "from ")) and "callcenter" not in i)
        + "\n\nfrom sqlalchemy.exc import IntegrityError, SQLAlchemyError\n"
        + "from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker\n\n"
        + "from callcenter.db import models as m\n"
        + "from callcenter.ports.stores import StoreConflict, Stores, StoreUnavailable, Transactions\n"
        + f"from callcenter.db.repositories import {repo_imports}\n"
        + "\n".join(i for i in imports if "callcenter" in i)
        + "\n"
        + TRANSLATION
        + text
        + "\n\n\nclass SqlStores(AsyncSession):\n"
        + '    """A session that is also `callcenter.ports.stores.Stores`: the session factory makes\n'
        + "    these (`callcenter.db.engine.create_session_factory`), so a use case handed the factory\n"
        + '    gets its stores and the repositories keep working on the same session."""\n'
        + "\n".join(body2)
        + "\n\n"
        + "    async def flush(self, objects: Sequence[Any] | None = None) -> None:\n"
        + "        with _translating():\n"
        + "            await super().flush(objects)\n\n"
        + "    async def commit(self) -> None:\n"
        + "        with _translating():\n"
        + "            await super().commit()\n\n"
        + "    @asynccontextmanager\n"
        + "    async def savepoint(self) -> AsyncIterator[object]:\n"
        + "        with _translating():\n"
        + "            async with self.begin_nested() as nested:\n"
        + "                yield nested\n"
        + "\n\nif TYPE_CHECKING:\n"
        + "    # the adapter must satisfy the ports: mypy checks these two assignments\n"
        + "    _stores: type[Stores] = SqlStores\n"
        + "    _transactions: Transactions = async_sessionmaker[SqlStores](class_=SqlStores)\n"
    )


def _tidy(path: Path, text: str) -> str:
    """The text as ruff would leave it (imports sorted, unused ones dropped, formatted)."""
    ruff = [sys.executable, "-m", "ruff"]
    name = str(path.relative_to(ROOT))
    fixed = subprocess.run(
        [*ruff, "check", "--fix-only", "--select", "I,F401", "--stdin-filename", name, "-"],
        input=text, capture_output=True, text=True, cwd=ROOT, check=True,
    ).stdout
    return subprocess.run(
        [*ruff, "format", "--stdin-filename", name, "-"],
        input=fixed, capture_output=True, text=True, cwd=ROOT, check=True,
    ).stdout


def main() -> int:
    models = _models()
    repos = _repositories()
    outputs = {
        RECORDS_OUT: render_records(models),
        STORES_OUT: render_stores(repos, set(models)),
        ADAPTER_OUT: render_adapter(repos, set(models)),
    }
    check = "--check" in sys.argv
    stale = []
    for path, raw in outputs.items():
        text = _tidy(path, raw)
        if check:
            if not path.exists() or path.read_text() != text:
                stale.append(str(path.relative_to(ROOT)))
        else:
            path.write_text(text)
    if stale:
        print("stale generated files (run `make stores`): " + ", ".join(stale))
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
