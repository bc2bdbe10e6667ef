"""An import-linter contract type: no module imports another module's private (underscore) names.

A name with a leading underscore is its module's own business; a second module that needs it should get
a public name. Configured in pyproject.toml ([tool.importlinter]) and run by `lint-imports` in `make test`.
"""

from __future__ import annotations

import ast
import importlib.util
from functools import cache

from importlinter import Contract, ContractCheck, fields, output


@cache
def private_imports(module: str) -> list[tuple[int, str, str]]:
    """(line, imported module, name) of every `from X import _name` in a module's source."""
    spec = importlib.util.find_spec(module)
    if spec is None or not spec.origin or not spec.origin.endswith(".py"):
        return []
    with open(spec.origin, encoding="utf-8") as handle:
        tree = ast.parse(handle.read(), spec.origin)
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            for alias in node.names:
                if alias.name.startswith("_") and not alias.name.startswith("__"):
                    found.append((node.lineno, node.module, alias.name))
    return found


class NoPrivateImportsContract(Contract):
    """Modules under `containers` never import a private name from another module."""

    containers = fields.ListField(subfield=fields.StringField())

    def check(self, graph, verbose: bool) -> ContractCheck:
        offences = []
        for container in self.containers:
            for importer in sorted(graph.find_descendants(container) | {container}):
                for line, imported, name in private_imports(importer):
                    offences.append(f"{importer}:{line} imports {name} from {imported}")
        return ContractCheck(kept=not offences, metadata={"offences": offences})

    def render_broken_contract(self, check: ContractCheck) -> None:
        for offence in check.metadata["offences"]:
            output.print_error(offence)
            output.new_line()
