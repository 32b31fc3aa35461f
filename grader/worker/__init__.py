"""Running untrusted code: a warm fork server, the confinement it applies, and its pool."""
