"""Known vulnerabilities and malicious releases (OSV), matched to a lock's packages."""
