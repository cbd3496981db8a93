"""File formats in and out: byte-exact WAV, atomic writes."""
