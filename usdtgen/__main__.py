"""``python -m usdtgen``: the same as the ``usdtgen`` command."""
from usdtgen.cli import main

main(prog_name="usdtgen")
