"""The assistant: owns the conversation and is the only room that changes CRM records."""
