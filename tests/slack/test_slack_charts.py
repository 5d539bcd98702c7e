"""Charts: drawn as PNGs offline, and sent to Slack as an image under the message they belong to."""

from __future__ import annotations

import io
import time

from fake_slack import FakeSlack, dm, dm_of
from PIL import Image
from slack_world import MARIA, Workspace, settings_for

from adapters.charts import MAX_BARS, render_png
from adapters.slack.app import web_client
from adapters.slack.channel import SlackChannel
from assistant.channels import Outgoing
from assistant.messages import Chart, Reply

STAGES = Chart(
    "Open pipeline by stage: $1,234,500",
    ("Lead", "Qualified", "Proposal", "Negotiation"),
    (120_000, 340_000, 500_000, 274_500),
    ("$120,000", "$340,000", "$500,000", "$274,500"),
)


def test_a_chart_is_a_png_with_a_row_per_bar() -> None:
    small = Image.open(io.BytesIO(render_png(STAGES)))
    assert small.format == "PNG"
    many = Chart("Pipeline by rep", tuple(f"Rep {n}" for n in range(40)), tuple(float(n) for n in range(40)))
    tall = Image.open(io.BytesIO(render_png(many)))
    assert tall.width == small.width and tall.height > small.height
    capped = Chart("x", tuple(f"Rep {n}" for n in range(MAX_BARS)), tuple(1.0 for _ in range(MAX_BARS)))
    assert Image.open(io.BytesIO(render_png(capped))).height == tall.height  # at most MAX_BARS bars


def test_empty_and_zero_charts_still_draw() -> None:
    assert render_png(Chart("Nothing yet", (), ()))[:8] == b"\x89PNG\r\n\x1a\n"
    assert render_png(Chart("All zero", ("Lead", "Won"), (0.0, 0.0)))[:8] == b"\x89PNG\r\n\x1a\n"


def test_a_digest_with_a_chart_arrives_as_a_dm_and_an_image(fake: FakeSlack) -> None:
    channel = SlackChannel(web_client(settings_for(fake)))
    reply = Reply("Your week: pipeline $1,234,500", chart=STAGES)
    channel.send(Outgoing(1, "weekly:2:2026-11-23", "weekly", "slack", MARIA, 2, reply))
    methods = [c.method for c in fake.calls]
    assert methods[:2] == ["chat.postMessage", "files.getUploadURLExternal"]
    assert methods[2].startswith("upload/") and methods[3] == "files.completeUploadExternal"
    assert fake.uploads[0] == render_png(STAGES)
    complete = fake.calls[3].args
    # the image goes where Slack says the post landed: the app's DM with her
    assert complete["channel_id"] == dm_of(MARIA) and "Open pipeline by stage" in str(complete["files"])


def test_a_pipeline_answer_in_a_dm_carries_its_chart(workspace: Workspace) -> None:
    workspace.event(dm(MARIA, "pipeline by stage", workspace.next_ts()))
    [reply] = workspace.fake.wait_posts(1)
    assert workspace.fake.wait(lambda: bool(workspace.fake.called("files.completeUploadExternal")))
    [complete] = workspace.fake.called("files.completeUploadExternal")
    assert complete.args["channel_id"] == reply["channel"] == "D0DM"
    image = Image.open(io.BytesIO(workspace.fake.uploads[0]))
    assert image.format == "PNG" and image.height > 200


def test_a_private_slash_command_answer_has_no_chart(workspace: Workspace) -> None:
    workspace.command(MARIA, "pipeline by rep")
    [reply] = workspace.fake.wait_posts(1)
    assert reply["response_type"] == "ephemeral" and "Owner" in str(reply["blocks"])
    assert not workspace.fake.called("files.getUploadURLExternal")  # a file cannot be private to one person


def test_a_plain_figure_has_no_chart(workspace: Workspace) -> None:
    workspace.event(dm(MARIA, "win rate this year", workspace.next_ts()))
    workspace.fake.wait_posts(1)
    time.sleep(0.3)  # an upload would follow the post at once
    assert not workspace.fake.called("files.getUploadURLExternal")
