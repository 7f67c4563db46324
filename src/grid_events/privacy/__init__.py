"""Personal data: sealing with per-subject keys, key storage, masking."""
