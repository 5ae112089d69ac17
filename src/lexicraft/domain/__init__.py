"""Rules: plain values and invariants, no I/O."""
