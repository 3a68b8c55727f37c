"""A channel named in a message: a link on Slack, a name elsewhere, never raw markup."""

from __future__ import annotations

from adapters.console.render import render as console
from adapters.slack.render import mrkdwn
from adapters.teams.render import render_plain, render_text
from bot.messages import ChannelName, Message, plain_text, rich


def test_slack_links_channel_ids_and_escapes_anything_else() -> None:
    assert mrkdwn(rich("Ask in ", ChannelName(id="C09ABC"), ".")) == "Ask in <#C09ABC>."
    # Not a Slack id (e.g. a name someone typed): shown as text, its markup escaped.
    assert mrkdwn(rich(ChannelName(id="<!channel>"))) == "#&lt;!channel&gt;"


def test_teams_and_console_show_the_name() -> None:
    teams_id = "19:abc@thread.tacv2"
    assert render_text(rich(ChannelName(id=teams_id, name="help"))).text == "**help**"
    assert render_plain(rich(ChannelName(id=teams_id))) == "the channel"
    assert console(Message(text=rich("in ", ChannelName(id="help")))) == "in #help"
    assert plain_text(rich(ChannelName(id="C1", name="it-help"))) == "#it-help"
