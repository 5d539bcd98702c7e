"""Telegram: staff and customers on python-telegram-bot, rendering the assistant's neutral replies."""
