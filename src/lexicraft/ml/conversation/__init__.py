"""Conversation (CLU) backends: one intent per utterance plus learned entity spans."""
