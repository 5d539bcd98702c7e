"""Slack: reps and managers talk to the assistant in direct messages, @-mentions and `/crm`.

`settings` reads the environment, `blocks` renders a neutral `Reply` as Block Kit, `people` maps Slack
users to e-mails, `app` wires slack-bolt's listeners to the assistant, `delivery` sends the outbox's
reminders as DMs and `server` runs Socket Mode or the HTTP endpoint.
"""
