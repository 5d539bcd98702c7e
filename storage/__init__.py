"""The CRM store: models, engine, migrations, import/export and the demo seed. Knows nothing of chat."""
