"""Loopback test doubles for the Slack Web API, Socket Mode and the Bot Framework Connector."""

from tests.fakes.bot_connector import ACTIVITY_KINDS, ConnectorCall, FakeBotConnector
from tests.fakes.server import FakeServer
from tests.fakes.signing import form_body, interactive_body, slack_signed_headers
from tests.fakes.slack_api import FakeSlackApi, SlackCall
from tests.fakes.socket_mode import FakeSocketMode, SocketMessage

__all__ = [
    "ACTIVITY_KINDS",
    "ConnectorCall",
    "FakeBotConnector",
    "FakeServer",
    "FakeSlackApi",
    "FakeSocketMode",
    "SlackCall",
    "SocketMessage",
    "form_body",
    "interactive_body",
    "slack_signed_headers",
]
