"""``python -m steppe`` is the ``steppe`` command."""

from .cli import main

main()
