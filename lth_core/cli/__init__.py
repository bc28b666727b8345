"""The command line: run, list, work, sweep, bench, report, analyse."""
