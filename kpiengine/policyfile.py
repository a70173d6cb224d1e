"""``targets/<year>/policy.yaml`` → a checked ``scoring.Policy``, or every problem of the file at once.

The policy decides every light of a year, so a wrong file must never score silently: inverted
bands would make every KPI 白燈, a missing catch-all turns 70% 紅燈, a negative cap makes every
KPI −5%. The schema:

* ``year`` (optional) — the folder's year;
* ``cap`` — the highest 達成度 used for lights, a number with 0 < cap ≤ ``MAX_CAP``, not below the top band;
* ``lights`` — bands ``{light, label, min}`` with ``light`` one of green/yellow/red/white (each once),
  ``min`` strictly descending, and a catch-all last (``min: null``, and only there);
* ``display`` — ``places`` an integer 0…``MAX_PLACES``; ``rounding`` only ``half_up``.

``kpi check`` lists the problems; every other command refuses a bad policy (``PolicyError``).
"""

from __future__ import annotations

from dataclasses import replace
from fractions import Fraction
from pathlib import Path
from typing import Any

from .messages import Problem, problem, shorten
from .numbers import NumberError, parse_exact
from .scoring import DEFAULT_POLICY, Band, Light, Policy
from .yamlfile import YamlError, load_yaml

MAX_CAP = 1000
MAX_PLACES = 6
KEYS = {"year", "cap", "lights", "display"}


class PolicyError(ValueError):
    """A policy file that cannot be used (message in Chinese, naming the file and every problem)."""

    def __init__(self, label: str, problems: list[Problem]):
        self.problems = problems
        super().__init__(f"計分政策「{label}」有誤，無法計分：" + "；".join(p.message for p in problems))


def policy_path(root: Path, year: int) -> Path:
    return Path(root) / "targets" / str(year) / "policy.yaml"


def check_policy(root: Path, year: int) -> tuple[Policy | None, list[Problem]]:
    """The policy of ``year`` and its problems; the policy is None when there is any problem."""
    path = policy_path(root, year)
    label = f"targets/{year}/policy.yaml"
    if not path.exists():
        return replace(DEFAULT_POLICY, year=year), []
    problems: list[Problem] = []
    loc = {"file": label}

    def bad(field: str, detail: str) -> None:
        problems.append(problem("policy-invalid", loc, field=field, detail=detail))

    try:
        data = load_yaml(path, label)
    except YamlError as exc:
        return None, [problem("catalog-yaml", loc, detail=str(exc))]
    if data is None:
        data = {}
    if not isinstance(data, dict):
        bad("(檔案)", "必須是對照表")
        return None, problems
    for k in sorted(set(map(str, data)) - KEYS):
        bad(k, f"不是計分政策的欄位（可用：{'、'.join(sorted(KEYS))}）")
    if data.get("year") is not None and data.get("year") != year:
        bad("year", f"應為 {year}（現為 {shorten(repr(data.get('year')))}）")
    cap = _number(data.get("cap", 100), "cap", bad)
    if cap is not None and not 0 < cap <= MAX_CAP:
        bad("cap", f"必須大於 0 且不超過 {MAX_CAP}（現為 {shorten(str(data.get('cap')))}）")
        cap = None
    bands = _bands(data.get("lights"), bad)
    if cap is not None and bands and bands[0].minimum is not None and cap < bands[0].minimum:
        bad("cap", f"上限 {data.get('cap')} 低於最高燈號門檻 {data['lights'][0].get('min')}，任何指標都不可能得到該燈號")
    places = 2
    display = data.get("display", {})
    if display is None:
        display = {}
    if not isinstance(display, dict):
        bad("display", "必須是對照表")
    else:
        raw = display.get("places", 2)
        if isinstance(raw, bool) or not isinstance(raw, int) or not 0 <= raw <= MAX_PLACES:
            bad("display.places", f"必須是 0 到 {MAX_PLACES} 的整數（現為 {shorten(repr(raw))}）")
        else:
            places = raw
        if display.get("rounding", "half_up") != "half_up":
            bad("display.rounding", f"只支援 half_up（四捨五入），現為 {shorten(repr(display.get('rounding')))}")
    if problems or cap is None or not bands:
        return None, problems
    return Policy(year=year, bands=tuple(bands), cap=cap, places=places), []


def load_policy(root: Path, year: int) -> Policy:
    """The checked policy of ``year`` (the default bands if the file is absent); PolicyError if it is wrong."""
    policy, problems = check_policy(root, year)
    if policy is None:
        raise PolicyError(f"targets/{year}/policy.yaml", problems)
    return policy


def _number(value: Any, field: str, bad) -> Fraction | None:
    if isinstance(value, bool) or value is None:
        bad(field, "必須是數字")
        return None
    try:
        return parse_exact(value)
    except NumberError as exc:
        bad(field, f"必須是數字（{exc}）")
        return None


def _bands(raw: Any, bad) -> list[Band]:
    if not isinstance(raw, list) or not raw:
        bad("lights", "必須是燈號區間的清單（由高而低，最後一項 min: null 涵蓋其餘）")
        return []
    names = "/".join(light.value for light in Light)
    bands: list[Band] = []
    seen: set[Light] = set()
    ok = True
    for n, item in enumerate(raw, start=1):
        field = f"lights[{n}]"
        if not isinstance(item, dict):
            bad(field, "必須是 {light, label, min} 對照表")
            ok = False
            continue
        try:
            light = Light(item.get("light"))
        except ValueError:
            bad(f"{field}.light", f"必須是 {names} 之一（現為 {shorten(repr(item.get('light')))}）")
            ok = False
            continue
        if light in seen:
            bad(f"{field}.light", f"{light.value} 重複出現")
            ok = False
        seen.add(light)
        label = item.get("label")
        if label is not None and label != light.label:
            bad(f"{field}.label", f"{light.value} 的名稱應為「{light.label}」（現為 {shorten(repr(label))}）")
            ok = False
        minimum = None
        if item.get("min") is not None:
            minimum = _number(item["min"], f"{field}.min", bad)
            if minimum is None:
                ok = False
                continue
            if minimum < 0 or minimum > MAX_CAP:
                bad(f"{field}.min", f"必須在 0 到 {MAX_CAP} 之間")
                ok = False
        if bands and bands[-1].minimum is None:
            bad(field, "涵蓋其餘的區間（min: null）必須是最後一項")
            ok = False
        elif bands and minimum is not None and not minimum < bands[-1].minimum:
            bad(f"{field}.min", f"門檻必須由高而低嚴格遞減（{item['min']} 不低於前一項 {raw[n - 2].get('min')}）")
            ok = False
        bands.append(Band(light, minimum))
    if bands and bands[-1].minimum is not None:
        bad("lights", "最後一項必須是涵蓋其餘的區間（min: null），否則低於最低門檻的指標沒有燈號")
        ok = False
    return bands if ok else []
