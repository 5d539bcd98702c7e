"""Intents: text to one `Parse` (intent, confidence, slots). Reads names, never writes."""
