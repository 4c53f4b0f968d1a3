"""Test helpers (fake services) for comentor's own test-suite."""
