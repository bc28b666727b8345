"""The offline report: a run's charts, numbers and claims as one HTML (or PDF) file."""
