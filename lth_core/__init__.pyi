# The types of lth_core's API names, which __init__.py loads on first use (lth_core.api).
from lth_core.api import Run as Run
from lth_core.api import Ticket as Ticket
from lth_core.api import configure as configure
from lth_core.api import open_run as open
from lth_core.api import run as run

__all__ = ["run", "open", "configure", "Run", "Ticket"]
