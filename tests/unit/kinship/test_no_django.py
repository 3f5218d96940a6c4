"""The kinship engine is a pure library: it imports and works where Django cannot be imported."""

from __future__ import annotations

import ast
import subprocess
import sys
import textwrap
from pathlib import Path

import reunite.kinship

PACKAGE_DIR = Path(reunite.kinship.__file__).parent

SCRIPT = textwrap.dedent(
    """
    import importlib
    import pkgutil
    import sys


    class NoDjango:
        def find_spec(self, name, path=None, target=None):
            if name == "django" or name.startswith("django."):
                raise ImportError("django is blocked in this test")
            return None


    sys.meta_path.insert(0, NoDjango())
    try:
        import django  # noqa: F401
    except ImportError:
        pass
    else:
        raise SystemExit("the blocker did not block django")

    import reunite.kinship as kinship

    names = sorted(
        info.name
        for info in pkgutil.walk_packages(kinship.__path__, prefix="reunite.kinship.")
    )
    for name in names:
        importlib.import_module(name)

    profile = kinship.parse_profile("U", {"vwa": ["15", "9.3"], "AMEL": ["X", "Y"]})
    result = kinship.frequencies_for([profile], "han_chinese")
    assert result.loci["vWA"].alleles[0] == "9.3", result.loci["vWA"].alleles
    assert not any(m == "django" or m.startswith("django.") for m in sys.modules)
    print("imported", len(names), "modules without django")
    """
)


def test_kinship_imports_and_works_without_django() -> None:
    completed = subprocess.run(
        [sys.executable, "-c", SCRIPT],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env={"PATH": "/usr/bin:/bin", "PYTHONWARNINGS": "error"},
    )
    assert completed.returncode == 0, completed.stderr
    assert "without django" in completed.stdout
    count = int(completed.stdout.split()[1])
    assert count >= 6  # errors, loci, profiles, frequencies, data, data.frequencies, ...


def test_no_source_file_under_kinship_mentions_a_django_import() -> None:
    offenders = []
    for path in sorted(PACKAGE_DIR.rglob("*.py")):
        tree = ast.parse(path.read_text("utf-8"), filename=str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                modules = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                modules = [node.module or ""]
            else:
                continue
            for module in modules:
                if (
                    module.split(".")[0] in {"django", "ninja", "environ"}
                    or module
                    in {
                        "reunite.settings",
                    }
                    or (module.startswith("reunite.") and not module.startswith("reunite.kinship"))
                ):
                    offenders.append(f"{path.name}:{node.lineno} imports {module}")
    assert offenders == []
