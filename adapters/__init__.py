"""Adapters: the platforms (terminal, Slack, Telegram, voice, web chat) and the `crm` command."""
