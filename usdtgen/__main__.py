"""``python -m usdtgen``: the same as the ``usdtgen`` command."""
import sys

from usdtgen.entry import main

sys.exit(main(prog_name="usdtgen"))
