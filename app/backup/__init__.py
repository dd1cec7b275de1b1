"""Backups: encrypted, checksummed dumps of the database, pruned after 90 days, and the erasure journal replayed
after a restore so an erased person never comes back."""
