"""Build hook: a wheel carries the catalog (formulas/, targets/, seeds/) inside the package.

An installed ``kpi`` then finds its catalog as ``kpiengine/_catalog`` from any folder; an
editable install finds the checkout instead (see ``catalog.find_root``).
"""

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

HERE = Path(__file__).resolve().parent
CATALOG = ("formulas", "targets", "seeds")


class BuildWithCatalog(build_py):
    def run(self) -> None:
        super().run()
        if getattr(self, "editable_mode", False):
            return
        dest = Path(self.build_lib) / "kpiengine" / "_catalog"
        for name in CATALOG:
            if (HERE / name).is_dir():
                shutil.copytree(HERE / name, dest / name, dirs_exist_ok=True)


setup(cmdclass={"build_py": BuildWithCatalog})
