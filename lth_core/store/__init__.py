"""Run folders: atomic writes, integrity, resume, the read-only gallery, stored guesses."""
