"""Every public function, method and command is exercised by a test.

The public API is what docs/api.md documents: the ``__all__`` of the
top-level package and of the few modules it names (figures, tables, prior
draws, model options, the simulator and studies), the public methods and
properties of the classes listed there, and the subcommands of the ``nkest``
command. A new public name that no test uses fails here, naming it.
"""

from __future__ import annotations

import importlib
import inspect
import re
from pathlib import Path

from nkest import cli

TESTS = Path(__file__).parent


def _test_sources() -> str:
    return "\n".join(
        path.read_text(encoding="utf-8")
        for path in TESTS.rglob("*.py")
        if path.name != Path(__file__).name
    )


PUBLIC_MODULES = (
    "nkest",
    "nkest.results.plots",
    "nkest.results.tables",
    "nkest.fit.prior",
    "nkest.model.options",
    "nkest.validate",
)
"""The modules whose ``__all__`` is the public API (docs/api.md)."""


def public_api() -> dict[str, str]:
    """Return every public callable by its name, with where it lives."""
    found: dict[str, str] = {}
    for module_name in PUBLIC_MODULES:
        module = importlib.import_module(module_name)
        for name in module.__all__:
            value = getattr(module, name)
            if inspect.isclass(value):
                found.setdefault(name, module_name)
                for member, attribute in vars(value).items():
                    if member.startswith("_") or not (
                        callable(attribute) or isinstance(attribute, property | classmethod)
                    ):
                        continue
                    found.setdefault(f"{name}.{member}", module_name)
            elif callable(value):
                found.setdefault(name, module_name)
    return found


def test_every_public_name_is_used_by_a_test():
    sources = _test_sources()
    untested = sorted(
        f"{where}.{name}"
        for name, where in public_api().items()
        if not re.search(rf"\b{re.escape(name.rsplit('.', 1)[-1])}\b", sources)
    )
    assert not untested, f"public names no test uses: {untested}"


def test_every_command_is_run_by_a_test():
    parser = cli._parser()
    commands = next(
        action for action in parser._actions if action.__class__.__name__ == "_SubParsersAction"
    )
    sources = _test_sources()
    for command in commands.choices:
        assert re.search(rf"""main\(\s*\[\s*["']{command}["']""", sources), command


def test_the_api_reference_documents_every_public_module():
    page = (TESTS.parent / "docs" / "api.md").read_text(encoding="utf-8")
    for module_name in PUBLIC_MODULES[1:]:
        assert module_name in page, module_name


def test_the_api_listing_finds_what_users_import():
    api = public_api()
    for name in ("fit", "load_reports", "Estimate.cite", "Estimate.save", "Reports.exclude"):
        assert name in api
    assert "Estimate._check_quantities" not in api


def test_importing_nkest_leaves_the_plotting_libraries_for_when_a_figure_is_drawn():
    import subprocess
    import sys

    # Every fresh process pays for what ``import nkest`` imports; a fit draws nothing.
    code = (
        "import sys, nkest; "
        "print(sorted(m for m in ('matplotlib', 'arviz_plots') if m in sys.modules))"
    )
    shown = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert shown.stdout.strip() == "[]"
