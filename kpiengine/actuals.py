"""Reads submitted actuals from ``actuals/<year>/``: the plain YAML input file.

Plain file format (``actuals/<year>/<agency_code>.yaml``), for scripting and for agencies
without a workbook yet::

    agency_code: moj
    year: 107
    values:
      moj.1.1: {indicted: 6600}
      moj.8.1: {effective: 2500, closed: 10000, pending: 8000}

A value may be a number or a decimal string; ``null`` or an absent symbol means "not given".
Values are numbers only: nothing here is ever parsed as an expression.
"""

from __future__ import annotations

from pathlib import Path

from .engine import AgencyInputs
from .numbers import NumberError, parse_number
from .yamlfile import YamlError, load_yaml


class ActualsError(ValueError):
    pass


def read_plain(path: Path) -> AgencyInputs:
    try:
        data = load_yaml(path) or {}
    except YamlError as exc:
        raise ActualsError(str(exc)) from None
    if not isinstance(data, dict) or "agency_code" not in data or "year" not in data:
        raise ActualsError(f"{path.name}：缺少 agency_code 或 year")
    values = {}
    rows = data.get("values") or {}
    if not isinstance(rows, dict) or not all(isinstance(r, dict) or r is None for r in rows.values()):
        raise ActualsError(f"{path.name}：values 必須是「指標代碼: {{代號: 數值}}」的對照表")
    for kpi_id, row in rows.items():
        values[str(kpi_id)] = {}
        for symbol, raw in (row or {}).items():
            if raw is None:
                values[str(kpi_id)][str(symbol)] = None
                continue
            try:
                values[str(kpi_id)][str(symbol)] = parse_number(raw)
            except NumberError as exc:
                raise ActualsError(f"{path.name}：{kpi_id} 的 {symbol} 無法接受：{exc}") from None
    try:
        year = int(data["year"])
    except (TypeError, ValueError):
        raise ActualsError(f"{path.name}：year 必須是整數（民國年度）") from None
    return AgencyInputs(str(data["agency_code"]), year, values, source=str(path))


def read_plain_dir(directory: Path) -> list[AgencyInputs]:
    return [read_plain(p) for p in sorted(directory.glob("*.yaml"))]
