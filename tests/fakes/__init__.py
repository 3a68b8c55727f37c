"""Loopback test doubles for the Slack Web API and the Bot Framework Connector."""

from tests.fakes.bot_connector import ACTIVITY_KINDS, ConnectorCall, FakeBotConnector
from tests.fakes.server import FakeServer
from tests.fakes.signing import form_body, interactive_body, slack_signed_headers
from tests.fakes.slack_api import FakeSlackApi, SlackCall

__all__ = [
    "ACTIVITY_KINDS",
    "ConnectorCall",
    "FakeBotConnector",
    "FakeServer",
    "FakeSlackApi",
    "SlackCall",
    "form_body",
    "interactive_body",
    "slack_signed_headers",
]
