"""Pure functions of stored results: tables, claims with their spread, speed, noise, stability, reports."""
