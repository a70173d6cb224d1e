"""Compiled formulas on disk, keyed by the catalog's content hash, so a second run does not re-parse.

Compiling a formula means the AST gate plus building its sympy tree (and importing sympy, the
largest part of ``kpi``'s start-up). The result that scoring needs is the formula's *program*
(plain tuples, see ``formula.to_program``), which is stored here as JSON — data, never code:
nothing in the file is executed or parsed as an expression.

The file name is a hash of everything the programs depend on: each KPI's formula, definitions,
inputs and params (the catalog's content), the sympy version, the Python version and the source of
``formula.py``. A file whose recorded key differs from the expected one is ignored, entries are
looked up by their full formula text, and an unreadable file is ignored: deleting the cache folder
is always safe. Folder: ``$KPI_CACHE_DIR`` (``off`` disables the cache), else
``$XDG_CACHE_HOME/kpiengine``, else ``~/.cache/kpiengine``.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import re
import sys
from collections.abc import Iterable
from pathlib import Path

from . import formula as formula_module
from .cache_folder import KEEP_FILES, cache_dir, read_cache, write_cache
from .evaluation import compile_kpi, compiled_parts, content_key, remember_parts
from .formula import CompiledFormula, FormulaError
from .model import Catalog

FORMAT = 1


def sympy_version() -> str:
    """sympy's version, read from its release file without importing sympy (about 0.4 s)."""
    spec = importlib.util.find_spec("sympy")
    if spec is None or spec.origin is None:
        return "none"
    try:
        text = (Path(spec.origin).parent / "release.py").read_text(encoding="utf-8")
    except OSError:
        return "unknown"
    m = re.search(r"__version__\s*=\s*['\"]([^'\"]+)", text)
    return m.group(1) if m else "unknown"


def catalog_key(keys: Iterable[tuple]) -> str:
    """The content hash of a catalog's formulas, plus the versions its programs depend on."""
    h = hashlib.sha256()
    source = Path(formula_module.__file__).read_bytes()
    h.update(f"{FORMAT}|{sys.version_info[0]}.{sys.version_info[1]}|sympy {sympy_version()}|".encode())
    h.update(hashlib.sha256(source).digest())
    for k in sorted(set(keys)):
        h.update(repr(k).encode("utf-8"))
    return h.hexdigest()


def _file(folder: Path, key: str) -> Path:
    return folder / f"formulas-{key[:24]}.json"


def _tuples(x):
    return tuple(_tuples(i) for i in x) if isinstance(x, list) else x


def _formula(raw) -> CompiledFormula:
    text, symbols, program = raw
    if not isinstance(text, str) or not isinstance(program, list):
        raise ValueError("bad entry")
    return CompiledFormula(text=text, symbols=frozenset(symbols), program=_tuples(program))


def load(catalog: Catalog) -> int:
    """Make the cached programs of ``catalog`` known to ``compile_kpi``; returns how many were found."""
    folder = cache_dir()
    if folder is None:
        return 0
    keys = {content_key(k) for k in catalog.kpis}
    key = catalog_key(keys)
    blob = read_cache(_file(folder, key))
    if blob is None:
        return 0
    try:
        data = json.loads(blob.decode("utf-8"))
        if not isinstance(data, dict) or data.get("format") != FORMAT or data.get("key") != key:
            return 0
        parts = {}
        for raw_key, raw_defs, raw_formula in data["entries"]:
            k = _tuples(raw_key)
            if k in keys:
                parts[k] = (tuple((sym, _formula(f)) for sym, f in raw_defs), _formula(raw_formula))
    except (ValueError, KeyError, TypeError):  # damaged or not ours (UnicodeDecodeError is a ValueError): compile instead
        return 0
    remember_parts(parts)
    return len(parts)


def compile_and_store(catalog: Catalog) -> Path | None:
    """Compile every formula of ``catalog`` not known yet and, if any was new, write the cache file."""
    keys = {content_key(k): k for k in catalog.kpis}
    known = compiled_parts(keys)
    if len(known) == len(keys):
        return None
    for k, kpi in keys.items():
        if k not in known:
            try:
                compile_kpi(kpi)
            except FormulaError:  # reported by `kpi check`; never cached
                pass
    folder = cache_dir()
    if folder is None:
        return None
    key = catalog_key(keys)
    entries = [[list(k), [[sym, [f.text, sorted(f.symbols), f.program]] for sym, f in defs],
                [formula.text, sorted(formula.symbols), formula.program]]
               for k, (defs, formula) in compiled_parts(keys).items()]
    path = _file(folder, key)
    blob = json.dumps({"format": FORMAT, "key": key, "entries": entries}, ensure_ascii=False, separators=(",", ":"))
    if not write_cache(path, blob.encode("utf-8")):  # a read-only home, a full disk: scoring works without the cache
        return None
    try:
        _prune(folder)
    except OSError:  # a file gone meanwhile
        pass
    return path


def _prune(folder: Path) -> None:
    files = sorted(folder.glob("formulas-*.json"), key=lambda p: p.stat().st_mtime, reverse=True)
    for old in files[KEEP_FILES:]:
        old.unlink(missing_ok=True)
