"""The portal's upload flow for warnings that need confirmation (wb-stage-order, wb-nothing-filled).

A clerk sees the warnings in a confirmation box; nothing is recorded until they tick it and send the
same file again. The tick confirms the warnings of the file they saw, never those of another file.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from kpiengine.ledger import Ledger

from .conftest import csrf_of

STAGES_OUT_OF_ORDER = {"moj.3.1:s1": 1, "moj.3.1:s2": 0, "moj.3.1:s3": 1}


def _post(client, path: Path, **form: str):
    token = csrf_of(client.get("/agency/moj").text)
    return client.post("/agency/moj/upload", data={"csrf": token, "year": "107", **form},
                       files={"file": (path.name, path.read_bytes())})


def _versions(ledger: Path) -> list[int]:
    return [s.version for s in Ledger(ledger, write=False).submissions(year=107, agency="moj")]


def _confirm_fields(html: str) -> dict[str, str]:
    form = re.search(r'<form[^>]*id="confirm-form".*?</form>', html, re.S)
    assert form, html[:3000]
    return dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', form.group(0)))


@pytest.fixture
def stage_workbook(official_workbook) -> Path:
    return official_workbook("moj", values=STAGES_OUT_OF_ORDER, name="stages.xlsx")


@pytest.fixture
def blank_workbook(official_workbook, engine) -> Path:
    keys = {f"{k.id}:{s}": None for k in engine.catalog.kpis_of("moj") for s in k.input_symbols}
    return official_workbook("moj", values=keys, name="blank.xlsx")


@pytest.mark.parametrize(("fixture", "code"), [("stage_workbook", "wb-stage-order"), ("blank_workbook", "wb-nothing-filled")])
def test_a_warning_to_confirm_shows_the_box_and_records_nothing(request, client_for, portal_ledger, fixture, code):
    path = request.getfixturevalue(fixture)
    c = client_for("own")
    r = _post(c, path)
    assert r.status_code == 200 and 'id="confirm-form"' in r.text and f'data-code="{code}"' in r.text, r.text[:3000]
    assert 'id="accepted"' not in r.text and _versions(portal_ledger) == []
    confirmed = _post(c, path, confirm_warnings="1", **{k: v for k, v in _confirm_fields(r.text).items() if k != "csrf"})
    assert 'id="accepted"' in confirmed.text, confirmed.text[:3000]
    assert _versions(portal_ledger) == [1]


def test_the_tick_confirms_only_the_file_that_was_shown(client_for, portal_ledger, stage_workbook, blank_workbook):
    """Confirming the stage warning, then choosing another file (an empty one): its own warning is asked anew."""
    c = client_for("own")
    shown = _post(c, stage_workbook)
    fields = {k: v for k, v in _confirm_fields(shown.text).items() if k != "csrf"}
    other = _post(c, blank_workbook, confirm_warnings="1", **fields)
    assert 'id="confirm-form"' in other.text and 'data-code="wb-nothing-filled"' in other.text, other.text[:3000]
    assert _versions(portal_ledger) == []
