"""Reminders, digests and alerts from the outbox as Slack DMs.

Posting to a user id opens (or reuses) the app's DM with that person. A network channel is
at-least-once (assistant/channels.py): the outbox key rides along as message metadata, so a repeat
after a worker died mid-send is recognisable in the conversation history.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from sqlalchemy.orm import Session

from adapters.slack.app import upload_chart
from adapters.slack.blocks import render
from assistant.channels import ChannelError, Outgoing

log = logging.getLogger(__name__)
METADATA_EVENT = "crm_outbox"


@dataclass
class SlackChannel:
    client: WebClient
    name: str = "slack"
    transactional: bool = False
    identity: str | None = "slack"  # users reached here are those with a Slack identity

    def send(self, message: Outgoing, session: Session | None) -> None:
        payload = render(message.reply, owner=message.recipient)
        try:
            posted = self.client.chat_postMessage(
                channel=message.recipient,
                metadata={
                    "event_type": METADATA_EVENT,
                    "event_payload": {"key": message.key, "kind": message.kind},
                },
                **payload,
            )
        except SlackApiError as error:
            raise ChannelError(f"Slack refused the DM: {error.response.get('error')}") from error
        if message.reply.chart is not None:
            try:  # the message is out: a failed chart is logged, not retried with the message
                upload_chart(self.client, message.reply.chart, posted["channel"], None)
            except Exception:
                log.exception("could not upload the chart of %s", message.key)
