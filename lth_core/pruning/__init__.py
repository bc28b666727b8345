"""Masks as data and the pure functions that shrink them: magnitude, other criteria, at init, structured."""
