"""The service layer: background jobs for runs and analyses, the worker protocol, warm workers,
and the Settings read from the environment."""
