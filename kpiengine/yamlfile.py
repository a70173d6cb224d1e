"""The one way the tool reads a YAML file (catalog, targets, policy, plain actuals): safely, bounded.

A YAML file is data someone may have edited by hand or received from elsewhere, so:

* at most ``MAX_YAML_BYTES`` (the largest catalog file is ~32 KB);
* UTF-8 only (a BOM is fine); anything else is refused naming the file;
* no anchors or aliases: the "billion laughs" alias bomb expands a few lines into gigabytes once
  anything walks the data, and no file of ours needs them;
* integers longer than ``MAX_YAML_INT_DIGITS`` stay text (Python's text → int is quadratic), so the
  number parser refuses them with a message instead of a hang;
* the C loader when libyaml is there (about 10× faster on the catalog), with the same safe semantics.

Every failure is a ``YamlError`` whose message is Chinese and names the file.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

__all__ = ["YamlError", "MAX_YAML_BYTES", "load_yaml", "load_yaml_text"]

MAX_YAML_BYTES = 2 * 1024 * 1024
MAX_YAML_INT_DIGITS = 40

_BASE = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class YamlError(ValueError):
    """A YAML file that cannot be read (message in Chinese, naming the file)."""


class _AliasRefused(yaml.YAMLError):
    pass


class _Loader(_BASE):  # type: ignore[misc, valid-type]
    """Safe loader that refuses aliases (a node constructed twice) and keeps huge integers as text."""

    def construct_object(self, node, deep=False):  # noqa: ANN001 - PyYAML's signature
        if node in self.constructed_objects or node in self.recursive_objects:
            raise _AliasRefused("不接受錨點與別名（& 與 *）")
        return super().construct_object(node, deep)

    def construct_yaml_int(self, node):  # noqa: ANN001
        text = self.construct_scalar(node)
        if len(text) > MAX_YAML_INT_DIGITS:
            return text
        return super().construct_yaml_int(node)


_Loader.add_constructor("tag:yaml.org,2002:int", _Loader.construct_yaml_int)


def load_yaml_text(text: str, name: str) -> Any:
    """Parse ``text`` (already decoded) under the rules above; ``name`` is the file named in errors."""
    try:
        return yaml.load(text, Loader=_Loader)  # noqa: S506 - a safe loader
    except _AliasRefused:
        raise YamlError(f"YAML 檔「{name}」使用了錨點或別名（& 與 *），本系統不接受，請直接寫出內容") from None
    except yaml.YAMLError as exc:
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        mark = getattr(exc, "problem_mark", None)
        where = f"第 {mark.line + 1} 行第 {mark.column + 1} 欄：" if mark is not None else ""
        raise YamlError(f"YAML 檔「{name}」格式錯誤，{where}請檢查縮排、冒號與括號（剖析器訊息：{first}）") from None
    except (RecursionError, MemoryError):
        raise YamlError(f"YAML 檔「{name}」巢狀過深或過於龐大，無法讀取") from None


def load_yaml(path: Path, label: str | None = None) -> Any:
    """Read and parse one YAML file; ``label`` is how errors name it (default: the file name)."""
    path = Path(path)
    name = label or path.name
    try:
        size = path.stat().st_size
        if size > MAX_YAML_BYTES:
            raise YamlError(f"YAML 檔「{name}」過大（{size / 1024 / 1024:.1f} MB，上限 {MAX_YAML_BYTES // 1024 // 1024} MB）")
        data = path.read_bytes()
    except OSError as exc:
        raise YamlError(f"無法讀取 YAML 檔「{name}」：{exc.strerror or type(exc).__name__}") from None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise YamlError(f"YAML 檔「{name}」不是 UTF-8 編碼（第 {exc.start + 1} 位元組起無法解碼），"
                        "請以 UTF-8 另存（例如 Big5 檔案請轉為 UTF-8）") from None
    if "\x00" in text:
        raise YamlError(f"YAML 檔「{name}」含有 NUL 字元，不是文字檔")
    return load_yaml_text(text, name)
