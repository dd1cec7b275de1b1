"""Scheduled jobs: `flask jobs run` runs the outbox worker, retention, reminders and backups on their own."""
