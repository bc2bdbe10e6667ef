"""Shared console for every command group."""

from rich.console import Console

console = Console()
