"""The worker protocol: how a worker process tells the job manager what happened.

A worker (`python -m lth_core work ...`) writes START_RECORD as the first line of its
log, then computes; its exit code says how it ended.
"""
from __future__ import annotations

EXIT_OK = 0
EXIT_FAILED = 1    # the computation failed; the worker wrote the reason into the run's status
EXIT_USAGE = 2     # a bad flag or value
EXIT_DATA = 3      # a dataset that cannot be had
EXIT_TAKEN = 75    # another live process holds the run's lock (EX_TEMPFAIL); it writes the status
START_RECORD = "work: started"  # first log line: "work: started pid N run R at T"
