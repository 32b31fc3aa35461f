"""Which students to look at together: behaviour (the same wrong numbers on hidden inputs) and
code (winnowed token fingerprints, starter code and course notes subtracted). Evidence for an
instructor to read, never a verdict."""
