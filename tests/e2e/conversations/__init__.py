"""Realistic multi-turn conversations, checked against the seeded demo shop (see README.md)."""
