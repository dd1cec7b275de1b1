"""The opt-out (suppression) list: keyed hashes of addresses and numbers we must never market to.

It is kept apart from the subscribers so that it survives their deletion (a legal obligation);
every marketing send and every new confirmed subscription checks it.
"""
