"""The one YAML loader: bounded size, UTF-8 only, no aliases, huge integers kept as text."""

from __future__ import annotations

from pathlib import Path

import pytest

from kpiengine.yamlfile import MAX_YAML_BYTES, YamlError, load_yaml

ALIAS_BOMB = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
    f"{chr(98 + i)}: &{chr(98 + i)} [*{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)},"
    f" *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}]\n" for i in range(9))


@pytest.mark.parametrize(("content", "says"), [
    (ALIAS_BOMB.encode(), "錨點或別名"),
    ("a: 法務部\n".encode("big5"), "不是 UTF-8"),
    (b"a: [1, 2\n", "格式錯誤"),
    (b"a: \x00\n", "NUL"),
    (b"#" * (MAX_YAML_BYTES + 1), "過大"),
    (b"[" * 5000 + b"]" * 5000, "格式錯誤"),  # libyaml bounds the nesting itself
])
def test_refused_naming_the_file(tmp_path: Path, content: bytes, says: str) -> None:
    path = tmp_path / "moj.yaml"
    path.write_bytes(content)
    with pytest.raises(YamlError) as exc:
        load_yaml(path, "formulas/moj.yaml")
    assert "formulas/moj.yaml" in str(exc.value) and says in str(exc.value)


def test_plain_yaml_and_bom(tmp_path: Path) -> None:
    path = tmp_path / "x.yaml"
    path.write_bytes("\ufeffa: 1\nb: [法務部, 2.5]\n".encode())
    assert load_yaml(path) == {"a": 1, "b": ["法務部", 2.5]}


def test_huge_integer_stays_text(tmp_path: Path) -> None:
    """Python's int('9' * 5000) raises, and is quadratic below that: the number parser refuses the text instead."""
    path = tmp_path / "x.yaml"
    path.write_text(f"a: {'9' * 5000}\nb: 12\n", encoding="utf-8")
    data = load_yaml(path)
    assert data["a"] == "9" * 5000 and data["b"] == 12
