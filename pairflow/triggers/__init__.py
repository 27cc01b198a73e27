"""Triggers: turn outside events (schedules, polls, webhooks, sliding windows) into committed runs."""
