"""Where the catalog is: ``--root``/``KPI_ROOT``, the folders above the current one, or the installed copy.

Apart from ``catalog`` (which loads what it finds) so that a command can find the catalog without
importing the loader and its formula machinery (``kpi agencies`` from its index, see ``catalog_index``).
"""

from __future__ import annotations

from pathlib import Path

SHARED_FILE = "_shared.yaml"


class CatalogNotFound(LookupError):
    """No catalog where we looked (message in Chinese, saying where and how to point at one)."""


BUNDLED_ROOT = Path(__file__).resolve().parent / "_catalog"  # copied in by setup.py when installed from a wheel
CHECKOUT_ROOT = Path(__file__).resolve().parents[1]  # the source checkout of an editable install


def has_catalog(root: Path) -> bool:
    """True when ``root`` holds ``formulas/`` with at least one agency file and ``targets/``."""
    formulas = root / "formulas"
    return formulas.is_dir() and (root / "targets").is_dir() and any(
        p.name != SHARED_FILE for p in formulas.glob("*.yaml"))


def find_root(start: Path | None = None, explicit: Path | None = None) -> Path:
    """The catalog's root folder.

    ``explicit`` (``--root`` / ``KPI_ROOT``) must hold a catalog. Otherwise: the nearest folder
    from ``start`` (the current one) upwards holding ``formulas/``, then the catalog installed with
    the package. Raises CatalogNotFound naming every place looked at.
    """
    if explicit is not None:
        root = Path(explicit).expanduser()
        if not has_catalog(root):
            raise CatalogNotFound(f"{root} 沒有指標目錄（須含 formulas/*.yaml 與 targets/）；"
                                  "請以 --root 或環境變數 KPI_ROOT 指向專案根目錄")
        return root.resolve()
    here = (start or Path.cwd()).resolve()
    looked = []
    for p in (here, *here.parents):
        if (p / "formulas").is_dir():
            if has_catalog(p):
                return p
            looked.append(str(p))
            break
    for p in (BUNDLED_ROOT, CHECKOUT_ROOT):
        if has_catalog(p):
            return p
    where = "、".join([*looked, f"{here} 及其上層資料夾", str(BUNDLED_ROOT)])
    raise CatalogNotFound(f"找不到指標目錄（已找過：{where}）；請以 --root 或環境變數 KPI_ROOT 指向含 formulas/ 與 targets/ 的資料夾")
