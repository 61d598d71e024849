"""Property-based (hypothesis) fuzzing of the sans-IO codec, sized to run inside ``make test``."""
