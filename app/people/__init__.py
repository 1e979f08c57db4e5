"""The people who work in the consoles, whatever their role: their records, tokens and creation."""
