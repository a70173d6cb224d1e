"""What validating an unchanged workbook gave, kept between runs, for scoring a folder of workbooks.

``kpi score --sample`` validates the same shipped workbooks on every run, and that costs more than
reading them. ``read_workbook`` (and only it: ``kpi validate``, ``kpi submit`` and the web upload
always validate afresh, official data never goes through a cache) keeps its result — the
``AgencyInputs`` (values as exact text, ``numbers.fraction_text``) and every problem — under the
SHA-256 of everything it depends on: the file's bytes and path, the catalog's files (every
``formulas/*.yaml`` and ``targets/<year>/*.yaml``, policies included), the upload limits
(``Limits.from_env``) and the code (``workbook/*.py`` and the modules validation uses, the Python
version), so an edit of any of them misses. A result is kept only if it reads back equal and the
file did not change while it was validated. JSON data, never code; the formula cache's folder
(``KPI_CACHE_DIR``, ``off`` disables it); a damaged file is ignored; deleting it is always safe.
"""

from __future__ import annotations

import hashlib
import json
import sys
from fractions import Fraction
from pathlib import Path
from typing import Any

from ..cache_folder import KEEP_FILES, cache_dir, hash_files, read_cache, write_cache
from ..catalog_index import catalog_files
from ..engine import AgencyInputs, Engine
from ..filehash import file_sha256
from ..messages import Problem
from ..numbers import fraction_text
from .safety import Limits

FORMAT = 1
MAX_ENTRIES = 5_000  # beyond this, only the results of the latest run are kept
PACKAGE = Path(__file__).resolve().parent.parent
_CODE = ("engine.py", "catalog.py", "policyfile.py", "evaluation.py", "numbers.py", "model.py", "stages.py",
         "messages.py", "formula.py", "filehash.py")

Result = tuple[AgencyInputs | None, list[Problem]]


def code_key() -> str:
    """A hash of the code a validation result depends on (``workbook/*.py``, the modules it uses, Python)."""
    h = hashlib.sha256(f"{FORMAT}|{sys.version_info[0]}.{sys.version_info[1]}|".encode())
    hash_files(h, [*sorted((PACKAGE / "workbook").glob("*.py")), *(PACKAGE / name for name in _CODE)], PACKAGE)
    return h.hexdigest()


def catalog_key(root: Path) -> str:
    """A hash of the catalog's files (names and bytes) at ``root``, the year policies included."""
    h = hashlib.sha256()
    hash_files(h, catalog_files(root), root)
    return h.hexdigest()


def encode(inputs: AgencyInputs | None, problems: list[Problem]) -> dict[str, Any]:
    """The JSON form of ``read_workbook``'s result (values as exact text)."""
    a = None if inputs is None else {
        "agency_code": inputs.agency_code, "year": inputs.year,
        "values": {k: {s: fraction_text(v) for s, v in row.items()} for k, row in inputs.values.items()},
        "source": inputs.source, "version": inputs.version, "self_ratings": dict(inputs.self_ratings),
        "narratives": dict(inputs.narratives), "sample": inputs.sample}
    return {"inputs": a, "problems": [[p.code, p.message, p.severity, p.location] for p in problems]}


def _text(x: Any) -> str:
    if not isinstance(x, str):
        raise ValueError("not text")
    return x


def _texts(x: Any) -> dict[str, str]:
    if not isinstance(x, dict):
        raise ValueError("not a mapping")
    return {_text(k): _text(v) for k, v in x.items()}


def decode(data: Any) -> Result:
    """``encode``'s inverse; ValueError on anything not shaped as it writes (a damaged entry)."""
    if not isinstance(data, dict) or not isinstance(data.get("problems"), list):
        raise ValueError("not an entry")
    problems = []
    for p in data["problems"]:
        if not isinstance(p, list) or len(p) != 4 or not isinstance(p[3], dict):
            raise ValueError("not a problem")
        problems.append(Problem(_text(p[0]), _text(p[1]), _text(p[2]), dict(p[3])))
    a = data.get("inputs")
    if a is None:
        return None, problems
    if not isinstance(a, dict) or not isinstance(a.get("values"), dict) or type(a.get("year")) is not int:
        raise ValueError("not inputs")
    values = {}
    for kpi_id, row in a["values"].items():
        if not isinstance(row, dict):
            raise ValueError("not a row")
        values[kpi_id] = {s: None if v is None else Fraction(_text(v)) for s, v in row.items()}
    version = a.get("version")
    if version is not None and type(version) is not int or not isinstance(a.get("sample"), bool):
        raise ValueError("not inputs")
    inputs = AgencyInputs(_text(a.get("agency_code")), a["year"], values, source=_text(a.get("source")),
                          version=version, self_ratings=_texts(a.get("self_ratings")),
                          narratives=_texts(a.get("narratives")), sample=a["sample"])
    return inputs, problems


class ValidationCache:
    """The validation results of earlier runs (one file per version of the code) for one engine's catalog."""

    def __init__(self, engine: Engine) -> None:
        folder = cache_dir()
        self.path: Path | None = None
        self.known: dict[str, Any] = {}
        self.new: dict[str, Any] = {}
        self.context = ""
        if folder is None:
            return
        try:
            code = code_key()
            self.context = f"{catalog_key(Path(engine.root))}|{Limits.from_env()!r}"
        except OSError:  # a file vanished or unreadable: validate everything afresh
            return
        self.path = folder / f"validations-{code[:24]}.json"
        blob = read_cache(self.path)  # None when absent, not a plain file or too large to be ours
        try:
            data = None if blob is None else json.loads(blob.decode("utf-8"))
        except ValueError:  # damaged (UnicodeDecodeError is a ValueError): validate everything
            data = None
        if isinstance(data, dict) and data.get("format") == FORMAT and isinstance(data.get("entries"), dict):
            self.known = data["entries"]

    def _key(self, path: Path, digest: str) -> str:
        return hashlib.sha256(f"{digest}|{path}|{self.context}".encode()).hexdigest()

    def read(self, path: Path, engine: Engine) -> Result:
        """``read_workbook``'s result for ``path``: from an earlier run when nothing it depends on changed."""
        from .validate import validate_workbook

        if self.path is None:
            v = validate_workbook(path, engine)
            return v.inputs, v.problems
        try:
            digest = file_sha256(path)
        except OSError:  # missing or unreadable: validation says so
            digest = None
        key = None if digest is None else self._key(path, digest)
        if key is not None and key in self.known:
            try:
                return decode(self.known[key])
            except (ValueError, TypeError, ZeroDivisionError):  # a damaged entry: validate afresh
                pass
        v = validate_workbook(path, engine)
        if key is not None and v.sha256 == digest:  # the bytes validated are the bytes hashed
            entry = encode(v.inputs, v.problems)
            try:
                exact = decode(json.loads(json.dumps(entry, ensure_ascii=False))) == (v.inputs, v.problems)
            except (ValueError, TypeError):
                exact = False
            if exact:
                self.new[key] = entry
        return v.inputs, v.problems

    def save(self) -> None:
        """Keep the new results (with the earlier ones, up to ``MAX_ENTRIES``), if there are any."""
        if self.path is None or not self.new:
            return
        entries = {**self.known, **self.new} if len(self.known) + len(self.new) <= MAX_ENTRIES else dict(self.new)
        try:
            blob = json.dumps({"format": FORMAT, "entries": entries}, ensure_ascii=False, separators=(",", ":"))
            if not write_cache(self.path, blob.encode("utf-8")):
                return
            files = sorted(self.path.parent.glob("validations-*.json"), key=lambda p: p.stat().st_mtime, reverse=True)
            for old in files[KEEP_FILES:]:
                old.unlink(missing_ok=True)
        except (OSError, ValueError):  # read-only or full: the workbooks are simply validated again next time
            pass
        self.known, self.new = entries, {}
