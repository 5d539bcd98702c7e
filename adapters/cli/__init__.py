"""The `crm` command (shared/spec/cli.md)."""
