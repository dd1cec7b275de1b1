"""Backups: age-encrypted dumps of the database signed by the server, pruned after 90 days, restored through a
scratch database, and the journal of opt-outs, withdrawals and erasures replayed after a restore so nobody comes
back."""
