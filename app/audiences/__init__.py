"""Advertising audiences (policy, section 4): hashed e-mails and numbers of consenting people, for Google and Meta."""
