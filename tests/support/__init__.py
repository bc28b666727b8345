"""Helpers that tests and scripts share: tiny configs, the guard config, the app server,
the browser setup, AppTest helpers and process watching. Nothing here is a test."""
