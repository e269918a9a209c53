"""Capture: taking files from the counters' inboxes and splitting them into pages."""
