"""Which files the wheel holds (the metadata, dependencies and the `lth` command are in pyproject.toml).

Besides the lth_core packages, the wheel carries the Streamlit app's files in `lth_app/`, laid out
as in the checkout (app.py, pages/, ui/, .streamlit/config.toml, the gallery and the latency
benchmark the Beyond page draws), so the paths the app computes from its own files resolve in both
places and `lth app` serves them from an installed package. lth_app is data, never imported:
Streamlit runs its app.py as a script, with that folder first on sys.path, as in the checkout.
"""
from setuptools import find_packages, setup
from setuptools.command.build_py import build_py

APP_FILES = ["pages/*.py", "ui/*.py", ".streamlit/config.toml", "gallery/**/*", "docs/bench/latency_cpu.json"]


class BuildPy(build_py):
    def find_package_modules(self, package, package_dir):
        """lth_app is the checkout's top level: of its own modules only app.py (not this setup.py)."""
        found = super().find_package_modules(package, package_dir)
        return [m for m in found if package != "lth_app" or m[1] == "app"]


setup(
    packages=[*find_packages(include=["lth_core", "lth_core.*"]), "lth_app"],
    package_dir={"lth_app": "."},
    package_data={"lth_app": APP_FILES, "lth_core": ["*.pyi"]},  # the API's type stub beside lth_core/__init__
    cmdclass={"build_py": BuildPy},
)
