"""policy.yaml is checked against its schema: every bad policy is refused with a Chinese message."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import pytest
import yaml

from kpiengine.policyfile import PolicyError, check_policy, load_policy
from kpiengine.scoring import Light

BAD = yaml.safe_load((Path(__file__).parent / "data" / "bad_policies.yaml").read_text(encoding="utf-8"))


def write(root: Path, text: str) -> Path:
    folder = root / "targets" / "107"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "policy.yaml").write_text(text, encoding="utf-8")
    return root


@pytest.mark.parametrize("case", BAD, ids=[c["why"] for c in BAD])
def test_bad_policy_refused(tmp_path: Path, case: dict) -> None:
    root = write(tmp_path, case["text"])
    policy, problems = check_policy(root, 107)
    assert policy is None and problems
    assert any(case["says"] in p.message for p in problems), [p.message for p in problems]
    with pytest.raises(PolicyError) as exc:
        load_policy(root, 107)
    assert "targets/107/policy.yaml" in str(exc.value)


def test_shipped_policy_is_valid(root: Path) -> None:
    policy, problems = check_policy(root, 107)
    assert problems == []
    assert [b.light for b in policy.bands] == [Light.GREEN, Light.YELLOW, Light.RED, Light.WHITE]
    assert policy.cap == Fraction(100) and policy.places == 2


def test_absent_policy_is_the_default(tmp_path: Path) -> None:
    assert load_policy(tmp_path, 107).bands[-1].minimum is None
