"""Canned responses: replies a team writes once and agents insert with a click or a shortcut."""
