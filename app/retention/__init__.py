"""Retention: one register of how long each kind of data is kept, and the run that enforces it."""
